"""Stage 7: a query -> ranked ``Hit`` list (sparse, dense, or both fused), with filters.

A year in the question steers rather than matches: year terms are left out of the BM25 query,
and when ``year_boost`` > 0 a passage about that year (the year is printed in it, or falls in
its report's period) gains ``year_boost`` on the normalized fused score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from qa import fusion
from qa.analyze import QueryAnalysis, analyze_query
from qa.data import KINDS, MODES, Filters, Hit, Mode
from qa.embed import Embedder
from qa.errors import QueryError
from qa.index import Index
from qa.settings import Settings


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    analysis: QueryAnalysis
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    query_vector: np.ndarray | None = None


def _top(scores: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
    """Rows with a positive score, best first (ties by row), at most ``k``."""
    candidates = np.flatnonzero(scores > 0) if mask is None else np.flatnonzero((scores > 0) & mask)
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    order = sorted(candidates.tolist(), key=lambda r: (-scores[r], r))
    return [(r, float(scores[r])) for r in order]


class Searcher:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        if embedder.name != index.model or embedder.dim != index.dense.dim:
            raise QueryError(f"the embedder {embedder.name!r} does not match the index model {index.model!r}")
        self.index = index
        self.embedder = embedder
        self.settings = settings
        chunks = index.chunks
        docs = index.documents
        self._doc_rows = np.array([list(docs).index(c.doc_id) for c in chunks], dtype=np.int32)
        self._doc_ids = list(docs)
        self._kinds = np.array([docs[c.doc_id].kind for c in chunks])
        self._labels = [c.section_label.lower() for c in chunks]
        # years each chunk is about: printed in it, or in its report's period
        self._printed = [set(c.years) for c in chunks]
        self._period = [set(docs[c.doc_id].period_years) for c in chunks]
        self._report_year = np.array([docs[c.doc_id].report_year for c in chunks])

    # -- filters ------------------------------------------------------------------------------

    def resolve_doc(self, doc: str) -> str:
        """A document id from an id or a source file name; QueryError naming the allowed ones."""
        for d in self.index.documents.values():
            if doc in (d.id, d.source):
                return d.id
        allowed = ", ".join(self.index.documents)
        raise QueryError(f"unknown document {doc!r}; allowed: {allowed}")

    def section_names(self) -> list[str]:
        return sorted({c.section[0] for c in self.index.chunks})

    def mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        mask = np.ones(len(self.index.chunks), dtype=bool)
        if filters.doc is not None:
            mask &= self._doc_rows == self._doc_ids.index(self.resolve_doc(filters.doc))
        if filters.kind is not None:
            if filters.kind not in KINDS:
                raise QueryError(f"unknown kind {filters.kind!r}; allowed: {', '.join(KINDS)}")
            mask &= self._kinds == filters.kind
        if filters.section is not None:
            needle = filters.section.strip().lower()
            matches = np.array([needle in label for label in self._labels], dtype=bool)
            if not needle or not matches.any():
                raise QueryError(
                    f"no section matches {filters.section!r}; sections: {', '.join(self.section_names())}"
                )
            mask &= matches
        if filters.year is not None:
            y = filters.year
            mask &= np.array([y in p or y in q for p, q in zip(self._printed, self._period)], dtype=bool)
        return mask

    # -- search -------------------------------------------------------------------------------

    def year_match(self, row: int, years: tuple[int, ...]) -> float:
        """1 when a question year is printed in the chunk and in its report's period, 0.5 for one."""
        best = 0.0
        for y in years:
            best = max(best, 0.5 * (y in self._printed[row]) + 0.5 * (y in self._period[row]))
        return best

    def search(self, query: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid") -> SearchResult:
        if not query or not query.strip():
            raise QueryError("the query is empty; ask a question or give keywords")
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        analysis = analyze_query(query)
        mask = self.mask(filters)
        t1 = time.perf_counter()
        timings["analysis"] = (t1 - t0) * 1000
        depth = max(self.settings.candidates, k)
        sparse_hits: list[tuple[int, float]] = []
        dense_hits: list[tuple[int, float]] = []
        vector = None
        if mode in ("hybrid", "dense"):
            vector = self.embedder.encode([query])[0]
            t2 = time.perf_counter()
            ids, scores = self.index.dense.search(vector, depth, mask)
            dense_hits = list(zip(ids.tolist(), scores.tolist()))
            t3 = time.perf_counter()
            timings["encode"] = (t2 - t1) * 1000
            timings["dense"] = (t3 - t2) * 1000
        t3 = time.perf_counter()
        sparse_scores = None
        if mode in ("hybrid", "bm25"):
            sparse_scores = self.index.sparse.scores(analysis.terms)
            sparse_hits = _top(sparse_scores, depth, mask)
        t4 = time.perf_counter()
        timings["sparse"] = (t4 - t3) * 1000
        sparse_map, dense_map = dict(sparse_hits), dict(dense_hits)
        if mode == "bm25":
            fused = sparse_map
        elif mode == "dense":
            fused = dense_map
        elif self.settings.fusion == "rrf":
            fused = fusion.rrf([[r for r, _ in sparse_hits], [r for r, _ in dense_hits]], self.settings.rrf_k)
        else:
            fused = fusion.weighted(sparse_map, dense_map, self.settings.alpha)
        if analysis.years and self.settings.year_boost and fused:
            top = max(fused.values()) or 1.0
            fused = {r: s / top + self.settings.year_boost * self.year_match(r, analysis.years) for r, s in fused.items()}
        ranking = fusion.ranked(fused)[:k]
        hits = []
        for rank, (row, score) in enumerate(ranking, start=1):
            bm25 = float(sparse_scores[row]) if sparse_scores is not None else None
            dense = dense_map.get(row)
            if dense is None and vector is not None:  # ranked by BM25 only: its cosine all the same
                dense = float(self.index.dense.index.reconstruct(row) @ vector)
            hits.append(Hit(self.index.chunks[row], score, rank, bm25, dense))
        timings["fusion"] = (time.perf_counter() - t4) * 1000
        return SearchResult(query, hits, analysis, timings, vector)
