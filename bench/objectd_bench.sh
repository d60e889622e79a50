#!/usr/bin/env bash
# objectd_bench.sh [BUILD_DIR] - arkor-objectd against nginx on the same
# machine in the same run (issue 5, "Benchmark"). nginx (Debian
# nginx-light: sendfile on, the dav module for PUT) is the ceiling; two
# local Arkor clusters (registry, 3 data servers in one group, objectd)
# run beside it: one with --sync none, one with --sync always for the
# 4 KiB PUT case. bench/s3load drives both: SigV4-signed for Arkor, plain
# GET / WebDAV PUT for nginx, same keys, sizes and connections.
#
# Cases, each alternated arkor/nginx over ROUNDS rounds (the first side
# flips each round); the median of the per-round ratios is reported:
#   get64   GET 64 MiB objects, 4 conns, MB/s          (target >= 0.5x)
#   put64   PUT 64 MiB objects, 4 conns, MB/s          (>= 0.3x DAV PUT)
#   get4k   GET 4 KiB objects, 64 conns, req/s         (>= 0.3x)
#   put4k   PUT 4 KiB, 64 conns, data servers sync=always, req/s
#           (>= 0.15x DAV PUT and >= 1500/s)
#   p99get, p99put  4 KiB at 16 conns, p99 latency     (<= 4x nginx)
#   list    ListObjectsV2 1,000-key pages of a 100,000-key bucket, page
#           p50 at 1 conn against the 4 KiB GET p50 at 1 conn (<= 20x)
#   rss     VmHWM of arkor-objectd during a 4 GiB upload and a 4 GiB
#           download (< 128 MiB), peak reset before each (clear_refs)
# For each case the last round also prints where the CPU went during the
# Arkor run: each daemon's and s3load's user+system time over the wall
# time, in % of one CPU (from /proc/PID/stat).
# Figures only: nothing is asserted (exit 0 unless something broke).
# Environment: ROUNDS (3), SECS per load (8), BENCH_DIR (the disk, default
# BUILD_DIR/bench-tmp), LOAD_THREADS (s3load event loops, 1), LIST_KEYS
# (100000), RSS_SIZE (4GiB), CASES (all: "get64 put64 get4k put4k p99
# list rss"), BENCH_QUICK=1 (smoke run: 1 round of 2 s, small sizes),
# PERF_DIR (record `perf record --call-graph dwarf` of arkor-objectd during
# each Arkor run into PERF_DIR/CASE-rROUND.data; perf costs CPU, so such
# a run's figures are not for comparison), OBJECTD (another arkor-objectd
# binary to measure, e.g. a patched build).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=${ROUNDS:-1}; SECS=${SECS:-2}; LIST_KEYS=${LIST_KEYS:-3000}
	RSS_SIZE=${RSS_SIZE:-512MiB}; BIG_KEYS=2; SMALL_KEYS=2000
else
	ROUNDS=${ROUNDS:-3}; SECS=${SECS:-8}; LIST_KEYS=${LIST_KEYS:-100000}
	RSS_SIZE=${RSS_SIZE:-4GiB}; BIG_KEYS=8; SMALL_KEYS=10000
fi
LT=${LOAD_THREADS:-1}
CASES=${CASES:-get64 put64 get4k put4k p99 list rss}
CUR=
[ -z "${PERF_DIR:-}" ] || { mkdir -p "$PERF_DIR"; PERF_DIR=$(cd "$PERF_DIR" && pwd); }
LOAD=$B/bench/s3load
OBJECTD=${OBJECTD:-$B/arkor-objectd}
for p in "$LOAD" "$B/arkor-registryd" "$B/arkor-datad" "$OBJECTD" \
    "$B/arkorctl"; do
	[ -x "$p" ] || { echo "build first: $p missing" >&2; exit 1; }
done
for t in nginx curl python3; do
	command -v $t >/dev/null ||
	    { echo "needs $t (apt-get install nginx-light curl python3)" >&2; exit 1; }
