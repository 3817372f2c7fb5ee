"""Clients that misbehave, for the chaos test (``tests/test_hardening_chaos.py``) and
``qa bench --parts robust``: against a real ``qa serve``, a bounded steady load plus clients that
hang up at random points. The server must keep answering; nothing here ever raises.

Ways of hanging up (``ACTIONS``): half a request line then close; a request then close after the
first bytes of the answer; three pipelined requests (one of them garbage) then close mid-answer;
a client that gives up after 0.1 s; a body announced but never finished; and finding 1 of
issue 18 exactly: a request and a garbage one pipelined, closed as soon as the JSON arrives.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS = ["how many shelter beds existed in 2016", "how many traffickers were convicted in 2017",
             "what did MIMP spend on victims in 2016", "Tren de Aragua", "shelter capacity for girls in 2022"]
ACTIONS = ("mid_request", "mid_response", "pipelined", "short_timeout", "partial_body", "finding_1")
FINDING_1 = b"GET /health HTTP/1.1\r\nHost: a\r\n\r\nSM\r\n\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def qa_serve(index: Path, corpus: Path, log: Path, env: dict | None = None) -> Iterator[tuple[subprocess.Popen, int]]:
    """``qa serve`` in a subprocess on a free port, its output in ``log``; yields when /health
    says "ok" (RuntimeError with the log's tail if it never does); stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port), "--index",
               str(index), "--corpus", str(corpus)]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    try:
        deadline = time.monotonic() + 300
        while health(port) != "ok":
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"qa serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield process, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def health(port: int, timeout: float = 5) -> str | None:
    """/health's status ("ok", ...) or None when the server does not answer."""
    try:
        status, body = request(port, "GET", "/health", timeout=timeout)
        return json.loads(body).get("status") if status in (200, 503) else None
    except (OSError, http.client.HTTPException, ValueError):
        return None


def request(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def ask_path(question: str) -> str:
    return "/ask?" + urllib.parse.urlencode({"q": question})


def hang_up(port: int, action: str, rng: random.Random) -> None:
    """One misbehaving client; every error of its own making is swallowed."""
    question = rng.choice(QUESTIONS)
    ask = f"GET {ask_path(question)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    try:
        if action == "short_timeout":
            with contextlib.suppress(OSError, http.client.HTTPException):
                request(port, "GET", ask_path(question), timeout=0.1)
            return
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            if action == "mid_request":
                sock.sendall(ask[: rng.randrange(1, len(ask) - 4)])
                time.sleep(rng.random() * 0.05)
            elif action == "mid_response":
                sock.sendall(ask)
                sock.recv(rng.randrange(1, 64))
            elif action == "pipelined":
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + ask + b"NOT HTTP\r\n\r\n")
                sock.recv(rng.randrange(1, 256))
            elif action == "partial_body":
                sock.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100\r\n\r\n{\"q\": \"sh")
                time.sleep(rng.random() * 0.1)
            elif action == "finding_1":
                finding_1(sock)
            # a hard close (RST) half of the time, as a crashed client would
            if rng.random() < 0.5:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass


def finding_1(sock: socket.socket) -> None:
    """Issue 18's reproduction: a request and a garbage one pipelined; read until the JSON body
    arrives, then (the caller) closes while the server still writes the answer to the second."""
    sock.sendall(FINDING_1)
    received = b""
    while b"}" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk


@dataclass
class Chaos:
    """What a run saw: steady clients' statuses, misbehaving clients' actions, /health times."""

    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)  # steady requests that got no answer
    actions: collections.Counter = field(default_factory=collections.Counter)
    health_ms: list[float] = field(default_factory=list)


def run_chaos(port: int, seconds: float, *, steady: int = 2, rude: int = 2, seed: int = 0,
              pause: float = 0.05) -> Chaos:
    """``steady`` well-behaved clients (/ask, one at a time each), ``rude`` misbehaving ones
    (an action from ``ACTIONS``, then ``pause`` s), and one /health prober, for ``seconds``."""
    result = Chaos()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def steady_client(i: int) -> None:
        rng = random.Random(f"{seed}:steady:{i}")
        while time.monotonic() < deadline:
            try:
                status, _ = request(port, "GET", ask_path(rng.choice(QUESTIONS)), timeout=60)
                with lock:
                    result.statuses[status] += 1
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    result.failures.append(f"{exc.__class__.__name__}: {exc}")

    def rude_client(i: int) -> None:
        rng = random.Random(f"{seed}:rude:{i}")
        while time.monotonic() < deadline:
            action = rng.choice(ACTIONS)
            hang_up(port, action, rng)
            with lock:
                result.actions[action] += 1
            time.sleep(rng.random() * pause * 2)

    def prober() -> None:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                status, _ = request(port, "GET", "/health", timeout=30)
                with lock:
                    result.statuses[status] += 1
                    result.health_ms.append((time.perf_counter() - t) * 1000)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    result.failures.append(f"/health {exc.__class__.__name__}: {exc}")
            time.sleep(0.02)

    threads = [threading.Thread(target=steady_client, args=(i,)) for i in range(steady)]
    threads += [threading.Thread(target=rude_client, args=(i,)) for i in range(rude)]
    threads.append(threading.Thread(target=prober))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def idle_health_ms(port: int, n: int = 100) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        request(port, "GET", "/health", timeout=30)
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.02)
    return times


def burst(port: int, n: int = 200, path: str | None = None, timeout: float = 120) -> list[tuple[int | None, float, bool]]:
    """``n`` concurrent GET ``path`` (/ask by default, the questions in turn), each on its own
    connection, from one thread (non-blocking sockets and a selector, so that the client's own
    threads do not queue for the interpreter lock): (status or None, milliseconds from its connect
    to the end of its answer, whether the body is JSON with an "answer" key) each."""
    selector = selectors.DefaultSelector()
    pending: dict[socket.socket, dict] = {}
    out: list[tuple[int | None, float, bool]] = []

    def done(sock: socket.socket, state: dict) -> None:
        head, _, body = state["data"].partition(b"\r\n\r\n")
        status = None
        if head.startswith(b"HTTP/"):
            with contextlib.suppress(IndexError, ValueError):
                status = int(head.split(b" ", 2)[1])
        try:
            answered = "answer" in json.loads(body)
        except (ValueError, TypeError):
            answered = False
        out.append((status, (time.perf_counter() - state["start"]) * 1000, answered))
        selector.unregister(sock)
        sock.close()
        del pending[sock]

    for i in range(n):
        target = path or ask_path(QUESTIONS[i % len(QUESTIONS)])
        sock = socket.socket()
        sock.setblocking(False)
        pending[sock] = {"start": time.perf_counter(), "data": b"", "sent": False,
                         "request": f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()}
        sock.connect_ex(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_WRITE)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            sock, state = key.fileobj, pending[key.fileobj]
            try:
                if not state["sent"]:
                    sock.sendall(state["request"])  # a request line fits the empty send buffer
                    state["sent"] = True
                    selector.modify(sock, selectors.EVENT_READ)
                    continue
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if chunk:
                state["data"] += chunk
            else:
                done(sock, state)
    for sock in list(pending):  # no answer in time
        out.append((None, timeout * 1000, False))
        selector.unregister(sock)
        sock.close()
        del pending[sock]
    selector.close()
    return out


def log_problems(text: str) -> list[str]:
    """Lines of a server log that show an unhandled error."""
    return [line for line in text.splitlines()
            if "Traceback" in line or line.startswith(("ERROR", "CRITICAL")) or "Exception in ASGI" in line]
