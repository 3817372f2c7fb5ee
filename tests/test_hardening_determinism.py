"""Determinism: the shipped corpus indexed a second time, with the real model, gives byte-identical
index files and, for every question of the gold set, the same top-10 passages with the same
scores, and the same answer. (Across processes, tests/test_hardening_crash.py compares builds
of `qa index` subprocesses with each other.)"""

from __future__ import annotations

import contextlib
import json

import pytest

from conftest import GOLD
from qa.engine import Engine, build
from qa.index import current_build

pytestmark = pytest.mark.slow


def top10(engine: Engine, question: str) -> list[tuple]:
    return [(h.chunk.id, h.rank, h.score, h.bm25, h.dense) for h in engine.search(question, 10).hits]


def answer(engine: Engine, question: str) -> tuple | None:
    reading = engine.ask(question).reading
    a = reading.answer
    return (reading.reason,) if a is None else (a.chunk_id, a.char_start, a.char_end, a.text, a.confidence)


def test_rebuilding_gives_identical_files_and_top10_for_the_whole_gold_set(engine, embedder, settings_factory,
                                                                           built_index, tmp_path):
    settings = settings_factory(index=tmp_path / "again")
    build(settings, embedder)
    again = Engine.load(settings, embedder=embedder)
    first = json.loads((current_build(built_index) / "manifest.json").read_text())
    second = json.loads((current_build(tmp_path / "again") / "manifest.json").read_text())
    assert second["files"] == first["files"]  # sha256 of every file
    assert second["corpus"] == first["corpus"] | {"root": second["corpus"]["root"]}

    questions = [json.loads(line)["question"] for line in GOLD.read_text().splitlines() if line.strip()]
    assert len(questions) >= 250
    with one_torch_thread():  # one query at a time: torch's thread pool only slows it on a busy machine
        differ = [q for q in questions if top10(engine, q) != top10(again, q)]
        assert differ == [], f"{len(differ)} of {len(questions)} questions rank differently, e.g. {differ[:3]}"
        differ = [q for q in questions if answer(engine, q) != answer(again, q)]
        assert differ == [], f"{len(differ)} of {len(questions)} questions get another answer, e.g. {differ[:3]}"


@contextlib.contextmanager
def one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