done
nginx -V 2>&1 | grep -q -- --with-http_dav_module ||
    { echo "this nginx has no dav module (Debian nginx-light has it)" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY AWS_CA_BUNDLE \
    REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE AWS_PROFILE 2>/dev/null || true

DIR=${BENCH_DIR:-$B/bench-tmp}
mkdir -p "$DIR"
W=$(mktemp -d "$DIR/objectd-bench.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
die() { echo "objectd_bench: $*" >&2; exit 1; }

# wait_file FILE [SECS]
wait_file() {
	local n=$(( ${2:-10} * 10 ))
	while [ ! -s "$1" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -s "$1" ] || die "timed out waiting for $1"
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "objectd_bench: $(nproc) cpus, disk $(df -h "$W" | awk 'NR==2 {print $1" ("$4" free)"}'), rounds $ROUNDS x ${SECS}s, $(date -u +%FT%TZ)"
echo "objectd_bench: $(nginx -v 2>&1), git $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')"

# ---- nginx: static GET with sendfile, WebDAV PUT into the same tree ----
mkdir -p "$W/www/bench" "$W/ng/tmp"
chmod 711 "$W"; chmod 777 "$W/www" "$W/www/bench" "$W/ng/tmp"	# workers drop root
NPORT=$(free_port)
cat >"$W/ng/nginx.conf" <<NGX
worker_processes $(nproc);
pid $W/ng/nginx.pid;
error_log $W/ng/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on; tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 300s;
	client_max_body_size 0;
	client_body_temp_path $W/ng/tmp;
	server {
		listen 127.0.0.1:$NPORT;
		root $W/www;
		location / {
			dav_methods PUT;
			dav_access user:rw group:r all:r;
		}
	}
}
NGX
nginx -c "$W/ng/nginx.conf" -p "$W/ng" -g 'daemon off;' 2>"$W/ng/stderr" &
PIDS+=($!)
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && break; sleep 0.1
done
NGINX=http://127.0.0.1:$NPORT
NGINX_PROCS=$(pgrep -P "${PIDS[-1]}" | sed 's/^/nginx:/' | tr '\n' ' ')

# ---- Arkor clusters ----
# cluster NAME SYNC: registry, 3 data servers (--sync SYNC), objectd;
# sets <NAME>_URL, <NAME>_PID (objectd), <NAME>_AK, <NAME>_SK.
cluster() {
	local n=$1 sync=$2 d=$W/$1 i reg ak sk ok cp
	mkdir -p "$d/reg"
	"$B/arkor-registryd" --listen 127.0.0.1:0 --port-file "$d/reg.port" \
	    --data-dir "$d/reg" --threads 2 --log-level warn \
	    >"$d/reg.log" 2>&1 &
	PIDS+=($!)
	cp="registryd:$!"
	wait_file "$d/reg.port"
	reg=127.0.0.1:$(cat "$d/reg.port")
	for i in 1 2 3; do
		mkdir -p "$d/data$i"
		"$B/arkor-datad" --listen 127.0.0.1:0 --port-file "$d/data$i.port" \
		    --data-dir "$d/data$i" --cluster-key "$d/reg/cluster.key" \
		    --registry "$reg" --heartbeat-interval 1s --sync "$sync" \
		    --scrub-rate 0 --min-free 0 --log-level warn \
		    >"$d/data$i.log" 2>&1 &
		PIDS+=($!)
		cp="$cp datad$i:$!"
	done
	for i in 1 2 3; do wait_file "$d/data$i.port"; done
	"$B/arkorctl" -k "$d/reg/cluster.key" -r "http://$reg" init \
	    >"$d/admin.credentials" || die "$n: arkorctl init failed"
	ak=$(awk -F': *' '/^access key id/ {print $2}' "$d/admin.credentials")
	sk=$(awk -F': *' '/^secret access key/ {print $2}' "$d/admin.credentials")
	[ -n "$ak" ] && [ -n "$sk" ] || die "$n: no credentials"
	ok=0
	for _ in $(seq 150); do
		if "$B/arkorctl" -k "$d/reg/cluster.key" -r "http://$reg" \
		    --json group list 2>/dev/null | python3 -c '
import json, sys
g = json.load(sys.stdin)["groups"]
sys.exit(0 if g and g[0]["writable"] and len(g[0]["servers"]) == 3 else 1)'; then
			ok=1; break
		fi
		sleep 0.2
	done
	[ $ok = 1 ] || die "$n: no writable group of three"
	"$OBJECTD" --listen 127.0.0.1:0 --port-file "$d/objectd.port" \
	    --registry "$reg" --cluster-key "$d/reg/cluster.key" \
	    --log-level warn >"$d/objectd.log" 2>&1 &
	PIDS+=($!)
	eval "${n}_PID=$!"
	eval "${n}_PROCS='$cp objectd:$!'"
	wait_file "$d/objectd.port"
	eval "${n}_URL=http://127.0.0.1:$(cat "$d/objectd.port")"
	eval "${n}_AK=$ak ${n}_SK=$sk"
}
cluster A none		# every case but put4k
cluster S always	# put4k
echo "objectd_bench: nginx $NGINX, arkor sync=none $A_URL, sync=always $S_URL"

# load SIDE ARGS...: one s3load run against side a (sync none), s (sync
# always) or n (nginx); prints its key=value line. Failing runs print
# their errors and make the figure "ERR".
load() {
	local side=$1 out rc=0 procs="" t0 t1 before after perfpid=""; shift
	case $side in a) procs=$A_PROCS;; s) procs=$S_PROCS;; n) procs=$NGINX_PROCS;; esac
	if [ -n "$procs" ]; then
		before=$(ticks $procs); t0=$(date +%s.%N)
		if [ -n "${PERF_DIR:-}" ] && [ -n "${CUR:-}" ] && [ "$side" != n ]; then
			perf record -q -F 999 --call-graph dwarf,16384 \
			    -p "${procs##*objectd:}" -o "$PERF_DIR/$CUR.data" \
			    >/dev/null 2>&1 &
			perfpid=$!
		fi
	fi
	case $side in
	a) out=$("$LOAD" -u "$A_URL" --access-key "$A_AK" --secret-key "$A_SK" \
	    -t "$LT" "$@" 2>"$W/load.err") || rc=$? ;;
	s) out=$("$LOAD" -u "$S_URL" --access-key "$S_AK" --secret-key "$S_SK" \
	    -t "$LT" "$@" 2>"$W/load.err") || rc=$? ;;
	n) out=$("$LOAD" -u "$NGINX" -a none -t "$LT" "$@" 2>"$W/load.err") || rc=$? ;;
	esac
	if [ -n "$procs" ]; then
		t1=$(date +%s.%N); after=$(ticks $procs)
		if [ -n "$perfpid" ]; then
			kill -INT "$perfpid" 2>/dev/null || true
			wait "$perfpid" 2>/dev/null || true
		fi
		echo "$out" | cpu_split "$procs" "$before" "$after" "$t0" "$t1" \
		    >"$W/split.last"
	fi
	if [ $rc != 0 ]; then
		echo "objectd_bench: s3load $side $* failed ($rc): $out" >&2
		sed 's/^/  /' "$W/load.err" >&2
		echo "ERR"
		return 0
	fi
	echo "$out"
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
# ticks NAME:PID...: user+system clock ticks of each process
ticks() {
	local np
	for np in "$@"; do
		awk '{printf "%d ", $14 + $15}' "/proc/${np#*:}/stat" 2>/dev/null || printf '0 '
	done
}
# cpu_split PROCS BEFORE AFTER T0 T1 < s3load line: CPU % of one core of
# each process (nginx: its workers summed), the servers' CPU time per
# request, and the total share of the machine the run got.
cpu_split() {
	awk -v procs="$1" -v b="$2" -v a="$3" -v t0="$4" -v t1="$5" \
	    -v hz="$(getconf CLK_TCK)" '{
		n = split(procs, p, " "); split(b, x, " "); split(a, y, " ")
		secs = t1 - t0; tot = 0; line = ""; ng = 0
		for (i = 1; i <= n; i++) {
			sub(/:.*/, "", p[i]); v = 100 * (y[i] - x[i]) / hz / secs
			tot += v
			if (p[i] == "nginx") ng += v
			else line = line sprintf(" %s %.0f%%", p[i], v)
		}
		if (ng > 0 || line == "") line = sprintf(" nginx %.0f%%", ng)
		srv = tot; ok = 0
		if (match($0, /cpu_pct=[0-9.]+/)) {
			s = substr($0, RSTART + 8, RLENGTH - 8); tot += s
			line = line sprintf(" s3load %.0f%%", s)
		}
		if (match($0, / ok=[0-9]+/)) ok = substr($0, RSTART + 4, RLENGTH - 4)
		per = ok > 0 ? sprintf("%.0f us", srv / 100 * secs / ok * 1e6) : "n/a"
		printf "cpu (%% of one core):%s; total %.0f%% of %d00%%; server cpu/req %s\n", line, tot, '"$(nproc)"', per
	}'
}
mkbucket() {	# mkbucket a|s NAME
	local out
	out=$(AWS_ACCESS_KEY_ID=$(eval echo "\$${1^^}_AK") \
	    AWS_SECRET_ACCESS_KEY=$(eval echo "\$${1^^}_SK") \
	    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	    aws --endpoint-url "$(eval echo "\$${1^^}_URL")" s3api \
	    create-bucket --bucket "$2" 2>&1) || die "create-bucket $2: $out"
}
has() { case " $CASES " in *" $1 "*) return 0;; esac; return 1; }

