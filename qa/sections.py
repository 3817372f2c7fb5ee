"""Stage 2: a ``Document`` -> its ``Section`` spans, by heading detection.

Headings recognised (each on a line of its own, between blank lines):
- an ALL-CAPS line of up to 16 words ("PROSECUTION", "TRAFFICKING PROFILE:");
- a line naming a standard report section in any case ("Prosecution", "Protection");
- a subsection marker line ("// Budget", "/// ...", "✓ ...").

Levels: the style of the first caps or named heading is the top level (caps in most reports,
"Prosecution" in older ones); a marker line, or the other style, opens a subsection.
A caps heading that follows a top-level heading with no text in between is its first
subsection, and later caps headings stay at that level ("KEY QUESTIONS" then "BUDGET",
"PREVENTION AXIS", ...). A table of contents is one section: lines in it are entries, not
headings, until a heading the contents listed (or one followed by prose) starts the body.
Text before the first heading belongs to the manifest's ``section`` for a headerless excerpt,
else to "Overview".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.data import Document, Section, Span
from qa.text import fold

OVERVIEW = "Overview"
NAMED_SECTIONS = frozenset(
    "overview|summary|executive summary|introduction|recommendations|prioritized recommendations|"
    "recommendations for peru|prosecution|protection|prevention|trafficking profile|progress|"
    "budget|challenges|key questions|conclusions|methodology|assistance and protection".split("|")
)
CONTENTS = frozenset({"contents", "table of contents", "index"})
SMALL_WORDS = frozenset("a an and as at by for from in of on or the to with via".split())
MARKER = re.compile(r"^\s*(?:/{2,}|✓)\s*(\S.*?)\s*$")
LEADER = re.compile(r"-{3,}|\.{4,}|…{2,}")
PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
PROSE_LINE = 200  # a line this long is body text, not a list entry


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str  # stripped
    blank: bool


def _lines(doc: Document) -> list[_Line]:
    """Every line with its offsets; boilerplate lines count as blank."""
    excluded = {(s.start, s.end) for s in doc.excluded}
    lines, pos = [], 0
    for raw in doc.text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        stripped = raw.strip()
        lines.append(_Line(start, end, stripped, not stripped or (start, end) in excluded))
    return lines


def title_case(text: str) -> str:
    words = text.split()
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        if any(ch.isdigit() for ch in word):
            out.append(word)
        elif i > 0 and lower in SMALL_WORDS:
            out.append(lower)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in lower.split("-")))
    return " ".join(out)


def _clean(text: str) -> str:
    text = re.sub(r"\*+", "", text).strip().rstrip(":").strip()
    return re.sub(r"\s+", " ", text)


def _is_caps(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    words = text.split()
    return (
        len(letters) >= 3
        and all(ch.isupper() for ch in letters)
        and 1 <= len(words) <= 16
        and len(text) <= 120
        and not text[0] in "+-•*·–"
        and not text.endswith(".")
        and not LEADER.search(text)
    )


def _heading(lines: list[_Line], i: int) -> tuple[str, str] | None:
    """(style, title) when line ``i`` is a heading: style is "marker", "caps" or "named"."""
    line = lines[i]
    if line.blank:
        return None
    marker = MARKER.match(line.text)
    if marker:
        return "marker", _clean(marker.group(1))
    after_blank = i == 0 or lines[i - 1].blank
    if "\t" in line.text or not (i + 1 == len(lines) or lines[i + 1].blank):
        return None
    text = _clean(line.text)
    if _is_caps(text) and (after_blank or not _is_caps(_clean(lines[i - 1].text))):
        return "caps", title_case(text)
    if after_blank and fold(text) in NAMED_SECTIONS:
        return "named", text[:1].upper() + text[1:]
    return None


def _next_text(lines: list[_Line], i: int) -> _Line | None:
    for line in lines[i + 1 :]:
        if not line.blank:
            return line
    return None


def detect_sections(doc: Document) -> list[Section]:
    """Sections covering the whole document, in order, with their heading paths."""
    lines = _lines(doc)
    first_title = doc.section or OVERVIEW
    sections: list[Section] = []
    path: tuple[str, ...] = (first_title,)
    start, heading = 0, None
    top_has_text = True  # the current top-level heading has text (or children) under it
    container = False  # caps headings are subsections of the current top-level heading
    contents: list[str] | None = None  # folded entries of a table of contents being read
    top_style: str | None = None  # "caps" or "named": the style of top-level headings

    for i, line in enumerate(lines):
        found = _heading(lines, i)
        if found is None:
            if not line.blank and not PAGE_NUMBER.match(line.text):
                top_has_text = True
                if contents is not None:
                    contents.append(fold(_clean(line.text)))
            continue
        style, title = found
        if contents is not None:
            follower = _next_text(lines, i)
            listed = any(fold(title) in entry for entry in contents)
            if style == "marker" or not (listed or (follower and len(follower.text) >= PROSE_LINE)):
                contents.append(fold(title))
                continue
            contents = None
        top_style = top_style or (style if style != "marker" else None)
        if style == "marker" or style != top_style:
            new_path = (path[0], title)
        elif container or not top_has_text:
            container = True
            new_path = (path[0], title)
        else:
            new_path = (title,)
            container = False
        if style != "marker" and len(new_path) == 1:
            top_has_text = False
            if fold(title) in CONTENTS:
                contents = []
        else:
            top_has_text = True
        if line.start > start or heading is not None:
            sections.append(Section(doc.id, path, start, line.start, heading))
        path, start, heading = new_path, line.start, Span(line.start, line.end)
    sections.append(Section(doc.id, path, start, len(doc.text), heading))
    return [s for s in sections if s.char_end > s.char_start]
