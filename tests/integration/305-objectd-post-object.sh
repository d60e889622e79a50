#!/usr/bin/env bash
# 305-objectd-post-object: POST Object (browser form uploads) against a
# real local cluster (1 MiB fragments): boto3's generate_presigned_post
# makes the SigV4 form fields, curl -F (its own multipart/form-data
# encoder) sends them with files of 0 B, 1 KiB and 20 MiB (several
# fragments), read back with boto3 get_object and compared by SHA-256;
# ${filename} in the key; Content-Type, x-amz-meta-* and tags stored;
# success_action_status 200 / 201 (PostResponse) / 204 and
# success_action_redirect (303); starts-with conditions met and
# violated, content-length-range violated (EntityTooLarge), an expired
# policy, a wrong signature, a missing file, a field the policy does not
# name, x-ignore-* fields, a wrong x-amz-checksum-sha256, an anonymous
# form: each refused with AWS's code and nothing stored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
python3 -c 'import boto3' 2>/dev/null || { echo "SKIP: no python3-boto3"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4

python3 - "$S3" "$T" "${ARKOR_SANITIZED:-0}" <<'PY' || fail "POST Object scenario"
import base64, hashlib, html, os, subprocess, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, tmp, sanitized = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
cfg = dict(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(**cfg))
# SigV4 form fields (x-amz-*); botocore's default for a custom endpoint
# signs forms with Signature Version 2 (AWSAccessKeyId, signature)
s3v4 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                    config=Config(signature_version="s3v4", **cfg))
B = "forms"
s3.create_bucket(Bucket=B)
n = 0


def ok(msg):
    print("ok:", msg, flush=True)


