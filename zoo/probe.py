#!/usr/bin/python3
"""Establishes a zoo server's shutdown behaviour with plain sockets, without lastcall.

  zoo/probe.py --launch zoo/nginx/launch --slow /download --fast /health --signal QUIT [--then TERM]

Starts the launcher (LAUNCH PORT WORKDIR, in its own process group), then plays what the zoo
scenarios play, one socket per role, and prints what each socket saw:

  idle        two keep-alive connections that have had one answer each and are idle at the signal
  slow-1/2    slow requests sent 1 s before the signal (in flight at it)
  new         a new connection 150 ms after the signal
  after-idle  then a request on each idle connection still open, the second once the first is
              answered
  reuse       slow-1's connection used again every 100 ms after its answer (as lastcall's closed
              loops do) until the server closes it or 6 s after the signal
  exit        the exit status and the time from the signal to the exit
  leftovers   processes of the launcher's process group alive 500 ms after the exit

Then the checks of lastcall that this evidence fails (`derived:`), by the rules in zoo/README.md:
dropped (a request the server took and did not answer in full; a reused idle connection closed
within 10 ms of the request is the idle-close race, tolerated as in the zoo scenarios), errors (a complete answer
that is not 2xx or 503), close_announced (once a new connection was refused, a request answered
with keep-alive, then the connection closed), exit (not 0, or not
--exit), orphans, drain_tail (last answer -> exit over 3 s, unless SIGKILLed); with --stream, streams_clean (a
stream cut before the end of its HTTP message). Python's standard library only.
"""
import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(path, keep_alive=True):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: %s\r\n\r\n" % (path, "keep-alive" if keep_alive else "close")).encode()


