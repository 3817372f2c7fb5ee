"""Metrics on hand-computed cases, and against ir-measures (trec_eval's implementation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qa import metrics as m


def test_hit_mrr_ndcg_recall_by_hand():
    flags = [False, False, True, False, True]
    assert m.hit_at(flags, 2) == 0.0 and m.hit_at(flags, 3) == 1.0
    assert m.reciprocal_rank(flags) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(flags, k=2) == 0.0
    dcg = 1 / math.log2(4) + 1 / math.log2(6)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert m.ndcg_at(flags, 2) == pytest.approx(dcg / ideal)
    assert m.ndcg_at(flags, 3) == pytest.approx(dcg / (ideal + 1 / math.log2(4)))
    assert m.recall_at(flags, 3, 3) == pytest.approx(1 / 3)
    assert m.recall_at(flags, 0, 3) == 0.0


def test_answer_normalization_and_f1():
    assert m.normalize_answer("The MIMP’s budget, S/. 3'803,268.50!") == "mimp s budget s 3 803 268.50"
    assert m.answer_value("3'803,268.50 soles") == 3803268.5
    assert m.answer_value("Thirty-three") == 33
    assert m.answer_value("eight to 15 years") == 8
    assert m.answer_value("no figure") is None
    assert m.token_f1("28 beds", "28 beds") == 1.0
    assert m.token_f1("a total of 28 beds", "28 beds") == pytest.approx(2 * (2 / 4) * 1 / (2 / 4 + 1))
    assert m.token_f1("nothing", "28 beds") == 0.0


def test_ranking_metrics_equal_ir_measures():
    import ir_measures
    from ir_measures import RR, R, nDCG

    rng = np.random.default_rng(3)
    qrels, run, ours = {}, {}, {"ndcg@10": [], "mrr@10": [], "recall@5": [], "recall@10": []}
    for q in range(60):
        docs = [f"d{i}" for i in range(40)]
        relevant = set(rng.choice(docs, size=rng.integers(1, 4), replace=False).tolist())
        ranking = rng.permutation(docs)[:10].tolist()
        qrels[f"q{q}"] = {d: 1 for d in relevant}
        run[f"q{q}"] = {d: float(10 - i) for i, d in enumerate(ranking)}
        flags = [d in relevant for d in ranking]
        ours["ndcg@10"].append(m.ndcg_at(flags, len(relevant), 10))
        ours["mrr@10"].append(m.reciprocal_rank(flags, 10))
        ours["recall@5"].append(m.recall_at(flags, len(relevant), 5))
        ours["recall@10"].append(m.recall_at(flags, len(relevant), 10))
    measures = {"ndcg@10": nDCG @ 10, "mrr@10": RR @ 10, "recall@5": R @ 5, "recall@10": R @ 10}
    scores = ir_measures.calc_aggregate(list(measures.values()), qrels, run)
    for metric, values in ours.items():
        assert np.mean(values) == pytest.approx(scores[measures[metric]], abs=1e-9), metric