command -v aws >/dev/null || die "needs the aws CLI (apt-get install awscli) to create buckets"
mkbucket a bench
mkbucket s bench

# ---- populate: the same keys on both sides ----
populate() {	# populate SIDE PREFIX KEYS SIZE CONNS
	local out
	out=$(load "$1" -m put -b bench -p "$2" -k "$3" -s "$4" -c "$5" -n "$3" -d 0)
	[ "$out" != ERR ] || die "populating $2 on $1 failed$([ "$1" = n ] && echo " (nginx workers run as nobody: can they reach $W?)")"
}
if has get64 || has put64; then
	populate a big- $BIG_KEYS 64MiB 4
	populate n big- $BIG_KEYS 64MiB 4
fi
if has get4k || has p99 || has list; then
	populate a s- $SMALL_KEYS 4KiB 64
	populate n s- $SMALL_KEYS 4KiB 64
fi
# same bytes from both: one object each, compared with cmp
if has get4k; then
	curl -sf -o "$W/n.obj" "$NGINX/bench/s-00000007" || die "nginx GET failed"
	[ "$(stat -c %s "$W/n.obj")" = 4096 ] || die "nginx object is not 4 KiB"
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "ERR"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "ERR" && b != "ERR" && b > 0) printf "%.3f\n", a / b; else print "ERR" }'; }

