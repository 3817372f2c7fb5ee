"""The parts that let the index grow: the IVF dense index against brute force, an index that
uses it saved and loaded, sentence vectors read row by row, the searcher's per-document facts."""

from __future__ import annotations

import numpy as np
import pytest

from qa import dense as dense_module
from qa.chunking import ChunkSettings
from qa.data import Filters
from qa.dense import DenseIndex, nlist_for
from qa.index import build_index, load_index, save_index
from qa.search import Searcher
from qa.settings import Settings


def clustered(n: int, dim: int = 32, seed: int = 5) -> np.ndarray:
    """Unit vectors around 40 centres, like embeddings of texts on a few topics."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim))
    x = centres[rng.integers(40, size=n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def brute(vectors, query, k, allowed=None):
    scores = vectors @ query
    rows = np.arange(len(vectors)) if allowed is None else np.flatnonzero(allowed)
    return rows[np.argsort(-scores[rows], kind="stable")[:k]]


def test_ivf_is_exact_up_to_float16_when_it_probes_every_cell_and_close_at_its_default():
    vectors = clustered(4000)
    index = DenseIndex.build(vectors, "ivf")
    assert index.kind == "ivf" and index.index.nlist == nlist_for(4000) == 252
    queries = clustered(30, seed=9)
    recall = np.mean([len(set(index.search(q, 10)[0]) & set(brute(vectors, q, 10))) / 10 for q in queries])
    assert recall >= 0.9
    index.index.nprobe = index.index.nlist
    for q in queries[:5]:
        ids, scores = index.search(q, 10)
        assert len(set(ids) & set(brute(vectors, q, 10))) >= 9  # a float16 rounding may swap a near tie
        np.testing.assert_allclose(scores, vectors[ids] @ q, atol=1e-3)
    np.testing.assert_allclose(index.vectors(np.array([7, 3])), vectors[[7, 3]], atol=1e-3)


def test_ivf_filters_keep_k_allowed_rows(monkeypatch):
    vectors = clustered(3000)
    index = DenseIndex.build(vectors, "ivf")
    rng = np.random.default_rng(2)
    query = clustered(1, seed=4)[0]
    few = rng.random(3000) < 0.02  # scored exactly
    ids, scores = index.search(query, 10, few)
    assert len(set(ids) & set(brute(vectors, query, 10, few))) >= 9 and few[ids].all()
    np.testing.assert_allclose(scores, vectors[ids] @ query, atol=1e-3)
    monkeypatch.setattr(dense_module, "EXACT_FILTERED_ROWS", 10)  # now the selector inside FAISS
    many = rng.random(3000) < 0.5
    ids, _ = index.search(query, 10, many)
    assert len(ids) == 10 and many[ids].all()
    assert len(set(ids) & set(brute(vectors, query, 10, many))) >= 8
    assert len(index.search(query, 10, np.zeros(3000, dtype=bool))[0]) == 0
    exact, _ = index.search(query, 10, exact=True)
    assert len(set(exact) & set(brute(vectors, query, 10))) >= 9


def test_an_index_with_ivf_round_trips_and_searches(corpus, hash_embedder, tmp_path, monkeypatch):
    monkeypatch.setattr(dense_module, "IVF_MIN_ROWS", 50)  # the shipped corpus has 163 chunks
    index = build_index(corpus, hash_embedder, ChunkSettings())
    assert index.dense.kind == "ivf" and index.manifest["dense"] == {"kind": "ivf"}
    save_index(index, tmp_path / "index")
    loaded = load_index(tmp_path / "index", model=hash_embedder.name)
    assert loaded.dense.kind == "ivf" and loaded.dense.index.nprobe == index.dense.index.nprobe
    searcher = Searcher(loaded, hash_embedder, Settings())
    for filters in (Filters(), Filters(year=2016), Filters(doc="tip-2023-peru", section="prosecution")):
        hits = searcher.search("convictions of traffickers", 10, filters).hits
        assert hits and all(searcher.mask(filters) is None or searcher.mask(filters)[loaded.chunks.index(h.chunk)]
                            for h in hits)


def test_large_sentence_vector_files_are_read_row_by_row(corpus, hash_embedder, tmp_path, monkeypatch):
    from qa import index as index_module

    index = build_index(corpus, hash_embedder, ChunkSettings())
    save_index(index, tmp_path / "index")
    small = load_index(tmp_path / "index")
    assert isinstance(small.sentence_vectors, np.ndarray)
    monkeypatch.setattr(index_module, "IN_MEMORY_BYTES", 0)
    large = load_index(tmp_path / "index")
    rows = large.sentence_vectors
    assert isinstance(rows, index_module.RowFile) and rows.shape == small.sentence_vectors.shape
    np.testing.assert_array_equal(np.asarray(rows), small.sentence_vectors)
    np.testing.assert_array_equal(rows[5:9], small.sentence_vectors[5:9])
    picked = np.array([0, 1, 2, 7, 8, 40, len(rows) - 1])
    np.testing.assert_array_equal(rows[picked], small.sentence_vectors[picked])
    assert rows[3:3].shape == (0, 32) and rows[np.array([], dtype=int)].shape == (0, 32)
    with pytest.raises(IndexError):
        rows[np.array([len(rows)])]
    settings = Settings()
    for query in ("how many shelter beds existed in 2016", "convictions 2017"):
        a = Searcher(small, hash_embedder, settings).search(query, 10).hits
        b = Searcher(large, hash_embedder, settings).search(query, 10).hits
        assert [(h.chunk.id, h.score) for h in a] == [(h.chunk.id, h.score) for h in b]


def test_year_filter_is_a_cached_mask_of_printed_and_period_years(engine):
    searcher = engine.searcher
    mask = searcher.about_year(2016)
    expected = [2016 in c.years or 2016 in engine.index.documents[c.doc_id].period_years for c in engine.index.chunks]
    assert mask.tolist() == expected and searcher.about_year(2016) is mask
    with pytest.raises(Exception, match="no section matches"):
        searcher.mask(Filters(section="no such section"))
