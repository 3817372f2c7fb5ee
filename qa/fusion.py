"""Stage 6: fusion of the sparse and dense rankings into one, as pure functions.

- ``rrf``: reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009),
  score(d) = sum over rankings of 1 / (k + rank(d)), rank from 1. k = 60 is the paper's
  constant: it damps the weight of the very top ranks so one ranking cannot dominate.
- ``weighted``: min-max normalize each ranking's scores over the candidates, then
  alpha * dense + (1 - alpha) * sparse; a candidate missing from a ranking gets that ranking's
  minimum (as pyserini's hybrid searcher does).

Both return {row: score}; ``ranked`` orders it by (-score, row) so runs are reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping

RRF_K = 60


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return scores


def _normalize(scores: Mapping[int, float], candidates: set[int]) -> dict[int, float]:
    if not scores:
        return {row: 0.0 for row in candidates}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {row: ((scores[row] - low) / span if span else 1.0) if row in scores else 0.0 for row in candidates}


def weighted(sparse: Mapping[int, float], dense: Mapping[int, float], alpha: float = 0.5) -> dict[int, float]:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    candidates = set(sparse) | set(dense)
    s = _normalize(sparse, candidates)
    d = _normalize(dense, candidates)
    return {row: alpha * d[row] + (1 - alpha) * s[row] for row in candidates}


def ranked(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
