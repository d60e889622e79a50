#!/usr/bin/env bash
# 300-objectd-awscli: the S3 object server behind a real local cluster
# (registry, three data servers in one group, arkorctl init) driven by the
# aws CLI: buckets, uploads of 0 B, 1 KiB and 20 MiB (20 fragments of
# 1 MiB), downloads compared by SHA-256, head-object, listings with prefix
# and delimiter, delete, errors (NoSuchKey, SignatureDoesNotMatch,
# BucketNotEmpty), and the object server's peak RSS over a 256 MiB upload
# and download.
#
# `aws s3 cp` switches to multipart uploads at 8 MiB: the 20 MiB file goes
# up in three parts; for the 256 MiB memory check the CLI's
# multipart_threshold is raised (in a private AWS config file) so that it
# goes up in one streamed PutObject.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4
sha() { sha256sum "$1" | cut -d' ' -f1; }

awss3 s3 mb s3://bkt >/dev/null || fail "mb"
awss3 s3 ls | grep -q ' bkt$' || fail "ls does not list bkt"
awss3 s3api head-bucket --bucket bkt || fail "head-bucket"
awss3 s3api get-bucket-location --bucket bkt >/dev/null || fail "get-bucket-location"
ok "mb, ls, head-bucket, get-bucket-location"

: >"$T/f0"
head -c 1024 /dev/urandom >"$T/f1k"
head -c $((20 << 20)) /dev/urandom >"$T/f20m"
for f in f0 f1k f20m; do
	awss3 s3 cp "$T/$f" "s3://bkt/dir/$f" --only-show-errors ||
		fail "upload $f"
done
for f in f0 f1k f20m; do
	rm -f "$T/back"
	awss3 s3 cp "s3://bkt/dir/$f" "$T/back" --only-show-errors ||
		fail "download $f"
	[ "$(sha "$T/back")" = "$(sha "$T/$f")" ] || fail "$f differs"
done
ok "cp up and down: 0 B, 1 KiB, 20 MiB multipart (sha256 equal)"
awss3 s3api head-object --bucket bkt --key dir/f20m | grep -q '"ETag": "\\"[0-9a-f]\{32\}-3\\""' ||
	fail "multipart ETag: $(awss3 s3api head-object --bucket bkt --key dir/f20m)"
uid=$(awss3 s3api create-multipart-upload --bucket bkt --key aborted \
	--query UploadId --output text) || fail "create-multipart-upload"
awss3 s3api upload-part --bucket bkt --key aborted --upload-id "$uid" \
	--part-number 1 --body "$T/f1k" >/dev/null || fail "upload-part"
awss3 s3api abort-multipart-upload --bucket bkt --key aborted --upload-id "$uid" ||
	fail "abort-multipart-upload"
out=$(awss3 s3api abort-multipart-upload --bucket bkt --key aborted \
	--upload-id "$uid" 2>&1) && fail "second abort worked"
grep -q NoSuchUpload <<<"$out" || fail "second abort: $out"
ok "multipart: <md5>-3 ETag, create / upload-part / abort, NoSuchUpload"

awss3 s3api put-object --bucket bkt --key meta.txt --body "$T/f1k" \
	--content-type text/x-test --metadata color=blue >/dev/null ||
	fail "put-object with metadata"
awss3 s3api head-object --bucket bkt --key meta.txt >"$T/head.json" ||
	fail "head-object"
python3 - "$T/head.json" "$(md5sum "$T/f1k" | cut -d' ' -f1)" <<'PY' || fail "head-object fields: $(cat "$T/head.json")"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["ContentLength"] == 1024, h
assert h["ETag"] == '"%s"' % sys.argv[2], h
assert h["ContentType"] == "text/x-test", h
assert h["Metadata"] == {"color": "blue"}, h
PY
awss3 s3api get-object --bucket bkt --key dir/f20m --range bytes=1000-2000999 \
	"$T/range" >/dev/null || fail "ranged get"
cmp -s "$T/range" <(tail -c +1001 "$T/f20m" | head -c 2000000) || fail "range bytes"
ok "head-object (ETag, type, metadata), ranged get-object"

# aws-chunked upload with a trailing checksum, as current SDKs send (the
# aws CLI may sign the whole payload instead over plain HTTP).
if python3 -c 'import botocore' 2>/dev/null; then
	head -c 300000 /dev/urandom >"$T/fch"
	out=$(python3 "$top_srcdir/tests/integration/s3-chunked-put.py" "$S3" bkt \
		chunked "$T/fch" bad)
	[ "$out" = "400 BadDigest" ] || fail "aws-chunked with a bad trailer: $out"
	awss3 s3api head-object --bucket bkt --key chunked >/dev/null 2>&1 &&
		fail "object committed despite a bad trailer checksum"
	out=$(python3 "$top_srcdir/tests/integration/s3-chunked-put.py" "$S3" bkt \
		chunked "$T/fch")
	[ "$out" = "200 True" ] || fail "aws-chunked upload: $out"
	awss3 s3 cp s3://bkt/chunked "$T/back" --only-show-errors || fail "get chunked"
	[ "$(sha "$T/back")" = "$(sha "$T/fch")" ] || fail "aws-chunked object differs"
	awss3 s3 rm s3://bkt/chunked >/dev/null || fail "rm chunked"
	ok "aws-chunked PutObject with trailing CRC32 (and BadDigest on a wrong one)"
