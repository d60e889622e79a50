#!/usr/bin/env bash
# 303-objectd-small-put: small PutObjects take their FileIDs from the
# object server's spare pool, so each costs about one registry request
# (the commit) instead of two (assign + commit, as with --fid-pool 0);
# and when a data server dies, spare FileIDs of its group are dropped
# after the first failed write, so every later upload goes to the other
# group and succeeds. Two groups of three data servers; registry
# requests are counted on its /metrics, less the heartbeats' idle rate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
ark_timeout 300

cluster_start --fid-pool 32
groups() {
	"$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" \
		--json group list 2>/dev/null | python3 -c '
import json, sys
print(" ".join("%d:%s" % (g["id"], "w" if g["writable"] else "-")
               for g in json.load(sys.stdin)["groups"]))'
}
ark_start objectd0 "$top_builddir/arkor-objectd" --listen 127.0.0.1:0 \
	--port-file "$T/objectd0.port" --registry "$REG" \
	--cluster-key "$T/reg/cluster.key" --threads 2 --fid-pool 0
ark_start objectd1 "$top_builddir/arkor-objectd" --listen 127.0.0.1:0 \
	--port-file "$T/objectd1.port" --registry "$REG" \
	--cluster-key "$T/reg/cluster.key" --threads 1 --fid-pool 32
ark_wait_file "$T/objectd0.port"
ark_wait_file "$T/objectd1.port"
S3_NOPOOL="http://127.0.0.1:$(cat "$T/objectd0.port")"
S3_ONE="http://127.0.0.1:$(cat "$T/objectd1.port")"
awss3 s3 mb s3://small >/dev/null || fail "mb"

cat >"$T/puts.py" <<'PY'
# puts.py ENDPOINT REGISTRY FIRST COUNT: COUNT 4 KiB PUTs (keys kFIRST..)
# on one connection; prints registry requests per PUT.
import hashlib, re, sys, time, urllib.request
import boto3
from botocore.config import Config

ep, reg, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"},
                                retries={"max_attempts": 1}))


def reg_requests():
    t = urllib.request.urlopen("http://%s/metrics" % reg).read().decode()
    return sum(int(v) for v in re.findall(
        r'^arkor_http_requests_total\{[^}]*\} (\d+)', t, re.M))


s3.head_bucket(Bucket="small")          # warm the key cache
r0 = reg_requests(); time.sleep(1.0); idle = reg_requests() - r0
r0, t0 = reg_requests(), time.monotonic()
for i in range(first, first + count):
    body = hashlib.sha256(b"%d" % i).digest() * 128
    s3.put_object(Bucket="small", Key="k%d" % i, Body=body)
el = time.monotonic() - t0
print("%.2f" % ((reg_requests() - r0 - idle * el) / count))
PY

# One PUT through the one-thread server fills its pool with FileIDs of
# group 1 (the only group yet). Then a second group comes up and a server
# of group 1 dies: the spares must not fail the uploads that follow.
python3 "$T/puts.py" "$S3_ONE" "$REG" 200 1 >/dev/null || fail "fill the pool"
filled=$(date +%s)
for i in 4 5 6; do
	cluster_datad "$i"
done
n=0
until [ "$(groups | grep -o ':w' | wc -l)" = 2 ]; do
	n=$((n + 1)); [ $n -lt 150 ] || fail "no second writable group: $(groups)"
	sleep 0.2
done
kill -TERM "$PID_datad1"; wait "$PID_datad1" || true
n=0
until [ "$(groups | grep -o ':w' | wc -l)" = 1 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "group 1 still writable: $(groups)"
	sleep 0.2
done
python3 "$T/puts.py" "$S3_ONE" "$REG" 300 20 >/dev/null ||
	fail "uploads after a data server died: $(tail -5 "$T/objectd1.log")"
nf=$(grep -c "replica write failed" "$T/objectd1.log" || true)
if [ $(( $(date +%s) - filled )) -lt 25 ]; then
	# spares live 30 s: they must have been tried, and dropped
	[ "$nf" -ge 1 ] || fail "no spare FileID of the lost group was tried"
	ok "uploads after losing a data server succeed ($nf stale spare tried)"
else
	ok "uploads after losing a data server succeed (slow run: the spares" \
		"expired before, the flush was not exercised)"
fi

rp=$(python3 "$T/puts.py" "$S3" "$REG" 0 60) || fail "PUTs through the pool"
r0=$(python3 "$T/puts.py" "$S3_NOPOOL" "$REG" 100 60) || fail "PUTs, no pool"
echo "registry requests per small PUT: pool $rp, no pool $r0"
python3 -c "import sys; sys.exit(0 if $rp < 1.5 and $r0 > 1.7 else 1)" ||
	fail "registry requests per PUT: pool $rp, no pool $r0"
ok "small PUT: $rp registry requests with the pool, $r0 without"

python3 - "$S3" <<'PY' || fail "read back"
import hashlib, sys
import boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
keys = [i for r in ((0, 60), (100, 60), (200, 1), (300, 20))
        for i in range(r[0], r[0] + r[1])]
for i in keys:
    b = s3.get_object(Bucket="small", Key="k%d" % i)["Body"].read()
    assert b == hashlib.sha256(b"%d" % i).digest() * 128, i
print("read back", len(keys))
PY
ok "every object reads back"

for d in objectd0 objectd1; do
	eval "pid=\$PID_$d"
	kill -TERM "$pid"; wait "$pid" || fail "$d exit status after SIGTERM"
	if grep -q "Sanitizer\|runtime error" "$T/$d.log"; then
		cat "$T/$d.log" >&2; fail "sanitizer report from $d"
	fi
done
objectd_stop
ok "clean stop"
