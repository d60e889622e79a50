#!/usr/bin/env bash
# 304-objectd-mpu-checksums: multipart upload checksums through boto3
# against a real local cluster (1 MiB fragments): CreateMultipartUpload
# with x-amz-checksum-algorithm / -type (and the invalid pairs), parts
# checked and stored with their checksum (a mismatching or, for
# COMPOSITE, missing one refused; a FULL_OBJECT part without one gets it
# computed), ListParts, CompleteMultipartUpload with part checksums
# (InvalidPart, InvalidRequest when missing, BadDigest for a wrong object
# value), and the object's checksum on HEAD / GET (also per part) and
# GetObjectAttributes, each compared with values computed here. Works
# with botocore versions that send checksums by default (>= 1.36) and
# older ones (headers they do not know are added before signing).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4

PYTHONPATH="$(dirname "$0")" python3 - "$S3" <<'PY' || fail "boto3 scenario"
import base64, hashlib, os, sys, zlib
import boto3, botocore
from botocore.config import Config
from s3c_py import err, ok

print("botocore", botocore.__version__, flush=True)
cfg = dict(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(**cfg))
try:    # a client that sends no checksum unless asked to
    plain = boto3.client("s3", endpoint_url=sys.argv[1],
                         region_name="us-east-1",
                         config=Config(request_checksum_calculation=
                                       "when_required", **cfg))
except TypeError:       # botocore < 1.36 never sends one by itself
    plain = s3
MiB = 1 << 20
extra = {}


def add_headers(request, **kw):
    for k, v in extra.items():
        request.headers[k] = v


s3.meta.events.register_first("before-sign.s3.*", add_headers)


def hdr(r, name):
    return r["ResponseMetadata"]["HTTPHeaders"].get(name)


def create(key, alg=None, typ=None):
    extra.clear()
    if alg:
        extra["x-amz-checksum-algorithm"] = alg
    if typ:
        extra["x-amz-checksum-type"] = typ
    try:
        return s3.create_multipart_upload(Bucket="mpck", Key=key)
    finally:
        extra.clear()


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32(b):
    return b64(zlib.crc32(b).to_bytes(4, "big"))


CRC32C_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    CRC32C_T.append(c)


def crc32c_int(b):
    c = 0xFFFFFFFF
    for x in b:
        c = CRC32C_T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32c(b):
    return b64(crc32c_int(b).to_bytes(4, "big"))


def composite(values):
    raw = b"".join(base64.b64decode(v) for v in values)
    return raw


assert crc32c(b"123456789") == b64(bytes.fromhex("e3069283"))
s3.create_bucket(Bucket="mpck")

# ---- CreateMultipartUpload: declarations ----
for alg, typ in (("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
                 ("CRC64NVME", "COMPOSITE"), ("MD5", None),
                 ("CRC32", "PARTIAL"), (None, "COMPOSITE")):
    err(create, "InvalidRequest", key="bad", alg=alg, typ=typ)
r = create("c32", "CRC32")
assert hdr(r, "x-amz-checksum-algorithm") == "CRC32", r
assert hdr(r, "x-amz-checksum-type") == "COMPOSITE", r
uid = r["UploadId"]
r = create("n", "crc64nvme")
assert hdr(r, "x-amz-checksum-type") == "FULL_OBJECT", r
s3.abort_multipart_upload(Bucket="mpck", Key="n", UploadId=r["UploadId"])
ok("CreateMultipartUpload: x-amz-checksum-algorithm / -type answered, "
   "invalid pairs InvalidRequest")

# ---- CRC32 COMPOSITE: 5 MiB + 5 MiB + a small part ----
parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 3), os.urandom(1000)]
whole = b"".join(parts)
pv = [crc32(p) for p in parts]
etags = []
for i, p in enumerate(parts):
    r = s3.upload_part(Bucket="mpck", Key="c32", UploadId=uid, PartNumber=i + 1,
                       Body=p, ChecksumAlgorithm="CRC32")
    assert r.get("ChecksumCRC32") == pv[i], (i, r, pv[i])
    etags.append(r["ETag"])
err(s3.upload_part, "InvalidRequest", Bucket="mpck", Key="c32", UploadId=uid,
    PartNumber=4, Body=b"x", ChecksumAlgorithm="SHA256")
err(plain.upload_part, "InvalidRequest", Bucket="mpck", Key="c32",
    UploadId=uid, PartNumber=4, Body=b"x")