# pair CASE METRIC ARKOR_SIDE ARGS...: one round of CASE, both sides,
# records arkor, nginx and their ratio in $W/CASE.{a,n,r}; also keeps the
# s3load CPU share in $W/CASE.cpu.
pair() {
	local c=$1 m=$2 side=$3 first=$4 oa on va vn; shift 4
	CUR=$c-r$r
	if [ "$first" = a ]; then
		oa=$(load "$side" "$@"); cp "$W/split.last" "$W/$c.split"
		on=$(load n "$@"); cp "$W/split.last" "$W/$c.nsplit"
	else
		on=$(load n "$@"); cp "$W/split.last" "$W/$c.nsplit"
		oa=$(load "$side" "$@"); cp "$W/split.last" "$W/$c.split"
	fi
	CUR=
	va=$(echo "$oa" | field "$m"); vn=$(echo "$on" | field "$m")
	[ -n "$va" ] || va=ERR; [ -n "$vn" ] || vn=ERR
	echo "$va" >>"$W/$c.a"; echo "$vn" >>"$W/$c.n"
	ratio "$va" "$vn" >>"$W/$c.r"
	echo "$oa" | field cpu_pct >>"$W/$c.cpu"
	echo "$on" | field cpu_pct >>"$W/$c.cpu"
	printf '  %-7s arkor %-10s nginx %-10s %s (s3load cpu %s%%/%s%%)\n' "$c" \
	    "$va" "$vn" "$m" "$(echo "$oa" | field cpu_pct)" "$(echo "$on" | field cpu_pct)"
	echo "$c arkor: $oa" >>"$W/raw"; echo "$c nginx: $on" >>"$W/raw"
	echo "$c arkor $(cat "$W/$c.split")" >>"$W/raw"
	echo "$c nginx $(cat "$W/$c.nsplit")" >>"$W/raw"
}

