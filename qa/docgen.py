"""Test data: a shipped ``.txt`` report rendered as the files analysts receive.

- ``render_pdf``: a two-column PDF (reportlab) with a running header (the report's title) and
  footer (the publisher and the page number), a bold heading per section, body text hyphenated
  at line ends (soft hyphens, as typesetters do), and each tab-separated table as a ruled table
  (its caption above it) on a full-width page.
- ``render_html``: a web page as a news site serves it: site navigation, breadcrumbs, a share
  bar, a cookie banner, the "LETTER TO THE EDITOR" box and a footer around the article;
  headings alternate between ``<h3>`` and ``<p><strong>``; tables as ``<table>``.

The report's boilerplate lines (the manifest's patterns: web chrome in the ``.txt``) are left
out of the body; in the HTML page some of them come back as the page's chrome, where they are.

    python -m qa.docgen corpus/001_4b85ea8049368ffd.txt out/ [--format pdf,html]

reportlab is a test dependency (the ``test`` extra): the package itself never imports this module.
"""

from __future__ import annotations

import argparse
import html
import re
from dataclasses import dataclass
from pathlib import Path

from qa.corpus import load_corpus
from qa.data import Document
from qa.sections import detect_sections

FONTS = Path("/usr/share/fonts/truetype/dejavu")
SOFT_HYPHEN = "\xad"


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "paragraph", "table"
    lines: tuple[str, ...] = ()  # a paragraph's lines as the .txt breaks them
    rows: tuple[tuple[str, ...], ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def blocks(doc: Document) -> list[Block]:
    """The report's body as blocks: heading lines (as ``qa.sections`` finds them), paragraphs
    (runs of lines between blank lines; a bullet line starts a paragraph of its own) and tables
    (runs of tab-separated lines); boilerplate lines left out."""
    headings = {(s.heading.start, s.heading.end) for s in detect_sections(doc) if s.heading}
    excluded = {(s.start, s.end) for s in doc.excluded}
    out: list[Block] = []
    rows: list[tuple[str, ...]] = []
    lines: list[str] = []

    def flush() -> None:
        nonlocal rows, lines
        if rows:
            out.append(Block("table", rows=tuple(rows)))
        if lines:
            out.append(Block("paragraph", tuple(lines)))
        rows, lines = [], []

    pos = 0
    for raw in doc.text.split("\n"):
        span, pos = (pos, pos + len(raw)), pos + len(raw) + 1
        if "\t" in raw and span not in excluded:
            if lines:
                flush()
            rows.append(tuple(cell.strip() for cell in raw.split("\t")))
            continue
        if rows or not raw.strip() or span in excluded or span in headings or raw.strip()[:1] in "•+-✓":
            flush()
        if not raw.strip() or span in excluded:
            continue
        if span in headings:
            out.append(Block("heading", (" ".join(raw.split()),)))
        else:
            lines.append(" ".join(raw.split()))
    flush()
    return out


def hyphenable(text: str) -> str:
    """Soft hyphens inside long lower-case words, so that lines end in hyphenated words."""
    def split(match: re.Match) -> str:
        word = match.group()
        return word[:5] + SOFT_HYPHEN + word[5:]
    return re.sub(r"(?<![\w-])[a-z]{10,}(?![\w-])", split, text)


# ---------------------------------------------------------------------------------------------
# PDF


def _fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):  # the standard fonts lack some characters (⁴, ✓)
        return "Helvetica", "Helvetica-Bold"
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return "DejaVuSans", "DejaVuSans-Bold"


