"""Stage 5b: the dense index, FAISS inner product over unit vectors (cosine similarity).

Ids are row positions in the chunk list. Two kinds, chosen by size from the numbers in
``eval/BENCHMARKS.md`` (``qa bench``):

- ``flat`` (``IndexFlatIP``) below ``IVF_MIN_ROWS`` rows: exact; a query reads every vector,
  so its time grows with the corpus (about 0.5 ms per 10 thousand chunks on one core here,
  53 ms at a million).
- ``ivf`` (``IndexIVFScalarQuantizer``, float16) from there: the vectors are split into
  ``nlist`` = 4 sqrt(rows) k-means cells and a query reads the ``NPROBE`` cells nearest to it,
  a few percent of the vectors at a million chunks; ``NPROBE`` = 256 gives recall@10 of 0.97
  against exact search at a million chunks. Vectors are stored as float16: half the memory
  of float32 and half the bytes a query reads (4.7 instead of 8.6 ms a query at a million
  chunks), the same recall, cosines within about 1e-4 of exact.
  Chosen over HNSW (M = 32): at 100 thousand chunks HNSW answers faster (0.9 against 2.3 ms)
  but with lower recall (0.98 against 0.99), and at a million chunks it took 16 minutes to
  build and reached recall@10 0.89 at efSearch 256, where IVF builds in under a minute and
  reaches 0.97; both are far inside the latency budget, so build time and recall decided.

Filters are a boolean mask over rows, applied inside FAISS with an ``IDSelectorBitmap`` so the
k results are k allowed rows. An IVF index widens its search by the share of rows the filter
keeps; when the filter keeps at most ``EXACT_FILTERED_ROWS`` rows, the allowed rows are scored
exactly instead (cells full of excluded rows would give too few results).

A search runs on one thread (``one_thread``): FAISS would start an OpenMP team of one thread
per core for a single query, and when another thread or process holds the other core the team
waits for it. Measured on this 2-core machine with one other busy process: a flat search of
10,000 chunks took 32 ms with two threads and 0.4 ms with one. The service gets its parallelism
from answering requests side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

FILE = "dense.faiss"
IVF_MIN_ROWS = 50_000
NPROBE = 256
TRAIN_PER_CELL = 40  # k-means sample per cell (FAISS warns below 39)
EXACT_FILTERED_ROWS = 50_000
KINDS = ("flat", "ivf")


def kind_for(rows: int, ivf_min_rows: int | None = None) -> str:
    """The index kind ``DenseIndex.build`` chooses for ``rows`` vectors (from ``IVF_MIN_ROWS``
    rows on, unless ``ivf_min_rows`` says otherwise)."""
    return "ivf" if rows >= (IVF_MIN_ROWS if ivf_min_rows is None else ivf_min_rows) else "flat"


def nlist_for(rows: int) -> int:
    return max(1, int(4 * math.sqrt(rows)))


@contextmanager
def one_thread() -> Iterator[None]:
    """FAISS's OpenMP threads for the calling thread: one, then back to what they were (the
    setting is per thread, so other threads, and index builds, keep theirs)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class DenseIndex:
    def __init__(self, index: faiss.Index):
        if not isinstance(index, (faiss.IndexFlat, faiss.IndexIVFScalarQuantizer)):
            raise ValueError(f"unsupported FAISS index {type(index).__name__}; run `qa index` to rebuild it")
        if isinstance(index, faiss.IndexIVF) and index.direct_map.type == faiss.DirectMap.NoMap:
            index.make_direct_map()
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str | None = None, *, seed: int = 1234) -> "DenseIndex":
        """``kind``: "flat" or "ivf"; by default flat below ``IVF_MIN_ROWS`` rows."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows, dim = vectors.shape
        kind = kind or kind_for(rows)
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "ivf":
            nlist = nlist_for(rows)
            index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                                  faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = seed
            sample = np.random.default_rng(seed).choice(rows, min(rows, TRAIN_PER_CELL * nlist), replace=False)
            index.train(vectors[np.sort(sample)])
            index.nprobe = min(NPROBE, nlist)
        else:
            raise ValueError(f"unknown dense index kind {kind!r}; allowed: {', '.join(KINDS)}")
        index.add(vectors)
        return cls(index)

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    @property
    def dim(self) -> int:
        return self.index.d

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, *,
               exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and scores of the ``k`` best rows (fewer when fewer are allowed), best first.
        ``exact``: score every allowed row, whatever the kind of index (the reference)."""
        n = len(self) if allowed is None else int(allowed.sum())
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if self.kind == "ivf" and (exact or allowed is not None and n <= EXACT_FILTERED_ROWS):
            return self._exact(query[0], k, allowed)
        selector = None
        if allowed is not None:
            bits = np.packbits(allowed.astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
        if self.kind == "ivf":
            nprobe = min(self.index.nlist, max(1, int(self.index.nprobe * len(self) / n)))
            params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        with one_thread():
            scores, ids = self.index.search(query, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _exact(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Every (allowed) row scored, a block of rows at a time; best first, ties by row."""
        rows = np.arange(len(self)) if allowed is None else np.flatnonzero(allowed)
        best_ids, best_scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        for start in range(0, len(rows), 65536):
            block = rows[start : start + 65536]
            with one_thread():
                scores, found = faiss.knn(query.reshape(1, -1), self.vectors(block), min(k, len(block)),
                                          metric=faiss.METRIC_INNER_PRODUCT)
            ids = np.concatenate([best_ids, block[found[0]]])
            scores = np.concatenate([best_scores, scores[0]])
            top = np.lexsort((ids, -scores))[:k]
            best_ids, best_scores = ids[top], scores[top]
        return best_ids, best_scores.astype(np.float32)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(rows)

    def save(self, directory: Path) -> list[str]:
        faiss.write_index(self.index, str(directory / FILE))
        return [FILE]

    @classmethod
    def load(cls, directory: Path) -> "DenseIndex":
        return cls(faiss.read_index(str(directory / FILE)))
