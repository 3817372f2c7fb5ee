"""Typed records passed between the pipeline stages.

corpus -> Document -> sections -> Section -> chunking -> Chunk -> index/search -> Hit -> reader -> Answer

Every ``char_start``/``char_end`` is an offset into ``Document.text``, the raw file exactly as
delivered (for a PDF, HTML or Markdown file: the text extracted from it, which the index stores),
so ``document.text[char_start:char_end]`` is what a citation points at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["government", "civil society"]
Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
KINDS: tuple[Kind, ...] = ("government", "civil society")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}:{self.end}")

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Document:
    id: str
    source: str  # file name inside the corpus directory
    title: str
    publisher: str
    kind: Kind
    report_year: int
    period: tuple[int, int]  # first and last year whose figures the report gives
    country: str
    text: str  # the raw file, unchanged; for a PDF, HTML or Markdown file the text extracted from it
    sha256: str  # of the source file's bytes
    section: str | None = None  # section of a headerless excerpt
    url: str | None = None
    excluded: tuple[Span, ...] = ()  # boilerplate lines, never indexed
    inferred: bool = False  # metadata guessed: the file has no manifest entry
    format: str = "text"  # "text" (the raw file is the text), or the format it was extracted from
    pages: tuple[Span, ...] = ()  # page i+1 is text[pages[i].start:pages[i].end] (PDF)

    @property
    def extracted(self) -> bool:
        """The text was extracted from the file (PDF, HTML, Markdown): the index stores it."""
        return self.format != "text"

    def page_numbers(self, start: int, end: int) -> list[int] | None:
        """The pages (1-based) that text[start:end] lies on; None for a document without pages."""
        if not self.pages:
            return None
        return [i + 1 for i, p in enumerate(self.pages) if p.start < max(end, start + 1) and start < p.end]

    @property
    def period_years(self) -> range:
        return range(self.period[0], self.period[1] + 1)

    def meta(self) -> dict:
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "publisher": self.publisher,
            "kind": self.kind,
            "report_year": self.report_year,
            "period": list(self.period),
            "country": self.country,
            "url": self.url,
            "chars": len(self.text),
            "sha256": self.sha256,
            "inferred": self.inferred,
            "format": self.format,
            "pages": [[p.start, p.end] for p in self.pages],
        }


@dataclass(frozen=True)
class Acronym:
    """An acronym a document spells out: "MIMP", and the span of its name in the raw text
    ("Ministry of Women and Vulnerable Populations")."""

    acronym: str
    name: Span


@dataclass(frozen=True)
class Section:
    """A run of a document under one heading path; ``heading`` is the span of the heading line."""

    doc_id: str
    path: tuple[str, ...]
    char_start: int
    char_end: int
    heading: Span | None = None

    @property
    def label(self) -> str:
        return " > ".join(self.path)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage.

    ``text`` is always ``document.text[char_start:char_end]``. ``context`` is text repeated from
    elsewhere in the document and indexed together with the chunk (a table's caption and header
    rows when the chunk holds later rows of that table); ``context_span`` says where it comes from.
    """

    id: str
    doc_id: str
    ordinal: int
    section: tuple[str, ...]
    kind: Literal["text", "table"]
    text: str
    char_start: int
    char_end: int
    sentences: tuple[Span, ...]  # absolute offsets of the sentences (or table rows) inside
    years: tuple[int, ...]  # years printed in the text
    tokens: int = 0  # model word pieces of the indexed text
    tiktokens: int = 0  # cl100k tokens of the indexed text
    context: str = ""
    context_span: Span | None = None

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)

    def indexed_text(self, title: str = "") -> str:
        """What the embedder and BM25 see: a short heading line, the repeated context, the text."""
        head = " - ".join(p for p in (title, self.section_label) if p)
        parts = [head, self.context, self.text]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Hit:
    row: int  # the chunk's position in the index
    chunk: Chunk
    score: float
    rank: int
    bm25: float | None = None
    dense: float | None = None


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    doc: str | None = None  # document id or source file name
    section: str | None = None  # case-insensitive substring of the section path
    kind: Kind | None = None

    def is_empty(self) -> bool:
        return self.year is None and self.doc is None and self.section is None and self.kind is None


@dataclass(frozen=True)
class Answer:
    """An extractive answer: ``text`` is ``document.text[char_start:char_end]``."""

    text: str
    value: float | None
    unit: str | None
    confidence: float
    chunk_id: str
    doc_id: str
    source: str
    char_start: int
    char_end: int
    sentence: str
    sentence_start: int = 0
    sentence_end: int = 0
    year: int | None = None  # the year the figure is about, when known
    alternatives: tuple["Answer", ...] = field(default=())
