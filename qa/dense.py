"""Stage 5b: the dense index, FAISS inner product over unit vectors (cosine similarity).

Ids are row positions in the chunk list. Filters are a boolean mask over rows, applied inside
FAISS with an ``IDSelectorBitmap`` so the k results are k allowed rows.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FILE = "dense.faiss"


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> "DenseIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    @property
    def dim(self) -> int:
        return self.index.d

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and scores of the ``k`` best rows (fewer when fewer are allowed), best first."""
        n = len(self) if allowed is None else int(allowed.sum())
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            bits = np.packbits(allowed.astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(query, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def save(self, directory: Path) -> list[str]:
        faiss.write_index(self.index, str(directory / FILE))
        return [FILE]

    @classmethod
    def load(cls, directory: Path) -> "DenseIndex":
        return cls(faiss.read_index(str(directory / FILE)))
