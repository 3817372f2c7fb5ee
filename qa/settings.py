"""One settings object for the library, the CLI and the service.

Every field can be set by an environment variable ``QA_<FIELD>`` (``QA_INDEX=/srv/index``);
CLI flags override the environment.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa.embed import DEFAULT_MODEL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    model: str = DEFAULT_MODEL
    max_document_bytes: int = Field(20_000_000, ge=1)

    # chunking (part of the index: changing them needs `qa index`)
    chunk_max_tokens: int = Field(254, ge=16, le=512)
    chunk_target_tokens: int = Field(160, ge=1, le=512)
    chunk_overlap: int = Field(0, ge=0, le=8)

    # retrieval
    fusion: Literal["rrf", "weighted"] = "weighted"
    rrf_k: int = Field(60, ge=1)
    alpha: float = Field(0.3, ge=0.0, le=1.0)  # weight of dense in weighted fusion
    candidates: int = Field(100, ge=1, le=10_000)  # depth of each ranking before fusion
    year_boost: float = Field(0.3, ge=0.0, le=10.0)  # for a passage about the question's year
    report_boost: float = Field(0.5, ge=0.0, le=10.0)  # for a passage from a report the question names

    # service
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_k: int = Field(50, ge=1)
    max_query_chars: int = Field(1000, ge=1)
    max_body_bytes: int = Field(65536, ge=1)
    max_concurrency: int = Field(16, ge=1)
    body_timeout: float = Field(10.0, gt=0)  # seconds for a request body to arrive (then 408)
    allowed_hosts: str = ""  # Host header names served, comma-separated ("*": any); default: host + localhost


@functools.cache
def get_settings() -> Settings:
    return Settings()
