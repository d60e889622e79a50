#!/usr/bin/env bash
# 306-objectd-cors: stored bucket configurations through boto3 and curl
# against a real local cluster: Put/Get/DeleteBucketTagging (50 tags,
# InvalidTag, NoSuchTagSet), Put/Get/DeleteBucketCors (round trip,
# Content-MD5 verified, MalformedXML, InvalidRequest, 100 rules), another
# user's key refused (AccessDenied), then CORS in effect: OPTIONS
# preflights (allowed origin and method, requested headers, '*.example.com'
# and '*' origins, 403 AccessForbidden, 404 NoSuchBucket, 400 without
# Origin) and the CORS headers of actual requests with an Origin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4

cluster_user mallory
M_ID=$USER_KEY_ID M_SECRET=$USER_SECRET

PYTHONPATH="$(dirname "$0")" python3 - "$S3" "$M_ID" "$M_SECRET" <<'PY' || fail "boto3 scenario"
import base64, hashlib, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from s3c_py import err, ok

cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=cfg)
other = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                     aws_access_key_id=sys.argv[2],
                     aws_secret_access_key=sys.argv[3], config=cfg)


s3.create_bucket(Bucket="web")
s3.put_object(Bucket="web", Key="index.html", Body=b"<p>hi</p>")

# ---- bucket tagging ----
err(s3.get_bucket_tagging, "NoSuchTagSet", Bucket="web")
tags = [{"Key": "k%02d" % i, "Value": "v%d" % i} for i in range(50)]
tags[0] = {"Key": "team", "Value": "caf\u00e9"}
tags[1] = {"Key": "empty", "Value": ""}
s3.put_bucket_tagging(Bucket="web", Tagging={"TagSet": tags})
got = s3.get_bucket_tagging(Bucket="web")["TagSet"]
assert sorted((t["Key"], t["Value"]) for t in got) == \
    sorted((t["Key"], t["Value"]) for t in tags), got
s3.put_bucket_tagging(Bucket="web", Tagging={"TagSet": [
    {"Key": "env", "Value": "prod"}]})
assert s3.get_bucket_tagging(Bucket="web")["TagSet"] == [
    {"Key": "env", "Value": "prod"}]
for bad in ([{"Key": "k%d" % i, "Value": "v"} for i in range(51)],
            [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
            [{"Key": "x" * 129, "Value": "v"}],
            [{"Key": "k", "Value": "v" * 257}],
            [{"Key": "aws:x", "Value": "v"}]):
    err(s3.put_bucket_tagging, "InvalidTag", Bucket="web",
        Tagging={"TagSet": bad})
assert s3.get_bucket_tagging(Bucket="web")["TagSet"] == [
    {"Key": "env", "Value": "prod"}]
err(s3.put_bucket_tagging, "NoSuchBucket", Bucket="nosuch",
    Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
err(other.get_bucket_tagging, "AccessDenied", Bucket="web")
err(other.put_bucket_tagging, "AccessDenied", Bucket="web",
    Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
err(other.delete_bucket_tagging, "AccessDenied", Bucket="web")
# object tags stay apart from the bucket's
s3.put_object_tagging(Bucket="web", Key="index.html", Tagging={"TagSet": [
    {"Key": "o", "Value": "1"}]})
assert s3.get_bucket_tagging(Bucket="web")["TagSet"] == [
    {"Key": "env", "Value": "prod"}]
r = s3.delete_bucket_tagging(Bucket="web")
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204, r
err(s3.get_bucket_tagging, "NoSuchTagSet", Bucket="web")
assert s3.get_object_tagging(Bucket="web", Key="index.html")["TagSet"] == [
    {"Key": "o", "Value": "1"}]
ok("bucket tagging: 50 tags round trip, replace, InvalidTag, "
   "NoSuchBucket, another user AccessDenied, delete 204, NoSuchTagSet")

# ---- bucket CORS ----
err(s3.get_bucket_cors, "NoSuchCORSConfiguration", Bucket="web")
rules = [
    {"ID": "app", "AllowedOrigins": ["https://*.example.com"],
     "AllowedMethods": ["GET", "PUT", "HEAD"],
     "AllowedHeaders": ["x-amz-*", "Content-Type"],
     "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["http://exact.test"], "AllowedMethods": ["DELETE"],
     "AllowedHeaders": ["*"]},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]
s3.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": rules})
got = s3.get_bucket_cors(Bucket="web")["CORSRules"]
assert len(got) == 3, got
assert got[0]["ID"] == "app" and got[0]["MaxAgeSeconds"] == 600, got
assert got[0]["AllowedOrigins"] == ["https://*.example.com"], got
assert got[0]["AllowedMethods"] == ["GET", "PUT", "HEAD"], got
assert got[0]["AllowedHeaders"] == ["x-amz-*", "Content-Type"], got
assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"], got
assert "ID" not in got[2] and "MaxAgeSeconds" not in got[2], got
err(s3.put_bucket_cors, "InvalidRequest", Bucket="web",
    CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"],
                                      "AllowedMethods": ["PATCH"]}]})
