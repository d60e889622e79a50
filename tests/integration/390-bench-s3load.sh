#!/usr/bin/env bash
# 390-bench-s3load: the benchmark's load generator against a real local
# cluster: signed PUTs whose bytes the aws CLI reads back identical, a
# streamed PUT above the 64 MiB in-memory body (same bytes again), GETs,
# ListObjectsV2 pages of exactly max-keys keys, the count bound, one TCP
# connection per --conns (keep-alive), and errors that must be counted
# (wrong secret, wrong expected size). Then a smoke run of
# bench/objectd_bench.sh (two clusters and nginx, a few cases) when nginx
# is installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
ark_timeout 900
LOAD=$top_builddir/bench/s3load
[ -x "$LOAD" ] || fail "$LOAD not built"

cluster_start
awss3 s3 mb s3://bench >/dev/null || fail "mb"
sl() { "$LOAD" -u "$S3" "$@"; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

# The bytes s3load sends: i*131 + 7 + (i >> 12) mod 256 over a buffer of
# min(size, 64 MiB), repeated.
pattern() {	# pattern SIZE FILE
	python3 - "$1" "$2" <<'PY'
import sys
size, out = int(sys.argv[1]), sys.argv[2]
cap = min(size, 64 << 20)
base = bytes((j * 131 + 7) & 0xff for j in range(4096))
blocks = [bytes((c + b) & 0xff for c in base) for b in range(256)]
buf = b"".join(blocks[b % 256] for b in range((cap + 4095) // 4096))[:cap]
with open(out, "wb") as f:
    left = size
    while left > 0:
        n = min(left, cap)
        f.write(buf[:n])
        left -= n
PY
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

out=$(sl -m put -k 40 -s 100000 -c 4 -n 40 -d 0) || fail "put: $out"
[ "$(echo "$out" | field ok)" = 40 ] || fail "put: not 40 ok: $out"
[ "$(echo "$out" | field errors)" = 0 ] || fail "put errors: $out"
[ "$(echo "$out" | field connects)" -le 4 ] || fail "put: more connections than conns: $out"
pattern 100000 "$T/want"
awss3 s3api get-object --bucket bench --key obj-00000007 "$T/got" >/dev/null ||
	fail "get-object"
[ "$(sha "$T/got")" = "$(sha "$T/want")" ] || fail "object bytes differ from s3load's"
ok "signed PUT x40 on 4 keep-alive conns; aws reads the same bytes back"

out=$(sl -m get -k 40 -s 100000 -c 8 -d 1s) || fail "get: $out"
[ "$(echo "$out" | field errors)" = 0 ] && [ "$(echo "$out" | field ok)" -gt 0 ] ||
	fail "get: $out"
[ "$(echo "$out" | field connects)" -le 8 ] || fail "get: reconnects: $out"
for f in req_per_s mb_per_s p50_ms p99_ms cpu_pct; do
	[ -n "$(echo "$out" | field $f)" ] || fail "get: no $f in: $out"
done
out=$(sl -m get -k 40 -s 100000 -c 2 -n 25 -d 0) || fail "get -n 25: $out"
[ "$(echo "$out" | field ok)" = 25 ] || fail "count bound: $out"
ok "GET for 1 s and GET -n 25 (exactly 25), all fields printed"

out=$(sl -m get -k 40 -s 99999 -c 1 -n 3 -d 0 2>"$T/err") && fail "wrong size accepted: $out"
[ "$(echo "$out" | field errors)" = 3 ] || fail "wrong size: $out"
grep -q "100000 bytes, want 99999" "$T/err" || fail "wrong size message: $(cat "$T/err")"
out=$(sl -m get -k 40 -s 100000 -c 1 -n 2 -d 0 --secret-key wrong 2>"$T/err") &&
	fail "wrong secret accepted: $out"
grep -q "status 403.*SignatureDoesNotMatch" "$T/err" || fail "wrong secret: $(cat "$T/err")"
ok "errors counted: wrong size, wrong secret (403 SignatureDoesNotMatch)"

out=$(sl -m put -p k- -k 1205 -s 0 -c 16 -n 1205 -d 0) || fail "put 1205: $out"
out=$(sl -m list -p k- -k 1205 --max-keys 100 -c 2 -n 20 -d 0) || fail "list: $out"
[ "$(echo "$out" | field ok)" = 20 ] && [ "$(echo "$out" | field keys_per_page)" = 100 ] ||
	fail "list 100: $out"
out=$(sl -m list -p k- -k 1205 -c 1 -n 3 -d 0) || fail "list 1000: $out"
[ "$(echo "$out" | field keys_per_page)" = 1000 ] || fail "list 1000: $out"
out=$(sl -m list -p k- -k 1400 --max-keys 200 -c 1 -n 60 -d 0 2>"$T/err") &&
	fail "short pages accepted: $out"
ok "ListObjectsV2 pages of exactly 100 and 1000 keys; short pages are errors"

big=$((70 << 20))
out=$(sl -m put -p big- -k 1 -s $big -c 1 -n 1 -d 0) || fail "streamed put: $out"
pattern $big "$T/want"
rm -f "$T/got"
awss3 s3api get-object --bucket bench --key big-00000000 "$T/got" >/dev/null ||
	fail "get-object big"
[ "$(sha "$T/got")" = "$(sha "$T/want")" ] || fail "streamed body differs"
rm -f "$T/got" "$T/want"
ok "streamed 70 MiB PUT (above the 64 MiB buffer) reads back identical"

if command -v nginx >/dev/null && nginx -V 2>&1 | grep -q http_dav_module; then
	chmod 711 "$T"		# nginx workers (nobody) write below it
	out=$(BENCH_QUICK=1 ROUNDS=1 SECS=1 LIST_KEYS=1100 CASES="get4k put4k list" \
		BENCH_DIR="$T" bash "$top_srcdir/bench/objectd_bench.sh" \
		"$top_builddir" 2>&1) || fail "objectd_bench.sh: $out"
	grep -q "^GET 4 KiB x64 conns .*ratio *[0-9.]" <<<"$out" ||
		fail "no get4k figure: $out"
	grep -q "^PUT 4 KiB x64 conns, sync=always .*ratio *[0-9.]" <<<"$out" ||
		fail "no put4k figure: $out"
	grep -q "^ListObjectsV2 1000/1100 p50 *page [0-9.]* ms" <<<"$out" ||
		fail "no list figure: $out"
	! grep -q "ERR\|failed\|[Ss]anitizer" <<<"$out" || fail "errors in the bench run: $out"
	ok "objectd_bench.sh smoke run (get4k, put4k, list): figures printed"
else
	echo "note: nginx with the dav module missing; objectd_bench.sh not run"
fi
objectd_stop
ok "objectd stopped cleanly"
