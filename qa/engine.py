"""The library's front door: an index and a model loaded once, ``search`` and ``ask``.

The CLI, the API and the eval harness all go through ``Engine``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from qa.chunking import ChunkSettings
from qa.corpus import Corpus, load_corpus
from qa.data import Filters, Mode
from qa.embed import Embedder, load_embedder
from qa.errors import CorpusError, IndexNotFound
from qa.index import Index, build_index, load_index, outdated, read_manifest, save_index
from qa.reader import Reader, Reading
from qa.search import SearchResult, Searcher
from qa.settings import Settings

log = logging.getLogger(__name__)


def extraction_cache(settings: Settings):
    """Where texts extracted from PDF, HTML and Markdown files are kept: beside the index's builds."""
    return settings.index / "extracted"


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(settings.chunk_max_tokens, settings.chunk_target_tokens, settings.chunk_overlap)


def describe_filters(filters: Filters) -> str:
    """The filters given, as a user wrote them: ``year 2030, section 'Budget'``."""
    parts = [f"year {filters.year}" if filters.year is not None else "",
             f"doc {filters.doc!r}" if filters.doc is not None else "",
             f"section {filters.section!r}" if filters.section is not None else "",
             f"kind {filters.kind!r}" if filters.kind is not None else ""]
    return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class AskResult:
    question: str
    reading: Reading
    search: SearchResult
    timings: dict[str, float] = field(default_factory=dict)


def build(settings: Settings, embedder: Embedder, *, corpus: Corpus | None = None,
          progress: bool = False) -> tuple[Index, Corpus]:
    """Index ``settings.corpus`` (``corpus``: already loaded from it) into ``settings.index``;
    returns the index and the corpus load."""
    corpus = corpus or load_corpus(settings.corpus, settings.max_document_bytes, extraction_cache(settings))
    if not corpus.documents:
        raise CorpusError(f"no readable documents in {str(settings.corpus)!r}", "add reports (.txt, .md, .html, .pdf) and a manifest.toml")
    index = build_index(corpus, embedder, chunk_settings(settings), progress=progress)
    save_index(index, settings.index)
    return index, corpus


def rebuild_reason(settings: Settings, model: str, corpus: Corpus | None = None) -> tuple[str | None, Corpus | None]:
    """Why ``settings.index`` must be (re)built to serve ``settings.corpus``, or None; and the
    corpus when it was loaded to decide or passed in as ``corpus`` (a build then uses it instead
    of reading it again). A corrupted index is not a reason: loading it is refused, so that
    nobody loses it unawares."""
    try:
        manifest = read_manifest(settings.index)
    except IndexNotFound:
        return "there is no index yet", corpus
    reason = outdated(manifest, model=model, chunking=chunk_settings(settings))
    if reason:
        return reason, corpus
    corpus = corpus or load_corpus(settings.corpus, settings.max_document_bytes, extraction_cache(settings))
    if manifest["corpus"]["checksum"] != corpus.checksum():
        return "the corpus changed since the index was built", corpus
    return None, corpus


class Engine:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.searcher = Searcher(index, embedder, settings)
        self.reader = Reader(index)

    @classmethod
    def load(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        build_if_needed: bool = False,
        progress: bool = False,
    ) -> "Engine":
        """Load the index in ``settings.index``. With ``build_if_needed``, build it when it is
        missing or was built from a different corpus; a corrupted index is still refused."""
        if not build_if_needed:
            read_manifest(settings.index)  # fail fast, before the model loads, when there is no index
        # with a build possible the corpus is read first: a manifest or file it refuses is said
        # at once, not after the seconds that loading the model takes
        corpus = load_corpus(settings.corpus, settings.max_document_bytes, extraction_cache(settings)) if build_if_needed else None
        embedder = embedder or load_embedder(settings.model)
        reason, corpus = rebuild_reason(settings, embedder.name, corpus) if build_if_needed else (None, None)
        if reason:
            log.info("building the index in %s from %s: %s", settings.index, settings.corpus, reason)
            index, _ = build(settings, embedder, corpus=corpus, progress=progress)
        else:
            index = load_index(settings.index, model=embedder.name, chunking=chunk_settings(settings))
        return cls(index, embedder, settings)

    def search(self, query: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid") -> SearchResult:
        return self.searcher.search(query, k, filters, mode)

    def ask(self, question: str, k: int = 5, filters: Filters = Filters()) -> AskResult:
        result = self.searcher.search(question, k, filters, "hybrid")
        t0 = time.perf_counter()
        if not result.hits and not filters.is_empty():  # say which filter left nothing to read
            reading = Reading(None, f"no passage matches the filter {describe_filters(filters)}; "
                                    "widen or remove it")
        else:
            reading = self.reader.read(result.analysis, result.hits, result.query_vector)
        timings = dict(result.timings, answer=(time.perf_counter() - t0) * 1000)
        return AskResult(question, reading, result, timings)
