#!/usr/bin/env python3
"""A server nobody wrote for lastcall, for the scenario-contract tests: its conventions are not
lastcall-server's, so each check must be told them in YAML.

  contract_target.py PORT STATE_DIR MODE      (exits 0 on SIGTERM after the request in hand)

  GET  /stream            SSE, five data-only events, `data: [DONE]`, then the chunked terminator
  GET  /stream-nodone     the same without `data: [DONE]` (a clean HTTP end, no marker)
  GET  /blob              1000 bytes of 'x' with Content-Length; /blob-chunked: the same, chunked
  POST /tasks             202 {"task": {"key": "t-N"}}  (MODE text-jobs: 202 "accepted t-N", not JSON)
  GET  /tasks/<key>       {"status": "finished"} for a key it handed out, else 404
  POST /set/add           {"element": "e-PID-N"}  (MODE durable-set: on disk before the reply;
                          MODE forgetful-set: in memory only, lost at exit)
  GET  /set               {"elements": [...]}
  GET  /ready             200
  MODE second-term-fast:  drains 300 ms after SIGTERM; a second SIGTERM exits 3 at once (as
                          uvicorn and lastcall-server take a repeated signal: stop now)
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, state_dir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(state_dir, exist_ok=True)
set_file = os.path.join(state_dir, "set.jsonl")
lock = threading.Lock()
counter = [0]
memory_set = []
tasks = set()


def durable_elements():
    try:
        with open(set_file) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunked(self, content_type, chunks):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for c in chunks:
            data = c.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def next_id(self, prefix):
        with lock:
            counter[0] += 1
            return "%s-%d-%d" % (prefix, os.getpid(), counter[0])

    def do_GET(self):
        if self.path == "/ready":
            return self.reply(200, "ok", "text/plain")
        if self.path in ("/stream", "/stream-nodone"):
            events = ["data: {\"n\": %d}\n\n" % i for i in range(5)]
            if self.path == "/stream":
                events.append("data: [DONE]\n\n")
            return self.chunked("text/event-stream", events)
        if self.path == "/blob":
            return self.reply(200, "x" * 1000, "text/plain")
        if self.path == "/blob-chunked":
            return self.chunked("text/plain", ["x" * 500, "x" * 500])
        if self.path.startswith("/tasks/"):
            return self.reply(200 if self.path[7:] in tasks or mode != "text-jobs" else 404, json.dumps({"status": "finished"}))
        if self.path == "/set":
            with lock:
                elements = durable_elements() if mode == "durable-set" else list(memory_set)
            return self.reply(200, json.dumps({"elements": elements}))
        self.reply(404, "{}")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        if self.path == "/tasks":
            key = self.next_id("t")
            tasks.add(key)
            if mode == "text-jobs":
                return self.reply(202, "accepted " + key, "text/plain")
            return self.reply(202, json.dumps({"task": {"key": key}}))
        if self.path == "/set/add":
            element = self.next_id("e")
            with lock:
                if mode == "durable-set":
                    with open(set_file, "a") as f:
                        f.write(json.dumps(element) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
                else:
                    memory_set.append(element)
            return self.reply(200, json.dumps({"element": element}))
        self.reply(404, "{}")


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
terms = [0]


def on_term(*_):
    terms[0] += 1
    if mode == "second-term-fast" and terms[0] > 1:
        os._exit(3)
    delay = 0.3 if mode == "second-term-fast" else 0
    threading.Thread(target=lambda: (time.sleep(delay), server.shutdown())).start()


signal.signal(signal.SIGTERM, on_term)
server.serve_forever()
sys.exit(0)
