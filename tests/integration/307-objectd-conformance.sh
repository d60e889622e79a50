#!/usr/bin/env bash
# 307-objectd-conformance: where AWS S3 names the answer and an earlier
# arkor-objectd did something else (the probe report's findings), through
# boto3 against a real local cluster: multipart uploads are named by
# bucket + key + id (AbortMultipartUpload and UploadPartCopy of another
# key's upload are NoSuchUpload and leave it alone, also for another
# user).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
ark_timeout 300

cluster_start
cluster_user bob
export USER_KEY_ID USER_SECRET

PYTHONPATH="$(dirname "$0")" python3 - "$S3" <<'PY' || fail "conformance scenario"
import os, sys
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
PY
ok "conformance scenario"

objectd_stop
ok "clean stop"
