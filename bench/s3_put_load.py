#!/usr/bin/env python3
# s3_put_load.py ENDPOINT BUCKET N CONNS SIZE REGMETRICS: N PutObjects of
# SIZE random bytes over CONNS keep-alive connections (one thread each),
# SigV4-signed with UNSIGNED-PAYLOAD by botocore (credentials from
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Prints one line:
#   puts/s p50_ms p99_ms registry_requests_per_put client_cpu_share
# where registry requests are read from REGMETRICS (the registry's
# /metrics URL) before and after, less its idle rate (heartbeats)
# measured for one second first.
import http.client, os, re, sys, threading, time, urllib.parse, urllib.request
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ep, bucket, n, conns, size, metrics = sys.argv[1:7]
n, conns, size = int(n), int(conns), int(size)
u = urllib.parse.urlparse(ep)
cred = Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                   os.environ["AWS_SECRET_ACCESS_KEY"])
body = os.urandom(size)


def reg_requests():
    t = urllib.request.urlopen(metrics).read().decode()
    return sum(int(v) for v in re.findall(
        r'^arkor_http_requests_total\{[^}]*\} (\d+)', t, re.M))


def worker(idx, count, lat):
    c = http.client.HTTPConnection(u.hostname, u.port)
    for i in range(count):
        url = "%s/%s/k%d-%d-%d" % (ep, bucket, os.getpid(), idx, i)
        r = AWSRequest("PUT", url, data=body,
                       headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        S3SigV4Auth(cred, "s3", "us-east-1").add_auth(r)
        t0 = time.perf_counter()
        c.request("PUT", urllib.parse.urlparse(url).path, body=body,
                  headers=dict(r.headers.items()))
        resp = c.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        if resp.status != 200:
            raise SystemExit("PUT: %d" % resp.status)


r0 = reg_requests(); time.sleep(1.0); idle = reg_requests() - r0
lats = [[] for _ in range(conns)]
r0 = reg_requests()
c0, t0 = time.process_time(), time.perf_counter()
th = [threading.Thread(target=worker, args=(i, n // conns, lats[i]))
      for i in range(conns)]
for t in th:
    t.start()
for t in th:
    t.join()
el = time.perf_counter() - t0
cpu = time.process_time() - c0
r1 = reg_requests()
al = sorted(x for l in lats for x in l)
done = len(al)
reg = (r1 - r0 - idle * el) / done
print("%.0f %.2f %.2f %.2f %.2f" % (done / el, al[done // 2] * 1000,
      al[min(done - 1, done * 99 // 100)] * 1000, reg, cpu / el))
