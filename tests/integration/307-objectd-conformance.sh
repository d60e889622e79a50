#!/usr/bin/env bash
# 307-objectd-conformance: where AWS S3 names the answer and an earlier
# arkor-objectd did something else (the probe report's findings), through
# boto3 against a real local cluster: multipart uploads are named by
# bucket + key + id (AbortMultipartUpload and UploadPartCopy of another
# key's upload are NoSuchUpload and leave it alone, also for another
# user); an unversioned bucket's objects have the one version "null"
# (another versionId is NoSuchVersion, and deleting it deletes nothing);
# conditional deletes and writes (DeleteObject If-Match, DeleteObjects
# <ETag>, CopyObject and CompleteMultipartUpload If-Match / If-None-Match:
# *) answer 412 and change nothing; user metadata past 2 KB is
# MetadataTooLarge; ListObjectsV2 continuation tokens are opaque
# (base64url), so a page ending on a key with a control character is
# still XML, and a bad token is InvalidArgument; DeleteObjects answers a
# key too long as that key's error and a missing bucket as 404.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
ark_timeout 300

cluster_start
cluster_user bob
export USER_KEY_ID USER_SECRET

PYTHONPATH="$(dirname "$0")" python3 - "$S3" <<'PY' || fail "conformance scenario"
import hashlib, os, sys
import boto3
from botocore.config import Config
from s3c_py import err, ok

cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=cfg)
bob = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                   config=cfg, aws_access_key_id=os.environ["USER_KEY_ID"],
                   aws_secret_access_key=os.environ["USER_SECRET"])


def parts(bucket, key, upload):
    r = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)
    return [(p["PartNumber"], p["Size"]) for p in r.get("Parts", [])]


s3.create_bucket(Bucket="rp1")
s3.create_bucket(Bucket="rp2")
bob.create_bucket(Bucket="bobs")

# ---- multipart uploads are named by bucket, key and id ----
u = s3.create_multipart_upload(Bucket="rp1", Key="victim")["UploadId"]
s3.upload_part(Bucket="rp1", Key="victim", UploadId=u, PartNumber=1,
               Body=b"p1")
err(s3.abort_multipart_upload, "NoSuchUpload", Bucket="rp2", Key="victim",
    UploadId=u)
err(s3.abort_multipart_upload, "NoSuchUpload", Bucket="rp1", Key="other",
    UploadId=u)
err(bob.abort_multipart_upload, "NoSuchUpload", Bucket="bobs", Key="x",
    UploadId=u)
assert parts("rp1", "victim", u) == [(1, 2)]
ok("AbortMultipartUpload of another bucket's or key's upload: NoSuchUpload")

s3.put_object(Bucket="rp1", Key="src", Body=b"0123456789")
err(s3.upload_part_copy, "NoSuchUpload", Bucket="rp1", Key="zz", UploadId=u,
    PartNumber=2, CopySource="rp1/src")
err(s3.upload_part_copy, "NoSuchUpload", Bucket="rp2", Key="victim",
    UploadId=u, PartNumber=2, CopySource="rp1/src")
assert parts("rp1", "victim", u) == [(1, 2)]
s3.upload_part_copy(Bucket="rp1", Key="victim", UploadId=u, PartNumber=2,
                    CopySource="rp1/src")
assert parts("rp1", "victim", u) == [(1, 2), (2, 10)]
ok("UploadPartCopy into another key's upload: NoSuchUpload, nothing added")

s3.abort_multipart_upload(Bucket="rp1", Key="victim", UploadId=u)
err(s3.list_parts, "NoSuchUpload", Bucket="rp1", Key="victim", UploadId=u)
err(s3.abort_multipart_upload, "NoSuchUpload", Bucket="rp1", Key="victim",
    UploadId=u)
ok("AbortMultipartUpload of its own bucket and key: 204, then NoSuchUpload")

