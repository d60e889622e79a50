#!/usr/bin/env bash
# 356-objectd-lookup-batches: GETs that wait behind the object server's
# registry calls in flight share one object/gets call, and each still
# gets its own answer. Two users (the admin and bob, a bucket each);
# boto3 stores 240 small objects and presigns 3 shuffled passes of: GETs
# of the admin's 200 objects, bob's GETs of his 40, GETs of missing keys
# (NoSuchKey) and bob's GETs of the admin's objects (AccessDenied); one
# curl fetches the 900 URLs 64 at a time: exact bytes (SHA-256) and the
# right error each. /metrics must show lookups sent in batches, and
# objectd stops cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no boto3"; exit 77; }
ark_timeout 300

cluster_start
cluster_user bob
B_ID=$USER_KEY_ID B_SECRET=$USER_SECRET

metric() {
	curl -s "$S3/metrics" | awk -v m="arkor_objectd_$1_total" '$1 == m {print $2}'
}
mkdir -p "$T/got"
python3 - "$S3" "$B_ID" "$B_SECRET" "$T" >"$T/py.out" 2>&1 <<'PY' || { cat "$T/py.out"; fail "setup"; }
import hashlib, json, os, random, sys
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config

url, bid, bsecret, tdir = sys.argv[1:5]
cfg = Config(max_pool_connections=32)
adm = boto3.client("s3", endpoint_url=url, config=cfg)
bob = boto3.client("s3", endpoint_url=url, config=cfg,
                   aws_access_key_id=bid, aws_secret_access_key=bsecret)
adm.create_bucket(Bucket="mine")
bob.create_bucket(Bucket="bobs")
sums = {}
def put(args):
    c, b, k = args
    body = os.urandom(random.randrange(1, 3000))
    c.put_object(Bucket=b, Key=k, Body=body)
    sums[b + "/" + k] = hashlib.sha256(body).hexdigest()
jobs = [(adm, "mine", "o%03d" % i) for i in range(200)] + \
       [(bob, "bobs", "b%03d" % i) for i in range(40)]
with ThreadPoolExecutor(16) as ex:
    list(ex.map(put, jobs))
# Presigned GETs, fetched by one curl with 64 transfers at once.
work = []
for _ in range(3):
    work += [(adm, "mine", "o%03d" % i, 200) for i in range(200)]
    work += [(bob, "bobs", "b%03d" % i, 200) for i in range(40)]
    work += [(adm, "mine", "nope%03d" % i, 404) for i in range(30)]
    work += [(bob, "mine", "o%03d" % i, 403) for i in range(30)]
random.shuffle(work)
want = []
with open(tdir + "/curl.cfg", "w") as f:
    for i, (c, b, k, st) in enumerate(work):
        u = c.generate_presigned_url("get_object",
                                     Params={"Bucket": b, "Key": k})
        f.write('url = "%s"\noutput = "%s/got/%d"\n' % (u, tdir, i))
        want.append({"i": i, "status": st,
                     "sha": sums.get(b + "/" + k) if st == 200 else None,
                     "code": {403: "AccessDenied", 404: "NoSuchKey"}.get(st)})
json.dump(want, open(tdir + "/want.json", "w"))
PY
curl -sS --parallel --parallel-max 64 -K "$T/curl.cfg" \
    -w '%{http_code} %{filename_effective}\n' >"$T/codes" 2>"$T/curl.err" ||
    fail "curl: $(tail -3 "$T/curl.err")"
python3 - "$T" <<'PY' || fail "answers"
import hashlib, json, sys
t = sys.argv[1]
codes = {}
for line in open(t + "/codes"):
    st, fn = line.split()
    codes[int(fn.rsplit("/", 1)[1])] = int(st)
bad = 0
for w in json.load(open(t + "/want.json")):
    body = open("%s/got/%d" % (t, w["i"]), "rb").read()
    st = codes.get(w["i"])
    if st != w["status"]:
        bad += 1
        print("request %d: status %s, want %d" % (w["i"], st, w["status"]))
    elif w["sha"] and hashlib.sha256(body).hexdigest() != w["sha"]:
        bad += 1
        print("request %d: wrong bytes" % w["i"])
    elif w["code"] and ("<Code>%s</Code>" % w["code"]).encode() not in body:
        bad += 1
        print("request %d: not %s: %r" % (w["i"], w["code"], body[:200]))
print("%d requests, %d wrong" % (len(codes), bad))
sys.exit(1 if bad or len(codes) != 900 else 0)
PY
ok "900 concurrent GETs of two users: exact bytes, NoSuchKey and AccessDenied each where due"
n=$(metric lookups); nb=$(metric lookup_batches)
echo "lookups sent: $n, object/gets calls: $nb"
[ -n "$n" ] && [ "$n" -ge 900 ] || fail "lookups counted: '$n'"
[ -n "$nb" ] && [ "$nb" -gt 0 ] || fail "no lookups were batched (object/gets calls: '$nb')"
ok "lookups that waited went out in $nb object/gets calls"
# At info, objectd logs each request it answered; the registry and the
# data servers only the failed ones (test of --log-level's promise).
[ "$(grep -c 'GET /mine/o[0-9]* 200 ' "$T/objectd.log")" -ge 600 ] ||
	fail "objectd's access log lacks the GETs"
! grep -q ' 200 in=' "$T/registryd.log" "$T/datad1.log" ||
	fail "an internal server logged a successful request at info: $(grep -h -m1 ' 200 in=' "$T/registryd.log" "$T/datad1.log")"
ok "request lines: objectd all, registry and data servers none of the 2xx"
objectd_stop
ok "clean stop"
