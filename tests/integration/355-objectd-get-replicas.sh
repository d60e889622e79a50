#!/usr/bin/env bash
# 355-objectd-get-replicas: downloads spread over the replicas and survive
# a damaged one. A 7 MiB object in 2 MiB fragments (the data servers send
# needles over 1 MiB unverified, so objectd's CRC32C check guards whole
# ones and X-Arkor-Verify ranges) is read 30 times whole and 12 times in
# random ranges across fragment borders with boto3 (no retries) after one
# data server's copy of fragments 2 to 4 was damaged: every GET gives the
# exact bytes, the damage is noticed, every data server served reads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no boto3"; exit 77; }
ark_timeout 240

cluster_start --fragment-size 2MiB
head -c $((7 << 20)) /dev/urandom >"$T/obj"
export T S3
python3 - <<'EOF' || fail "boto3 setup"
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["S3"])
s3.create_bucket(Bucket="reads")
s3.put_object(Bucket="reads", Key="o", Body=open(os.environ["T"] + "/obj", "rb").read())
EOF

get_bytes() {	# data server N: bytes it has sent
	curl -s "http://127.0.0.1:$(cat "$T/data$1.port")/metrics" |
	    awk '/^arkor_datad_get_bytes_total/ {print $2}'
}
for i in 1 2 3; do
	[ -n "$(get_bytes $i)" ] || fail "no get_bytes metric on datad$i"
	eval "before$i=$(get_bytes $i)"
done

# Damage datad1's copy: flip one byte inside fragments 2, 3 and 4 (found
# by their content in its chunk files).
python3 - "$T/obj" "$T"/data1/chunks/chunk_*.dat <<'EOF' || fail "damaging datad1"
import sys
obj = open(sys.argv[1], "rb").read()
hit = 0
for frag in (1, 2, 3):
    at = frag * (2 << 20) + 4096
    probe = obj[at:at + 64]
    for path in sys.argv[2:]:
        data = open(path, "rb").read()
        i = data.find(probe)
        if i >= 0:
            with open(path, "r+b") as f:
                f.seek(i + 10)
                f.write(bytes([data[i + 10] ^ 0xFF]))
            hit += 1
            break
sys.exit(0 if hit == 3 else 1)
EOF

python3 - >"$T/gets.out" 2>&1 <<'EOF' || { cat "$T/gets.out"; fail "GETs"; }
import boto3, botocore.config, os, random
cfg = botocore.config.Config(retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=os.environ["S3"], config=cfg)
obj = open(os.environ["T"] + "/obj", "rb").read()
for i in range(30):
    body = s3.get_object(Bucket="reads", Key="o")["Body"].read()
    assert body == obj, "GET %d: %d bytes, not the object" % (i, len(body))
# Ranges over fragment borders, also starting and ending mid-fragment.
for _ in range(12):
    a = random.randrange(len(obj))
    b = random.randrange(a, min(len(obj), a + (5 << 20)))
    body = s3.get_object(Bucket="reads", Key="o",
                         Range="bytes=%d-%d" % (a, b))["Body"].read()
    assert body == obj[a:b + 1], "range %d-%d differs" % (a, b)
EOF
ok "30 whole and 12 ranged GETs exact with one replica damaged"
grep -q "CRC32C mismatch" "$T/objectd.log" ||
    fail "the damaged replica was never noticed by objectd"
grep -q "corrupt" "$T/datad1.log" ||
    fail "the damaged replica was never noticed by datad1"
for i in 1 2 3; do
	eval "b=\$before$i"
	[ "$(get_bytes $i)" -gt "$b" ] || fail "datad$i served no reads"
done
ok "all three replicas served reads"