def render_pdf(doc: Document, out: Path) -> Path:
    """``doc`` as a two-column PDF at ``out``; returns ``out``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import (BaseDocTemplate, Frame, NextPageTemplate, PageBreak, PageTemplate,
                                    Paragraph, Table, TableStyle)

    regular, bold = _fonts()
    width, height = LETTER
    margin, gutter = 54, 18
    column = (width - 2 * margin - gutter) / 2
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11.5, spaceAfter=6,
                          embeddedHyphenation=1, uriWasteReduce=0.3)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=6)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=6, leading=7.5, splitLongWords=0)

    def chrome(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.drawString(margin, height - 36, doc.title)
        canvas.drawRightString(width - margin, height - 36, doc.country or "")
        canvas.line(margin, height - 40, width - margin, height - 40)
        canvas.line(margin, 46, width - margin, 46)
        canvas.drawString(margin, 34, doc.publisher)
        canvas.drawRightString(width - margin, 34, str(canvas.getPageNumber()))
        canvas.restoreState()

    frames = [Frame(margin, 56, column, height - 112, id="left"),
              Frame(margin + column + gutter, 56, column, height - 112, id="right")]
    template = BaseDocTemplate(str(out), pagesize=LETTER, title=doc.title, author=doc.publisher)
    template.addPageTemplates([
        PageTemplate("columns", frames=frames, onPage=chrome),
        PageTemplate("wide", frames=[Frame(margin, 56, width - 2 * margin, height - 112, id="wide")], onPage=chrome),
    ])
    story: list = []
    for block in blocks(doc):
        if block.kind == "heading":
            story.append(Paragraph(html.escape(block.text), heading))
        elif block.kind == "paragraph":
            story.append(Paragraph("<br/>".join(html.escape(hyphenable(line)) for line in block.lines), body))
        else:
            n = max(len(r) for r in block.rows)
            rows = [[Paragraph(html.escape(c), cell) for c in r] + [""] * (n - len(r)) for r in block.rows]
            longest = [max(max((len(w) for w in (r[i] if i < len(r) else "").split()), default=1), 4)
                       for i in range(n) for r in [max(block.rows, key=lambda r: len(r[i]) if i < len(r) else 0)]]
            share = [max(m, 10) if i == 0 else m for i, m in enumerate(longest)]
            total = width - 2 * margin
            table = Table(rows, colWidths=[total * s / sum(share) for s in share], repeatRows=0)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            caption = story.pop() if story and isinstance(story[-1], Paragraph) and story[-1].style is body else None
            story += [NextPageTemplate("wide"), PageBreak()]
            story += [caption] if caption is not None else []
            story += [table, NextPageTemplate("columns"), PageBreak()]
    template.build(story)
    return out


# ---------------------------------------------------------------------------------------------
# HTML


NAV = """<header class="site"><a class="logo" href="/">The StateNewswire</a>
<nav class="menu"><ul><li><a href="/news">News</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/world">World</a></li><li><a href="/regional">Regional Affairs</a></li>
<li><a href="/contact">Contact us</a></li><li><a href="/search">Search</a></li></ul></nav></header>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience on our site.
By continuing you accept our <a href="/cookies">cookie policy</a>. <button>Accept all cookies</button></div>"""
SHARE = """<div class="share-bar social"><span>Share this article:</span> <a href="#fb">Facebook</a>
<a href="#tw">Twitter</a> <a href="#li">LinkedIn</a> <a href="#mail">Email</a> <a href="#print">Print</a></div>"""
LETTER = """<aside class="letter-to-editor"><h4>LETTER TO THE EDITOR</h4>
<p>Have a concern or an opinion about this story? Click below to share your thoughts.</p>
<a class="button" href="/letters">Send a Letter</a></aside>"""
FOOTER = """<footer class="site-footer"><nav><ul><li><a href="/about">About us</a></li>
<li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul></nav>
<p>© 2023 The StateNewswire. All rights reserved.</p><p>Follow us on Facebook and Twitter.</p></footer>"""


def render_html(doc: Document, out: Path) -> Path:
    """``doc`` as a news site's page at ``out``; returns ``out``."""
    e = html.escape
    parts: list[str] = []
    headings = 0
    items: list[str] = []

    def flush_list() -> None:
        if items:
            parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for block in blocks(doc):
        if block.kind == "paragraph" and block.text[:2] == "• ":
            items.append(e(block.text[2:]))
            continue
        flush_list()
        if block.kind == "heading":
            headings += 1
            parts.append(f"<h3>{e(block.text)}</h3>" if headings % 2 else f"<p><strong>{e(block.text)}</strong></p>")
        elif block.kind == "paragraph":
            parts.append("<p>" + "<br>\n".join(e(line) for line in block.lines) + "</p>")
        else:
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in block.rows)
            parts.append(f"<table border=\"1\">{rows}</table>")
    flush_list()
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(doc.title)} | The StateNewswire</title></head>
<body>
{NAV}
<nav class="breadcrumb" aria-label="breadcrumb"><a href="/">Home</a> › <a href="/regional">Regional Affairs</a> › <span>Peru</span></nav>
<main><article class="post">
{SHARE}
{chr(10).join(parts)}
{SHARE}
</article>
{LETTER}
</main>
{FOOTER}
</body></html>
"""
    out.write_text(page, encoding="utf-8")
    return out


def document(corpus_dir: Path, source: str) -> Document:
    """The shipped report ``source`` as the corpus loader reads it (its boilerplate marked)."""
    corpus = load_corpus(corpus_dir)
    return next(d for d in corpus.documents if source in (d.source, d.id))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a .txt report inside a corpus directory")
    parser.add_argument("out", type=Path, help="directory for the generated files")
    parser.add_argument("--format", default="pdf,html")
    args = parser.parse_args(argv)
    doc = document(args.source.parent, args.source.name)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = Path(doc.source).stem
    for fmt in args.format.split(","):
        render = {"pdf": render_pdf, "html": render_html}[fmt.strip()]
        print(render(doc, args.out / f"{stem}.{fmt.strip()}"))


if __name__ == "__main__":
    main()
