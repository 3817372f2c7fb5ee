"""Issue 20's must-show: the 2023 TIP report as a PDF and as a web page answers as its ``.txt`` does.

In a copy of the corpus the report's ``.txt`` is replaced by its generated two-column PDF, and in
another by its generated HTML page (``qa.docgen``); each copy is indexed with the real model and
scored on that report's gold questions (eval/questions.jsonl) with ``qa.evaluate``. Printed per
format: the sections found (equal to the ``.txt``'s?), hit@5 and strict answer accuracy (within
0.02 of the ``.txt``?), lines of page chrome indexed (running header, footer, page numbers,
navigation: none expected), and citations checked (the stored text sliced at each passage's and
answer's offsets is its text; for the PDF, its pages hold it).

    .venv/bin/python tests/formats_compare.py [--out eval/runs/formats] [--json]

The helpers are shared with tests/test_ingest.py.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import docgen  # noqa: E402
from qa.data import Document  # noqa: E402

CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "questions.jsonl"
SOURCE = "001_4b85ea8049368ffd.txt"  # the 2023 TIP report
HTML_CHROME = ("The StateNewswire", "Share this article", "Facebook", "Twitter", "LinkedIn", "cookie",
               "Accept all", "Privacy policy", "Terms of use", "All rights reserved", "Contact us", "Home ›",
               "Politics", "LETTER TO THE EDITOR", "Send a Letter", "About us")


def replaced_corpus(target: Path, fmt: str, source: str = SOURCE) -> str:
    """A copy of the shipped corpus at ``target`` with ``source`` replaced by its generated
    ``fmt`` file (manifest entry renamed); returns the new file name."""
    shutil.copytree(CORPUS, target)
    doc = docgen.document(CORPUS, source)
    name = f"{Path(source).stem}.{fmt}"
    {"pdf": docgen.render_pdf, "html": docgen.render_html}[fmt](doc, target / name)
    (target / source).unlink()
    manifest = target / "manifest.toml"
    manifest.write_text(manifest.read_text().replace(f'file = "{source}"', f'file = "{name}"'))
    return name


def sections_of(index, doc_id: str) -> list[str]:
    return [s.label for s in index.sections[doc_id]]


def chrome_lines(doc: Document, twin: Document) -> list[str]:
    """Indexed lines of ``doc`` that are page chrome, not report text: the running header and
    footer, a page number, the site's navigation, share bar, banners, footer."""
    excluded = {(s.start, s.end) for s in doc.excluded}
    twin_lines = {" ".join(line.split()) for line in twin.text.split("\n")}
    header = {doc.title, twin.title, doc.publisher, doc.country}
    leaks, pos = [], 0
    for raw in doc.text.split("\n"):
        span, pos = (pos, pos + len(raw)), pos + len(raw) + 1
        line = " ".join(raw.split())
        if not line or span in excluded:
            continue
        bare_number = re.fullmatch(r"\d{1,4}", line) and line not in twin_lines
        chrome = line in header or any(c.lower() in line.lower() for c in HTML_CHROME if c.lower() not in
                                        twin.text.lower())
        if bare_number or chrome:
            leaks.append(line)
    return leaks


def squeeze(text: str) -> str:
    """Text without whitespace and hyphens: how a page's text and a citation are compared."""
    return re.sub(r"[\s\-\xad]+", "", text)


def pdf_pages(path: Path) -> list[tuple[str, str]]:
    """Each page's body as pdfplumber reads it (independently of qa.ingest), squeezed: the left
    column, then the right one, inside the margins ``qa.docgen`` leaves for the header and footer
    (a full-width page is read whole as well, for its tables)."""
    import pdfplumber

    pages = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            w, h = page.width, page.height
            halves = [page.crop((0, 48, w / 2, h - 48)), page.crop((w / 2, 48, w, h - 48))]
            pages.append(("".join(squeeze(part.extract_text() or "") for part in halves),
                          squeeze(page.crop((0, 48, w, h - 48)).extract_text() or "")))
    return pages


def check_citation(doc: Document, item: dict, pages: list[tuple[str, str]] | None) -> str | None:
    """Why a passage's or answer's citation is not exact, or None."""
    start, end = item["char_start"], item["char_end"]
    if doc.text[start:end] != item["text"]:
        return f"{item.get('chunk_id')}: the text at {start}:{end} is not the cited text"
    if pages is None:
        return None if item.get("pages") is None else f"{item.get('chunk_id')}: pages given for a report without pages"
    numbers = item.get("pages") or []
    if not numbers or numbers != doc.page_numbers(start, end):
        return f"{item.get('chunk_id')}: pages {numbers} are not the span's {doc.page_numbers(start, end)}"
    columns = "".join(pages[n - 1][0] for n in numbers)
    whole = "".join(pages[n - 1][1] for n in numbers)
    table = "\t" in item["text"]  # a cell's lines wrap inside it: its words are looked for one by one
    for part in (item["text"].split() if table else re.split(r"\n+", item["text"])):
        if squeeze(part) not in columns and squeeze(part) not in whole:
            return f"{item.get('chunk_id')}: page(s) {numbers} do not hold {part[:60]!r}"
    return None


