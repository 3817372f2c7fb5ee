"""A crash mid-build: the real `qa index` command, run as a subprocess over a small corpus on top
of a published index, is killed with SIGKILL at chosen and at random points. Afterwards the
published index always loads (never a partial one) and gives exactly the reference results, and
the next publish clears what the killed build left behind.

Where the kills land: tests/crashpoint/sitecustomize.py (on the subprocess's PYTHONPATH only)
numbers every file-system step under the index directory; an uninterrupted recording run lists
them (create the build directory, write each file, read it back for its checksum, fsync it,
rename the build into place, write the new pointer, replace CURRENT, fsync, remove the old
build). The CI trials kill right before the steps that matter - the first write, a random file
write, the rename of the build, the pointer write, the replacement of CURRENT, the first step
after it, a random step of the old build's removal - plus three kills after a random delay over
the whole run (imports, model load, embedding). QA_HARDENING_LONG=1 kills at every step and at 20
random delays.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from hardening import LONG
from qa.chunking import ChunkSettings
from qa.index import CURRENT, current_build, load_index, save_index
from qa.search import Searcher
from qa.settings import Settings

pytestmark = pytest.mark.slow

SEED = 11
QA = Path(sys.executable).parent / "qa"
HOOK = Path(__file__).parent / "crashpoint"
QUERIES = ["how many shelter beds existed in 2016", "shelters for victims", "convictions in 2017", "budget"]
SMALL = {  # two short reports: the model's load, not the corpus, takes most of a run
    "protection-2017.txt": "PROTECTION\n\nThe government identified 1,908 potential trafficking victims in 2016. "
    "The Ministry of Women operated four shelters with a total capacity of 28 beds for girls.\n\n"
    "PROSECUTION\n\nAuthorities convicted 38 traffickers in 2016, compared with 11 in 2015.\n",
    "budget-2016.txt": "BUDGET\n\nIn 2016 the ministry implemented S/. 1,512,632.00 for victim assistance. "
    "Civil society reported that regional shelters lacked staff and funds.\n",
}


@dataclass
class Step:
    number: int
    event: str
    path: str
    target: str


def read_steps(log: Path) -> list[Step]:
    if not log.exists():
        return []
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    return [Step(int(r[0]), r[1], r[2], r[3]) for r in rows]


def run_index(corpus: Path, index: Path, log: Path, *, kill_at: int = 0, kill_after: float | None = None):
    """`qa index` as a user runs it; killed at step ``kill_at`` (by the hook) or after ``kill_after``
    seconds (by us). Returns (return code, seconds, stderr)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(HOOK), "QA_CRASH_ROOT": str(index),
           "QA_CRASH_LOG": str(log), "QA_CRASH_AT": str(kill_at)}
    started = time.monotonic()
    with (log.parent / f"{log.stem}.stderr").open("w+") as err:
        process = subprocess.Popen([str(QA), "index", "--corpus", str(corpus), "--index", str(index)],
                                   stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            if kill_after is not None:
                try:
                    process.wait(timeout=kill_after)
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
            code = process.wait(timeout=600)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        err.seek(0)
        return code, time.monotonic() - started, err.read()


def results(index, embedder) -> list:
    searcher = Searcher(index, embedder, Settings())
    return [[(h.chunk.id, h.score) for h in searcher.search(q, 5, mode=mode).hits]
            for q in QUERIES for mode in ("bm25", "dense", "hybrid")]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, embedder):
    """The small corpus; a published index of it, built by an uninterrupted `qa index` on top of
    an older build (so that the steps include removing the old one), and its results."""
    root = tmp_path_factory.mktemp("crash")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in SMALL.items():
        (corpus / name).write_text(text)
    index = root / "published"
    older = publish_an_older_build(corpus, index)
    log = root / "record.log"
    code, seconds, stderr = run_index(corpus, index, log)
    assert code == 0, stderr
    steps = read_steps(log)
    assert current_build(index).name != older and not (index / older).exists()
    reference = results(load_index(index, model=embedder.name, chunking=ChunkSettings()), embedder)
    return corpus, index, steps, seconds, reference


def publish_an_older_build(corpus: Path, index: Path) -> str:
    """An older build (hash embedder, in-process): what the recorded run replaces."""
    from fakes import HashEmbedder
    from qa.corpus import load_corpus
    from qa.index import build_index

    save_index(build_index(load_corpus(corpus), HashEmbedder(), ChunkSettings()), index)
    return current_build(index).name


