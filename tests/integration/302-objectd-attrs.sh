#!/usr/bin/env bash
# 302-objectd-attrs: the attribute operations through boto3 and the aws
# CLI against a real local cluster: ListObjectVersions on an unversioned
# bucket (VersionId null, IsLatest, paging), GetBucketVersioning (empty),
# the bucket configurations never stored (policy, lifecycle, ... read as
# their 404 code, deleted as no-op; cors and tagging read so until set),
# GetObjectAttributes (ETag, ObjectSize, StorageClass, Checksum,
# ObjectParts with paging), GET/HEAD with partNumber
# (x-amz-mp-parts-count, InvalidPartNumber), object tagging (Put/Get/
# DeleteObjectTagging, x-amz-tagging on PUT, x-amz-tagging-count,
# InvalidTag), bucket and object ACLs (canned private / public-read), and
# anonymous GET/HEAD/list with curl: allowed on a public-read bucket only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4

PYTHONPATH="$(dirname "$0")" python3 - "$S3" <<'PY' || fail "boto3 scenario"
import base64, hashlib, os, sys
import boto3
from botocore.config import Config
from s3c_py import err, ok

s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"},
                                retries={"max_attempts": 1}))
MiB = 1 << 20


s3.create_bucket(Bucket="ver")
for k in ("a", "b/1", "b/2", "c"):
    s3.put_object(Bucket="ver", Key=k, Body=k.encode())

# ---- ListObjectVersions, GetBucketVersioning ----
r = s3.list_object_versions(Bucket="ver")
assert [x["Key"] for x in r["Versions"]] == ["a", "b/1", "b/2", "c"], r
assert all(x["VersionId"] == "null" and x["IsLatest"] for x in r["Versions"])
assert r["Versions"][0]["ETag"] == '"%s"' % hashlib.md5(b"a").hexdigest()
assert r["Versions"][1]["Size"] == 3 and not r["IsTruncated"], r
r = s3.list_object_versions(Bucket="ver", Delimiter="/")
assert [x["Key"] for x in r["Versions"]] == ["a", "c"], r
assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/"], r
r = s3.list_object_versions(Bucket="ver", MaxKeys=2)
assert r["IsTruncated"] and r["NextKeyMarker"] == "b/1", r
r = s3.list_object_versions(Bucket="ver", KeyMarker=r["NextKeyMarker"],
                            VersionIdMarker=r["NextVersionIdMarker"])
assert [x["Key"] for x in r["Versions"]] == ["b/2", "c"], r
keys = [v["Key"] for page in s3.get_paginator("list_object_versions")
        .paginate(Bucket="ver", PaginationConfig={"PageSize": 1})
        for v in page.get("Versions", [])]
assert keys == ["a", "b/1", "b/2", "c"], keys
v = s3.get_bucket_versioning(Bucket="ver")
assert "Status" not in v, v
err(s3.get_bucket_versioning, "NoSuchBucket", Bucket="nosuch")
err(s3.put_bucket_versioning, "NotImplemented", Bucket="ver",
    VersioningConfiguration={"Status": "Enabled"})
ok("ListObjectVersions (null versions, delimiter, paging), "
   "GetBucketVersioning")

# ---- bucket configurations Arkor never stores ----
for call, code in [
        (s3.get_bucket_policy, "NoSuchBucketPolicy"),
        (s3.get_bucket_policy_status, "NoSuchBucketPolicy"),
        (s3.get_bucket_cors, "NoSuchCORSConfiguration"),
        (s3.get_bucket_lifecycle_configuration,
         "NoSuchLifecycleConfiguration"),
        (s3.get_bucket_encryption,
         "ServerSideEncryptionConfigurationNotFoundError"),
        (s3.get_bucket_website, "NoSuchWebsiteConfiguration"),
        (s3.get_bucket_replication, "ReplicationConfigurationNotFoundError"),
        (s3.get_object_lock_configuration,
         "ObjectLockConfigurationNotFoundError"),
        (s3.get_bucket_ownership_controls, "OwnershipControlsNotFoundError"),
        (s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration"),
        (s3.get_bucket_tagging, "NoSuchTagSet")]:
    err(call, code, Bucket="ver")
    err(call, "NoSuchBucket", Bucket="nosuch")
assert s3.get_bucket_request_payment(Bucket="ver")["Payer"] == "BucketOwner"
assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket="ver")
n = s3.get_bucket_notification_configuration(Bucket="ver")
assert not any(k.endswith("Configurations") for k in n), n
assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket="ver")
for call in [s3.delete_bucket_policy, s3.delete_bucket_cors,
             s3.delete_bucket_lifecycle, s3.delete_bucket_encryption,
             s3.delete_bucket_website, s3.delete_bucket_tagging,
             s3.delete_public_access_block]:
    r = call(Bucket="ver")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204, r
    err(call, "NoSuchBucket", Bucket="nosuch")
