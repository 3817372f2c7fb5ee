"""`qa serve` as a user runs it: a real process on a real port, asked over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from conftest import CORPUS, ROOT
from qa.bench import free_port, stop

QUESTION = "how many shelter beds existed in 2016"


def wait_until_ok(base: str, process: subprocess.Popen, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    health: dict = {}
    while time.monotonic() < deadline and process.poll() is None:
        try:
            health = httpx.get(f"{base}/health", timeout=5).json()
        except httpx.TransportError:
            health = {}
        if health.get("status") in ("ok", "error"):
            break
        time.sleep(0.2)
    return health


def test_qa_serve_answers_over_http(built_index, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "qa", "serve", "--port", str(port), "--index", str(built_index),
               "--corpus", str(CORPUS)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        health = wait_until_ok(base, process)
        assert health.get("status") == "ok", log.read_text()
        assert health["documents"] == 5
        response = httpx.get(f"{base}/ask", params={"q": QUESTION}, timeout=60)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"question", "answer", "reason", "passages", "took_ms"}
        assert body["question"] == QUESTION and len(body["passages"]) == 5
        response = httpx.post(f"{base}/search", json={"q": "shelter beds", "k": 2}, timeout=60)
        assert response.status_code == 200 and len(response.json()["hits"]) == 2
        response = httpx.get(f"{base}/search", params={"q": "beds", "k": 0}, timeout=60)
        assert response.status_code == 422 and response.json()["detail"].startswith("query parameter 'k'")
    finally:
        stop(process)
    assert f"serving on {base}/ - open it in a browser" in log.read_text()


def test_qa_serve_refuses_a_broken_index_before_serving(tmp_path):
    (tmp_path / "CURRENT").write_text("build-gone\n")
    result = subprocess.run([sys.executable, "-m", "qa", "serve", "--port", str(free_port()), "--index",
                             str(tmp_path), "--corpus", str(CORPUS)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1
    assert result.stderr.strip().endswith(f"error: {tmp_path / 'CURRENT'} names a build that does not exist "
                                          "('build-gone') (run `qa index` to rebuild it)")
    assert "serving on" not in result.stdout
