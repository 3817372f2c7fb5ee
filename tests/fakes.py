"""Test doubles for plumbing tests (no model): a deterministic hash embedder."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashEmbedder:
    """Unit vectors seeded by sha256 of the text: same text, same vector; no model needed.
    Token counts are whitespace words, so chunk sizes stay realistic."""

    name = "hash-embedder-test"
    dim = 32
    max_tokens = 256

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *,
                          progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        return self.encode(texts), self.encode([t[a:b] for t, ss in zip(texts, spans) for a, b in ss])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]
