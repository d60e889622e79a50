#!/usr/bin/env bash
# registry_bench.sh - arkor-registryd beside nginx and SQLite, same run.
#
#  - object lookups/s (POST /v1/object/get of a 1-fragment object) and
#    durable object commits/s (POST /v1/object/put of a new 1-fragment
#    object, --sync on: every answer is after an fsync'd group commit) at
#    CONNS keep-alive connections (wrk), beside nginx serving a 4 KiB
#    static file to the same number of connections;
#  - SQLite's own insert rate in WAL with synchronous=FULL (python3's
#    sqlite3 on the same library): one transaction per row, and batched;
#  - listing pages of 1000 entries with delimiter "/" on a bucket of
#    KEYS keys in 1000 directories (bench/registry_list_bench).
# Figures only: nothing is asserted. Usage: bench/registry_bench.sh
# [BUILD_DIR]. Environment: DURATION (8), CONNS (64), THREADS (registry
# event-loop threads, 0 = one per CPU), KEYS (1000000), ROUNDS (3).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
dur=${DURATION:-8}; conns=${CONNS:-64}; threads=${THREADS:-0}
keys=${KEYS:-1000000}
reg=$build/arkor-registryd
[ -x "$reg" ] || { echo "build first: $reg missing" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null ||
	{ echo "needs wrk and nginx: apt-get install wrk nginx-light" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

T=$(mktemp -d /tmp/arkor-rbench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done;
	wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

# nginx with a 4 KiB file
mkdir -p "$T/www"; chmod 755 "$T" "$T/www"
head -c 4096 /dev/urandom >"$T/www/small"
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/nginx.conf" <<NGX
worker_processes $(nproc);
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
	server { listen 127.0.0.1:$nport reuseport; root $T/www; location / { } } }
NGX
nginx -c "$T/nginx.conf" -p "$T" -g 'daemon off;' &
pids+=($!)

"$reg" --listen 127.0.0.1:0 --port-file "$T/port" --data-dir "$T/reg" \
	--threads "$threads" --replicas 1 --log-level warn 2>"$T/reg.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nport/small" && break; sleep 0.1; done
R="http://127.0.0.1:$(cat "$T/port")"
tok=$(python3 - "$T/reg/cluster.key" <<'PY'
import base64, hashlib, hmac, sys, time
key = bytes.fromhex(open(sys.argv[1]).read().strip())
exp = str(int(time.time()) + 3600)
msg = b"arkor-token-v1\0admin\0" + exp.encode() + b"\0arkor-service"
print(exp + "." + base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode().rstrip("="))
PY
)
post() { curl -sf -X POST -H "Authorization: Arkor-Service $tok" --data-binary "$2" "$R$1" >/dev/null; }
post /v1/user/create '{"name":"bench"}'
post /v1/bucket/create '{"bucket":"bench","owner":"bench"}'
post /v1/object/put '{"bucket":"bench","key":"hot/object","size":100,"etag":"e","fragments":[{"fid":"1,ffffffff00000001","offset":0,"length":100,"crc32c":1}]}'

cat >"$T/put.lua" <<LUA
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
local n = 0
local round = tonumber(os.getenv("ROUND") or "0")
request = function()
	n = n + 1
	local key = string.format("r%d/w%d/k%09d", round, tid, n)
	local fid = string.format("1,%x%08x", (round * 100 + tid) * 1000000000 + n, 1)
	return wrk.format("POST", "/v1/object/put",
		{["Authorization"] = "Arkor-Service $tok", ["Content-Type"] = "application/json"},
		'{"bucket":"bench","key":"' .. key .. '","size":100,"etag":"e","fragments":[{"fid":"' ..
		fid .. '","offset":0,"length":100,"crc32c":1}]}')
end
LUA
cat >"$T/get.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"bucket":"bench","key":"hot/object"}'
wrk.headers["Authorization"] = "Arkor-Service $tok"
wrk.headers["Content-Type"] = "application/json"
LUA
rps() {	# wrk args... -> requests/s, or ERR on any non-2xx
	wrk -t2 -c"$conns" -d"${dur}s" "$@" 2>&1 | awk '
		/Non-2xx/ { bad = 1 } /^Requests\/sec:/ { r = $2 }
		END { if (bad) print "ERR"; else print r }'
}
# Other load on the machine changes over a run: nginx, lookups and
# commits alternate for ROUNDS rounds; medians (any ERR wins).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "ERR" || b == 0) print "-"; else printf "%.2f", a / b }'; }
median() { sort -g | awk '/ERR/ { e = 1 } { v[NR] = $1 } END { if (e) print "ERR"; else print v[int((NR + 1) / 2)] }'; }
ngxs=() looks=() coms=()
for round in $(seq 1 "${ROUNDS:-3}"); do
	ngxs+=("$(rps "http://127.0.0.1:$nport/small")")
	looks+=("$(rps -s "$T/get.lua" "$R/v1/object/get")")
	coms+=("$(ROUND=$round rps -s "$T/put.lua" "$R/v1/object/put")")
	echo "round $round: nginx ${ngxs[-1]}, lookups ${looks[-1]} ($(ratio "${looks[-1]}" "${ngxs[-1]}")x), commits ${coms[-1]} ($(ratio "${coms[-1]}" "${ngxs[-1]}")x) req/s"
done
ngx=$(printf '%s\n' "${ngxs[@]}" | median)
look=$(printf '%s\n' "${looks[@]}" | median)
com=$(printf '%s\n' "${coms[@]}" | median)
echo "medians of ${ROUNDS:-3} rounds:"
echo "nginx 4 KiB static, $conns conns:        $ngx req/s"
echo "registry lookups (object/get):       $look req/s  ($(ratio "$look" "$ngx")x nginx)"
echo "registry durable commits (object/put): $com req/s  ($(ratio "$com" "$ngx")x nginx)"
curl -s "$R/metrics" | awk '/^arkor_registry_commit_batch_ops_sum/ { s = $2 }
	/^arkor_registry_commit_batch_ops_count/ { n = $2 }
	END { if (n > 0) printf "group commit: %d transactions, %.1f operations each on average\n", n, s / n }'

python3 - "$T/sq.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB)")
n, t0 = 0, time.time()
while time.time() - t0 < 3:
    db.execute("BEGIN"); db.execute("INSERT INTO t VALUES(?, ?)", ("a%09d" % n, b"x" * 100)); db.execute("COMMIT"); n += 1
r1 = n / (time.time() - t0)
n, t0 = 0, time.time()
while time.time() - t0 < 3:
    db.execute("BEGIN")
    for i in range(1000):
        db.execute("INSERT INTO t VALUES(?, ?)", ("b%09d" % n, b"x" * 100)); n += 1
    db.execute("COMMIT")
r2 = n / (time.time() - t0)
print("sqlite WAL synchronous=FULL: %.0f rows/s one transaction per row, %.0f rows/s in batches of 1000" % (r1, r2))
PY
if [ -x "$build/bench/registry_list_bench" ]; then
	"$build/bench/registry_list_bench" "$T/list.db" "$keys"
fi
