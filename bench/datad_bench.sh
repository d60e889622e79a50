#!/bin/bash
# datad_bench.sh BUILDDIR - arkor-datad against fio and nginx on the same
# disk in the same run (issue 3 targets):
#   8 MiB needles, sync=none: write / read MB/s vs fio buffered sequential
#     write / sequential read (target >= 0.8x);
#   4 KiB needles, sync=always, 64 writers: needles/s vs fio 4 KiB writes
#     with fdatasync after each (target >= 20x: group commit);
#   4 KiB random reads (page cache), 64 connections: vs nginx serving
#     4 KiB static files (target >= 0.8x).
# Bounded: about 1.5 GiB on disk and 4 minutes. BENCH_DIR picks the disk
# (default: BUILDDIR/bench-tmp); BENCH_SECS the time per load (default 8).
set -euo pipefail
B=$(cd "${1:-.}" && pwd)
DIR=${BENCH_DIR:-$B/bench-tmp}
SECS=${BENCH_SECS:-8}
LOAD=$B/bench/datad_load
DATAD=$B/arkor-datad
mkdir -p "$DIR"
W=$(mktemp -d "$DIR/datad-bench.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

if ! command -v fio >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y -q fio >/dev/null 2>&1 ||
		    { apt-get update -q >/dev/null && apt-get install -y -q fio >/dev/null; }
	else
		echo "fio missing: apt-get install fio (as root); no fio figures"
	fi
fi
for t in jq nginx; do command -v $t >/dev/null || echo "note: $t missing"; done

echo "disk: $(df -h "$W" | awk 'NR==2 {print $1, $6}'); cpus: $(nproc)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# ---- fio reference ----
FW=0 FR=0 FS=0 FRR=0
if command -v fio >/dev/null; then
	fio_bw() {	# fio_bw ARGS...: MB/s of the job (read+write)
		fio --output-format=json --directory="$W" "$@" |
		    jq '[.jobs[0].read.bw_bytes, .jobs[0].write.bw_bytes] | add / 1048576'
	}
	fio_bw --name=seqw --rw=write --bs=1M --size=1G --ioengine=psync >/dev/null
	FR=$(fio_bw --name=seqw --rw=read --bs=1M --size=1G --ioengine=psync)
	rm -f "$W"/seqw*
	FS=$(fio --output-format=json --directory="$W" --name=syncw --rw=write \
	    --bs=4k --size=256M --fdatasync=1 --runtime=$SECS --time_based \
	    --ioengine=psync | jq '.jobs[0].write.iops')
	rm -f "$W"/syncw*
	FRR=$(fio --output-format=json --directory="$W" --name=rr --rw=randread \
	    --bs=4k --size=256M --runtime=$SECS --time_based --ioengine=psync \
	    --numjobs=1 | jq '.jobs[0].read.iops')
	rm -f "$W"/rr*
	printf 'fio: seq read %.0f MB/s, 4k write+fdatasync %.0f/s, 4k randread %.0f/s\n' \
	    "$FR" "$FS" "$FRR"
fi

KEY=$W/key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY"; chmod 600 "$KEY"
start() {	# start NAME ARGS...
	local n=$1; shift
	"$DATAD" --listen 127.0.0.1:0 --data-dir "$W/$n" --cluster-key "$KEY" \
	    --port-file "$W/$n.port" --min-free 0 --scrub-rate 0 \
	    --log-level warn --group 1 "$@" >"$W/$n.log" 2>&1 &
	PIDS+=($!)
	for i in $(seq 100); do [ -s "$W/$n.port" ] && break; sleep 0.1; done
	PORT=$(cat "$W/$n.port")
}
stop_last() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" || true; unset 'PIDS[-1]'; }

# ---- 8 MiB needles, sync=none ----
# The page cache's dirty-page throttling depends on what else writes to
# the disk, so fio's buffered write and datad's alternate (ROUNDS each,
# medians), each writing at most 1 GiB into a fresh file or store.
ROUNDS=${BENCH_ROUNDS:-3}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
fws=() dws=()
for r in $(seq 1 "$ROUNDS"); do
	if command -v fio >/dev/null; then
		fws+=("$(fio_bw --name=seqw --rw=write --bs=1M --size=1G \
		    --ioengine=psync --end_fsync=0)")
		rm -f "$W"/seqw*
	fi
	start big --sync none
	out=$("$LOAD" put "$PORT" "$KEY" 4 $SECS 8MiB 32)	# <= 1 GiB
	dws+=("$(echo "$out" | field mb_per_s)")
	echo "round $r: fio seq write ${fws[-1]:-0} MB/s, datad 8MiB PUT sync=none 4 conns: $out"
	if [ "$r" -lt "$ROUNDS" ]; then stop_last; rm -rf "$W/big"; fi
done
FW=$(printf '%s\n' "${fws[@]:-0}" | median)
DW=$(printf '%s\n' "${dws[@]}" | median)
echo "medians: fio seq write buffered $FW MB/s, datad 8MiB PUT $DW MB/s"
# reads: thread 0 stored about a quarter of the needles, keys 1..n
n0=$(( $(echo "$out" | field 'ops') / 4 - 1 ))
[ "$n0" -gt 32 ] && n0=32
[ "$n0" -lt 1 ] && n0=1
out=$("$LOAD" get "$PORT" "$KEY" 4 $SECS 0 $n0)
DR=$(echo "$out" | field mb_per_s)
echo "datad 8MiB GET of $n0 needles, 4 conns: $out"
stop_last
rm -rf "$W/big"

# ---- 4 KiB needles, 64 writers: sync=none (the CPU's ceiling), then
# sync=always (group commit) ----
start small0 --sync none
out=$("$LOAD" put "$PORT" "$KEY" 64 $SECS 4096 0)
DN=$(echo "$out" | field ops_per_s)
echo "datad 4KiB PUT sync=none, 64 conns: $out"
stop_last
start small --sync always
out=$("$LOAD" put "$PORT" "$KEY" 64 $SECS 4096 0)
DS=$(echo "$out" | field ops_per_s)
echo "datad 4KiB PUT sync=always, 64 conns: $out"
curl -s "http://127.0.0.1:$PORT/status" | jq -r '"  fdatasync calls: \(.syncs), writes per sync: \(if .syncs > 0 then (.commits / .syncs * 10 | floor / 10) else "-" end), average sync: \(.sync_avg_us) us"'
stop_last

# ---- 4 KiB random reads vs nginx ----
N=20000
start rd --sync none
"$LOAD" put "$PORT" "$KEY" 1 60 4096 $N >/dev/null
out=$("$LOAD" get "$PORT" "$KEY" 64 $SECS 0 $N)
DRR=$(echo "$out" | field ops_per_s)
echo "datad 4KiB GET random of $N, 64 conns: $out"
stop_last
NG=0
if command -v nginx >/dev/null; then
	mkdir -p "$W/www/f" "$W/ng"
	head -c 4096 /dev/urandom >"$W/www/4k"
	python3 -c 'import os, sys
for i in range(1, int(sys.argv[2]) + 1): os.link(sys.argv[1] + "/4k", "%s/f/%d" % (sys.argv[1], i))' "$W/www" $N
	chmod 711 "$W"; chmod -R a+rX "$W/www"	# nginx workers run as nobody
	NPORT=$(( 20000 + RANDOM % 20000 ))
	cat >"$W/ng/nginx.conf" <<NGX
worker_processes $(nproc);
pid $W/ng/nginx.pid;
error_log $W/ng/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$NPORT; root $W/www; }
}
NGX
	nginx -c "$W/ng/nginx.conf" -p "$W/ng" -g 'daemon off;' &
	PIDS+=($!)
	sleep 0.5
	out=$("$LOAD" plain "$NPORT" - 64 $SECS 0 $N)
	NG=$(echo "$out" | field ops_per_s)
	echo "nginx 4KiB GET random of $N, 64 conns: $out"
	stop_last
fi

echo
echo "== ratios (target) =="
echo "8MiB write sync=none / fio seq write buffered: $(ratio "$DW" "$FW") (>= 0.8)"
echo "8MiB read / fio seq read:                      $(ratio "$DR" "$FR") (>= 0.8)"
echo "4KiB sync=always 64 writers / fio 4k+fdatasync: $(ratio "$DS" "$FS") (>= 20)"
echo "4KiB sync=always / sync=none, 64 writers:       $(ratio "$DS" "$DN") (1.0: syncs cost nothing)"
echo "4KiB random GET / nginx:                        $(ratio "$DRR" "$NG") (>= 0.8)"
