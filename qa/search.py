"""Stage 7: a query -> ranked ``Hit`` list (sparse, dense, or both fused), with filters.

A year in the question steers rather than matches: year terms are left out of the BM25 query,
and a passage about that year (the year is printed in it, or falls in its report's period)
gains ``year_boost`` on the normalized fused score; a passage from a report the question names
("the 2018 TIP report") gains ``report_boost``. An acronym asked is also looked for as the
acronyms other reports write for the same name (``qa.names``: "MININTER" asked, "MOI" added to the
BM25 query).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

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
        # per-chunk facts as arrays, and per-document ones once per document: a million chunks
        # must not mean a million Python sets, nor a loop over them for every question
        chunks = index.chunks
        docs = list(index.documents.values())
        self._doc_ids = [d.id for d in docs]
        doc_row = {d.id: i for i, d in enumerate(docs)}
        self._doc_rows = np.array([doc_row[c.doc_id] for c in chunks], dtype=np.int32)
        self._kinds = np.array([d.kind for d in docs])[self._doc_rows] if docs else np.zeros(0, dtype=str)
        labels: dict[str, int] = {}
        self._label_rows = np.array([labels.setdefault(c.section_label.lower(), len(labels)) for c in chunks],
                                    dtype=np.int32)
        self._labels = list(labels)  # distinct section labels, lower-cased
        # years each chunk is about: printed in it, or in its report's period
        self._printed = [c.years for c in chunks]
        self._doc_period = [d.period_years for d in docs]
        self._periods = {y for d in docs for y in d.period_years}
        self._published = {d.report_year for d in docs}
        self._report_year = np.array([d.report_year for d in docs], dtype=np.int32)[self._doc_rows]
        self._year_rows: dict[int, np.ndarray] = {}
        self._aliases = index.aliases  # read here, when the index loads, not on the first question

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
            mask &= matches[self._label_rows]
        if filters.year is not None:
            mask &= self.about_year(filters.year)
        return mask

    def about_year(self, year: int) -> np.ndarray:
        """Rows printing ``year`` or from a report whose period holds it (a mask, cached per year)."""
        rows = self._year_rows.get(year)
        if rows is None:
            printed = np.array([year in p for p in self._printed], dtype=bool)
            in_period = np.array([year in p for p in self._doc_period], dtype=bool)
            if len(self._year_rows) >= 64:
                self._year_rows.clear()
            rows = self._year_rows[year] = printed | in_period[self._doc_rows]
        return rows

    # -- search -------------------------------------------------------------------------------

    def year_match(self, row: int, years: tuple[int, ...]) -> float:
        """1 when a question year is printed in the chunk and in its report's period, 0.5 for one."""
        best = 0.0
        period = self._doc_period[self._doc_rows[row]]
        for y in years:
            best = max(best, 0.5 * (y in self._printed[row]) + 0.5 * (y in period))
        return best

    def report_years(self, analysis: QueryAnalysis) -> QueryAnalysis:
        """A year that is no report's period but is a report's year names the report:
        "(2023 TIP)", "in the 2006 report"."""
        moved = tuple(y for y in analysis.years if y not in self._periods and y in self._published)
        if not moved:
            return analysis
        return replace(analysis, years=tuple(y for y in analysis.years if y not in moved),
                       report_years=tuple(dict.fromkeys(analysis.report_years + moved)))

    def dense_scores(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Dense score of chunks: cosine of the chunk plus the best cosine of one of its sentences
        (a passage is as relevant as its best sentence; the chunk vector alone blurs it)."""
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        chunk = self.index.dense.vectors(rows) @ vector
        offsets = self.index.sentence_offsets
        starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
        firsts = np.cumsum(lengths) - lengths  # where each chunk's sentences begin in ``cosines``
        # one gather and one product for every sentence of every candidate, then a max per chunk
        cosines = self.index.sentence_vectors[np.repeat(starts - firsts, lengths) + np.arange(lengths.sum())] @ vector
        best = np.full(len(rows), -1.0, dtype=np.float32)
        some = lengths > 0
        if some.any():
            best[some] = np.maximum(np.maximum.reduceat(cosines, firsts[some]), -1.0)
        return chunk + best

    def steer(self, fused: dict[int, float], analysis: QueryAnalysis) -> dict[int, float]:
        """Scores normalized to the best one, plus ``year_boost`` for a passage about a year the
        question asks about and ``report_boost`` for one from a report the question names."""
        top = max(fused.values()) or 1.0
        steered = {}
        for row, score in fused.items():
            score /= top
            if analysis.years:
                score += self.settings.year_boost * self.year_match(row, analysis.years)
            if analysis.report_years and self._report_year[row] in analysis.report_years:
                score += self.settings.report_boost
            steered[row] = score
        return steered

    def search(self, query: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid") -> SearchResult:
        if not query or not query.strip():
            raise QueryError("the query is empty; ask a question or give keywords")
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        analysis = self.report_years(analyze_query(query))
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
            ids, _ = self.index.dense.search(vector, depth, mask)
            dense_hits = list(zip(ids.tolist(), self.dense_scores(ids, vector).tolist()))
            t3 = time.perf_counter()
            timings["encode"] = (t2 - t1) * 1000
            timings["dense"] = (t3 - t2) * 1000
        t3 = time.perf_counter()
        sparse_scores = None
        if mode in ("hybrid", "bm25"):
            sparse_scores = self.index.sparse.scores(self._aliases.expand(analysis.terms))
            sparse_hits = _top(sparse_scores, depth, mask)
        t4 = time.perf_counter()
        timings["sparse"] = (t4 - t3) * 1000
        sparse_map, dense_map = dict(sparse_hits), dict(dense_hits)
        if mode == "hybrid":  # a BM25 candidate's dense score, so both rankings cover the same rows
            missing = np.array([r for r in sparse_map if r not in dense_map], dtype=np.int64)
            if len(missing):
                dense_map.update(zip(missing.tolist(), self.dense_scores(missing, vector).tolist()))
        if mode == "bm25":
            fused = sparse_map
        elif mode == "dense":
            fused = dense_map
        elif self.settings.fusion == "rrf":
            fused = fusion.rrf([[r for r, _ in sparse_hits], [r for r, _ in dense_hits]], self.settings.rrf_k)
        else:
            fused = fusion.weighted(sparse_map, dense_map, self.settings.alpha)
        if fused and (analysis.years or analysis.report_years):
            fused = self.steer(fused, analysis)
        ranking = fusion.ranked(fused)[:k]
        hits = []
        for rank, (row, score) in enumerate(ranking, start=1):
            bm25 = float(sparse_scores[row]) if sparse_scores is not None else None
            hits.append(Hit(row, self.index.chunks[row], score, rank, bm25, dense_map.get(row)))
        timings["fusion"] = (time.perf_counter() - t4) * 1000
        return SearchResult(query, hits, analysis, timings, vector)
