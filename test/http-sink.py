#!/usr/bin/env python3
# http-sink.py DIR: a test HTTP server on 127.0.0.1 (a free port, written
# to DIR/port) that stores each POST body as DIR/SEQ.ndjson (SEQ from the
# query; a repeated POST replaces its file) and answers 204.  With
# FAIL=N it answers the first N POSTs 500 without storing them.
import os, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

d = sys.argv[1]
fail = [int(os.environ.get("FAIL", "0"))]

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if fail[0] > 0:
            fail[0] -= 1
            self.send_response(500)
            self.end_headers()
            return
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        seq = int(q["seq"][0])
        tmp = os.path.join(d, "%d.tmp" % seq)
        with open(tmp, "wb") as f:
            f.write(body)
        os.rename(tmp, os.path.join(d, "%d.ndjson" % seq))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass

s = HTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.serve_forever()