err(s3.upload_part, "BadDigest", Bucket="mpck", Key="c32", UploadId=uid,
    PartNumber=4, Body=b"x", ChecksumCRC32=crc32(b"y"))
lp = s3.list_parts(Bucket="mpck", Key="c32", UploadId=uid)
assert [p.get("ChecksumCRC32") for p in lp["Parts"]] == pv, lp
assert lp.get("ChecksumAlgorithm") == "CRC32", lp
if "ChecksumType" in lp:
    assert lp["ChecksumType"] == "COMPOSITE", lp
ok("UploadPart CRC32 checked, stored, returned; other algorithm / none / "
   "a wrong value refused; ListParts")

want = b64(zlib.crc32(composite(pv)).to_bytes(4, "big")) + "-3"
mp = [{"PartNumber": i + 1, "ETag": etags[i], "ChecksumCRC32": pv[i]}
      for i in range(3)]
bad = [dict(p) for p in mp]
bad[1]["ChecksumCRC32"] = pv[0]
err(s3.complete_multipart_upload, "InvalidPart", Bucket="mpck", Key="c32",
    UploadId=uid, MultipartUpload={"Parts": bad})
err(s3.complete_multipart_upload, "InvalidRequest", Bucket="mpck", Key="c32",
    UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in mp]})
r = s3.complete_multipart_upload(Bucket="mpck", Key="c32", UploadId=uid,
                                 MultipartUpload={"Parts": mp})
assert r.get("ChecksumCRC32") == want, (r, want)
if "ChecksumType" in r:
    assert r["ChecksumType"] == "COMPOSITE", r
h = s3.head_object(Bucket="mpck", Key="c32", ChecksumMode="ENABLED")
assert h.get("ChecksumCRC32") == want, (h, want)
assert hdr(h, "x-amz-checksum-type") == "COMPOSITE", h
g = s3.get_object(Bucket="mpck", Key="c32", PartNumber=2, ChecksumMode="ENABLED")
assert g.get("ChecksumCRC32") == pv[1], g
assert g["Body"].read() == parts[1]
g = s3.get_object(Bucket="mpck", Key="c32", ChecksumMode="ENABLED")
assert g.get("ChecksumCRC32") == want, g
got = g["Body"].read()
assert hashlib.sha256(got).hexdigest() == hashlib.sha256(whole).hexdigest()
a = s3.get_object_attributes(Bucket="mpck", Key="c32",
                             ObjectAttributes=["Checksum", "ObjectParts"])
assert a["Checksum"]["ChecksumCRC32"] == want, a
assert [p.get("ChecksumCRC32") for p in a["ObjectParts"]["Parts"]] == pv, a
ok("CRC32 COMPOSITE: InvalidPart for a wrong part checksum, InvalidRequest "
   "without them, %s on Complete, HEAD, GET (part 2: its own), "
   "GetObjectAttributes; sha256 of the download matches" % want)

# ---- CRC32C COMPOSITE, values computed here ----
uid = create("c32c", "CRC32C")["UploadId"]
parts = [os.urandom(5 * MiB), b"last part"]
pv = [crc32c(p) for p in parts]
mp = []
for i, p in enumerate(parts):
    r = s3.upload_part(Bucket="mpck", Key="c32c", UploadId=uid,
                       PartNumber=i + 1, Body=p, ChecksumCRC32C=pv[i])
    assert r.get("ChecksumCRC32C") == pv[i], r
    mp.append({"PartNumber": i + 1, "ETag": r["ETag"],
               "ChecksumCRC32C": pv[i]})
err(s3.upload_part, "InvalidRequest", Bucket="mpck", Key="c32c", UploadId=uid,
    PartNumber=3, Body=b"x", ChecksumAlgorithm="CRC32")
want = b64(crc32c_int(composite(pv)).to_bytes(4, "big")) + "-2"
r = s3.complete_multipart_upload(Bucket="mpck", Key="c32c", UploadId=uid,
                                 MultipartUpload={"Parts": mp})
assert r.get("ChecksumCRC32C") == want, (r, want)
h = s3.head_object(Bucket="mpck", Key="c32c", ChecksumMode="ENABLED")
assert h.get("ChecksumCRC32C") == want, (h, want)
ok("CRC32C COMPOSITE: %s" % want)

