"""Overload: with a concurrency limit, requests beyond it get a 503 at once instead of waiting,
/health keeps answering, nothing but 200 or 503 comes back, and the service's memory returns near
its baseline afterwards.

1. Over real sockets (uvicorn in a thread), the engine behind a gate holds every slot; a burst of
   excess requests must all be answered 503 while the slots are still held - before any held
   request could finish, so none of them waited for one (the only timing assertion, structural).
2. `qa serve` as a process with QA_MAX_CONCURRENCY=2, hit by 24 clients at once in rounds; its
   resident memory (/proc/PID/status) is read after warm-up and after each round.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import CORPUS, ROOT
from hardening import scaled, serving
from qa.bench import free_port, stop
from qa.api import create_app

pytestmark = pytest.mark.slow

QUESTIONS = ["how many shelter beds existed in 2016", "how many traffickers were convicted in 2017",
             "what did MIMP spend on victims in 2016", "Tren de Aragua", "shelter capacity for girls in 2022"]
BUSY = "busy: the service answers {} searches or questions at a time; retry in a moment"


class Gate:
    """The real engine; search and ask wait for ``open`` (the slots stay held until then)."""

    def __init__(self, engine, slots: int):
        self.engine, self.index = engine, engine.index
        self.open = threading.Event()
        self.inside = threading.Semaphore(0)
        self.slots = slots

    def _hold(self):
        self.inside.release()
        assert self.open.wait(60)

    def search(self, *args):
        self._hold()
        return self.engine.search(*args)

    def ask(self, *args):
        self._hold()
        return self.engine.ask(*args)


@pytest.mark.parametrize("slots", [4, 48])  # 48: more than the 40 worker threads a server starts with
def test_excess_requests_get_503_while_the_slots_are_held(settings_factory, built_index, engine, slots):
    excess = scaled(60, 600)
    gate = Gate(engine, slots)
    app = create_app(settings_factory(index=built_index, max_concurrency=slots), engine=gate)
    with serving(app) as base, ThreadPoolExecutor(max_workers=slots + 16) as pool:
        held = [pool.submit(httpx.get, f"{base}/ask", params={"q": QUESTIONS[i % 5]}, timeout=120)
                for i in range(slots)]
        try:
            for _ in range(slots):  # every slot is taken, inside the engine
                assert gate.inside.acquire(timeout=30)

            def excess_request(i: int) -> httpx.Response:
                path = "/search" if i % 2 else "/ask"
                if i % 3:
                    return httpx.get(f"{base}{path}", params={"q": QUESTIONS[i % 5]}, timeout=30)
                return httpx.post(f"{base}{path}", json={"q": QUESTIONS[i % 5], "k": 3}, timeout=30)

            answers = list(pool.map(excess_request, range(excess)))
            health = [httpx.get(f"{base}/health", timeout=30) for _ in range(5)]
            documents = httpx.get(f"{base}/documents", timeout=30)
            # all of that was answered while the held requests were still held: nobody waited for a slot
            assert not gate.open.is_set() and not any(h.done() for h in held)
        finally:
            gate.open.set()
        for response in answers:
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.json() == {"detail": BUSY.format(slots)}
        assert all(h.status_code == 200 and h.json()["status"] == "ok" for h in health)
        assert documents.status_code == 200
        assert [h.result().status_code for h in held] == [200] * slots  # the held ones finish normally
        assert httpx.get(f"{base}/search", params={"q": "beds"}, timeout=60).status_code == 200  # slots are free


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_qa_serve_under_overload_stays_up_and_gives_its_memory_back(built_index, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--port", str(port), "--index", str(built_index), "--corpus", str(CORPUS)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_MAX_CONCURRENCY": "2"},
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/health", timeout=5).json().get("status") == "ok":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        for question in QUESTIONS * 2:  # warm-up: caches, per-thread state
            assert httpx.get(f"{base}/ask", params={"q": question, "k": 20}, timeout=60).status_code == 200
        baseline = rss_mb(process.pid)

        statuses: collections.Counter = collections.Counter()
        health: list[int] = []
        burst_over = threading.Event()

        def client(i: int) -> None:
            with httpx.Client(timeout=120) as session:
                for j in range(10):
                    q = QUESTIONS[(i + j) % len(QUESTIONS)]
                    response = (session.get(f"{base}/ask", params={"q": q, "k": 20}) if j % 2 else
                                session.post(f"{base}/search", json={"q": q, "k": 50}))
                    statuses[response.status_code] += 1

        def watch_health() -> None:
            with httpx.Client(timeout=30) as session:
                while not burst_over.is_set():
                    health.append(session.get(f"{base}/health").status_code)
                    time.sleep(0.05)

        after = []
        for _ in range(scaled(3, 30)):
            watcher = threading.Thread(target=watch_health)
            watcher.start()
            with ThreadPoolExecutor(max_workers=24) as pool:
                list(pool.map(client, range(24)))
            burst_over.set()
            watcher.join(60)
            burst_over.clear()
            time.sleep(0.5)
            after.append(rss_mb(process.pid))
        print(f"statuses {dict(statuses)}; RSS baseline {baseline:.0f} MB, after each round "
              f"{[round(a) for a in after]} MB")
        assert set(statuses) <= {200, 503} and statuses[200] >= 2 and statuses[503] >= 24, statuses
        assert health and set(health) == {200}
        assert max(after) <= baseline + 100, (baseline, after)  # near the baseline
        assert after[-1] <= after[0] + 20, after  # and no growth from round to round
        assert httpx.get(f"{base}/ask", params={"q": QUESTIONS[0]}, timeout=60).status_code == 200
    finally:
        stop(process)
        log.close()
