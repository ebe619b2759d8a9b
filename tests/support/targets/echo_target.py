#!/usr/bin/env python3
"""Notes what reaches it, for the bench's tests (python3 stdlib only).

  echo_target.py LOG   listens on a free 127.0.0.1 port, prints "listening PORT", answers every
                       request 200 (keep-alive) and appends the first 20 requests to LOG, one JSON
                       object a line: {"method", "path", "headers": {lower-case name: value}, "names": [every
                       header name, lower-case, in order, repeats kept], "body"}.
                       Exits on SIGTERM.
"""
import http.server
import json
import signal
import sys
import threading

log_path = sys.argv[1]
lock = threading.Lock()
noted = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        global noted
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        with lock:
            if noted < 20:
                noted += 1
                with open(log_path, "a") as log:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    names = [name.lower() for name in self.headers.keys()]
                    log.write(json.dumps({"method": self.command, "path": self.path, "headers": headers, "names": names, "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print("listening", server.server_address[1], flush=True)
server.serve_forever()