err(s3.put_bucket_cors, "InvalidRequest", Bucket="web",
    CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["http://*.*.x"],
                                      "AllowedMethods": ["GET"]}]})
err(s3.put_bucket_cors, "MalformedXML", Bucket="web",
    CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["http://h%d" % i],
                                      "AllowedMethods": ["GET"]}
                                     for i in range(101)]})
err(s3.put_bucket_cors, "NoSuchBucket", Bucket="nosuch",
    CORSConfiguration={"CORSRules": rules})
err(other.put_bucket_cors, "AccessDenied", Bucket="web",
    CORSConfiguration={"CORSRules": rules})
err(other.delete_bucket_cors, "AccessDenied", Bucket="web")
err(other.get_bucket_cors, "AccessDenied", Bucket="web")
assert len(s3.get_bucket_cors(Bucket="web")["CORSRules"]) == 3


def raw_put_cors(body, md5=None):
    """PutBucketCors with a hand-made body and Content-MD5."""
    def hook(request, **kw):
        request.data = body
        for h in [h for h in request.headers
                  if h.lower().startswith("x-amz-checksum-") or
                  h.lower() == "x-amz-sdk-checksum-algorithm"]:
            del request.headers[h]
        request.headers["Content-MD5"] = md5 or base64.b64encode(
            hashlib.md5(body).digest()).decode()
        request.headers["Content-Length"] = str(len(body))
    ev = "before-sign.s3.PutBucketCors"
    s3.meta.events.register_first(ev, hook)
    try:
        s3.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    finally:
        s3.meta.events.unregister(ev, hook)


for body, md5, code in [
        (b"<CORSConfiguration><CORSRule>", None, "MalformedXML"),
        (b"<CORSConfiguration/>", None, "MalformedXML"),
        (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
         b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
         base64.b64encode(hashlib.md5(b"x").digest()).decode(), "BadDigest")]:
    try:
        raw_put_cors(body, md5)
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (e.response, code)
    else:
        raise AssertionError("raw PutBucketCors worked, expected " + code)
assert len(s3.get_bucket_cors(Bucket="web")["CORSRules"]) == 3
ok("bucket CORS: round trip, InvalidRequest (method, wildcards), "
   "MalformedXML (101 rules, bad XML), Content-MD5 checked, NoSuchBucket, "
   "another user AccessDenied")
PY

B="$S3/web"
hdrs() { # METHOD URL HEADER...: the response head, lower-cased names
	local m=$1 u=$2; shift 2
	local a=() h
	for h in "$@"; do a+=(-H "$h"); done
	if [ "$m" = HEAD ]; then a+=(-I); else a+=(-X "$m"); fi
	curl -s -o "$T/body" -D - "${a[@]}" "$u" | tr -d '\r' |
		awk 'NR == 1 { print; next } { i = index($0, ":");
		    if (i) print tolower(substr($0, 1, i - 1)) substr($0, i) }'
}
# No `echo "$h" | grep -q`: bash's echo writes line by line, and under
# pipefail the pipeline fails when grep or head exits first (SIGPIPE).
status() { # HEAD CODE: HEAD's status line has CODE
	[[ ${1%%$'\n'*} == *" $2"* ]]
}
has() { # HEAD LINE: HEAD holds exactly LINE
	grep -qxF "$2" <<<"$1" || fail "no '$2' in: $1"
}

# preflight: first rule, wildcard origin, requested headers
h=$(hdrs OPTIONS "$B/index.html" "Origin: https://app.example.com" \
	"Access-Control-Request-Method: PUT" \
	"Access-Control-Request-Headers: X-Amz-Date, content-type")
status "$h" 200 || fail "preflight: $h"
has "$h" "access-control-allow-origin: https://app.example.com"
has "$h" "access-control-allow-methods: GET, PUT, HEAD"
has "$h" "access-control-allow-headers: x-amz-date, content-type"
has "$h" "access-control-expose-headers: ETag, x-amz-request-id"
has "$h" "access-control-max-age: 600"
has "$h" "access-control-allow-credentials: true"
grep -qi "^vary: Origin" <<<"$h" || fail "no Vary: $h"
# on the bucket itself too; a header no rule allows is refused
h=$(hdrs OPTIONS "$B" "Origin: https://app.example.com" \
	"Access-Control-Request-Method: GET")
status "$h" 200 || fail "bucket preflight: $h"
h=$(hdrs OPTIONS "$B/index.html" "Origin: https://app.example.com" \
	"Access-Control-Request-Method: PUT" \
	"Access-Control-Request-Headers: authorization")
status "$h" 403 || fail "header not allowed: $h"
grep -q "<Code>AccessForbidden</Code>" "$T/body" || fail "403 body: $(cat "$T/body")"
grep -q "CORSResponse: This CORS request is not allowed" "$T/body" ||
	fail "403 message: $(cat "$T/body")"
