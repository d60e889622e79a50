#!/usr/bin/env bash
# http_bench.sh - the HTTP layer against nginx, same machine, same run.
#
# Serves the same bytes from both: a 4 KiB in-memory body (nginx: a 4 KiB
# file from page cache) with keep-alive at 64 connections (wrk), and a
# 1 GiB body streamed over loopback (curl to /dev/null; both via sendfile
# from page cache). Several alternating rounds; prints each figure, the
# median of each side and the ratio arkor/nginx. Figures only: nothing is
# asserted. Usage: bench/http_bench.sh [BUILD_DIR] (default build/).
#   ROUNDS (3), DURATION (8s), CONNS (64), THREADS (server threads, nproc)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
echod=$build/tests/integration/http-echod
rounds=${ROUNDS:-3}; dur=${DURATION:-8}; conns=${CONNS:-64}
threads=${THREADS:-$(nproc)}
[ -x "$echod" ] || { echo "build first: $echod missing" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null ||
	{ echo "needs wrk and nginx: apt-get install wrk nginx-light" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

T=$(mktemp -d /tmp/arkor-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done;
	wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

mkdir -p "$T/www"
chmod 755 "$T" "$T/www"			# nginx workers drop root
head -c $((1 << 30)) /dev/zero | openssl enc -aes-128-ctr -nosalt -pass pass:x \
	-pbkdf2 2>/dev/null | head -c $((1 << 30)) >"$T/www/big"
cat "$T/www/big" >/dev/null		# warm the page cache

nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/nginx.conf" <<NGX
worker_processes $threads;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on; tcp_nopush on;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$nport reuseport;
		root $T/www;
		location / { }
	}
}
NGX
nginx -c "$T/nginx.conf" -p "$T" -g 'daemon off;' &
pids+=($!)
"$echod" --listen 127.0.0.1:0 --port-file "$T/aport" --threads "$threads" \
	--log-level warn 2>"$T/echod.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/aport" ] && break; sleep 0.1; done
aport=$(cat "$T/aport")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nport/small" && break; sleep 0.1; done

# Both sides must serve the same bytes before anything is timed.
check_same() {	# arkor-url nginx-url file
	curl -sf "$1" | cmp -s - "$3" || { echo "arkor did not serve $3 ($1)" >&2; exit 1; }
	curl -sf "$2" | cmp -s - "$3" || { echo "nginx did not serve $3 ($2)" >&2; exit 1; }
}

curl -sf "http://127.0.0.1:$aport/small" >"$T/www/small"	# echod's own 4 KiB body
check_same "http://127.0.0.1:$aport/small" "http://127.0.0.1:$nport/small" "$T/www/small"
check_same "http://127.0.0.1:$aport/file?path=$T/www/big" "http://127.0.0.1:$nport/big" "$T/www/big"

rps() {	# url -> requests/s
	wrk -t2 -c"$conns" -d"${dur}s" "$1" 2>&1 | awk '
		/Non-2xx/ { bad = 1 } /^Requests\/sec:/ { r = $2 }
		END { if (bad) print "ERR"; else print r }'
}
mbps() {	# url -> MB/s
	curl -s -o /dev/null -w '%{speed_download}\n' "$1" |
		awk '{printf "%.1f\n", $1 / 1e6}'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$T/a_rps"; : >"$T/n_rps"; : >"$T/a_mb"; : >"$T/n_mb"
for r in $(seq "$rounds"); do
	a=$(rps "http://127.0.0.1:$aport/small"); echo "$a" >>"$T/a_rps"
	n=$(rps "http://127.0.0.1:$nport/small"); echo "$n" >>"$T/n_rps"
	echo "round $r: 4 KiB keep-alive x$conns: arkor $a req/s, nginx $n req/s"
	a=$(mbps "http://127.0.0.1:$aport/file?path=$T/www/big"); echo "$a" >>"$T/a_mb"
	n=$(mbps "http://127.0.0.1:$nport/big"); echo "$n" >>"$T/n_mb"
	echo "round $r: 1 GiB body: arkor $a MB/s, nginx $n MB/s"
done
ar=$(median <"$T/a_rps"); nr=$(median <"$T/n_rps")
am=$(median <"$T/a_mb"); nm=$(median <"$T/n_mb")
echo "---- medians over $rounds rounds (server threads/workers: $threads)"
printf '4 KiB, keep-alive, %d conns: arkor %s req/s  nginx %s req/s  ratio %.2f (target >= 0.90)\n' \
	"$conns" "$ar" "$nr" "$(echo "$ar $nr" | awk '{print $1/$2}')"
printf '1 GiB body over loopback:    arkor %s MB/s  nginx %s MB/s  ratio %.2f (target >= 0.90)\n' \
	"$am" "$nm" "$(echo "$am $nm" | awk '{print $1/$2}')"