err(s3.put_bucket_policy, "NotImplemented", Bucket="ver", Policy="{}")
err(s3.put_bucket_lifecycle_configuration, "NotImplemented", Bucket="ver",
    LifecycleConfiguration={"Rules": [{"ID": "x", "Status": "Enabled",
                                       "Filter": {"Prefix": ""},
                                       "Expiration": {"Days": 1}}]})
assert len(s3.list_objects_v2(Bucket="ver")["Contents"]) == 4
ok("bucket policy/lifecycle/encryption/website/replication/"
   "object-lock/ownership/public-access-block read as absent, "
   "deleted as no-op, cors/tagging (stored, 306) absent until set; "
   "logging/notification/accelerate/requestPayment empty; Put* "
   "NotImplemented")

# ---- multipart object: attributes and partNumber ----
p1, p2 = os.urandom(5 * MiB), os.urandom(MiB + 3)
uid = s3.create_multipart_upload(Bucket="ver", Key="mp")["UploadId"]
e1 = s3.upload_part(Bucket="ver", Key="mp", UploadId=uid, PartNumber=1,
                    Body=p1)["ETag"]
e2 = s3.upload_part(Bucket="ver", Key="mp", UploadId=uid, PartNumber=2,
                    Body=p2)["ETag"]
s3.complete_multipart_upload(Bucket="ver", Key="mp", UploadId=uid,
                             MultipartUpload={"Parts": [
                                 {"PartNumber": 1, "ETag": e1},
                                 {"PartNumber": 2, "ETag": e2}]})
a = s3.get_object_attributes(Bucket="ver", Key="mp", ObjectAttributes=[
    "ETag", "ObjectSize", "StorageClass", "ObjectParts"])
assert a["ObjectSize"] == len(p1) + len(p2) and a["StorageClass"] == "STANDARD"
assert a["ETag"].endswith("-2") and not a["ETag"].startswith('"'), a
op = a["ObjectParts"]
assert op["TotalPartsCount"] == 2, a
assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == [
    (1, len(p1)), (2, len(p2))], a
a = s3.get_object_attributes(Bucket="ver", Key="mp", ObjectAttributes=[
    "ObjectParts"], MaxParts=1)
assert a["ObjectParts"]["IsTruncated"], a
assert a["ObjectParts"]["NextPartNumberMarker"] == 1, a
a = s3.get_object_attributes(Bucket="ver", Key="mp", ObjectAttributes=[
    "ObjectParts"], PartNumberMarker=1)
assert [p["PartNumber"] for p in a["ObjectParts"]["Parts"]] == [2], a
data = os.urandom(1000)
s3.put_object(Bucket="ver", Key="ck", Body=data, ChecksumAlgorithm="SHA256")
a = s3.get_object_attributes(Bucket="ver", Key="ck", ObjectAttributes=[
    "Checksum", "ObjectSize", "ETag"])
assert a["Checksum"]["ChecksumSHA256"] == base64.b64encode(
    hashlib.sha256(data).digest()).decode(), a
assert a["ObjectSize"] == 1000 and "ObjectParts" not in a, a
err(s3.get_object_attributes, "NoSuchKey", Bucket="ver", Key="none",
    ObjectAttributes=["ETag"])
g = s3.get_object(Bucket="ver", Key="mp", PartNumber=2)
assert g["PartsCount"] == 2 and g["ContentLength"] == len(p2), g
assert g["ContentRange"] == "bytes %d-%d/%d" % (
    len(p1), len(p1) + len(p2) - 1, len(p1) + len(p2)), g
assert g["Body"].read() == p2
h = s3.head_object(Bucket="ver", Key="mp", PartNumber=1)
assert h["PartsCount"] == 2 and h["ContentLength"] == len(p1), h
err(s3.get_object, "InvalidPartNumber", Bucket="ver", Key="mp", PartNumber=3)
g = s3.get_object(Bucket="ver", Key="ck", PartNumber=1)
assert g["Body"].read() == data
err(s3.head_object, "416", Bucket="ver", Key="ck", PartNumber=2)
ok("GetObjectAttributes (ETag, size, class, Checksum, ObjectParts paging), "
   "GET/HEAD partNumber, InvalidPartNumber")

# ---- tagging ----
s3.put_object(Bucket="ver", Key="t", Body=b"t", Tagging="k1=v1&k%202=v%262")
g = s3.get_object(Bucket="ver", Key="t")
assert g["TagCount"] == 2, g
t = s3.get_object_tagging(Bucket="ver", Key="t")["TagSet"]
assert sorted((x["Key"], x["Value"]) for x in t) == [("k 2", "v&2"),
                                                      ("k1", "v1")], t
s3.put_object_tagging(Bucket="ver", Key="t", Tagging={"TagSet": [
    {"Key": "x", "Value": "<y>"}]})