# ---- CRC32 FULL_OBJECT: a part without checksum gets one computed ----
uid = create("full", "CRC32", "FULL_OBJECT")["UploadId"]
parts = [os.urandom(5 * MiB + 11), os.urandom(5 * MiB), os.urandom(777)]
whole = b"".join(parts)
mp = []
for i, p in enumerate(parts):
    cl = s3 if i != 1 else plain
    kw = {"ChecksumAlgorithm": "CRC32"} if i != 1 else {}
    r = cl.upload_part(Bucket="mpck", Key="full", UploadId=uid,
                       PartNumber=i + 1, Body=p, **kw)
    assert r.get("ChecksumCRC32") == crc32(p), (i, r)
    mp.append({"PartNumber": i + 1, "ETag": r["ETag"]})
want = crc32(whole)
extra["x-amz-checksum-crc32"] = crc32(b"not it")
err(s3.complete_multipart_upload, "BadDigest", Bucket="mpck", Key="full",
    UploadId=uid, MultipartUpload={"Parts": mp})
extra["x-amz-checksum-crc32"] = want
extra["x-amz-checksum-type"] = "COMPOSITE"
err(s3.complete_multipart_upload, "InvalidRequest", Bucket="mpck", Key="full",
    UploadId=uid, MultipartUpload={"Parts": mp})
extra["x-amz-checksum-type"] = "FULL_OBJECT"
r = s3.complete_multipart_upload(Bucket="mpck", Key="full", UploadId=uid,
                                 MultipartUpload={"Parts": mp})
extra.clear()
assert r.get("ChecksumCRC32") == want, (r, want)
h = s3.head_object(Bucket="mpck", Key="full", ChecksumMode="ENABLED")
assert h.get("ChecksumCRC32") == want, (h, want)
assert hdr(h, "x-amz-checksum-type") == "FULL_OBJECT", h
assert s3.get_object(Bucket="mpck", Key="full")["Body"].read() == whole
ok("CRC32 FULL_OBJECT = zlib.crc32 of the whole object (%s); wrong "
   "x-amz-checksum-crc32 BadDigest, other type InvalidRequest" % want)

# ---- no declaration: parts may carry any checksum, the object none ----
uid = create("none")["UploadId"]
p = os.urandom(1000)
r = s3.upload_part(Bucket="mpck", Key="none", UploadId=uid, PartNumber=1,
                   Body=p, ChecksumAlgorithm="SHA256")
sha = b64(hashlib.sha256(p).digest())
assert r.get("ChecksumSHA256") == sha, r
lp = s3.list_parts(Bucket="mpck", Key="none", UploadId=uid)
assert lp["Parts"][0].get("ChecksumSHA256") == sha, lp
assert "ChecksumAlgorithm" not in lp, lp
s3.complete_multipart_upload(Bucket="mpck", Key="none", UploadId=uid,
                             MultipartUpload={"Parts": [
                                 {"PartNumber": 1, "ETag": r["ETag"],
                                  "ChecksumSHA256": sha}]})
h = s3.head_object(Bucket="mpck", Key="none", ChecksumMode="ENABLED")
assert not [k for k in h if k.startswith("Checksum")], h
ok("an upload without declaration: part checksums kept and listed, no "
   "object checksum")

# ---- the Complete body is covered by the signed payload hash ----
uid = create("tamper")["UploadId"]
r = s3.upload_part(Bucket="mpck", Key="tamper", UploadId=uid, PartNumber=1,
                   Body=b"x" * 100)


def tamper(request, **kw):
    # after signing: the body no longer matches x-amz-content-sha256
    if isinstance(request.body, bytes):
        request.body = request.body.replace(b"<PartNumber>1<",
                                            b"<PartNumber>2<")


s3.meta.events.register("before-send.s3.CompleteMultipartUpload", tamper)
err(s3.complete_multipart_upload, "XAmzContentSHA256Mismatch",
    Bucket="mpck", Key="tamper", UploadId=uid,
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
s3.meta.events.unregister("before-send.s3.CompleteMultipartUpload", tamper)
assert len(s3.list_parts(Bucket="mpck", Key="tamper",
                         UploadId=uid)["Parts"]) == 1
err(s3.head_object, "404", Bucket="mpck", Key="tamper")
ok("a Complete body changed after signing: XAmzContentSHA256Mismatch, "
   "the upload stays, no object")
PY
ok "boto3 scenario"

objectd_stop
ok "clean stop"
