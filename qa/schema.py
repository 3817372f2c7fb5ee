"""The JSON shapes of the contract: what the API returns, what the CLI prints with ``--json``
and what ``qa eval`` writes to run.jsonl. One definition, used by all three."""

from __future__ import annotations

from pydantic import BaseModel, Field

from qa.data import Answer, Hit
from qa.index import Index


class Scores(BaseModel):
    bm25: float | None = Field(None, description="BM25 score (None when not computed in this mode)")
    dense: float | None = Field(None, description="cosine similarity of the query and passage vectors")


class Passage(BaseModel):
    chunk_id: str
    doc_id: str
    source: str = Field(description="file name of the report in the corpus")
    title: str
    publisher: str
    report_year: int
    section: str = Field(description="section path, ' > ' between levels")
    text: str = Field(description="the document's text (the raw file, or the text extracted from a PDF, "
                                  "HTML or Markdown file) sliced at char_start:char_end")
    char_start: int
    char_end: int
    context: str = Field("", description="text repeated from elsewhere and indexed with this passage "
                                         "(a table's caption and header rows); not part of the span")
    context_start: int | None = None
    context_end: int | None = None
    kind: str = Field(description="text or table")
    pages: list[int] | None = Field(None, description="the pages (1-based) of a PDF the passage lies on; "
                                                      "null for a report without pages")
    rank: int
    score: float
    scores: Scores


class AnswerOut(BaseModel):
    text: str = Field(description="the raw file sliced at char_start:char_end")
    value: float | None = Field(None, description="the figure as a number, when the answer is one")
    unit: str | None = None
    confidence: float
    chunk_id: str
    doc_id: str
    source: str
    title: str
    report_year: int
    section: str
    char_start: int
    char_end: int
    sentence: str
    sentence_start: int
    sentence_end: int
    pages: list[int] | None = Field(None, description="the pages (1-based) of a PDF the answer is on; "
                                                      "null for a report without pages")
    year: int | None = Field(None, description="the year the figure is about, when known")
    alternatives: list["AnswerOut"] = Field(default_factory=list, description="other sources' figures for the same thing")


class SearchResponse(BaseModel):
    query: str
    hits: list[Passage]
    took_ms: float


class AskResponse(BaseModel):
    question: str
    answer: AnswerOut | None
    reason: str | None = Field(None, description="why there is no answer, or a note on the answer")
    passages: list[Passage]
    took_ms: float


def passage(hit: Hit, index: Index) -> Passage:
    chunk = hit.chunk
    doc = index.documents[chunk.doc_id]
    return Passage(
        chunk_id=chunk.id,
        doc_id=doc.id,
        source=doc.source,
        title=doc.title,
        publisher=doc.publisher,
        report_year=doc.report_year,
        section=chunk.section_label,
        text=chunk.text,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        context=chunk.context,
        context_start=chunk.context_span.start if chunk.context_span else None,
        context_end=chunk.context_span.end if chunk.context_span else None,
        kind=chunk.kind,
        pages=doc.page_numbers(chunk.char_start, chunk.char_end),
        rank=hit.rank,
        score=round(hit.score, 6),
        scores=Scores(
            bm25=None if hit.bm25 is None else round(hit.bm25, 6),
            dense=None if hit.dense is None else round(hit.dense, 6),
        ),
    )


def answer_out(answer: Answer, index: Index, hits: list[Hit]) -> AnswerOut:
    """``hits``: the passages the answer was read from (its chunk is one of them)."""
    doc = index.documents[answer.doc_id]
    chunk = next(h.chunk for h in hits if h.chunk.id == answer.chunk_id)
    return AnswerOut(
        text=answer.text,
        value=answer.value,
        unit=answer.unit,
        confidence=round(answer.confidence, 4),
        chunk_id=answer.chunk_id,
        doc_id=doc.id,
        source=doc.source,
        title=doc.title,
        report_year=doc.report_year,
        section=chunk.section_label,
        char_start=answer.char_start,
        char_end=answer.char_end,
        sentence=answer.sentence,
        sentence_start=answer.sentence_start,
        sentence_end=answer.sentence_end,
        pages=doc.page_numbers(answer.char_start, answer.char_end),
        year=answer.year,
        alternatives=[answer_out(a, index, hits) for a in answer.alternatives],
    )


def search_response(result, index: Index) -> SearchResponse:
    """``result``: a ``qa.search.SearchResult``."""
    return SearchResponse(
        query=result.query,
        hits=[passage(h, index) for h in result.hits],
        took_ms=round(sum(result.timings.values()), 3),
    )


def ask_response(result, index: Index) -> AskResponse:
    """``result``: a ``qa.engine.AskResult``."""
    answer = result.reading.answer
    return AskResponse(
        question=result.question,
        answer=answer_out(answer, index, result.search.hits) if answer else None,
        reason=result.reading.reason,
        passages=[passage(h, index) for h in result.search.hits],
        took_ms=round(sum(result.timings.values()), 3),
    )
