#!/usr/bin/env python3
"""A loopback HTTP(S) server for the libcurl wrapper's tests.

Prints the port it listens on, then serves until killed:
  /echo          any method: JSON with method, path, headers, body and the client's port
  /status/N      answers with status N
  /slow?ms=N     waits N milliseconds, then answers
  /big?n=N       answers with N bytes
  /inflight?ms=N waits N milliseconds with the other /inflight requests; answers with the most
                 that were in flight at once so far
Options: --cert FILE --key FILE (HTTPS), --client-ca FILE (require a client certificate).
"""
import argparse
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs


inflight_lock = threading.Lock()
inflight = {"now": 0, "max": 0}


class Server(ThreadingHTTPServer):
    request_queue_size = 64  # the default backlog of 5 drops parallel connects (retried a second later)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, content_type="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test-Server", "tai")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        url = urlparse(self.path)
        body = self._body()
        if url.path == "/echo":
            cert = None
            if isinstance(self.connection, ssl.SSLSocket):
                peer = self.connection.getpeercert()
                if peer:
                    cert = dict(x[0] for x in peer.get("subject", ()))
            doc = {
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "client_port": self.client_address[1],
                "client_cert": cert,
            }
            self._send(200, json.dumps(doc).encode())
        elif url.path.startswith("/status/"):
            code = int(url.path.split("/")[2])
            self._send(code, json.dumps({"status": code}).encode())
        elif url.path == "/slow":
            ms = int(parse_qs(url.query).get("ms", ["1000"])[0])
            time.sleep(ms / 1000)
            self._send(200, b"{}")
        elif url.path == "/inflight":
            with inflight_lock:
                inflight["now"] += 1
                inflight["max"] = max(inflight["max"], inflight["now"])
            time.sleep(int(parse_qs(url.query).get("ms", ["0"])[0]) / 1000)
            with inflight_lock:
                inflight["now"] -= 1
                most = inflight["max"]
            self._send(200, json.dumps({"max": most}).encode())
        elif url.path == "/big":
            n = int(parse_qs(url.query).get("n", ["0"])[0])
            self._send(200, b"x" * n, "application/octet-stream")
        else:
            self._send(404, b'{"error":"not found"}')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
