"""Stage 5a: the sparse index, Okapi BM25 (rank-bm25) over the analyzer's terms.

On disk the index is a term-frequency matrix (``bm25.npz``: CSR arrays, loaded with
``allow_pickle=False``) and its vocabulary and parameters (``bm25.json``); nothing is pickled.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

PARAMS = {"k1": 1.5, "b": 0.75, "epsilon": 0.25}  # rank-bm25's defaults


class SparseIndex:
    """BM25 over documents given as term lists; ``scores(terms)`` has one score per document."""

    def __init__(self, vocab: list[str], indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray,
                 params: dict | None = None):
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices
        self.counts = counts
        self.params = dict(PARAMS if params is None else params)
        self._bm25 = BM25Okapi(self.documents(), **self.params) if len(indptr) > 1 else None

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], params: dict | None = None) -> "SparseIndex":
        vocab_ids: dict[str, int] = {}
        indptr, indices, counts = [0], [], []
        for terms in documents:
            for term, count in sorted(Counter(terms).items()):
                indices.append(vocab_ids.setdefault(term, len(vocab_ids)))
                counts.append(count)
            indptr.append(len(indices))
        vocab = sorted(vocab_ids, key=vocab_ids.__getitem__)
        return cls(vocab, np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int64),
                   np.array(counts, dtype=np.int32), params)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def documents(self) -> list[list[str]]:
        """Each document's terms (as a bag: order is not kept, BM25 does not need it)."""
        docs = []
        for i in range(len(self)):
            lo, hi = self.indptr[i], self.indptr[i + 1]
            docs.append([self.vocab[t] for t, c in zip(self.indices[lo:hi], self.counts[lo:hi]) for _ in range(c)])
        return docs

    def idf(self) -> dict[str, float]:
        """Inverse document frequency of every term (rank-bm25's, with its floor for common terms)."""
        return dict(self._bm25.idf) if self._bm25 is not None else {}

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        if self._bm25 is None or not terms:
            return np.zeros(len(self), dtype=np.float64)
        return np.asarray(self._bm25.get_scores(list(terms)), dtype=np.float64)

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path) -> list[str]:
        np.savez(directory / "bm25.npz", indptr=self.indptr, indices=self.indices, counts=self.counts)
        (directory / "bm25.json").write_text(json.dumps({"params": self.params, "vocab": self.vocab}))
        return ["bm25.npz", "bm25.json"]

    @classmethod
    def load(cls, directory: Path) -> "SparseIndex":
        meta = json.loads((directory / "bm25.json").read_text())
        with np.load(directory / "bm25.npz", allow_pickle=False) as arrays:
            indptr, indices, counts = arrays["indptr"], arrays["indices"], arrays["counts"]
        vocab = meta["vocab"]
        if len(indices) and (indices.max() >= len(vocab) or indptr[-1] != len(indices)):
            raise ValueError("bm25.npz does not match bm25.json")
        return cls(vocab, indptr, indices, counts, meta["params"])
