#!/usr/bin/env bash
# s3_small_put.sh - what the spare FileID pool saves on small PutObjects.
# One local cluster (registry, three data servers, one group), two
# arkor-objectd side by side: --fid-pool 0 (an assign and a commit per
# upload) and the default pool; alternated over ROUNDS rounds of N 4 KiB
# PUTs at 1 and at CONNS connections (bench/s3_put_load.py). Prints per
# round puts/s, p50/p99 ms, registry requests per PUT and the client's
# CPU share, then the median ratios pool/no-pool; the order of the two
# alternates between rounds (this machine's noise favours whichever runs
# second). Figures only.
# Usage: bench/s3_small_put.sh [BUILD_DIR]. Environment: N (600), CONNS
# (16), ROUNDS (3), SIZE (4096).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${1:-$top/build}
top_srcdir=$top
n=${N:-600}; conns=${CONNS:-16}; rounds=${ROUNDS:-3}; size=${SIZE:-4096}
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/cluster-lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

cluster_start --fid-pool 0
nopool=$S3
ark_start objectd2 "$top_builddir/arkor-objectd" --listen 127.0.0.1:0 \
	--port-file "$T/objectd2.port" --registry "$REG" \
	--cluster-key "$T/reg/cluster.key" --threads 2
ark_wait_file "$T/objectd2.port"
pool="http://127.0.0.1:$(cat "$T/objectd2.port")"
awss3 s3 mb s3://bench >/dev/null
load() { python3 "$top/bench/s3_put_load.py" "$1" bench "$2" "$3" "$size" \
	"http://$REG/metrics"; }
: >"$T/res"
for r in $(seq 1 "$rounds"); do
	for c in 1 "$conns"; do
		order="nopool pool"; [ $((r % 2)) = 0 ] && order="pool nopool"
		for side in $order; do
			ep=$nopool; [ $side = pool ] && ep=$pool
			m=$n; [ "$c" = 1 ] && m=$((n / 3))
			line=$(load "$ep" "$m" "$c")
			echo "round $r conns $c $side: $line" \
				"(puts/s p50 p99 reg/put client-cpu)"
			echo "$c $side $line" >>"$T/res"
		done
	done
done
python3 - "$T/res" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for c in sorted({r[0] for r in rows}, key=int):
    def med(side, i):
        return statistics.median(float(r[2 + i]) for r in rows
                                 if r[0] == c and r[1] == side)
    print("conns %s: puts/s %.0f -> %.0f (x%.2f), p50 %.2f -> %.2f ms, "
          "registry requests/PUT %.2f -> %.2f" % (
              c, med("nopool", 0), med("pool", 0),
              med("pool", 0) / med("nopool", 0), med("nopool", 1),
              med("pool", 1), med("nopool", 3), med("pool", 3)))
PY