def plan(steps: list[Step], seconds: float) -> list[tuple[str, dict]]:
    """(label, run_index keywords) for each trial: the steps that matter, random ones, random delays."""
    rng = random.Random(SEED)
    by = {s.number: s for s in steps}
    writes = [s for s in steps if s.event == "open" and s.path.startswith(".tmp-build-") and s.target == ""
              and s.number < next(x.number for x in steps if x.event == "os.rename")]
    rename = next(s for s in steps if s.event == "os.rename" and s.path.startswith(".tmp-build-"))
    pointer = next(s for s in steps if s.event == "open" and s.path.startswith(f".{CURRENT}."))
    publish = next(s for s in steps if s.event == "os.rename" and s.target == CURRENT)
    removal = [s for s in steps if s.number > publish.number + 1]
    assert writes and removal and by[publish.number + 1], steps
    if LONG:
        trials = [(f"step {s.number} ({s.event} {s.path.split('/')[-1] or '.'})", {"kill_at": s.number})
                  for s in steps]
        return trials + [(f"after {d:.2f} s", {"kill_after": d})
                         for d in (rng.uniform(0, seconds) for _ in range(20))]
    chosen = [("first file write", writes[0]), ("a file write", rng.choice(writes)), ("build rename", rename),
              ("pointer write", pointer), ("CURRENT replace", publish), ("after the publish", by[publish.number + 1]),
              ("old build removal", rng.choice(removal))]
    return ([(f"step {s.number} ({role})", {"kill_at": s.number}) for role, s in chosen]
            + [(f"after {d:.2f} s", {"kill_after": d}) for d in (rng.uniform(0.5, seconds) for _ in range(3))])


def test_sigkill_mid_build_never_loses_or_corrupts_the_published_index(recorded, tmp_path, embedder):
    corpus, published, steps, seconds, reference = recorded
    old = current_build(published).name
    trials = plan(steps, seconds)

    def trial(number: int, label: str, kill: dict) -> dict:
        directory = tmp_path / f"trial-{number:03d}"
        directory.mkdir()
        index = directory / "index"
        shutil.copytree(published, index)
        code, took, stderr = run_index(corpus, index, directory / "steps.log", **kill)
        done = read_steps(directory / "steps.log")
        return {"label": label, "index": index, "code": code, "seconds": took, "last": done[-1] if done else None,
                "stderr": stderr, "kill_at": kill.get("kill_at")}

    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time on two cores
        outcomes = list(pool.map(lambda t: trial(t[0], *t[1]), enumerate(trials)))

    states = []
    for outcome in outcomes:
        index, label = outcome["index"], outcome["label"]
        killed = outcome["code"] == -signal.SIGKILL
        assert killed or outcome["code"] == 0, (label, outcome["code"], outcome["stderr"][-2000:])
        if outcome["kill_at"]:  # killed right there, before that step happened
            assert killed and outcome["last"].number == outcome["kill_at"], (label, outcome["last"])
        build = current_build(index)  # CURRENT names a build that exists
        loaded = load_index(index, model=embedder.name, chunking=ChunkSettings())  # every checksum holds
        assert loaded.path == build
        assert results(loaded, embedder) == reference, f"{label}: different results after the kill"
        published_new = build.name != old
        leftovers = sorted(p.name for p in index.iterdir() if p.name not in (CURRENT, ".lock", build.name))
        states.append((label, "new" if published_new else "old", leftovers))
        # the next publish clears whatever the killed build left behind
        save_index(loaded, index)
        assert sorted(p.name for p in index.iterdir()) == sorted([".lock", CURRENT, current_build(index).name])
    summary = "\n".join(f"{label}: published {which}; left behind {left}" for label, which, left in states)
    print(summary)
    # the kills landed where they were meant to: before the publish, between rename and publish, after it
    which = {label: state for label, state, _ in states}
    step_trials = [label for label, _ in trials if label.startswith("step")]
    publish = next(s for s in steps if s.event == "os.rename" and s.target == CURRENT).number
    for label in step_trials:
        number = int(label.split()[1])
        assert which[label] == ("old" if number <= publish else "new"), summary
    assert any(left and left[0].startswith(".tmp-build-") for _, _, left in states), summary
    assert any(any(name.startswith("build-") for name in left) for _, state, left in states if state == "old"), summary


def test_two_overlapping_publishes_never_lose_the_index(tmp_path, hash_embedder, corpus):
    """Two builds publishing at once (`qa serve` building while someone runs `qa index`): B has
    renamed its build into place and is about to replace CURRENT when A publishes and cleans up.
    The real interleaving, paused with an audit hook on B's pointer write."""
    import threading

    from qa.index import build_index

    root = tmp_path / "index"
    save_index(build_index(corpus, hash_embedder, ChunkSettings()), root)
    a, b = (build_index(corpus, hash_embedder, ChunkSettings()) for _ in range(2))
    paused, go = threading.Event(), threading.Event()

    def hook(event: str, args: tuple) -> None:
        if (event == "open" and threading.current_thread().name == "publisher-b" and not paused.is_set()
                and f"{os.sep}.{CURRENT}." in str(args[0])):
            paused.set()
            go.wait(30)

    sys.addaudithook(hook)  # stays for the session; inert outside this thread
    publisher_b = threading.Thread(target=save_index, args=(b, root), name="publisher-b")
    publisher_b.start()
    try:
        assert paused.wait(30)
        publisher_a = threading.Thread(target=save_index, args=(a, root), name="publisher-a")
        publisher_a.start()
        publisher_a.join(5)  # done, or waiting for B (a lock): either way B goes on now
    finally:
        go.set()
        publisher_b.join(30)
    publisher_a.join(30)
    loaded = load_index(root)  # whichever build won, the index must load
    assert loaded.chunks == a.chunks
