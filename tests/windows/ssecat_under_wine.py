#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ssecat.exe end to end under Wine: events from a loopback server, a reconnect that sends
Last-Event-ID, Ctrl-C, usage errors and --help.

Ctrl-C arrives as a terminal sends it: SIGINT to the Wine process, which Wine turns into a
CTRL_C_EVENT for the program's console control handlers (GenerateConsoleCtrlEvent does not reach
another process under Wine 8 without a real console).

Usage: ssecat_under_wine.py WINE SSECAT_EXE   (WINEPREFIX, WINEPATH in the environment)
"""
import fcntl
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time

WINE, SSECAT = sys.argv[1], sys.argv[2]
STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"


class Server:
    """HTTP/1.1 on 127.0.0.1:0; `handler(n, conn)` serves the n-th request (from 1)."""

    def __init__(self, handler):
        self.handler = handler
        self.requests = []
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.url = "http://127.0.0.1:%d/" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(10)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            with self.changed:
                self.requests.append(headers)
                n = len(self.requests)
                self.changed.notify_all()
            self.handler(n, conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def wait_for_requests(self, n, timeout):
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= n, timeout)

    def hold(self, conn, seconds=10):
        """Keeps the stream open until the client leaves, the server stops or time passes."""
        conn.settimeout(0.1)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.stopping.is_set():
            try:
                if not conn.recv(4096):
                    return
            except socket.timeout:
                continue

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.sock.close()


def ssecat(*args, stdout=subprocess.PIPE):
    return subprocess.Popen([WINE, SSECAT, *args], stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=subprocess.PIPE)


failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)


def events_and_reconnect():
    def handler(n, conn, server):
        conn.sendall(STREAM_HEAD)
        if n == 1:
            conn.sendall(b"id: 1\ndata: one\n\nid: 2\nevent: tick\ndata: two\n\n")
        else:  # after a clean end ssecat reconnects at once (--retry 0) with Last-Event-ID
            conn.sendall(b"data: three\ndata: lines\n\n")
            server.hold(conn)

    server = Server(handler)
    p = ssecat("--retry", "0", "--max-events", "3", server.url)
    out, err = p.communicate(timeout=30)
    server.stop()
    check(p.returncode == 0, "events: exit 0 after --max-events (got %s)" % p.returncode)
    check(out == b"one\ntick two\nthree\n  lines\n",
          "events: printed with LF line ends, flushed (got %r)" % out)
    ids = [r.get("last-event-id") for r in server.requests]
    check(ids[:2] == [None, "2"], "events: the reconnect sends Last-Event-ID: 2 (got %r)" % ids)

    server = Server(handler)
    p = ssecat("--json", "--retry", "0", "--max-events", "1", server.url)
    out, _ = p.communicate(timeout=30)
    server.stop()
    check(p.returncode == 0 and out == b'{"type":"message","data":"one","id":"1"}\n',
          "events: --json prints one object a line (got %s, %r)" % (p.returncode, out))


def ctrl_c():
    def handler(n, conn, server):
        conn.sendall(STREAM_HEAD + b"data: 1\n\n")
        server.hold(conn)

    server = Server(handler)
    p = ssecat("-q", server.url)
    # Its handler is in place before it connects.
    check(server.wait_for_requests(1, 30), "ctrl-c: ssecat connected")
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    server.stop()
    check(p.returncode == 130, "ctrl-c: exit 130 (got %s)" % p.returncode)
    check(out == b"" and b"ssecat: " in err and b" events, " in err,
          "ctrl-c: -q prints only its summary, after a normal close (got %r, %r)" % (out, err))


def unread_bytes(pipe):
    return struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def ctrl_c_with_blocked_output():
    stop = threading.Event()

    def handler(n, conn, server):
        conn.sendall(STREAM_HEAD)
        conn.settimeout(1)
        line = b"data: " + b"x" * 1000 + b"\n\n"
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn.sendall(line * 64)
            except socket.timeout:
                continue

    for second_ctrl_c in (False, True):
        server = Server(handler)
        # stdout on a pipe this script never reads: once it is full, ssecat's writes block
        p = ssecat(server.url)
        check(server.wait_for_requests(1, 30), "blocked output: ssecat connected")
        deadline = time.monotonic() + 10
        while unread_bytes(p.stdout) < 60000 and time.monotonic() < deadline:
            time.sleep(0.01)
        # The pipe is full (64 KiB on Linux), so ssecat's loop thread is blocked writing to it.
        check(unread_bytes(p.stdout) >= 60000, "blocked output: the pipe is full")
        started = time.monotonic()
        p.send_signal(signal.SIGINT)
        if second_ctrl_c:
            time.sleep(0.1)  # two presses: two SIGINTs at once would merge into one
            p.send_signal(signal.SIGINT)
        try:
            code = p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            code = p.wait()
        took = time.monotonic() - started
        stop.set()
        server.stop()
        stop.clear()
        what = "a second Ctrl-C" if second_ctrl_c else "one Ctrl-C and the 1 s grace"
        check(code == 130, "blocked output, %s: exit 130 (got %s)" % (what, code))
        limit = (0.9 if second_ctrl_c else 3.0)
        check(took < limit, "blocked output, %s: ends in %.2f s (< %.1f s)" % (what, took, limit))
        if not second_ctrl_c:
            check(took >= 0.9, "blocked output, one Ctrl-C: waits its 1 s grace (%.2f s)" % took)
        p.stdout.close()
        p.stderr.close()


def usage():
    p = ssecat("--help")
    out, _ = p.communicate(timeout=30)
    check(p.returncode == 0 and out.startswith(b"usage: ssecat") and b"--last-event-id" in out,
          "--help: exit 0 and the options (got %s)" % p.returncode)
    p = ssecat("--max-events", "x", "http://127.0.0.1:1/")
    _, err = p.communicate(timeout=30)
    check(p.returncode == 2 and b"--max-events" in err,
          "usage error: exit 2 naming the option (got %s, %r)" % (p.returncode, err))


events_and_reconnect()
ctrl_c()
ctrl_c_with_blocked_output()
usage()
if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("all passed")
