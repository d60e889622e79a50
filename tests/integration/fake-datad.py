#!/usr/bin/env python3
"""fake-datad.py PORTFILE LOG [FAIL_FIRST]: a stand-in data server for the
registry tests. Answers DELETE /<fid> with 204 and appends
"<fid> <X-Arkor-Token>" to LOG; when FAIL_FIRST is set, the first DELETE
of each fid gets 500 (to exercise the GC's retries). Listens on 127.0.0.1
port 0 and writes the port to PORTFILE."""
import http.server, sys, threading

portfile, log = sys.argv[1], sys.argv[2]
fail_first = len(sys.argv) > 3
seen = set()
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_DELETE(self):
        fid = self.path.lstrip("/")
        with lock:
            first = fid not in seen
            seen.add(fid)
            if not (fail_first and first):
                with open(log, "a") as f:
                    f.write("%s %s\n" % (fid, self.headers.get("X-Arkor-Token", "")))
        code = 500 if (fail_first and first) else 204
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
