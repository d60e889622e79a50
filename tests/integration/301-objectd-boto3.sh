#!/usr/bin/env bash
# 301-objectd-boto3: copies and multipart listings through boto3 against
# a real local cluster (1 MiB fragments, so parts and ranges cut them):
# CopyObject (COPY / REPLACE, url-encoded sources, versionId=null, the
# x-amz-copy-source-if-* conditions, copy onto itself), UploadPartCopy
# (whole sources reusing fragments, ranges cutting fragments at both
# ends), ListParts and ListMultipartUploads with paging, the 5 MiB
# minimum part size (EntityTooSmall), InvalidPart, InvalidPartOrder,
# part numbers 1..10000; then stored headers (Cache-Control,
# Content-Disposition, Content-Encoding, Content-Language, Expires) with
# response-* overrides, conditional PUT (If-None-Match: *, If-Match) and
# x-amz-checksum-* returned with x-amz-checksum-mode: ENABLED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4

PYTHONPATH="$(dirname "$0")" python3 - "$S3" <<'PY' || fail "boto3 scenario"
import datetime, hashlib, os, sys
import boto3
from botocore.config import Config
from s3c_py import err, ok

s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"},
                                retries={"max_attempts": 1}))
MiB = 1 << 20


def body(bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


md5 = lambda b: hashlib.md5(b).hexdigest()
s3.create_bucket(Bucket="src")
s3.create_bucket(Bucket="dst")
a = os.urandom(3 * MiB + 12345)
s3.put_object(Bucket="src", Key="a", Body=a, ContentType="text/plain",
              Metadata={"m": "1"})

# ---- CopyObject ----
r = s3.copy_object(Bucket="dst", Key="b", CopySource={"Bucket": "src",
                                                      "Key": "a"})
assert r["CopyObjectResult"]["ETag"] == '"%s"' % md5(a), r
assert body("dst", "b") == a
h = s3.head_object(Bucket="dst", Key="b")
assert h["ContentType"] == "text/plain" and h["Metadata"] == {"m": "1"}, h
assert h["ETag"] == '"%s"' % md5(a), h
s3.copy_object(Bucket="dst", Key="c", CopySource="src/a",
               MetadataDirective="REPLACE", ContentType="app/x",
               Metadata={"n": "2"}, CacheControl="max-age=9")
h = s3.head_object(Bucket="dst", Key="c")
assert h["ContentType"] == "app/x" and h["Metadata"] == {"n": "2"}, h
assert h["CacheControl"] == "max-age=9", h
odd = "dir/a b+ü%?&=x"
s3.copy_object(Bucket="src", Key=odd, CopySource={"Bucket": "src",
                                                  "Key": "a"})
s3.copy_object(Bucket="dst", Key="d", CopySource={"Bucket": "src",
               "Key": odd, "VersionId": "null"})
assert body("dst", "d") == a
err(s3.copy_object, "NoSuchVersion", Bucket="dst", Key="e",
    CopySource={"Bucket": "src", "Key": "a", "VersionId": "v2"})
err(s3.copy_object, "NoSuchKey", Bucket="dst", Key="e", CopySource="src/none")
err(s3.copy_object, "NoSuchBucket", Bucket="dst", Key="e",
    CopySource="nosuchbkt/a")
err(s3.copy_object, "PreconditionFailed", Bucket="dst", Key="e",
    CopySource="src/a", CopySourceIfMatch='"0123"')
err(s3.copy_object, "PreconditionFailed", Bucket="dst", Key="e",
    CopySource="src/a", CopySourceIfNoneMatch=md5(a))
err(s3.copy_object, "PreconditionFailed", Bucket="dst", Key="e",
    CopySource="src/a", CopySourceIfModifiedSince=datetime.datetime(2100, 1, 1))
err(s3.copy_object, "PreconditionFailed", Bucket="dst", Key="e",
    CopySource="src/a",
    CopySourceIfUnmodifiedSince=datetime.datetime(2000, 1, 1))
s3.copy_object(Bucket="dst", Key="e", CopySource="src/a",
               CopySourceIfMatch=md5(a),
               CopySourceIfModifiedSince=datetime.datetime(2000, 1, 1))
err(s3.copy_object, "InvalidRequest", Bucket="src", Key="a",
    CopySource="src/a")
s3.copy_object(Bucket="src", Key="a", CopySource="src/a",
               MetadataDirective="REPLACE", Metadata={"m": "3"})
assert s3.head_object(Bucket="src", Key="a")["Metadata"] == {"m": "3"}
assert body("src", "a") == a
s3.delete_object(Bucket="src", Key="a")
assert body("dst", "b") == a, "the copy lost its data with the source"
s3.put_object(Bucket="src", Key="a", Body=a)
ok("CopyObject: COPY/REPLACE, encoded source, versionId=null, "
   "NoSuchVersion/NoSuchKey/NoSuchBucket, copy-source-if-*, onto itself")

# ---- UploadPartCopy, ListParts, ListMultipartUploads ----
six = os.urandom(6 * MiB + 777)
s3.put_object(Bucket="src", Key="six", Body=six)
uid = s3.create_multipart_upload(Bucket="dst", Key="mp",
                                 ContentType="video/x")["UploadId"]
lo, hi = 500000, 500000 + 5 * MiB + 3   # cuts fragments at both ends
p1 = s3.upload_part_copy(Bucket="dst", Key="mp", UploadId=uid, PartNumber=1,
                         CopySource="src/six",
                         CopySourceRange="bytes=%d-%d" % (lo, hi))
p2 = s3.upload_part_copy(Bucket="dst", Key="mp", UploadId=uid, PartNumber=2,
                         CopySource={"Bucket": "src", "Key": "six"})
assert p2["CopyPartResult"]["ETag"] == '"%s"' % md5(six), p2
p3 = s3.upload_part_copy(Bucket="dst", Key="mp", UploadId=uid, PartNumber=3,
                         CopySource="src/six",
                         CopySourceRange="bytes=100-%d" % (100 + 2 * MiB))
tail = b"tail" * 1000
p4 = s3.upload_part(Bucket="dst", Key="mp", UploadId=uid, PartNumber=4,
                    Body=tail)
err(s3.upload_part_copy, "InvalidRange", Bucket="dst", Key="mp",
    UploadId=uid, PartNumber=5, CopySource="src/six",
    CopySourceRange="bytes=0-%d" % len(six))
err(s3.upload_part_copy, "InvalidArgument", Bucket="dst", Key="mp",
    UploadId=uid, PartNumber=5, CopySource="src/six",
    CopySourceRange="bytes=-5")
lp = s3.list_parts(Bucket="dst", Key="mp", UploadId=uid)
assert [p["PartNumber"] for p in lp["Parts"]] == [1, 2, 3, 4], lp
assert [p["Size"] for p in lp["Parts"]] == [hi - lo + 1, len(six),
                                            2 * MiB + 1, len(tail)], lp
assert lp["Parts"][3]["ETag"] == p4["ETag"] and not lp["IsTruncated"], lp
lp = s3.list_parts(Bucket="dst", Key="mp", UploadId=uid, MaxParts=2)
assert lp["IsTruncated"] and lp["NextPartNumberMarker"] == 2, lp
assert [p["PartNumber"] for p in lp["Parts"]] == [1, 2], lp
lp = s3.list_parts(Bucket="dst", Key="mp", UploadId=uid, PartNumberMarker=2)
assert [p["PartNumber"] for p in lp["Parts"]] == [3, 4], lp
err(s3.list_parts, "NoSuchUpload", Bucket="dst", Key="other", UploadId=uid)
uid2 = s3.create_multipart_upload(Bucket="dst", Key="dir/x")["UploadId"]
uid3 = s3.create_multipart_upload(Bucket="dst", Key="dir/y")["UploadId"]
lu = s3.list_multipart_uploads(Bucket="dst")
assert [(u["Key"], u["UploadId"]) for u in lu["Uploads"]] == [
    ("dir/x", uid2), ("dir/y", uid3), ("mp", uid)], lu
lu = s3.list_multipart_uploads(Bucket="dst", Delimiter="/")
assert [u["Key"] for u in lu["Uploads"]] == ["mp"], lu
assert [p["Prefix"] for p in lu["CommonPrefixes"]] == ["dir/"], lu
lu = s3.list_multipart_uploads(Bucket="dst", Prefix="dir/", MaxUploads=1)
assert lu["IsTruncated"] and [u["Key"] for u in lu["Uploads"]] == ["dir/x"]
lu = s3.list_multipart_uploads(Bucket="dst", Prefix="dir/",
                               KeyMarker=lu["NextKeyMarker"],
                               UploadIdMarker=lu["NextUploadIdMarker"])
assert [u["Key"] for u in lu["Uploads"]] == ["dir/y"], lu
parts = [{"PartNumber": i + 1, "ETag": p} for i, p in enumerate(
    [p1["CopyPartResult"]["ETag"], p2["CopyPartResult"]["ETag"],
     p3["CopyPartResult"]["ETag"], p4["ETag"]])]
err(s3.complete_multipart_upload, "InvalidPart", Bucket="dst", Key="mp",
    UploadId=uid, MultipartUpload={"Parts": parts[:3] + [
        {"PartNumber": 4, "ETag": '"%s"' % ("0" * 32)}]})
err(s3.complete_multipart_upload, "InvalidPart", Bucket="dst", Key="mp",
    UploadId=uid, MultipartUpload={"Parts": parts + [
        {"PartNumber": 9, "ETag": p4["ETag"]}]})
err(s3.complete_multipart_upload, "InvalidPartOrder", Bucket="dst", Key="mp",
    UploadId=uid, MultipartUpload={"Parts": [parts[1], parts[0]]})
# part 3 (2 MiB) is not the last: too small
err(s3.complete_multipart_upload, "EntityTooSmall", Bucket="dst", Key="mp",
    UploadId=uid, MultipartUpload={"Parts": parts})
r = s3.complete_multipart_upload(Bucket="dst", Key="mp", UploadId=uid,
                                 MultipartUpload={"Parts": parts[:2] +
                                                  parts[3:]})
assert r["ETag"].endswith('-3"'), r
want = six[lo:hi + 1] + six + tail
got = body("dst", "mp")
assert len(got) == len(want) and got == want, (len(got), len(want))
h = s3.head_object(Bucket="dst", Key="mp")
assert h["ContentType"] == "video/x" and h["ContentLength"] == len(want), h
err(s3.upload_part, "InvalidArgument", Bucket="dst", Key="dir/x",
    UploadId=uid2, PartNumber=10001, Body=b"x")
s3.upload_part(Bucket="dst", Key="dir/x", UploadId=uid2, PartNumber=10000,
               Body=b"x")
err(s3.upload_part, "NoSuchUpload", Bucket="dst", Key="mp", UploadId=uid,
    PartNumber=1, Body=b"x")
s3.abort_multipart_upload(Bucket="dst", Key="dir/x", UploadId=uid2)
s3.abort_multipart_upload(Bucket="dst", Key="dir/y", UploadId=uid3)
assert "Uploads" not in s3.list_multipart_uploads(Bucket="dst")
ok("UploadPartCopy (ranges cutting fragments, whole sources), ListParts "
   "paging, ListMultipartUploads (delimiter, markers), InvalidPart, "
   "InvalidPartOrder, EntityTooSmall, part numbers 1..10000")

# ---- stored headers, response-* overrides ----
exp = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
s3.put_object(Bucket="src", Key="h", Body=b"hello", ContentType="text/x-h",
              CacheControl="no-cache", ContentDisposition="inline",
              ContentEncoding="identity", ContentLanguage="fr", Expires=exp)
for hh in (s3.head_object(Bucket="src", Key="h"),
           s3.get_object(Bucket="src", Key="h")):
    assert hh["ContentType"] == "text/x-h", hh
    assert hh["CacheControl"] == "no-cache", hh
    assert hh["ContentDisposition"] == "inline", hh
    assert hh["ContentEncoding"] == "identity", hh
    assert hh["ContentLanguage"] == "fr", hh
    assert hh["ExpiresString"] == "Wed, 02 Jan 2030 03:04:05 GMT", hh
g = s3.get_object(Bucket="src", Key="h", ResponseContentType="a/b",
                  ResponseCacheControl="max-age=1",
                  ResponseContentDisposition='attachment; filename="f"',
                  ResponseContentLanguage="de",
                  ResponseContentEncoding="x-enc",
                  ResponseExpires=datetime.datetime(2031, 1, 1))
assert g["ContentType"] == "a/b" and g["CacheControl"] == "max-age=1", g
assert g["ContentDisposition"] == 'attachment; filename="f"', g
assert g["ContentLanguage"] == "de" and g["ContentEncoding"] == "x-enc", g
assert g["Body"].read() == b"hello"
s3.copy_object(Bucket="src", Key="h2", CopySource="src/h")
assert s3.head_object(Bucket="src", Key="h2")["ContentLanguage"] == "fr"
ok("Cache-Control, Content-Disposition, Content-Encoding, Content-Language, "
   "Expires stored and returned; response-* overrides; kept by copies")

# ---- conditional PUT ----
err(s3.put_object, "PreconditionFailed", Bucket="src", Key="h", Body=b"x",
    IfNoneMatch="*")
s3.put_object(Bucket="src", Key="new", Body=b"x", IfNoneMatch="*")
err(s3.put_object, "PreconditionFailed", Bucket="src", Key="new", Body=b"y",
    IfMatch='"%s"' % md5(b"nope"))
err(s3.put_object, "NoSuchKey", Bucket="src", Key="never", Body=b"y",
    IfMatch='"%s"' % md5(b"x"))
s3.put_object(Bucket="src", Key="new", Body=b"y", IfMatch='"%s"' % md5(b"x"))
assert body("src", "new") == b"y"
ok("conditional PUT: If-None-Match * and If-Match (412, NoSuchKey)")

# ---- checksums on GET/HEAD ----
import base64, zlib
data = os.urandom(100000)
s3.put_object(Bucket="src", Key="ck", Body=data, ChecksumAlgorithm="SHA256")
h = s3.head_object(Bucket="src", Key="ck", ChecksumMode="ENABLED")
assert h["ChecksumSHA256"] == base64.b64encode(
    hashlib.sha256(data).digest()).decode(), h
assert "ChecksumSHA256" not in s3.head_object(Bucket="src", Key="ck")
s3.put_object(Bucket="src", Key="ck2", Body=data, ChecksumAlgorithm="CRC32")
g = s3.get_object(Bucket="src", Key="ck2", ChecksumMode="ENABLED")
assert g["ChecksumCRC32"] == base64.b64encode(
    zlib.crc32(data).to_bytes(4, "big")).decode(), g
assert g["Body"].read() == data
ok("x-amz-checksum-* on GET/HEAD with x-amz-checksum-mode: ENABLED")
PY
ok "boto3 scenario"

# aws-chunked is the request's encoding only: not stored.
head -c 100000 /dev/urandom >"$T/fch"
out=$(python3 "$top_srcdir/tests/integration/s3-chunked-put.py" "$S3" src \
	chunked "$T/fch") || fail "aws-chunked PUT"
[ "$out" = "200 True" ] || fail "aws-chunked PUT: $out"
awss3 s3api head-object --bucket src --key chunked >"$T/h.json" || fail "head"
grep -q ContentEncoding "$T/h.json" && fail "aws-chunked stored: $(cat "$T/h.json")"
ok "Content-Encoding: aws-chunked not stored"

objectd_stop
ok "clean stop"
