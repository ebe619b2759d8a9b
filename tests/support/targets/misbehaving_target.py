#!/usr/bin/env python3
"""Targets that misbehave with their processes, for the supervisor's tests.

  misbehaving_target.py PORT daemon   double-forks a setsid daemon that outlives the target
  misbehaving_target.py PORT cgi      starts orphaned grandchildren (as a prefork server's CGI
                                      helper does) and, on SIGTERM, waits until every one of them
                                      has exited (kill(pid, 0) fails) before exiting 0: a zombie
                                      left unreaped by lastcall would hold it forever
  misbehaving_target.py PORT plain    listens, exits 0 on SIGTERM
  misbehaving_target.py PORT echo     a TCP echo: sends back whatever each connection sends
  misbehaving_target.py PORT garbage  answers whatever a connection sends with a line that is not
                                      HTTP (an `nc -lk` someone types into), keeping it open
  misbehaving_target.py PORT full     never accepts, with a backlog of one: the first connect fills
                                      it and every later SYN is left unanswered (as `nc -l`'s)
  misbehaving_target.py PORT full_drain  as full, but on SIGTERM closes its listener and lingers 2 s
                                      before exiting 0 (the SYNs it left are refused when resent,
                                      while it still runs)
  misbehaving_target.py PORT http_hold  answers each request 200 with Connection: close, and never
                                      closes a connection, even after the peer closed its side
  misbehaving_target.py PORT silent   accepts and keeps every connection open, never answering
                                      nor closing, even after the peer closed its side
Each listens on 127.0.0.1:PORT (TCP readiness); the first three close each connection unanswered.
"""
import os
import signal
import socket
import sys
import threading
import time

port, mode = int(sys.argv[1]), sys.argv[2]
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(0 if mode in ("full", "full_drain") else 64)


def orphan(then, new_session):
    """Starts a grandchild whose parent exits at once: it is re-parented to the nearest subreaper."""
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        if new_session:
            os.setsid()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            os.close(write_end)
            listener.close()
            then()
            os._exit(0)
        os.write(write_end, str(pid).encode())
        os._exit(0)
    os.close(write_end)
    pid = int(os.read(read_end, 32))
    os.close(read_end)
    os.wait()  # the middle process: reaped, so the grandchild is an orphan
    return pid


def sleep_forever():
    while True:
        time.sleep(60)


kept = []
helpers = []
if mode == "daemon":
    helpers.append(orphan(sleep_forever, new_session=True))
elif mode == "cgi":
    for _ in range(3):
        helpers.append(orphan(lambda: time.sleep(0.3), new_session=False))
print("helpers", " ".join(map(str, helpers)), flush=True)


def on_term(signum, frame):
    if mode == "cgi":
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            alive = []
            for pid in helpers:
                try:
                    os.kill(pid, 0)  # a zombie still answers: only reaping ends it
                    alive.append(pid)
                except ProcessLookupError:
                    pass
            if not alive:
                sys.exit(0)
            time.sleep(0.01)
        print("cgi helpers never went away:", alive, file=sys.stderr, flush=True)
        sys.exit(9)
    if mode == "full_drain":
        listener.close()
        time.sleep(2)
    sys.exit(0)


def talk(connection):
    with connection:
        while True:
            data = connection.recv(65536)
            if not data:
                return
            connection.sendall(data if mode == "echo" else b"\x00hello from nc\r\n")


def hold(connection):
    kept.append(connection)  # never closed: the leak this mode is for
    while True:
        data = connection.recv(65536)
        if not data:
            return
        if b"\r\n\r\n" in data:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


signal.signal(signal.SIGTERM, on_term)
if mode in ("full", "full_drain"):
    sleep_forever()
while True:
    connection, _ = listener.accept()
    if mode in ("echo", "garbage"):
        threading.Thread(target=talk, args=(connection,), daemon=True).start()
    elif mode == "silent":
        kept.append(connection)
    elif mode == "http_hold":
        threading.Thread(target=hold, args=(connection,), daemon=True).start()
    else:
        connection.close()