# ---- peak RSS of objectd: one 4 GiB upload, one 4 GiB download ----
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# The kernel resets VmHWM to the current RSS (memory malloc kept from an
# earlier request counts): the reset value is printed too.
reset_hwm() {
	if echo 5 >"/proc/$1/clear_refs" 2>/dev/null; then
		echo "reset to VmRSS $(rss "$1") KiB before"
	else
		echo "since start"
	fi
}
RSS_UP=n/a RSS_DOWN=n/a
if has rss; then
	mkbucket a rss
	how=$(reset_hwm "$A_PID")
	out=$(load a -m put -b rss -p huge- -k 1 -s "$RSS_SIZE" -c 1 -n 1 -d 0 --grace 20m)
	RSS_UP=$(hwm "$A_PID")
	echo "rss: PUT $RSS_SIZE: $out; objectd VmHWM $RSS_UP KiB (peak $how)"
	[ "$out" != ERR ] || RSS_UP="ERR($RSS_UP)"
	how=$(reset_hwm "$A_PID")
	out=$(load a -m get -b rss -p huge- -k 1 -s "$RSS_SIZE" -c 1 -n 1 -d 0 --grace 20m)
	RSS_DOWN=$(hwm "$A_PID")
	echo "rss: GET $RSS_SIZE: $out; objectd VmHWM $RSS_DOWN KiB (peak $how)"
	[ "$out" != ERR ] || RSS_DOWN="ERR($RSS_DOWN)"
fi

# ---- ListObjectsV2 bucket ----
if has list; then
	mkbucket a list
	t0=$(date +%s)
	out=$(load a -m put -b list -p k- -k "$LIST_KEYS" -s 0 -c 64 -n "$LIST_KEYS" -d 0 --grace 5m)
	[ "$out" != ERR ] || die "populating the list bucket failed"
	echo "list: $LIST_KEYS empty objects stored in $(( $(date +%s) - t0 ))s ($(echo "$out" | field req_per_s) PUT/s at 64 conns)"
fi

# ---- a check that the generator is not the bottleneck: wrk vs s3load ----
if has get4k && command -v wrk >/dev/null; then
	w=$(wrk -t1 -c64 -d"${SECS}s" "$NGINX/bench/s-00000001" 2>&1 |
	    awk '/^Requests\/sec:/ {print $2}')
	s=$(load n -m get -b bench -p s- -k 1 -s 4KiB -c 64 -d "${SECS}s")
	echo "generator check, nginx 4 KiB GET x64: wrk -t1 ${w:-?} req/s, s3load $(echo "$s" | field req_per_s) req/s (s3load cpu $(echo "$s" | field cpu_pct)%)"
fi

D=${SECS}s
for r in $(seq "$ROUNDS"); do
	f=a; [ $((r % 2)) = 0 ] && f=n
	echo "round $r/$ROUNDS (first: $([ $f = a ] && echo arkor || echo nginx))"
	has get64 && pair get64 mb_per_s a $f -m get -b bench -p big- -k $BIG_KEYS -s 64MiB -c 4 -d $D
	has put64 && pair put64 mb_per_s a $f -m put -b bench -p big- -k $BIG_KEYS -s 64MiB -c 4 -d $D
	has get4k && pair get4k req_per_s a $f -m get -b bench -p s- -k $SMALL_KEYS -s 4KiB -c 64 -d $D
	has put4k && pair put4k req_per_s s $f -m put -b bench -p w- -k $SMALL_KEYS -s 4KiB -c 64 -d $D
	if has p99; then
		pair p99get p99_ms a $f -m get -b bench -p s- -k $SMALL_KEYS -s 4KiB -c 16 -d $D
		pair p99put p99_ms a $f -m put -b bench -p p- -k $SMALL_KEYS -s 4KiB -c 16 -d $D
	fi
	if has list; then
		lo=$(load a -m list -b list -p k- -k "$LIST_KEYS" --max-keys 1000 -c 1 -d $D)
		go=$(load a -m get -b bench -p s- -k $SMALL_KEYS -s 4KiB -c 1 -d $D)
		lp=$(echo "$lo" | field p50_ms); gp=$(echo "$go" | field p50_ms)
		[ -n "$lp" ] || lp=ERR; [ -n "$gp" ] || gp=ERR
		echo "$lp" >>"$W/list.a"; echo "$gp" >>"$W/list.n"
		ratio "$lp" "$gp" >>"$W/list.r"
		printf '  %-7s page p50 %s ms (p99 %s), 4 KiB GET p50 %s ms, at 1 conn\n' \
		    list "$lp" "$(echo "$lo" | field p99_ms)" "$gp"
		echo "list: $lo" >>"$W/raw"; echo "list get1: $go" >>"$W/raw"
	fi