# Small fragments read whole are kept in objectd's memory (--cache-size):
# the next GET is answered from there, whole or a range, even with every
# data server stopped; an overwrite (a new FileID) is never answered with
# the old bytes.
fcache() {	# hits or misses
	curl -s "$S3/metrics" | awk -v m="arkor_objectd_fcache_$1_total" '$1 == m {print $2}'
}
h0=$(fcache hits); m0=$(fcache misses)
[ -n "$h0" ] && [ -n "$m0" ] || fail "no fragment cache counters in /metrics"
python3 - >"$T/cache.out" 2>&1 <<'EOF' || { cat "$T/cache.out"; fail "fragment cache, first reads"; }
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["S3"])
v1 = os.urandom(5000)
s3.put_object(Bucket="reads", Key="cached", Body=v1)
open(os.environ["T"] + "/v1", "wb").write(v1)
assert s3.get_object(Bucket="reads", Key="cached")["Body"].read() == v1
assert s3.get_object(Bucket="reads", Key="cached")["Body"].read() == v1
EOF
[ "$(fcache misses)" -eq $((m0 + 1)) ] || fail "first GET: misses $m0 -> $(fcache misses)"
[ "$(fcache hits)" -eq $((h0 + 1)) ] || fail "second GET: hits $h0 -> $(fcache hits)"
for i in 1 2 3; do eval "kill -STOP \$PID_datad$i"; done
python3 - >"$T/cache2.out" 2>&1 <<'EOF'
import boto3, botocore.config, os
cfg = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=20)
s3 = boto3.client("s3", endpoint_url=os.environ["S3"], config=cfg)
v1 = open(os.environ["T"] + "/v1", "rb").read()
assert s3.get_object(Bucket="reads", Key="cached")["Body"].read() == v1
r = s3.get_object(Bucket="reads", Key="cached", Range="bytes=1000-1999")
assert r["Body"].read() == v1[1000:2000]
EOF
rc=$?
for i in 1 2 3; do eval "kill -CONT \$PID_datad$i"; done
[ $rc -eq 0 ] || { cat "$T/cache2.out"; fail "cached GETs with the data servers stopped"; }
python3 - >"$T/cache3.out" 2>&1 <<'EOF' || { cat "$T/cache3.out"; fail "GET after an overwrite"; }
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["S3"])
v2 = os.urandom(5000)
s3.put_object(Bucket="reads", Key="cached", Body=v2)
assert s3.get_object(Bucket="reads", Key="cached")["Body"].read() == v2
EOF
[ "$(fcache hits)" -eq $((h0 + 3)) ] || fail "hits $h0 -> $(fcache hits), not 3 more"
ok "fragment cache: repeated and ranged GETs served from memory with the data servers stopped; an overwrite reads new bytes"

# No replica at all: the GET of a small object is refused with a 503 S3
# error (the reply head waits for the first fragment), not a 200 cut
# short; objectd keeps serving.
python3 - >"$T/put-small.out" 2>&1 <<'EOF' || { cat "$T/put-small.out"; fail "small PUT"; }
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["S3"])
s3.put_object(Bucket="reads", Key="small", Body=b"x" * 4096)
EOF
for i in 1 2 3; do eval "kill -TERM \$PID_datad$i"; done
for i in 1 2 3; do eval "wait \$PID_datad$i" 2>/dev/null || true; done
python3 - >"$T/get-down.out" 2>&1 <<'EOF' || { cat "$T/get-down.out"; fail "GET with every replica down"; }
import boto3, botocore.config, botocore.exceptions, os
cfg = botocore.config.Config(retries={"total_max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=os.environ["S3"], config=cfg)
try:
    s3.get_object(Bucket="reads", Key="small")["Body"].read()
    raise SystemExit("a GET with every replica down answered 200")
except botocore.exceptions.ClientError as e:
    code = e.response["Error"]["Code"]
    status = e.response["ResponseMetadata"]["HTTPStatusCode"]
    assert (code, status) == ("ServiceUnavailable", 503), (code, status)
# The object server itself still answers.
s3.head_bucket(Bucket="reads")
EOF
ok "every replica down: GET answers 503 ServiceUnavailable, not a cut-off 200"
objectd_stop
ok "clean stop"
