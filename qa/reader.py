"""Stage 8: hits -> an extractive ``Answer`` or a reason there is none.

First version: the best-matching sentence of the top passages (most question terms, then
rank). The typed reader (figures, years, agreement across sources) replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.analyze import QueryAnalysis, analyze
from qa.data import Answer, Hit
from qa.index import Index

READ_DEPTH = 3


@dataclass(frozen=True)
class Reading:
    answer: Answer | None
    reason: str | None


class Reader:
    def __init__(self, index: Index):
        self.index = index

    def read(self, analysis: QueryAnalysis, hits: list[Hit]) -> Reading:
        terms = set(analysis.terms)
        best = None
        for hit in hits[:READ_DEPTH]:
            text = self.index.documents[hit.chunk.doc_id].text
            for span in hit.chunk.sentences:
                overlap = len(terms & set(analyze(text[span.start : span.end])))
                key = (overlap, -hit.rank)
                if best is None or key > best[0]:
                    best = (key, hit, span)
        if best is None or not terms or best[0][0] == 0:
            return Reading(None, "no passage in the reports matches the question")
        (overlap, _), hit, span = best
        doc = self.index.documents[hit.chunk.doc_id]
        sentence = doc.text[span.start : span.end]
        answer = Answer(
            text=sentence, value=None, unit=None, confidence=overlap / len(terms),
            chunk_id=hit.chunk.id, doc_id=doc.id, source=doc.source,
            char_start=span.start, char_end=span.end, sentence=sentence,
            sentence_start=span.start, sentence_end=span.end,
        )
        return Reading(answer, None)