t = s3.get_object_tagging(Bucket="ver", Key="t")["TagSet"]
assert t == [{"Key": "x", "Value": "<y>"}], t
s3.copy_object(Bucket="ver", Key="t2", CopySource="ver/t")
assert s3.get_object_tagging(Bucket="ver", Key="t2")["TagSet"] == t
s3.copy_object(Bucket="ver", Key="t3", CopySource="ver/t",
               TaggingDirective="REPLACE", Tagging="z=1")
assert s3.get_object_tagging(Bucket="ver", Key="t3")["TagSet"] == [
    {"Key": "z", "Value": "1"}]
s3.delete_object_tagging(Bucket="ver", Key="t")
assert s3.get_object_tagging(Bucket="ver", Key="t")["TagSet"] == []
assert s3.get_object(Bucket="ver", Key="t")["Body"].read() == b"t"
err(s3.put_object_tagging, "InvalidTag", Bucket="ver", Key="t",
    Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]})
err(s3.put_object, "InvalidTag", Bucket="ver", Key="t4", Body=b"",
    Tagging="&".join("k%d=v" % i for i in range(11)))
err(s3.get_object_tagging, "NoSuchKey", Bucket="ver", Key="none")
err(s3.put_object_tagging, "NoSuchKey", Bucket="ver", Key="none",
    Tagging={"TagSet": []})
ok("Put/Get/DeleteObjectTagging, x-amz-tagging on PUT and copies, "
   "x-amz-tagging-count, InvalidTag")

# ---- ACLs ----
acl = s3.get_bucket_acl(Bucket="ver")
assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"], acl
assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser", acl
s3.put_bucket_acl(Bucket="ver", ACL="public-read")
acl = s3.get_bucket_acl(Bucket="ver")
assert sorted(g["Permission"] for g in acl["Grants"]) == [
    "FULL_CONTROL", "READ"], acl
assert any(g["Grantee"].get("URI", "").endswith("/AllUsers")
           for g in acl["Grants"]), acl
acl = s3.get_object_acl(Bucket="ver", Key="a")
assert len(acl["Grants"]) == 2, acl
err(s3.get_object_acl, "NoSuchKey", Bucket="ver", Key="none")
err(s3.put_bucket_acl, "NotImplemented", Bucket="ver",
    ACL="public-read-write")
s3.create_bucket(Bucket="priv")
s3.put_object(Bucket="priv", Key="p", Body=b"p")
s3.create_bucket(Bucket="pub", ACL="public-read")
s3.put_object(Bucket="pub", Key="dir/x y", Body=b"public")
ok("Get/PutBucketAcl (canned, AllUsers READ grant), GetObjectAcl")
PY

# Anonymous access: public-read buckets only, reads only.
code() { curl -s -o "$T/out" -w '%{http_code}' "$@" || true; }
[ "$(code "$S3/pub/dir/x%20y")" = 200 ] || fail "anonymous GET on public-read"
[ "$(cat "$T/out")" = public ] || fail "anonymous GET body"
[ "$(code -I "$S3/pub/dir/x%20y")" = 200 ] || fail "anonymous HEAD"
[ "$(code "$S3/pub?list-type=2")" = 200 ] || fail "anonymous list"
grep -q '<Key>dir/x y</Key>' "$T/out" || fail "anonymous list: $(cat "$T/out")"
[ "$(code "$S3/pub/none")" = 404 ] || fail "anonymous GET of a missing key"
[ "$(code -X PUT --data-binary x "$S3/pub/new")" = 403 ] || fail "anonymous PUT"
[ "$(code -X DELETE "$S3/pub/dir/x%20y")" = 403 ] || fail "anonymous DELETE"
[ "$(code "$S3/pub?acl")" = 403 ] || fail "anonymous GetBucketAcl"
[ "$(code "$S3/priv/p")" = 403 ] || fail "anonymous GET on private"
grep -q AccessDenied "$T/out" || fail "private: $(cat "$T/out")"
[ "$(code "$S3/priv")" = 403 ] || fail "anonymous list of private"
[ "$(code "$S3/nosuchbucket/x")" = 404 ] || fail "anonymous GET, no bucket"
[ "$(code "$S3/")" = 403 ] || fail "anonymous ListBuckets"
awss3 s3api put-bucket-acl --bucket pub --acl private || fail "put-bucket-acl"
[ "$(code "$S3/pub/dir/x%20y")" = 403 ] || fail "GET after private"
ok "anonymous GET/HEAD/list on public-read only; AccessDenied otherwise"

awss3 s3api get-object-attributes --bucket ver --key mp \
	--object-attributes ObjectSize ETag >"$T/a.json" || fail "aws get-object-attributes"
grep -q '"ObjectSize": 6291459' "$T/a.json" || fail "aws attributes: $(cat "$T/a.json")"
awss3 s3api list-object-versions --bucket ver --prefix b/ >"$T/v.json" ||
	fail "aws list-object-versions"
grep -c '"VersionId": "null"' "$T/v.json" | grep -qx 2 || fail "versions: $(cat "$T/v.json")"
ok "aws s3api get-object-attributes, list-object-versions"

objectd_stop
ok "clean stop"