def citations(run: list[dict], doc: Document, pages: list[tuple[str, str]] | None) -> tuple[int, list[str]]:
    """(citations of ``doc`` checked, problems) over every passage and answer of an eval run."""
    checked, problems = 0, []
    for row in run:
        items = [p for p in row["passages"] if p["doc_id"] == doc.id]
        answer = row["answer"]
        if answer and answer["doc_id"] == doc.id:
            items.append(answer)
        for item in items:
            checked += 1
            problem = check_citation(doc, item, pages)
            if problem:
                problems.append(f"{row['id']}: {problem}")
    return checked, problems


def gold_for(name: str, source: str = SOURCE):
    from qa.evaluate import load_gold

    return [q.model_copy(update={"doc": name}) for q in load_gold(GOLD) if q.doc == source]


def compare(work: Path, embedder, formats=("txt", "pdf", "html"), modes=("hybrid", "bm25", "dense")) -> dict:
    from qa.engine import Engine, build
    from qa.evaluate import evaluate
    from qa.settings import Settings

    results: dict = {}
    twin = docgen.document(CORPUS, SOURCE)
    for fmt in formats:
        corpus = work / f"corpus-{fmt}"
        name = SOURCE if fmt == "txt" else replaced_corpus(corpus, fmt)
        if fmt == "txt":
            shutil.copytree(CORPUS, corpus)
        settings = Settings(corpus=corpus, index=work / f"index-{fmt}")
        index, loaded = build(settings, embedder)
        engine = Engine.load(settings, embedder=embedder)
        doc = next(d for d in index.documents.values() if d.source == name)
        evaluation = evaluate(engine, gold_for(name), modes=modes)
        pages = pdf_pages(corpus / name) if fmt == "pdf" else None
        checked, problems = citations(evaluation.run, doc, pages)
        metrics = evaluation.metrics
        results[fmt] = {
            "file": name, "format": doc.format, "pages": len(doc.pages), "chars": len(doc.text),
            "sections": sections_of(index, doc.id),
            "hit@5": {m: metrics["retrieval"][m]["hit@5"] for m in modes},
            "strict": metrics["answers"]["strict"], "questions": len(evaluation.run),
            "chrome_lines": chrome_lines(doc, twin), "citations_checked": checked, "citation_problems": problems,
            "skipped": [p.message for p in loaded.skipped],
        }
    base = results.get("txt")
    for fmt, row in results.items():
        if base and fmt != "txt":
            row["sections_equal"] = row["sections"] == base["sections"]
            row["hit@5_delta"] = {m: round(row["hit@5"][m] - base["hit@5"][m], 4) for m in modes}
            row["strict_delta"] = round(row["strict"] - base["strict"], 4)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from qa.embed import load_embedder

    with tempfile.TemporaryDirectory() as work:
        results = compare(Path(work), load_embedder())
    if args.json:
        print(json.dumps(results, indent=2))
    ok = True
    for fmt, row in results.items():
        line = (f"{fmt:>4}: {row['file']} ({row['format']}, {row['pages']} pages, {row['chars']:,} chars), "
                f"{len(row['sections'])} sections, hit@5 " + " ".join(f"{m} {v:.3f}" for m, v in row["hit@5"].items())
                + f", strict {row['strict']:.3f} on {row['questions']} questions; chrome lines indexed: "
                f"{len(row['chrome_lines'])}; citations {row['citations_checked']} checked, "
                f"{len(row['citation_problems'])} wrong")
        if fmt != "txt":
            good = (row["sections_equal"] and abs(row["strict_delta"]) <= 0.02 and not row["chrome_lines"]
                    and all(abs(d) <= 0.02 for d in row["hit@5_delta"].values()) and not row["citation_problems"])
            ok &= good
            line += (f"; sections equal: {row['sections_equal']}; Δhit@5 {row['hit@5_delta']}, "
                     f"Δstrict {row['strict_delta']:+.3f} -> {'OK' if good else 'FAILS'}")
        print(line)
        for problem in row["citation_problems"][:5] + row["chrome_lines"][:5]:
            print(f"      {problem}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
