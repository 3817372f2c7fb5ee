"""Stage 5a: the sparse index, Okapi BM25 over the analyzer's terms.

The scores are rank-bm25's ``BM25Okapi`` (k1 = 1.5, b = 0.75, and its floor for terms in more
than half of the documents: epsilon times the average idf), bit for bit: the same floating-point
operations in the same order (``tests/test_retrieval_parts.py`` checks it against rank-bm25).
rank-bm25 itself looks every query term up in every document's dictionary, in Python; at a
million chunks that is seconds per query and gigabytes of dictionaries. Here the term counts
are held term by term (a CSC matrix: for each term, the rows holding it and how often), and
each posting's contribution ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` is
computed once, at load: a query adds the precomputed contributions of its own terms' postings
(one gather-add per term), in the order rank-bm25 adds them.

On disk (``bm25.npz``, loaded with ``allow_pickle=False``): ``indptr`` (terms + 1), ``indices``
(the row of each posting) and ``counts`` (its term frequency), term-major; ``bm25.json`` holds
the vocabulary and the parameters. Nothing is pickled.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from pathlib import Path

import numpy as np
import scipy.sparse

PARAMS = {"k1": 1.5, "b": 0.75, "epsilon": 0.25}  # rank-bm25's defaults


class SparseIndex:
    """BM25 over documents given as term lists; ``scores(terms)`` has one score per document.

    ``indptr``, ``indices``, ``counts``: the term-frequency matrix, term-major (CSC), with
    ``rows`` documents."""

    def __init__(self, vocab: list[str], indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray, rows: int,
                 params: dict | None = None):
        if len(indptr) != len(vocab) + 1 or indptr[-1] != len(indices) or len(indices) != len(counts):
            raise ValueError("the BM25 arrays do not match the vocabulary")
        if len(indices) and (indices.min() < 0 or indices.max() >= rows):
            raise ValueError("the BM25 postings name rows that do not exist")
        self.vocab = vocab
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int32)
        small = not len(counts) or int(np.max(counts)) < 2**16  # a chunk's term counts are small
        self.counts = np.asarray(counts, dtype=np.uint16 if small else np.int32)
        self.rows = int(rows)
        self.params = dict(PARAMS if params is None else params)
        self._term_ids = {t: i for i, t in enumerate(vocab)}
        self._idf, norm = self._statistics()
        self._weights = self._contributions(norm)

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], params: dict | None = None) -> "SparseIndex":
        """Term ids follow the order in which the terms first appear, as rank-bm25 meets them.
        ``documents`` may be a generator: only the postings are kept, in compact arrays."""
        vocab_ids: dict[str, int] = {}
        rows, terms, counts = array("i"), array("i"), array("i")
        n = 0
        for n, document in enumerate(documents, start=1):
            bag = Counter(document)
            rows.extend(repeat(n - 1, len(bag)))
            terms.extend(vocab_ids.setdefault(term, len(vocab_ids)) for term in bag)
            counts.extend(bag.values())
        vocab = list(vocab_ids)  # insertion order is id order
        matrix = scipy.sparse.csc_matrix(
            (np.frombuffer(counts, dtype=np.int32), (np.frombuffer(rows, dtype=np.int32), np.frombuffer(terms, dtype=np.int32))),
            shape=(n, len(vocab)),
        )
        matrix.sort_indices()
        return cls(vocab, matrix.indptr, matrix.indices, matrix.data, n, params)

    def _statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """rank-bm25's idf of each term (in vocabulary order, which is the order in which
        rank-bm25 meets them) and the length normalization ``k1 * (1 - b + b * dl / avgdl)``
        of each document, computed with the same operations in the same order."""
        n, k1, b, epsilon = self.rows, self.params["k1"], self.params["b"], self.params["epsilon"]
        if n == 0 or not self.vocab:
            return np.zeros(len(self.vocab)), np.zeros(n)
        doc_len = np.bincount(self.indices, weights=self.counts, minlength=n).astype(np.int64)
        avgdl = int(doc_len.sum()) / n
        norm = k1 * (1 - b + b * doc_len / avgdl)
        df = np.diff(self.indptr)
        by_df = {int(f): math.log(n - int(f) + 0.5) - math.log(int(f) + 0.5) for f in np.unique(df)}
        idf = np.array([by_df[f] for f in df.tolist()], dtype=np.float64)
        average = float(np.add.accumulate(idf)[-1]) / len(idf)  # left to right, as rank-bm25's loop adds
        idf[idf < 0] = epsilon * average
        return idf, norm

    def _contributions(self, norm: np.ndarray) -> np.ndarray:
        """Each posting's term in rank-bm25's sum: ``idf * (tf * (k1 + 1) / (tf + norm))``, the
        same operations on the same float64 values as its ``get_scores``."""
        k1 = self.params["k1"]
        idf = np.repeat(self._idf, np.diff(self.indptr))
        tf = self.counts
        return idf * (tf * (k1 + 1) / (tf + norm[self.indices]))

    def __len__(self) -> int:
        return self.rows

    def documents(self) -> list[list[str]]:
        """Each document's terms (as a bag: order is not kept, BM25 does not need it)."""
        csr = scipy.sparse.csc_matrix((self.counts, self.indices, self.indptr), shape=(self.rows, len(self.vocab))).tocsr()
        csr.sort_indices()
        docs = []
        for i in range(self.rows):
            lo, hi = csr.indptr[i], csr.indptr[i + 1]
            docs.append([self.vocab[t] for t, c in zip(csr.indices[lo:hi], csr.data[lo:hi]) for _ in range(c)])
        return docs

    def idf(self) -> dict[str, float]:
        """Inverse document frequency of every term (rank-bm25's, with its floor for common terms)."""
        return dict(zip(self.vocab, self._idf.tolist()))

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """One score per document: for each query term, in order (a repeated term counts again,
        as in rank-bm25), its postings' contributions added to their rows' scores."""
        scores = np.zeros(self.rows, dtype=np.float64)
        for term in terms:
            t = self._term_ids.get(term)
            if t is None:
                continue  # rank-bm25 adds 0 for it
            lo, hi = self.indptr[t], self.indptr[t + 1]
            scores[self.indices[lo:hi]] += self._weights[lo:hi]
        return scores

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path) -> list[str]:
        np.savez(directory / "bm25.npz", indptr=self.indptr, indices=self.indices, counts=self.counts.astype(np.int32))
        (directory / "bm25.json").write_text(json.dumps({"params": self.params, "rows": self.rows, "vocab": self.vocab}))
        return ["bm25.npz", "bm25.json"]

    @classmethod
    def load(cls, directory: Path) -> "SparseIndex":
        meta = json.loads((directory / "bm25.json").read_text())
        with np.load(directory / "bm25.npz", allow_pickle=False) as arrays:
            indptr, indices, counts = arrays["indptr"], arrays["indices"], arrays["counts"]
        return cls(meta["vocab"], indptr, indices, counts, meta["rows"], meta["params"])