def post(url, fields, path=None, filename=None, ctype=None):
    """curl -F: (status, headers dict, body)."""
    global n
    n += 1
    hdr, out = "%s/h%d" % (tmp, n), "%s/o%d" % (tmp, n)
    cmd = ["curl", "-sS", "-o", out, "-D", hdr, "-w", "%{http_code}"]
    for k, v in fields.items():
        cmd += ["--form-string", "%s=%s" % (k, v)]
    if path is not None:
        spec = "file=@" + path
        if filename is not None:
            spec += ";filename=" + filename
        if ctype is not None:
            spec += ";type=" + ctype
        cmd += ["-F", spec]
    code = int(subprocess.check_output(cmd + [url]).decode())
    headers = {}
    for line in open(hdr, encoding="latin-1").read().splitlines()[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return code, headers, open(out, "rb").read()


def mkfile(name, size):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
    return p


def sha_file(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def md5_file(p):
    return hashlib.md5(open(p, "rb").read()).hexdigest()


def stored(key):
    return hashlib.sha256(s3.get_object(Bucket=B, Key=key)["Body"].read()
                          ).hexdigest()


def absent(key):
    try:
        s3.head_object(Bucket=B, Key=key)
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e
        return
    raise AssertionError("%s was stored" % key)


def refused(r, status, code, message=None):
    st, _, body = r
    body = html.unescape(body.decode())
    assert st == status, (st, body)
    assert "<Code>%s</Code>" % code in body, body
    if message is not None:
        assert message in body, body


def presign(key, fields=None, conditions=None, expires=600, client=s3v4):
    p = client.generate_presigned_post(B, key, Fields=fields,
                                       Conditions=conditions,
                                       ExpiresIn=expires)
    return p["url"], dict(p["fields"])


# ---- files of 0 B, 1 KiB, 20 MiB: stored and read back ----
big = (5 if sanitized else 20) << 20
for size in (0, 1024, big):
    key = "sizes/%d" % size
    path = mkfile("f%d" % size, size)
    url, fields = presign(key)
    st, h, body = post(url, fields, path)
    assert st == 204, (st, body)
    assert h["etag"] == '"%s"' % md5_file(path), h
    assert h["location"].endswith("/%s/%s" % (B, key)), h
    assert stored(key) == sha_file(path), key
    assert s3.head_object(Bucket=B, Key=key)["ContentLength"] == size
    ok("POST of %d bytes stored" % size)

small = mkfile("small", 1024)

# ---- ${filename}, the file part's name ----
url, fields = presign("user/${filename}")
st, h, body = post(url, fields, small, filename="photo one.txt")
assert st == 204, (st, body)
assert stored("user/photo one.txt") == sha_file(small)
ok("${filename} replaced")

# ---- Content-Type and x-amz-meta-* stored; 201 PostResponse ----
url, fields = presign("meta/k", {"Content-Type": "image/png",
                                 "x-amz-meta-color": "blue",
                                 "Cache-Control": "max-age=60",
                                 "success_action_status": "201"},
                      [{"Content-Type": "image/png"},
                       {"x-amz-meta-color": "blue"},
                       {"Cache-Control": "max-age=60"},
                       {"success_action_status": "201"}])
st, h, body = post(url, fields, small, ctype="text/plain")
assert st == 201, (st, body)
body = body.decode()
for elem in ("<Bucket>%s</Bucket>" % B, "<Key>meta/k</Key>",
             "<ETag>&quot;%s&quot;</ETag>" % md5_file(small),
             "<Location>", "<PostResponse>"):
    assert elem in body or elem.replace("&quot;", '"') in body, body
hd = s3.head_object(Bucket=B, Key="meta/k")
assert hd["ContentType"] == "image/png", hd
assert hd["Metadata"] == {"color": "blue"}, hd
assert hd["CacheControl"] == "max-age=60", hd
ok("Content-Type, x-amz-meta-*, Cache-Control stored; 201 PostResponse")

# ---- tagging: a Tagging XML document ----
tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag>"
           "</TagSet></Tagging>")
url, fields = presign("tags/k", {"tagging": tagging}, [{"tagging": tagging}])
st, h, body = post(url, fields, small)
assert st == 204, (st, body)
assert s3.get_object_tagging(Bucket=B, Key="tags/k")["TagSet"] == [
    {"Key": "team", "Value": "web"}]
url, fields = presign("tags/bad", {"tagging": "<Tagging>"},
                      [{"tagging": "<Tagging>"}])
refused(post(url, fields, small), 400, "MalformedXML")
absent("tags/bad")
ok("tagging stored")

# ---- the file part's Content-Type when the form has none; status 200 ----
url, fields = presign("ctype/k", {"success_action_status": "200"},
                      [{"success_action_status": "200"}])
st, h, body = post(url, fields, small, ctype="text/csv")
assert st == 200 and body == b"", (st, body)
assert s3.head_object(Bucket=B, Key="ctype/k")["ContentType"] == "text/csv"
ok("success_action_status 200; the file's Content-Type")

# ---- success_action_redirect ----
url, fields = presign("redir/k", {"success_action_redirect":
                                  "http://example.com/done?x=1"},
                      [{"success_action_redirect":
                        "http://example.com/done?x=1"}])
st, h, body = post(url, fields, small)
assert st == 303, (st, body)
loc = h["location"]
assert loc.startswith("http://example.com/done?x=1&bucket=%s&key=redir%%2Fk"
                      "&etag=" % B), loc
assert md5_file(small) in loc, loc
ok("success_action_redirect: 303")

# ---- starts-with met and violated ----
cond = [["starts-with", "$Content-Type", "image/"]]
url, fields = presign("sw/ok", {"Content-Type": "image/jpeg"}, cond)
assert post(url, fields, small)[0] == 204
url, fields = presign("sw/bad", {"Content-Type": "image/jpeg"}, cond)
fields["Content-Type"] = "text/plain"
refused(post(url, fields, small), 403, "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: '
        '["starts-with", "$Content-Type", "image/"]')
absent("sw/bad")
url, fields = presign("sw/key")
fields["key"] = "other/key"
refused(post(url, fields, small), 403, "AccessDenied", "$key")
absent("other/key")
ok("starts-with conditions")

# ---- content-length-range ----
url, fields = presign("range/big", conditions=[["content-length-range", 0,
                                                 1000]])
refused(post(url, fields, small), 400, "EntityTooLarge")
absent("range/big")
url, fields = presign("range/small", conditions=[["content-length-range",
                                                   2000, 5000]])
refused(post(url, fields, small), 400, "EntityTooSmall")
absent("range/small")
url, fields = presign("range/big2", conditions=[["content-length-range", 0,
                                                  (2 << 20)]])
refused(post(url, fields, os.path.join(tmp, "f%d" % big)), 400,
        "EntityTooLarge")
absent("range/big2")
url, fields = presign("range/ok", conditions=[["content-length-range", 1024,
                                                1024]])
assert post(url, fields, small)[0] == 204
ok("content-length-range")

# ---- expired policy, wrong signature, missing file, extra field ----
url, fields = presign("exp/k", expires=-60)
refused(post(url, fields, small), 403, "AccessDenied",
        "Invalid according to Policy: Policy expired.")
absent("exp/k")
url, fields = presign("sig/k")
sig = fields["x-amz-signature"]
fields["x-amz-signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
refused(post(url, fields, small), 403, "SignatureDoesNotMatch")
absent("sig/k")
url, fields = presign("nofile/k")
refused(post(url, fields), 400, "InvalidArgument",
        "POST requires exactly one file upload per request.")
absent("nofile/k")
url, fields = presign("extra/k")
fields["x-amz-meta-extra"] = "1"
refused(post(url, fields, small), 403, "AccessDenied",
        "Invalid according to Policy: Extra input fields: x-amz-meta-extra")
absent("extra/k")
url, fields = presign("ignore/k")
fields["x-ignore-me"] = "1"
assert post(url, fields, small)[0] == 204
url, fields = presign("nokey/k")
del fields["key"]
refused(post(url, fields, small), 400, "InvalidArgument", "key")
ok("expired, bad signature, no file, extra field, x-ignore-*, no key")

# ---- x-amz-checksum-sha256 verified ----
good = base64.b64encode(hashlib.sha256(open(small, "rb").read()).digest()
                        ).decode()
bad = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
for key, value, want in (("ck/good", good, 204), ("ck/bad", bad, 400)):
    url, fields = presign(key, {"x-amz-checksum-sha256": value},
                          [{"x-amz-checksum-sha256": value}])
    r = post(url, fields, small)
    if want == 204:
        assert r[0] == 204, r
        assert s3.head_object(Bucket=B, Key=key, ChecksumMode="ENABLED"
                              )["ChecksumSHA256"] == good
    else:
        refused(r, 400, "BadDigest")
        absent(key)
ok("x-amz-checksum-sha256")

# ---- anonymous form: refused ----
refused(post("%s/%s" % (endpoint, B), {"key": "anon/k"}, small), 403,
        "AccessDenied")
absent("anon/k")
ok("anonymous POST refused")

# ---- Signature Version 2 form (botocore's default here) ----
url, fields = presign("v2/k", client=s3)
assert "AWSAccessKeyId" in fields and "signature" in fields, fields
st, h, body = post(url, fields, small)
assert st == 204, (st, body)
assert stored("v2/k") == sha_file(small)
url, fields = presign("v2/bad", client=s3)
fields["signature"] = base64.b64encode(b"x" * 20).decode()
refused(post(url, fields, small), 403, "SignatureDoesNotMatch")
absent("v2/bad")
url, fields = presign("v2/extra", client=s3)
fields["acl"] = "private"
refused(post(url, fields, small), 403, "AccessDenied",
        "Extra input fields: acl")
ok("Signature Version 2 form")
PY
ok "POST Object scenario"

objectd_stop
ok "clean stop"
