"""Index build, save/load round trip, refusal of corrupted or mismatched indexes (no model)."""

from __future__ import annotations

import json

import pytest

from qa.chunking import ChunkSettings
from qa.engine import Engine
from qa.errors import IndexMismatch, IndexNotFound
from qa.index import build_index, current_build, load_index, save_index
from qa.search import Searcher
from qa.settings import Settings

QUERIES = ["how many shelter beds existed in 2016", "MIMP 2016 implemented", "convictions in 2017"]


@pytest.fixture()
def hash_index(corpus, hash_embedder, tmp_path):
    index = build_index(corpus, hash_embedder, ChunkSettings())
    save_index(index, tmp_path / "index")
    return index, tmp_path / "index"


def _results(index, embedder):
    searcher = Searcher(index, embedder, Settings())
    return [[(h.chunk.id, round(h.score, 9)) for h in searcher.search(q, 10, mode=mode).hits]
            for q in QUERIES for mode in ("bm25", "dense", "hybrid")]


def test_round_trip_gives_identical_results(hash_index, hash_embedder):
    index, directory = hash_index
    loaded = load_index(directory, model=hash_embedder.name, chunking=ChunkSettings())
    assert loaded.chunks == index.chunks
    assert loaded.documents == index.documents
    assert loaded.acronyms == index.acronyms and loaded.acronyms["tip-2018-peru-prosecution"]
    assert _results(loaded, hash_embedder) == _results(index, hash_embedder)


def test_manifest_records_what_the_index_was_built_with(hash_index):
    _, directory = hash_index
    manifest = json.loads((current_build(directory) / "manifest.json").read_text())
    assert manifest["model"] == {"name": "hash-embedder-test", "dim": 32, "max_tokens": 256}
    assert manifest["chunking"] == {"max_tokens": 254, "target_tokens": 160, "overlap": 0}
    assert set(manifest["files"]) == {"documents.jsonl", "chunks.jsonl", "sentences.npy", "dense.faiss",
                                      "bm25.npz", "bm25.json"}
    assert manifest["corpus"]["documents"] == 5 and len(manifest["corpus"]["checksum"]) == 64
    assert manifest["package_version"]


@pytest.mark.parametrize("name", ["documents.jsonl", "chunks.jsonl", "sentences.npy", "dense.faiss", "bm25.npz",
                                  "bm25.json", "manifest.json"])
def test_a_corrupted_file_is_refused_with_the_fix(hash_index, name):
    _, directory = hash_index
    path = current_build(directory) / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(IndexMismatch) as error:
        load_index(directory)
    assert name in str(error.value) and "run `qa index`" in str(error.value)


def test_missing_index_and_mismatched_model_or_settings(hash_index, tmp_path):
    _, directory = hash_index
    with pytest.raises(IndexNotFound, match="run `qa index` to build it"):
        load_index(tmp_path / "nowhere")
    with pytest.raises(IndexMismatch, match="built with model 'hash-embedder-test', not 'other'"):
        load_index(directory, model="other")
    with pytest.raises(IndexMismatch, match="built with chunking"):
        load_index(directory, chunking=ChunkSettings(target_tokens=100))


def test_publishing_replaces_the_previous_build(hash_index, corpus, hash_embedder):
    index, directory = hash_index
    first = current_build(directory)
    save_index(build_index(corpus, hash_embedder, ChunkSettings()), directory)
    second = current_build(directory)
    assert first != second and not first.exists()
    assert [p.name for p in directory.iterdir() if p.name.startswith("build-")] == [second.name]


def test_engine_builds_when_missing_and_when_the_corpus_changed(corpus_copy, tmp_path, hash_embedder):
    settings = Settings(corpus=corpus_copy, index=tmp_path / "idx", model=hash_embedder.name)
    engine = Engine.load(settings, embedder=hash_embedder, build_if_needed=True)
    first = current_build(settings.index)
    assert len(engine.index.documents) == 5
    Engine.load(settings, embedder=hash_embedder, build_if_needed=True)
    assert current_build(settings.index) == first  # unchanged corpus: no rebuild
    (corpus_copy / "extra.txt").write_text("A new report on trafficking in Peru, 2024.\n")
    engine = Engine.load(settings, embedder=hash_embedder, build_if_needed=True)
    assert current_build(settings.index) != first and len(engine.index.documents) == 6
