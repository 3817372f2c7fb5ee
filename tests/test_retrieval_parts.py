"""Analyzer, BM25, FAISS and fusion, each against a reference."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from qa import fusion
from qa.analyze import analyze, analyze_query
from qa.dense import DenseIndex
from qa.sparse import SparseIndex


def test_analyzer_treats_figures_alike():
    assert analyze("1,134 suspected victims") == analyze("1134 suspected victims") == ["1134", "suspect", "victim"]
    assert analyze("S/. 3'803,268.50 soles")[:2] == ["sole", "3803268.5"]
    assert analyze("3,803,268.50") == analyze("3'803,268.50") == ["3803268.5"]
    assert analyze("1,512,632.00") == ["1512632"]
    assert analyze("Thirty-three of these cases") == ["33", "case"]
    assert analyze("$2.3 million") == ["dollar", "2.3", "million"]
    assert analyze("Apurímac") == analyze("apurimac")


def test_query_years_steer_instead_of_matching():
    analysis = analyze_query("how many shelter beds existed in 2016 according to the 2017 TIP report")
    assert analysis.years == (2016,)
    assert analysis.report_years == (2017,)
    assert "2016" not in analysis.terms and "bed" in analysis.terms


def test_bm25_scores_equal_rank_bm25_on_the_same_tokens(corpus, tmp_path):
    """Our BM25 is rank-bm25's BM25Okapi bit for bit (same operations in the same order), saved
    and loaded; rank-bm25 stays the reference."""
    docs = [analyze(d.text[i : i + 700]) for d in corpus.documents for i in range(0, len(d.text), 700)]
    ours = SparseIndex.build(docs)
    ours.save(tmp_path)
    loaded = SparseIndex.load(tmp_path)
    reference = BM25Okapi(docs)
    assert loaded.idf() == reference.idf and BM25Okapi(loaded.documents()).idf == reference.idf
    for query in ["shelter beds 2016", "MIMP budget implemented soles", "convicted traffickers", "zzz unknown",
                  "trafficking victims in Peru, victims again"]:
        terms = analyze(query)
        np.testing.assert_array_equal(loaded.scores(terms), reference.get_scores(terms))


def test_bm25_equals_rank_bm25_on_random_corpora():
    """Repeated query terms, terms in most documents (rank-bm25's epsilon floor), empty documents."""
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(40)]
    for size in (1, 2, 7, 300):
        docs = [list(rng.choice(words[: rng.integers(1, 40)], rng.integers(0, 30), p=None)) for _ in range(size)]
        docs[0] = ["w0"] * 5 + docs[0]
        ours, reference = SparseIndex.build(iter(docs)), BM25Okapi(docs)
        assert ours.idf() == reference.idf
        for _ in range(10):
            query = list(rng.choice(words + ["unknown"], rng.integers(1, 8)))
            np.testing.assert_array_equal(ours.scores(query), reference.get_scores(query))
    assert len(SparseIndex.build([])) == 0 and SparseIndex.build([[], []]).scores(["w0"]).tolist() == [0.0, 0.0]


def test_faiss_equals_brute_force_numpy():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((500, 48)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex.build(vectors)
    mask = rng.random(500) < 0.3
    for _ in range(5):
        query = vectors[rng.integers(500)] + 0.1 * rng.standard_normal(48).astype(np.float32)
        brute = vectors @ query
        ids, scores = index.search(query, 10)
        np.testing.assert_array_equal(ids, np.argsort(-brute, kind="stable")[:10])
        np.testing.assert_allclose(scores, brute[ids], rtol=1e-5)
        ids, _ = index.search(query, 10, mask)
        allowed = np.flatnonzero(mask)
        np.testing.assert_array_equal(ids, allowed[np.argsort(-brute[allowed], kind="stable")[:10]])
    assert len(index.search(query, 10, np.zeros(500, dtype=bool))[0]) == 0


def test_rrf_by_hand():
    scores = fusion.rrf([[3, 1, 2], [1, 4]], k=60)
    assert scores[1] == pytest.approx(1 / 62 + 1 / 61)
    assert scores[3] == pytest.approx(1 / 61)
    assert scores[4] == pytest.approx(1 / 62)
    assert [row for row, _ in fusion.ranked(scores)] == [1, 3, 4, 2]


def test_weighted_fusion_by_hand():
    sparse = {1: 10.0, 2: 5.0, 3: 0.0}
    dense = {2: 0.9, 4: 0.5}
    fused = fusion.weighted(sparse, dense, alpha=0.25)
    # sparse normalized: 1 -> 1, 2 -> .5, 3 -> 0, 4 (missing) -> 0; dense: 2 -> 1, 4 -> 0, others 0
    assert fused == pytest.approx({1: 0.75, 2: 0.75 * 0.5 + 0.25, 3: 0.0, 4: 0.0})
    assert fusion.ranked(fused)[:2] == [(1, 0.75), (2, pytest.approx(0.625))]
    with pytest.raises(ValueError):
        fusion.weighted(sparse, dense, alpha=2)


def test_one_encoder_pass_gives_the_models_vectors_and_pooled_sentence_vectors(embedder):
    """Chunk vectors from the token pass equal the model's own; a sentence's vector is the mean
    of its tokens in the passage (close to, not equal to, the sentence encoded alone); a span the
    encoder's window cut off is encoded on its own."""
    first = "Authorities identified 1,134 suspected victims in 2016."
    text = f"Peru - Protection\n{first} The government operated shelters with a total capacity of 28 beds."
    cut = "word " * 400 + "The last sentence lies past the window."
    spans = [[(text.index(first), text.index(first) + len(first)), (text.index("The"), len(text))],
             [(cut.index("The last"), len(cut))]]
    vectors, pooled = embedder.encode_with_spans([text, cut], spans)
    assert vectors.shape == (2, embedder.dim) and pooled.shape == (3, embedder.dim)
    np.testing.assert_allclose(vectors, embedder.encode([text, cut]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    alone = embedder.encode([first, text[text.index("The"):]])
    cosines = (pooled[:2] * alone).sum(axis=1)
    assert (cosines > 0.5).all() and (cosines < 0.999).all(), cosines
    assert float(pooled[0] @ pooled[1]) < 0.999  # two sentences, two vectors
    np.testing.assert_allclose(pooled[2], embedder.encode(["The last sentence lies past the window."])[0], atol=1e-5)
