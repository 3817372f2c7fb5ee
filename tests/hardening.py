"""Helpers shared by the tests/test_hardening_*.py files (not a test module)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from qa.bench import free_port

LONG = os.environ.get("QA_HARDENING_LONG") == "1"  # more trials: python tests/hardening_long.py


def scaled(count: int, long_count: int) -> int:
    return long_count if LONG else count


def hash_engine(corpus: Path, index: Path, embedder, **overrides):
    """An engine over ``corpus`` with the hash embedder: built, published in ``index``, loaded back."""
    from qa.engine import Engine, build
    from qa.settings import Settings

    settings = Settings(corpus=corpus, index=index, model=embedder.name, **overrides)
    build(settings, embedder)
    return Engine.load(settings, embedder=embedder)


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """``app`` under uvicorn in a thread on a free port: real sockets, real HTTP parsing."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
