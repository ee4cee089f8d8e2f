#!/usr/bin/env python3
"""Another team's admission webhook, for the end-to-end suite: it denies every AdmissionReview it
is sent, with a policy message, as a policy engine does. Its registration (tests/e2e/
test_lifecycle.sh) decides what is sent here. HTTPS with the given certificate; the chosen port is
written to --port-file. Each request body is bounded (1 MiB) and must be an AdmissionReview."""
import argparse
import json
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


class Deny(BaseHTTPRequestHandler):
    message = ""

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n <= 0 or n > MAX_BODY:
            self.send_error(413 if n > MAX_BODY else 411)
            return
        try:
            review = json.loads(self.rfile.read(n))
            uid = review["request"]["uid"]
        except (ValueError, KeyError, TypeError):
            self.send_error(400, "not an AdmissionReview")
            return
        body = json.dumps({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": uid, "allowed": False,
                         "status": {"code": 403, "reason": "Forbidden", "message": self.message}},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("deny-webhook: " + fmt % args + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--message", required=True)
    a = ap.parse_args()
    Deny.message = a.message
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