fi

awss3 s3api list-objects-v2 --bucket bkt --prefix dir/ --delimiter / >"$T/l.json" ||
	fail "list-objects-v2"
python3 - "$T/l.json" <<'PY' || fail "listing: $(cat "$T/l.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert [c["Key"] for c in l["Contents"]] == ["dir/f0", "dir/f1k", "dir/f20m"], l
PY
awss3 s3api list-objects-v2 --bucket bkt --delimiter / >"$T/l.json" || fail "list root"
python3 - "$T/l.json" <<'PY' || fail "listing: $(cat "$T/l.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert [c["Key"] for c in l["Contents"]] == ["meta.txt"], l
assert [p["Prefix"] for p in l["CommonPrefixes"]] == ["dir/"], l
PY
awss3 s3api list-objects-v2 --bucket bkt --max-keys 1 --no-paginate >"$T/l.json" || fail "paged"
python3 - "$T/l.json" <<'PY' || fail "paged listing: $(cat "$T/l.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert l["IsTruncated"] and l["NextContinuationToken"] and len(l["Contents"]) == 1, l
PY
[ "$(awss3 s3 ls s3://bkt --recursive | wc -l)" = 4 ] || fail "ls --recursive (paged)"
awss3 s3api list-objects --bucket bkt --prefix dir/ >"$T/l.json" || fail "list-objects v1"
grep -q '"dir/f1k"' "$T/l.json" || fail "v1 listing: $(cat "$T/l.json")"
ok "list-objects-v2 prefix+delimiter, pagination, list-objects v1"

out=$(awss3 s3api get-object --bucket bkt --key nope "$T/x" 2>&1) && fail "GET of a missing key worked"
grep -q NoSuchKey <<<"$out" || fail "missing key: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' "$S3/bkt/nope") || true
[ "$code" = 403 ] || fail "anonymous GET: $code"
out=$(AWS_SECRET_ACCESS_KEY=wrong$AWS_SECRET_ACCESS_KEY awss3 s3 ls 2>&1) &&
	fail "bad secret accepted"
grep -q SignatureDoesNotMatch <<<"$out" || fail "bad secret: $out"
out=$(awss3 s3 rb s3://bkt 2>&1) && fail "rb of a non-empty bucket worked"
grep -q BucketNotEmpty <<<"$out" || fail "rb: $out"
curl -s -D "$T/hdr" -o /dev/null "$S3/bkt/nope" || true
grep -qi '^x-amz-request-id: [0-9a-f]' "$T/hdr" || fail "no x-amz-request-id"
ok "NoSuchKey, anonymous AccessDenied, SignatureDoesNotMatch, BucketNotEmpty, request ids"

awss3 s3api put-object --bucket bkt --key del1 --body "$T/f1k" >/dev/null || fail "put del1"
awss3 s3api put-object --bucket bkt --key del2 --body "$T/f1k" >/dev/null || fail "put del2"
awss3 s3api delete-objects --bucket bkt \
	--delete '{"Objects":[{"Key":"del1"},{"Key":"del2"},{"Key":"never"}]}' >"$T/d.json" ||
	fail "delete-objects"
python3 - "$T/d.json" <<'PY' || fail "delete-objects answer: $(cat "$T/d.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(x["Key"] for x in d["Deleted"]) == ["del1", "del2", "never"], d
PY
awss3 s3api head-object --bucket bkt --key del1 >/dev/null 2>&1 && fail "del1 still there"
ok "delete-objects"

awss3 s3 rm s3://bkt/meta.txt >/dev/null || fail "rm"
awss3 s3 rm s3://bkt/dir --recursive >/dev/null || fail "rm --recursive"
[ -z "$(awss3 s3 ls s3://bkt --recursive)" ] || fail "objects left after rm"
awss3 s3 rb s3://bkt >/dev/null || fail "rb"
awss3 s3 ls | grep -q ' bkt$' && fail "bkt still listed"
ok "rm, rb"

# Memory stays bounded whatever the object size: 256 MiB up in one
# PutObject (multipart threshold raised) and down.
cat >"$AWS_CONFIG_FILE" <<CFG
[default]
region = us-east-1
s3 =
    multipart_threshold = 4GB
    multipart_chunksize = 1GB
CFG
awss3 s3 mb s3://big >/dev/null || fail "mb big"
head -c $((256 << 20)) /dev/urandom >"$T/f256m"
awss3 s3 cp "$T/f256m" s3://big/f --only-show-errors || fail "256 MiB upload"
rm -f "$T/f20m"
awss3 s3 cp s3://big/f "$T/back" --only-show-errors || fail "256 MiB download"
[ "$(sha "$T/back")" = "$(sha "$T/f256m")" ] || fail "256 MiB object differs"
rm -f "$T/back" "$T/f256m"
hwm=$(ark_hwm_kb "$PID_objectd")
echo "objectd peak RSS: ${hwm} KiB"
if [ "${ARKOR_SANITIZED:-0}" != 1 ]; then
	[ "$hwm" -lt $((96 * 1024)) ] || fail "objectd peak RSS ${hwm} KiB over 96 MiB"
fi
ok "256 MiB up and down (peak RSS ${hwm} KiB)"

objectd_stop
ok "clean stop"