# the '*' rule: any origin may GET, answered '*' without credentials
h=$(hdrs OPTIONS "$B/index.html" "Origin: http://elsewhere.org" \
	"Access-Control-Request-Method: GET")
status "$h" 200 || fail "'*' preflight: $h"
has "$h" "access-control-allow-origin: *"
grep -qi "^access-control-allow-credentials" <<<"$h" &&
	fail "credentials with '*': $h"
# exact origin with DELETE and any header
h=$(hdrs OPTIONS "$B/index.html" "Origin: http://exact.test" \
	"Access-Control-Request-Method: DELETE" \
	"Access-Control-Request-Headers: x-anything")
status "$h" 200 || fail "exact preflight: $h"
# not allowed: origin/method pairs no rule has
for om in "http://elsewhere.org PUT" "https://example.com.evil.org PUT" \
    "http://exact.test PUT" "https://app.example.com POST"; do
	set -- $om
	h=$(hdrs OPTIONS "$B/index.html" "Origin: $1" \
		"Access-Control-Request-Method: $2")
	status "$h" 403 || fail "$om allowed: $h"
	grep -qi "^access-control-allow-origin" <<<"$h" &&
		fail "$om: CORS headers on a 403: $h"
done
# missing headers, missing bucket
h=$(hdrs OPTIONS "$B/index.html" "Access-Control-Request-Method: GET")
status "$h" 400 || fail "no Origin: $h"
h=$(hdrs OPTIONS "$B/index.html" "Origin: http://exact.test")
status "$h" 400 || fail "no request method: $h"
h=$(hdrs OPTIONS "$S3/nosuch/k" "Origin: http://exact.test" \
	"Access-Control-Request-Method: GET")
status "$h" 404 || fail "no bucket: $h"
grep -q "<Code>NoSuchBucket</Code>" "$T/body" || fail "404 body"
ok "preflight: rules in order, wildcard and '*' origins, requested headers, 403 AccessForbidden, 400, 404"

# actual requests: signed GET with an Origin gets the headers, without none
presigned() {
	python3 - "$S3" "$1" "${2:-get_object}" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
print(s3.generate_presigned_url(sys.argv[3], Params={
    "Bucket": "web", "Key": sys.argv[2]}, ExpiresIn=300))
PY
}
U=$(presigned index.html)
h=$(hdrs GET "$U" "Origin: https://app.example.com")
status "$h" 200 || fail "GET with Origin: $h"
[ "$(cat "$T/body")" = "<p>hi</p>" ] || fail "GET body"
has "$h" "access-control-allow-origin: https://app.example.com"
has "$h" "access-control-allow-methods: GET, PUT, HEAD"
has "$h" "access-control-expose-headers: ETag, x-amz-request-id"
has "$h" "access-control-allow-credentials: true"
grep -qi "^vary: Origin" <<<"$h" || fail "no Vary: $h"
grep -qi "^access-control-allow-headers" <<<"$h" &&
	fail "Allow-Headers on an actual request: $h"
h=$(hdrs GET "$U")
status "$h" 200 || fail "GET without Origin: $h"
grep -qi "^access-control-" <<<"$h" && fail "CORS headers without Origin: $h"
# an origin no rule allows for that method (HEAD: only *.example.com):
# no headers, the request is served all the same
h=$(hdrs HEAD "$(presigned index.html head_object)" "Origin: http://exact.test")
status "$h" 200 || fail "HEAD other origin: $h"
grep -qi "^access-control-" <<<"$h" && fail "CORS headers for a denied origin: $h"
# errors carry them too (a missing key)
h=$(hdrs GET "$(presigned nokey)" "Origin: https://a.example.com")
status "$h" 404 || fail "GET missing key: $h"
has "$h" "access-control-allow-origin: https://a.example.com"
ok "actual requests: CORS headers with a matching Origin only"

# after DeleteBucketCors (through this objectd: no staleness) preflights fail
python3 - "$S3" <<'PY' || fail "delete cors"
import sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
r = s3.delete_bucket_cors(Bucket="web")
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204, r
try:
    s3.get_bucket_cors(Bucket="web")
    raise AssertionError("cors still there")
except ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchCORSConfiguration", e
PY
h=$(hdrs OPTIONS "$B/index.html" "Origin: https://app.example.com" \
	"Access-Control-Request-Method: GET")
status "$h" 403 || fail "preflight after delete: $h"
h=$(hdrs GET "$U" "Origin: https://app.example.com")
grep -qi "^access-control-" <<<"$h" && fail "CORS headers after delete: $h"
ok "DeleteBucketCors: preflight 403, no headers"

if [ "${ARKOR_SANITIZED:-0}" = 1 ]; then
	for f in "$T"/*.log; do
		grep -q "Sanitizer\|runtime error" "$f" && { cat "$f"; fail "sanitizer report in $f"; }
	done
fi
exit 0