class Reader:
    """Reads one HTTP/1.1 response (Content-Length, chunked, or until EOF) and says how it ended."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _more(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            self._more(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self, timeout):
        """('complete', status, connection header, body bytes, time) or (failure, ...)."""
        deadline = time.monotonic() + timeout
        got = 0
        try:
            while b"\r\n\r\n" not in self.buf:
                self._more(deadline)
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ")[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().lower()
            connection = headers.get(b"connection", b"").decode()
            if headers.get(b"transfer-encoding") == b"chunked":
                while True:
                    size = int(self._line(deadline).split(b";")[0], 16)
                    while len(self.buf) < size + 2:
                        self._more(deadline)
                    got += size
                    self.buf = self.buf[size + 2:]
                    if size == 0:
                        break
            elif b"content-length" in headers:
                want = int(headers[b"content-length"])
                while len(self.buf) < want:
                    self._more(deadline)
                got, self.buf = want, self.buf[want:]
            else:
                try:
                    while True:
                        self._more(deadline)
                except EOFError:
                    got, self.buf = len(self.buf), b""
                connection = "close"
            return ("complete", status, connection, got, time.monotonic())
        except EOFError:
            return ("eof" if self.buf or got else "eof-before-response", None, None, got, time.monotonic())
        except ConnectionResetError:
            return ("reset", None, None, got, time.monotonic())
        except (TimeoutError, socket.timeout):
            return ("timeout", None, None, got, time.monotonic())


def closed_within(sock, seconds):
    """How the peer ended an idle connection within `seconds`: None (still open), 'fin', 'reset', 'bytes'."""
    ready, _, _ = select.select([sock], [], [], seconds)
    if not ready:
        return None
    try:
        data = sock.recv(1, socket.MSG_PEEK)
        return "bytes" if data else "fin"
    except ConnectionResetError:
        return "reset"


def group_members(pgid):
    members = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        members.append("%s %s" % (pid, f.read().replace(b"\0", b" ").decode(errors="replace").strip()))
            except (OSError, IndexError, ValueError):
                pass
    return members


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--launch", required=True)
    p.add_argument("--slow", required=True, help="a path whose answer takes 1.5 s or more")
    p.add_argument("--fast", required=True)
    p.add_argument("--signal", required=True, help="TERM, QUIT, WINCH, INT...")
    p.add_argument("--stream", action="store_true", help="the slow path is an SSE stream: a cut one fails streams_clean too")
    p.add_argument("--then", help="a second signal 200 ms after the first (uvicorn's forced exit)")
    p.add_argument("--exit", default="0", help="the exit the scenario expects: a code, or a signal name like TERM")
    a = p.parse_args()

    port, workdir = free_port(), tempfile.mkdtemp(prefix="zoo-probe-")
    os.chmod(workdir, 0o755)  # apache2's children read it as www-data
    out = open(os.path.join(workdir, "server.out"), "wb")
    server = subprocess.Popen([a.launch, str(port), workdir], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    seen = {}
    ended = {}
    exited_event = threading.Event()

    def watch_exit():
        # The exit as it happens, and what of the group is alive 500 ms later (lastcall's orphans rule).
        ended["code"] = server.wait()
        ended["at"] = time.monotonic()
        exited_event.set()
        time.sleep(0.5)
        ended["leftovers"] = "; ".join(group_members(server.pid)) or "none"

    watcher = threading.Thread(target=watch_exit, daemon=True)
    watcher.start()
    answers, slow_answers, unannounced, exited, last_answer = [], [], 0, 0.0, 0.0
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("probe: the server never listened (see %s/server.out)" % workdir)
                time.sleep(0.02)
        idle = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(request(a.fast))
            first = Reader(s).response(5)
            if first[0] != "complete":
                sys.exit("probe: the first request failed: %s" % (first,))
            idle.append(s)
        slow = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request(a.slow))
            slow.append(s)
        time.sleep(1.0)
        signal_at = time.monotonic()
        os.kill(server.pid, getattr(signal, "SIG" + a.signal))
        if a.then:
            time.sleep(0.2)
            os.kill(server.pid, getattr(signal, "SIG" + a.then))
        ends = [closed_within(s, 0.15) for s in idle]
        seen["idle"] = ", ".join(("closed by %s" % end) if end else "still open" for end in ends) + " at +%d ms" % ((time.monotonic() - signal_at) * 1000)
        time.sleep(max(0.0, signal_at + 0.15 - time.monotonic()))
        # Draining has certainly begun once a connection is refused (lastcall's rule for close_announced).
        refused = False
        try:
            new = socket.create_connection(("127.0.0.1", port), timeout=1)
            new.sendall(request(a.fast))
            r = Reader(new).response(8)
            after = closed_within(new, 0.3) if r[0] == "complete" and r[2] != "close" else None
            seen["new"] = "accepted, %s %s Connection: %s%s" % (r[0], r[1] or "", r[2] or "-", ", then closed (%s)" % after if after else "")
            answers.append(r)
        except ConnectionRefusedError:
            seen["new"], refused = "refused", True
        except (TimeoutError, socket.timeout):
            seen["new"] = "connect timed out (1 s): no listener answered, nothing was sent"
        after_idle = []
        for s, end in zip(idle, ends):  # one after the other: the second goes once the first is answered
            if end is None:
                sent = time.monotonic()
                s.sendall(request(a.fast))
                r = Reader(s).response(8)
                if r[0] in ("eof-before-response", "reset") and r[4] - sent < 0.010:
                    # Closed under a request on its way, not held: lastcall's idle_close_race, tolerated here.
                    after_idle.append("%s within 10 ms: the idle-close race (tolerated)" % r[0])
                    continue
                after = closed_within(s, 0.3) if r[0] == "complete" and r[2] != "close" else None
                unannounced += bool(after) and refused
                after_idle.append("%s %s Connection: %s%s" % (r[0], r[1] or "", r[2] or "-", ", then closed (%s)" % after if after else ""))
                answers.append(r)
        if after_idle:
            seen["after-idle"] = "; ".join(after_idle)
        readers = [Reader(s) for s in slow]
        for i, reader in enumerate(readers, 1):
            r = reader.response(8)
            seen["slow-%d" % i] = "%s %s (%d body bytes) at +%d ms" % (r[0], r[1] or "", r[3], (r[4] - signal_at) * 1000)
            answers.append(r)
            slow_answers.append(r)
        # A client that goes on using its connection, as lastcall's closed loops do (think 100 ms).
        if answers[-2][0] == "complete" and answers[-2][2] != "close":
            count, outcome = 0, None
            while time.monotonic() < signal_at + 6:
                end = closed_within(slow[0], 0.1)
                if end:
                    outcome = "closed (%s) after %d more answers" % (end, count)
                    unannounced += count > 0 and refused
                    break
                slow[0].sendall(request(a.fast))
                r = readers[0].response(5)
                count += 1
                if r[0] == "complete":
                    last_answer = r[4]
                if r[0] != "complete" or r[2] == "close":
                    answers.append(r)
                    outcome = "answer %d: %s %s Connection: %s" % (count, r[0], r[1] or "", r[2] or "-")
                    break
            seen["reuse"] = outcome or "%d answers with keep-alive until +6 s, never closed" % count
        if not exited_event.wait(max(0.5, signal_at + 7 - time.monotonic())):
            seen["killed"] = "still running 7 s after the signal: SIGKILL"
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:  # it ended meanwhile
                pass
        watcher.join()
        code, exited = ended["code"], ended["at"]
        seen["exit"] = ("signal %s" % signal.Signals(-code).name if code < 0 else "code %d" % code) + " at +%d ms" % ((exited - signal_at) * 1000)
        seen["leftovers"] = ended["leftovers"]
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        watcher.join()

    for key in ["idle", "slow-1", "slow-2", "after-idle", "new", "reuse", "killed", "exit", "leftovers"]:
        if key in seen:
            print("%-10s %s" % (key, seen[key]))
    derived = set()
    if any(r[0] != "complete" for r in answers):
        derived.add("dropped")
    if unannounced:
        derived.add("close_announced")
    expected = ("code %s" % a.exit) if a.exit.isdigit() else ("signal SIG%s" % a.exit)
    if not seen["exit"].startswith(expected + " "):
        derived.add("exit")
    if seen["leftovers"] != "none":
        derived.add("orphans")
    if a.stream and any(r[0] != "complete" for r in slow_answers):
        derived.add("streams_clean")
    if any(r[0] == "complete" and not (200 <= r[1] < 300 or r[1] == 503) for r in answers):
        derived.add("errors")
    done = [r[4] for r in answers if r[0] == "complete"] + [last_answer]
    if max(done) and exited - max(done) > 3.0 and "killed" not in seen:  # a kill is the exit's to judge
        derived.add("drain_tail")
    print("derived:  ", " ".join(sorted(derived)) or "pass")


if __name__ == "__main__":
    main()