# ---- versionId on an unversioned bucket: "null" is the object ----
V = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
s3.put_object(Bucket="rp1", Key="v", Body=b"keep")
s3.put_object_tagging(Bucket="rp1", Key="v",
                      Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
for fn, kw in ((s3.get_object, {}), (s3.head_object, {}),
               (s3.get_object_tagging, {}), (s3.delete_object_tagging, {}),
               (s3.put_object_tagging,
                {"Tagging": {"TagSet": [{"Key": "t", "Value": "2"}]}}),
               (s3.get_object_attributes, {"ObjectAttributes": ["ETag"]})):
    err(fn, "NoSuchVersion" if fn != s3.head_object else "404", Bucket="rp1",
        Key="v", VersionId=V, **kw)
assert s3.get_object(Bucket="rp1", Key="v", VersionId="null")["Body"].read() \
    == b"keep"
s3.head_object(Bucket="rp1", Key="v", VersionId="null")
assert s3.get_object_tagging(Bucket="rp1", Key="v", VersionId="null")[
    "TagSet"] == [{"Key": "t", "Value": "1"}]
s3.get_object_attributes(Bucket="rp1", Key="v", VersionId="null",
                         ObjectAttributes=["ETag"])
r = s3.delete_object(Bucket="rp1", Key="v", VersionId=V)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204, r
r = s3.delete_objects(Bucket="rp1", Delete={"Objects": [
    {"Key": "v", "VersionId": V}]})
assert [d["Key"] for d in r["Deleted"]] == ["v"] and "Errors" not in r, r
assert s3.get_object(Bucket="rp1", Key="v")["Body"].read() == b"keep"
err(s3.delete_object, "NoSuchBucket", Bucket="nosuchbkt", Key="v",
    VersionId=V)
err(bob.delete_object, "AccessDenied", Bucket="rp1", Key="v", VersionId=V)
ok("versionId other than null: NoSuchVersion; its DELETE deletes nothing")
s3.delete_object(Bucket="rp1", Key="v", VersionId="null")
err(s3.head_object, "404", Bucket="rp1", Key="v")
s3.put_object(Bucket="rp1", Key="v2", Body=b"x")
r = s3.delete_objects(Bucket="rp1", Delete={"Objects": [
    {"Key": "v2", "VersionId": "null"}]})
assert [d["Key"] for d in r["Deleted"]] == ["v2"], r
err(s3.head_object, "404", Bucket="rp1", Key="v2")
ok("versionId=null: DeleteObject and DeleteObjects delete the object")

# ---- conditional deletes and writes: 412 and nothing changes ----
etag = lambda b: '"%s"' % hashlib.md5(b).hexdigest()
Z = '"%s"' % ("0" * 32)
body = lambda k: s3.get_object(Bucket="rp1", Key=k)["Body"].read()
s3.put_object(Bucket="rp1", Key="d", Body=b"d")
err(s3.delete_object, "PreconditionFailed", Bucket="rp1", Key="d", IfMatch=Z)
assert body("d") == b"d"
err(s3.delete_object, "NoSuchKey", Bucket="rp1", Key="nod", IfMatch="*")
s3.delete_object(Bucket="rp1", Key="d", IfMatch=etag(b"d"))
err(s3.head_object, "404", Bucket="rp1", Key="d")
s3.put_object(Bucket="rp1", Key="d", Body=b"d")
s3.delete_object(Bucket="rp1", Key="d", IfMatch="*")
err(s3.head_object, "404", Bucket="rp1", Key="d")
ok("DeleteObject If-Match: 412 and kept, NoSuchKey, deleted when it matches")

for k in ("d2", "d3"):
    s3.put_object(Bucket="rp1", Key=k, Body=k.encode())
r = s3.delete_objects(Bucket="rp1", Delete={"Objects": [
    {"Key": "d2", "ETag": Z}, {"Key": "d3", "ETag": etag(b"d3")},
    {"Key": "d4", "ETag": Z}]})
assert [d["Key"] for d in r["Deleted"]] == ["d3"], r
assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [
    ("d2", "PreconditionFailed"), ("d4", "NoSuchKey")], r
assert body("d2") == b"d2"
err(s3.head_object, "404", Bucket="rp1", Key="d3")
ok("DeleteObjects <ETag>: per-key PreconditionFailed, matching one deleted")

s3.put_object(Bucket="rp1", Key="dst", Body=b"old")
for kw in ({"IfNoneMatch": "*"}, {"IfMatch": Z}):
    err(s3.copy_object, "PreconditionFailed", Bucket="rp1", Key="dst",
        CopySource="rp1/src", **kw)
assert body("dst") == b"old"
err(s3.copy_object, "NoSuchKey", Bucket="rp1", Key="nodst",
    CopySource="rp1/src", IfMatch=etag(b"old"))
s3.copy_object(Bucket="rp1", Key="dst", CopySource="rp1/src",
               IfMatch=etag(b"old"))
assert body("dst") == b"0123456789"
s3.copy_object(Bucket="rp1", Key="dst2", CopySource="rp1/src",
               IfNoneMatch="*")
assert body("dst2") == b"0123456789"
ok("CopyObject If-Match / If-None-Match: * on the destination")

u = s3.create_multipart_upload(Bucket="rp1", Key="dst")["UploadId"]
e = s3.upload_part(Bucket="rp1", Key="dst", UploadId=u, PartNumber=1,
                   Body=b"new")["ETag"]
mpu = {"Parts": [{"PartNumber": 1, "ETag": e}]}
for kw in ({"IfNoneMatch": "*"}, {"IfMatch": Z}):
    err(s3.complete_multipart_upload, "PreconditionFailed", Bucket="rp1",
        Key="dst", UploadId=u, MultipartUpload=mpu, **kw)
assert body("dst") == b"0123456789"
assert parts("rp1", "dst", u) == [(1, 3)]
s3.complete_multipart_upload(Bucket="rp1", Key="dst", UploadId=u,
                             MultipartUpload=mpu,
                             IfMatch=etag(b"0123456789"))
assert body("dst") == b"new"
u = s3.create_multipart_upload(Bucket="rp1", Key="dst3")["UploadId"]
e = s3.upload_part(Bucket="rp1", Key="dst3", UploadId=u, PartNumber=1,
                   Body=b"3")["ETag"]
s3.complete_multipart_upload(Bucket="rp1", Key="dst3", UploadId=u,
                             MultipartUpload={"Parts": [
                                 {"PartNumber": 1, "ETag": e}]},
                             IfNoneMatch="*")
assert body("dst3") == b"3"
ok("CompleteMultipartUpload If-Match / If-None-Match: *; the upload stays")

# ---- user metadata is at most 2 KB (names without x-amz-meta-, values) ----
small = {"a": "x" * 1000, "b": "y" * 1000}
big = {"a": "x" * 1000, "b": "y" * 1100}
s3.put_object(Bucket="rp1", Key="meta", Body=b"m", Metadata=small)
assert s3.head_object(Bucket="rp1", Key="meta")["Metadata"] == small
err(s3.put_object, "MetadataTooLarge", Bucket="rp1", Key="meta", Body=b"n",
    Metadata=big)
err(s3.create_multipart_upload, "MetadataTooLarge", Bucket="rp1",
    Key="meta2", Metadata=big)
err(s3.copy_object, "MetadataTooLarge", Bucket="rp1", Key="meta3",
    CopySource="rp1/meta", MetadataDirective="REPLACE", Metadata=big)
assert body("meta") == b"m"
assert s3.head_object(Bucket="rp1", Key="meta")["Metadata"] == small
ok("user metadata past 2 KB: MetadataTooLarge, nothing written")

# ---- ListObjectsV2 continuation tokens are opaque and XML-safe ----
s3.create_bucket(Bucket="tok")
names = ["a\x01b", "a\x01c", "plain", "z&<>"]
for k in names:
    s3.put_object(Bucket="tok", Key=k, Body=b"t")
seen, kw = [], {}
while True:
    r = s3.list_objects_v2(Bucket="tok", MaxKeys=1, EncodingType="url", **kw)
    seen += [c["Key"] for c in r.get("Contents", [])]
    if not r["IsTruncated"]:
        break
    t = r["NextContinuationToken"]
    assert all(ch.isalnum() or ch in "-_" for ch in t), t
    kw = {"ContinuationToken": t}
from urllib.parse import unquote
assert [unquote(k) for k in seen] == names, seen
err(s3.list_objects_v2, "InvalidArgument", Bucket="tok",
    ContinuationToken="not a token!")
ok("ListObjectsV2: opaque continuation tokens; a bad one is InvalidArgument")

# ---- DeleteObjects: a key no request could name is its own error; a
# missing bucket is the request's ----
r = s3.delete_objects(Bucket="tok", Delete={"Objects": [
    {"Key": "k" * 1025}, {"Key": "plain"}]})
assert [e["Code"] for e in r.get("Errors", [])] == ["KeyTooLongError"], r
assert [d["Key"] for d in r.get("Deleted", [])] == ["plain"], r
err(s3.delete_objects, "NoSuchBucket", Bucket="nosuchbkt",
    Delete={"Objects": [{"Key": "a"}]})
ok("DeleteObjects: KeyTooLongError per key; NoSuchBucket for the request")

u = s3.create_multipart_upload(Bucket="tok", Key="mp")["UploadId"]
s3.upload_part(Bucket="tok", Key="mp", UploadId=u, PartNumber=1, Body=b"x")
r = s3.list_parts(Bucket="tok", Key="mp", UploadId=u, MaxParts=0)
assert not r["IsTruncated"] and not r.get("Parts"), r
s3.abort_multipart_upload(Bucket="tok", Key="mp", UploadId=u)
ok("ListParts max-parts=0: an empty page, not truncated")

# ---- a PUT with neither Content-Length nor chunks: 411 ----
import socket, urllib.parse
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
req = AWSRequest(method="PUT", url=sys.argv[1] + "/tok/nolen", data=b"",
                 headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
SigV4Auth(Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                      os.environ["AWS_SECRET_ACCESS_KEY"]), "s3",
          "us-east-1").add_auth(req)
u = urllib.parse.urlsplit(sys.argv[1])
with socket.create_connection((u.hostname, u.port), timeout=30) as sk:
    sk.sendall(("PUT /tok/nolen HTTP/1.1\r\nHost: %s\r\n" % u.netloc +
                "".join(
        "%s: %s\r\n" % kv for kv in req.headers.items()
        if kv[0].lower() != "content-length") + "\r\n").encode())
    line = sk.recv(4096).split(b"\r\n")[0]
assert b" 411 " in line, line
err(s3.head_object, "404", Bucket="tok", Key="nolen")
ok("PUT without Content-Length: 411 MissingContentLength")

s3.put_object(Bucket="tok", Key="plain", Body=b"p")
err(s3.put_object, "InvalidStorageClass", Bucket="tok", Key="sc", Body=b"x",
    StorageClass="BOGUS")
err(s3.create_multipart_upload, "InvalidStorageClass", Bucket="tok",
    Key="sc", StorageClass="BOGUS")
err(s3.copy_object, "InvalidStorageClass", Bucket="tok", Key="sc",
    CopySource="tok/plain", StorageClass="BOGUS")
err(s3.head_object, "404", Bucket="tok", Key="sc")
s3.put_object(Bucket="tok", Key="sc", Body=b"x", StorageClass="STANDARD_IA")
assert s3.get_object(Bucket="tok", Key="sc")["Body"].read() == b"x"
ok("x-amz-storage-class: S3's names taken, another InvalidStorageClass")

import urllib.error, urllib.request
s3.create_bucket(Bucket="pubr", ACL="public-read")
s3.put_object(Bucket="pubr", Key="o", Body=b"pub")
with urllib.request.urlopen(sys.argv[1] + "/pubr/o") as r:
    assert r.read() == b"pub"
try:
    urllib.request.urlopen(sys.argv[1] + "/pubr/o?response-content-type=x%2Fy")
    raise AssertionError("anonymous GET with response-content-type worked")
except urllib.error.HTTPError as e:
    assert e.code == 400 and b"<Code>InvalidRequest</Code>" in e.read(), e
ok("anonymous GET with a response-* override: InvalidRequest")

err(s3.list_object_versions, "InvalidArgument", Bucket="tok",
    VersionIdMarker="null")
assert s3.list_object_versions(Bucket="tok", KeyMarker="a",
                               VersionIdMarker="null")["IsTruncated"] is False
ok("ListObjectVersions: a version-id marker needs a key marker")
PY
ok "conformance scenario"

objectd_stop
ok "clean stop"
