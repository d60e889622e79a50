#!/usr/bin/env python3
# s3-chunked-put.py ENDPOINT BUCKET KEY FILE [bad]: PutObject of FILE as
# an aws-chunked body (STREAMING-UNSIGNED-PAYLOAD-TRAILER, 64 KiB chunks)
# with a trailing x-amz-checksum-crc32, signed with SigV4 by botocore
# (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), as current
# AWS SDKs upload. "bad" sends a wrong trailer checksum. Prints the HTTP
# status and the response's error code or x-amz-checksum-crc32.
import base64, os, sys, urllib.error, urllib.request, zlib
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ep, bucket, key, path = sys.argv[1:5]
data = open(path, "rb").read()
crc = zlib.crc32(data) ^ (1 if sys.argv[5:] == ["bad"] else 0)
crc = base64.b64encode(crc.to_bytes(4, "big")).decode()
body = b""
for i in range(0, len(data), 65536):
    c = data[i:i + 65536]
    body += b"%x\r\n" % len(c) + c + b"\r\n"
body += b"0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
url = "%s/%s/%s" % (ep, bucket, key)
req = AWSRequest(method="PUT", url=url, data=body, headers={
    "Content-Encoding": "aws-chunked",
    "X-Amz-Decoded-Content-Length": str(len(data)),
    "X-Amz-Trailer": "x-amz-checksum-crc32",
    "Content-Length": str(len(body))})


class StreamingAuth(S3SigV4Auth):
    def payload(self, request):
        return "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


StreamingAuth(Credentials(os.environ["AWS_ACCESS_KEY_ID"],
    os.environ["AWS_SECRET_ACCESS_KEY"]), "s3", "us-east-1").add_auth(req)
p = req.prepare()
r = urllib.request.Request(url, data=body, method="PUT",
    headers=dict(p.headers))
try:
    resp = urllib.request.urlopen(r)
    print(resp.status, resp.headers.get("x-amz-checksum-crc32") == crc)
except urllib.error.HTTPError as e:
    b = e.read().decode()
    print(e.code, b.split("<Code>")[1].split("</Code>")[0] if "<Code>" in b else b)