done

# ---- summary ----
# line CASE WHAT UNIT TARGET-TEXT CMP LIMIT: prints medians and the median
# per-round ratio; CMP ge/le says which way the target goes.
verdict() { awk -v x="$1" -v c="$2" -v l="$3" 'BEGIN {
	if (x == "ERR" || x == "") print "ERR";
	else if ((c == "ge" && x + 0 >= l + 0) || (c == "le" && x + 0 <= l + 0)) print "met";
	else print "MISSED" }'; }
line() {
	local c=$1 what=$2 unit=$3 tt=$4 cmp=$5 lim=$6 ma mn mr
	[ -s "$W/$c.r" ] || return 0
	ma=$(grep -v ERR "$W/$c.a" | median); mn=$(grep -v ERR "$W/$c.n" | median)
	mr=$(grep -v ERR "$W/$c.r" | median)
	printf '%-34s arkor %9s  nginx %9s %-5s ratio %6s  (target %s: %s)\n' \
	    "$what" "$ma" "$mn" "$unit" "$mr" "$tt" "$(verdict "$mr" "$cmp" "$lim")"
}
echo
echo "==== medians over $ROUNDS round(s) of ${SECS}s (ratio = median of per-round arkor/nginx)"
line get64 "GET 64 MiB x4 conns" MB/s ">= 0.5" ge 0.5
line put64 "PUT 64 MiB x4 conns" MB/s ">= 0.3" ge 0.3
line get4k "GET 4 KiB x64 conns" req/s ">= 0.3" ge 0.3
if [ -s "$W/put4k.r" ]; then
	line put4k "PUT 4 KiB x64 conns, sync=always" req/s ">= 0.15" ge 0.15
	m=$(grep -v ERR "$W/put4k.a" | median)
	printf '%-34s arkor %9s req/s (target >= 1500: %s)\n' "PUT 4 KiB x64 sync=always, absolute" \
	    "$m" "$(verdict "$m" ge 1500)"
fi
line p99get "p99 GET 4 KiB x16 conns" ms "<= 4" le 4
line p99put "p99 PUT 4 KiB x16 conns (sync=none)" ms "<= 4" le 4
if [ -s "$W/list.r" ]; then
	printf '%-34s page %s ms  4 KiB GET %s ms  ratio %s  (target <= 20: %s)\n' \
	    "ListObjectsV2 1000/$LIST_KEYS p50" "$(grep -v ERR "$W/list.a" | median)" \
	    "$(grep -v ERR "$W/list.n" | median)" "$(grep -v ERR "$W/list.r" | median)" \
	    "$(verdict "$(grep -v ERR "$W/list.r" | median)" le 20)"
fi
if has rss; then
	printf '%-34s upload %s KiB  download %s KiB  (target < 131072 KiB: %s / %s)\n' \
	    "objectd VmHWM, $RSS_SIZE object" "$RSS_UP" "$RSS_DOWN" \
	    "$(verdict "$RSS_UP" le 131071)" "$(verdict "$RSS_DOWN" le 131071)"
fi
if [ -s "$W/raw" ]; then
	echo "s3load CPU share (% of one core) per run: max $(cat "$W"/*.cpu 2>/dev/null | sort -g | tail -1)"
fi
echo
echo "==== where the CPU went in the last round (a shared machine gives a run only part of it)"
for c in get64 put64 get4k put4k p99get p99put; do
	[ -s "$W/$c.split" ] || continue
	printf '%-7s arkor %s\n' "$c" "$(cat "$W/$c.split")"
	printf '%-7s nginx %s\n' "" "$(cat "$W/$c.nsplit")"
done
if [ -n "${BENCH_RAW:-}" ]; then cp "$W/raw" "$BENCH_RAW"; fi
for d in A S; do
	if grep -q "Sanitizer\|runtime error" "$W/$d/objectd.log" 2>/dev/null; then
		echo "objectd_bench: sanitizer report in cluster $d objectd log" >&2
	fi
done
