"""A corrupted index: every file of a published index (CURRENT, the manifest and each data file)
gets a byte flipped, is truncated or is deleted, ``TRIALS`` times each with a fixed seed. Loading
either refuses with a message that names the file and `qa index` as the fix, or (only when the
damage changes nothing that is read: whitespace in the manifest or around CURRENT's name) loads
an index that gives exactly the reference results. Never an unexpected exception, never different
answers. Then the same through the CLI and the service: the user is told, nothing is answered.

Plumbing: the hash embedder over the shipped corpus (the model is not the point). 20 trials per
file and kind in CI; QA_HARDENING_LONG=1 runs 200.
"""

from __future__ import annotations

import json
import random
import shutil
import time

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from hardening import scaled
from qa.api import create_app
from qa.chunking import ChunkSettings
from qa.cli import main
from qa.errors import IndexMismatch, IndexNotFound
from qa.index import build_index, current_build, load_index, save_index
from qa.search import Searcher
from qa.settings import Settings

SEED = 7
TRIALS = scaled(20, 200)
FILES = ["CURRENT", "manifest.json", "documents.jsonl", "chunks.jsonl", "sentences.npy", "dense.faiss", "bm25.npz",
         "bm25.json"]
QUERIES = ["how many shelter beds existed in 2016", "MIMP 2016 implemented", "convictions in 2017",
           "Tren de Aragua", "prosecutions of traffickers"]


def results(index, embedder) -> list:
    searcher = Searcher(index, embedder, Settings())
    return [[(h.chunk.id, h.score, h.bm25, h.dense) for h in searcher.search(q, 10, mode=mode).hits]
            for q in QUERIES for mode in ("bm25", "dense", "hybrid")]


@pytest.fixture(scope="module")
def published(tmp_path_factory, corpus, hash_embedder):
    root = tmp_path_factory.mktemp("corruption") / "index"
    index = build_index(corpus, hash_embedder, ChunkSettings())
    save_index(index, root)
    return root, results(load_index(root, model=hash_embedder.name, chunking=ChunkSettings()), hash_embedder)


def corrupt(data: bytes, kind: str, rng: random.Random) -> bytes | None:
    if kind == "flip":
        position = rng.randrange(len(data))
        return data[:position] + bytes([data[position] ^ rng.randrange(1, 256)]) + data[position + 1 :]
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    return None  # deleted


def harmless(name: str, original: bytes, damaged: bytes | None) -> bool:
    """Damage that changes nothing the loader reads (so loading may succeed)."""
    if damaged is None:
        return False
    if name == "CURRENT":
        return damaged.strip() == original.strip()
    if name == "manifest.json":
        try:
            return json.loads(damaged) == json.loads(original)
        except ValueError:
            return False
    return damaged == original


@pytest.mark.parametrize("kind", ["flip", "truncate", "delete"])
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_index_file_is_refused_with_the_fix(published, hash_embedder, name, kind):
    root, reference = published
    path = root / name if name == "CURRENT" else current_build(root) / name
    original = path.read_bytes()
    rng = random.Random(f"{SEED}:{name}:{kind}")
    outcomes = {"refused": 0, "harmless": 0}
    for trial in range(1 if kind == "delete" else TRIALS):
        damaged = corrupt(original, kind, rng)
        if damaged is None:
            path.unlink()
        else:
            path.write_bytes(damaged)
        try:
            loaded = load_index(root, model=hash_embedder.name, chunking=ChunkSettings())
        except (IndexMismatch, IndexNotFound) as exc:
            message = str(exc)
            assert name in message and "run `qa index`" in message, (trial, message)
            outcomes["refused"] += 1
        else:
            assert harmless(name, original, damaged), f"trial {trial}: damaged {name} was loaded"
            assert results(loaded, hash_embedder) == reference, f"trial {trial}: different answers"
            outcomes["harmless"] += 1
        finally:
            path.write_bytes(original)
    print(f"{name} {kind}: {outcomes}")
    assert outcomes["refused"] + outcomes["harmless"] == (1 if kind == "delete" else TRIALS)
    assert outcomes["refused"] >= (1 if kind == "delete" else TRIALS // 2), outcomes
    assert results(load_index(root, model=hash_embedder.name, chunking=ChunkSettings()), hash_embedder) == reference


@pytest.fixture()
def damaged_real_index(built_index, tmp_path):
    """A copy of the session's real-model index with one byte of dense.faiss flipped."""
    root = tmp_path / "index"
    shutil.copytree(built_index, root)
    path = current_build(root) / "dense.faiss"
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    return root, path


def test_the_cli_says_which_file_and_what_to_do(damaged_real_index):
    root, path = damaged_real_index
    for command in (["search", "beds"], ["ask", "how many shelter beds existed in 2016", "--json"]):
        result = CliRunner().invoke(main, [*command, "--index", str(root)])
        assert result.exit_code == 1
        assert result.stdout == ""  # no answer printed
        assert result.stderr.strip() == (f"error: {path} is corrupted (its checksum does not match the manifest) "
                                          "(run `qa index` to rebuild it)")


def test_the_service_stays_up_says_so_and_answers_nothing(damaged_real_index, settings_factory):
    root, path = damaged_real_index
    message = f"{path} is corrupted (its checksum does not match the manifest) (run `qa index` to rebuild it)"
    with TestClient(create_app(settings_factory(index=root)), base_url="http://localhost") as client:
        deadline = time.monotonic() + 120
        while (health := client.get("/health")).json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health.status_code == 503
        assert health.json()["status"] == "error" and health.json()["detail"] == message
        for method, url, options in [("GET", "/ask?q=beds", {}), ("POST", "/search", {"json": {"q": "beds"}}),
                                     ("GET", "/documents", {}), ("GET", "/documents/tip-2006-peru", {})]:
            response = client.request(method, url, **options)
            assert response.status_code == 503
            assert response.json() == {"detail": f"the index could not be loaded: {message}"}


LIVE = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from fakes import HashEmbedder
from qa.index import current_build, load_index
from qa.search import Searcher
from qa.settings import Settings
root = Path({root!r})
searcher = Searcher(load_index(root), HashEmbedder(), Settings())
before = [h.chunk.id for h in searcher.search("shelter beds in 2016", 10).hits]
path = current_build(root) / "sentences.npy"
path.write_bytes(path.read_bytes()[:1000])  # the live build's file truncated in place (a careless copy, a full disk)
after = [h.chunk.id for h in searcher.search("shelter beds in 2016", 10).hits]
print("same" if after == before else "different")
"""


def test_a_served_index_survives_its_files_being_damaged_on_disk(published, tmp_path):
    """Once loaded, the service answers from memory: damage to the files on disk afterwards must
    neither kill it nor change its answers (it is refused at the next load)."""
    import subprocess
    import sys
    from pathlib import Path

    root = tmp_path / "index"
    shutil.copytree(published[0], root)
    script = LIVE.format(tests=str(Path(__file__).parent), root=str(root))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the process died (exit {result.returncode}): {result.stderr[-500:]}"
    assert result.stdout.strip() == "same"
