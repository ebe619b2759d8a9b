#!/usr/bin/env python3
"""A small HTTP/1.1 server of the tests' own, for `lastcall check` (python3 stdlib only).

  http_target.py PORT|env graceful          on SIGTERM: closes the listener, answers what is in
                                            flight and what arrives on open connections for 300 ms
                                            with Connection: close, then closes them and exits 0
  http_target.py PORT|env keep-port SOCKET  the same, but before exiting hands its listening socket
                                            to the process listening on the Unix socket SOCKET
                                            (SCM_RIGHTS): the port stays bound by a process that is
                                            not the target's, as when a supervisor or a new
                                            generation inherits the listener and never lets go
  http_target.py keeper SOCKET SECONDS      receives listening sockets on SOCKET and holds them

`env` takes the port from $PORT. Routes: `/slow?ms=N` answers after N ms, anything else at once.
"""
import ctypes
import os
import signal
import socket
import struct
import sys
import threading
import time


def keeper(path, seconds):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    print("keeping", flush=True)
    held = []
    server.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            connection, _ = server.accept()
            _, fds, _, _ = socket.recv_fds(connection, 16, 4)
            held.extend(fds)
            connection.close()
    except socket.timeout:
        pass


if sys.argv[1] == "keeper":
    keeper(sys.argv[2], float(sys.argv[3]))
    sys.exit(0)

port = int(os.environ["PORT"]) if sys.argv[1] == "env" else int(sys.argv[1])
mode = sys.argv[2]
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(128)
draining = threading.Event()
drain_started = [0.0]
handlers = []


def respond(connection, head):
    parts = head.split(b" ")
    path = parts[1] if len(parts) > 1 else b"/"
    if path.startswith(b"/slow"):
        ms = 1000
        if b"ms=" in path:
            digits = path.split(b"ms=", 1)[1].split(b"&", 1)[0]
            ms = int(digits) if digits.isdigit() else 1000
        time.sleep(ms / 1000)
    close = draining.is_set()
    body = b"ok\n"
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n%s"
                       % (len(body), b"close" if close else b"keep-alive", body))
    return close


def handle(connection):
    connection.settimeout(0.05)
    pending = b""
    try:
        while True:
            while b"\r\n\r\n" not in pending:
                try:
                    data = connection.recv(4096)
                except socket.timeout:
                    # Idle: once draining has gone on for 300 ms, nothing more is coming (the
                    # clients of the tests send within milliseconds) and the close is safe.
                    if draining.is_set() and not pending and time.monotonic() - drain_started[0] > 0.3:
                        return
                    continue
                if not data:
                    return
                pending += data
            head, pending = pending.split(b"\r\n\r\n", 1)
            if respond(connection, head):
                return
    except OSError:
        pass
    finally:
        connection.close()


def drop_new_syns(sock):
    """The reference server's filter (reference-server/app/listener.cpp): a SYN without ACK is
    dropped (the client retries later and meets a closed port), the ACK that completes a handshake
    under way passes, so every connection the kernel completes can still be accepted."""
    program = struct.pack("HBBI" * 5,
                          0x30, 0, 0, 13,          # BPF_LD|BPF_B|BPF_ABS: the TCP flags
                          0x54, 0, 0, 0x12,        # BPF_ALU|BPF_AND|BPF_K: SYN|ACK
                          0x15, 0, 1, 0x02,        # BPF_JMP|BPF_JEQ|BPF_K: SYN alone?
                          0x06, 0, 0, 0,           # BPF_RET: drop
                          0x06, 0, 0, 0xffffffff)  # BPF_RET: keep
    code = ctypes.create_string_buffer(program, len(program))
    SO_ATTACH_FILTER = 26
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", 5, ctypes.addressof(code)))


def on_term(signum, frame):
    drain_started[0] = time.monotonic()
    draining.set()


signal.signal(signal.SIGTERM, on_term)
listener.settimeout(0.05)  # the accept loop sees `draining` within 50 ms
while not draining.is_set():
    try:
        connection, _ = listener.accept()
    except socket.timeout:
        continue
    connection.setblocking(True)
    thread = threading.Thread(target=handle, args=(connection,), daemon=True)
    thread.start()
    handlers.append(thread)
# Connections the kernel accepted before the listener closes are served, not reset (gunicorn#3397):
# stop new handshakes, take what waits in the accept queue (and what completes meanwhile), then close.
if mode != "keep-port":
    drop_new_syns(listener)
listener.settimeout(0.02)
while mode != "keep-port":
    try:
        connection, _ = listener.accept()
    except OSError:
        listener.close()
        break
    connection.setblocking(True)
    thread = threading.Thread(target=handle, args=(connection,), daemon=True)
    thread.start()
    handlers.append(thread)
if mode == "keep-port":  # still listening: the keeper holds the port from now on
    handover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    handover.connect(sys.argv[3])
    socket.send_fds(handover, [b"listener"], [listener.fileno()])
    handover.close()
    listener.close()
deadline = time.monotonic() + 10
for thread in handlers:
    thread.join(max(0.0, deadline - time.monotonic()))
sys.exit(0)
