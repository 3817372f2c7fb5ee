"""PDF, HTML and Markdown reports (issue 20): generated from the shipped ``.txt`` reports by
``qa.docgen``, ingested, and compared with their ``.txt`` twins; bad files; ``qa add``; citations
with pages. The real model runs only where answers are asked (``qa add`` then ``qa ask``); the
rest is plumbing with the hash embedder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from formats_compare import SOURCE, check_citation, chrome_lines, pdf_pages, replaced_corpus, squeeze
from qa import docgen
from qa.corpus import load_corpus
from qa.engine import Engine, build
from qa.errors import IndexMismatch
from qa.ingest import ExtractionError, extract
from qa.sections import detect_sections

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
NGO = "002_be79946195551afb.txt"  # the Alternative Report: budget tables with captions and notes
QA = [sys.executable, "-m", "qa"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The 2023 TIP report and the Alternative Report as PDF and HTML files."""
    out = tmp_path_factory.mktemp("generated")
    files = {}
    for source in (SOURCE, NGO):
        doc = docgen.document(CORPUS, source)
        files[(source, "pdf")] = docgen.render_pdf(doc, out / f"{Path(source).stem}.pdf")
        files[(source, "html")] = docgen.render_html(doc, out / f"{Path(source).stem}.html")
    return files


def body_words(text: str) -> list[str]:
    return " ".join(text.split()).split(" ")


def twin_text(source: str) -> str:
    blocks = docgen.blocks(docgen.document(CORPUS, source))
    return "\n".join(b.text if b.kind != "table" else "\n".join("\t".join(r) for r in b.rows) for b in blocks)


def differences(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    import difflib

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(" ".join(a[i1:i2]), " ".join(b[j1:j2])) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_the_2023_report_reads_word_for_word_as_its_txt(generated, fmt):
    path = generated[(SOURCE, fmt)]
    extracted = extract(path.name, path.read_bytes())
    assert differences(body_words(twin_text(SOURCE)), body_words(extracted.text)) == []
    assert extracted.title == "Trafficking in Persons Report 2023: Peru"
    assert len(extracted.pages) == (6 if fmt == "pdf" else 0)


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_the_ngo_report_with_tables_reads_as_its_txt(generated, fmt):
    path = generated[(NGO, fmt)]
    extracted = extract(path.name, path.read_bytes())
    found = differences(body_words(twin_text(NGO)), body_words(extracted.text))
    if fmt == "html":
        assert found == []
    else:  # line-end hyphens the text itself leaves open ("Employment- MTPE"), or compounds read as one word
        assert found == [("Employment- MTPE)", "Employment-MTPE)"), ("(interprovincial", "(inter-provincial"),
                         ("nightclubs)", "night-clubs)")]
    # tables: rows tab-separated as in the .txt, header rows first, the caption the paragraph above
    lines = extracted.text.split("\n")
    row = "MIMP\t2,914,192.00\t2,636,086.82\t90.46%\t3,803,268.50\t1,512,632.00\t39.77%"
    assert row in lines
    header = lines.index("SECTOR\t2015\t\t\t2016\t\t")
    assert lines[header + 1] == "\tALLOCATED\tIMPLEMENTED\t%\tALLOCATED\tIMPLEMENTED\t% ¹"
    assert lines[header - 2] == "Specific budget allocated and implemented by sector Comparison between 2015 and 2016 (in soles)"
    assert lines[header - 1] == ""


@pytest.mark.parametrize("fmt", ["pdf", "html"])
@pytest.mark.parametrize("source", [SOURCE, NGO])
def test_sections_equal_the_txt_and_no_chrome_is_indexed(tmp_path, fmt, source):
    name = replaced_corpus(tmp_path / "corpus", fmt, source)
    corpus = load_corpus(tmp_path / "corpus")
    assert not corpus.skipped
    doc = next(d for d in corpus.documents if d.source == name)
    twin = docgen.document(CORPUS, source)
    assert doc.format == fmt
    assert [s.label for s in detect_sections(doc)] == [s.label for s in detect_sections(twin)]
    assert chrome_lines(doc, twin) == []
    for chrome in ("Trafficking in Persons Report 2023: Peru\n", "U.S. Department of State\n", "Share this article",
                   "cookie", "LETTER TO THE EDITOR", "All rights reserved", "Home ›"):
        assert chrome not in doc.text or chrome in twin.text


@pytest.mark.parametrize("source", [SOURCE, NGO])
def test_every_paragraph_is_on_the_pages_its_span_gives(generated, source):
    path = generated[(source, "pdf")]
    extracted = extract(path.name, path.read_bytes())
    pages = pdf_pages(path)
    spans = extracted.pages
    assert spans[0].start == 0 and spans[-1].end == len(extracted.text)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:]))  # contiguous: every offset on one page
    for match in re.finditer(r"[^\n]+", extracted.text):
        numbers = [i + 1 for i, p in enumerate(spans) if p.start < match.end() and match.start() < p.end]
        item = {"chunk_id": match.group()[:30], "text": match.group(), "char_start": match.start(),
                "char_end": match.end(), "pages": numbers}
        from qa.data import Document

        doc = Document("d", path.name, "t", "p", "government", 2023, (2022, 2022), "Peru", extracted.text, "",
                       format="pdf", pages=spans)
        assert check_citation(doc, item, pages) is None


def test_hyphenated_words_are_joined_and_compounds_kept(generated):
    path = generated[(SOURCE, "pdf")]
    text = extract(path.name, path.read_bytes()).text
    import pdfplumber

    with pdfplumber.open(path) as pdf:  # each column as pdfplumber reads it (the page whole interleaves them)
        layout = "\n".join(page.crop(box).extract_text() or "" for page in pdf.pages
                           for box in ((0, 48, page.width / 2, page.height - 48),
                                       (page.width / 2, 48, page.width, page.height - 48)))
    broken = re.findall(r"([a-z]+)-\n([a-z]+)", layout)
    assert len(broken) > 20  # the generated PDF hyphenates at line ends
    for head, tail in broken:
        assert f"{head}{tail}" in text or f"{head}-{tail}" in text
    assert "full-time attorney" in text and "newly-opened cases" in text and "anti-trafficking" in text


# ---------------------------------------------------------------------------------------------
# bad files


def bad_files(directory: Path, generated) -> dict[str, str]:
    """Each bad file of issue 20, written into ``directory``; name -> the message expected."""
    from PIL import Image
    from reportlab.pdfgen import canvas

    pdf = generated[(SOURCE, "pdf")].read_bytes()
    sheet = canvas.Canvas(str(directory / "encrypted.pdf"), encrypt="secret")
    sheet.drawString(100, 700, "A report behind a password")
    sheet.showPage()
    sheet.save()
    image = Image.new("L", (200, 100), 255)
    for x in range(20, 180):
        image.putpixel((x, 50), 0)
    sheet = canvas.Canvas(str(directory / "scanned.pdf"))
    sheet.drawInlineImage(image, 100, 500, 200, 100)
    sheet.showPage()
    sheet.save()
    (directory / "zero-pages.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] "
        b"/Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    (directory / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    (directory / "no-body.html").write_text("<!DOCTYPE html><html><head><title>Report</title></head>"
                                            "<body><nav><a href='/'>Home</a></nav></body></html>")
    (directory / "page.pdf").write_text(generated[(SOURCE, "html")].read_text())
    (directory / "report.html").write_bytes(pdf)
    (directory / "report-as-text.txt").write_bytes(pdf)
    return {
        "encrypted.pdf": "the PDF is encrypted (it needs a password to open); ask for an unprotected copy, or "
                         "decrypt it (qpdf --decrypt --password=PASSWORD in.pdf out.pdf) and add that",
        "scanned.pdf": "the PDF has no text layer (its pages are images, as in a scan); run OCR on it (ocrmypdf "
                       "in.pdf out.pdf) and add the result",
        "zero-pages.pdf": "the PDF has no pages; export the report again",
        "truncated.pdf": "the PDF is truncated (it has no end-of-file marker); download or copy it again",
        "no-body.html": "the page holds no article text (no body, or only navigation); save the report's page "
                        "itself (not a frame or an index page), or its text as .txt",
        "page.pdf": "the file is named .pdf but is an HTML page; rename it to .html",
        "report.html": "the file is named .html but is a PDF; rename it to .pdf",
        "report-as-text.txt": "the file is named .txt but is a PDF; rename it to .pdf",
    }


def test_each_bad_file_gets_its_message_and_the_rest_is_indexed(tmp_path, generated, hash_embedder, settings_factory):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    expected = bad_files(corpus_dir, generated)
    for name, message in expected.items():
        with pytest.raises(ExtractionError) as caught:
            extract(name, (corpus_dir / name).read_bytes())
        if not name.endswith(".txt"):
            assert str(caught.value) == message
    settings = settings_factory(corpus=corpus_dir, index=tmp_path / "index")
    index, corpus = build(settings, hash_embedder)
    assert sorted(p.message for p in corpus.skipped) == sorted(f"{n}: skipped: {m}" for n, m in expected.items())
    assert sorted(d.source for d in index.documents.values()) == sorted(p.name for p in CORPUS.glob("*.txt"))
    shipped = load_corpus(CORPUS)
    assert {d.id: d.text for d in index.documents.values()} == {d.id: d.text for d in shipped.documents}


# ---------------------------------------------------------------------------------------------
# the index owns the extracted text; the cache makes re-adding idempotent


def test_the_index_stores_the_extracted_text_checksummed(tmp_path, hash_embedder, settings_factory):
    replaced_corpus(tmp_path / "corpus", "pdf")
    settings = settings_factory(corpus=tmp_path / "corpus", index=tmp_path / "index")
    index, _ = build(settings, hash_embedder)
    doc = index.documents["tip-2023-peru"]
    stored = index.path / "texts" / "tip-2023-peru.txt"
    assert stored.read_text(encoding="utf-8") == doc.text
    assert "texts/tip-2023-peru.txt" in index.manifest["files"]
    records = [json.loads(line) for line in (index.path / "documents.jsonl").read_text().splitlines()]
    record = next(r for r in records if r["id"] == "tip-2023-peru")
    assert record["text"] is None and record["text_file"] == "texts/tip-2023-peru.txt"
    assert record["format"] == "pdf" and len(record["pages"]) == 6
    loaded = Engine.load(settings, embedder=hash_embedder)
    for hit in loaded.search("specialized prosecutors opened investigations in 2022", 10).hits:
        chunk = hit.chunk
        text = loaded.index.documents[chunk.doc_id].text
        assert text[chunk.char_start:chunk.char_end] == chunk.text
    stored.write_text(doc.text.replace("813", "831"), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="texts/tip-2023-peru.txt is corrupted"):
        Engine.load(settings, embedder=hash_embedder)


def test_an_unchanged_file_is_not_extracted_again_a_changed_one_is(tmp_path, generated, monkeypatch):
    import qa.corpus

    corpus_dir = tmp_path / "corpus"
    replaced_corpus(corpus_dir, "html")
    cache = tmp_path / "index" / "extracted"
    first = load_corpus(corpus_dir, cache=cache)
    assert len(list(cache.glob("*.json"))) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("extracted again")

    monkeypatch.setattr(qa.corpus, "extract", refuse)
    again = load_corpus(corpus_dir, cache=cache)
    assert [d.text for d in again.documents] == [d.text for d in first.documents]
    assert again.checksum() == first.checksum()
    monkeypatch.undo()
    page = corpus_dir / "001_4b85ea8049368ffd.html"
    page.write_text(page.read_text().replace("813 cases", "814 cases"))
    changed = load_corpus(corpus_dir, cache=cache)
    assert "814 cases" in next(d for d in changed.documents if d.id == "tip-2023-peru").text
    assert changed.checksum() != first.checksum()
    (next(cache.glob("*.json"))).write_text("{broken")  # a damaged cache entry is extracted again
    assert load_corpus(corpus_dir, cache=cache).checksum() == changed.checksum()


def test_markdown_reads_without_its_markup(tmp_path):
    source = ("# Peru report 2016\n\nIntro with a [link](https://example.org) and **bold** text.\n\n## Prosecution\n\n"
              "* Police identified 1,134 victims.\n\n| Sector | 2016 |\n|---|---|\n| MIMP | 3,803,268.50 |\n")
    extracted = extract("report.md", source.encode())
    assert extracted.text == ("Peru report 2016\n\nIntro with a link and bold text.\n\nProsecution\n\n"
                              "• Police identified 1,134 victims.\n\nSector\t2016\nMIMP\t3,803,268.50")


def test_api_documents_and_passages_carry_pages(tmp_path, hash_embedder, settings_factory):
    from fastapi.testclient import TestClient

    from qa.api import create_app

    replaced_corpus(tmp_path / "corpus", "pdf")
    settings = settings_factory(corpus=tmp_path / "corpus", index=tmp_path / "index")
    build(settings, hash_embedder)
    engine = Engine.load(settings, embedder=hash_embedder)
    with TestClient(create_app(settings, engine=engine), base_url="http://localhost") as client:
        doc = client.get("/documents/tip-2023-peru").json()
        assert doc["format"] == "pdf" and len(doc["pages"]) == 6 and doc["pages"][0][0] == 0
        txt = client.get("/documents/tip-2017-peru-protection").json()
        assert txt["format"] == "text" and txt["pages"] == []
        hits = client.get("/search", params={"q": "specialized prosecutors 2022", "k": 20}).json()["hits"]
        for hit in hits:
            if hit["doc_id"] == "tip-2023-peru":
                assert hit["pages"] and set(hit["pages"]) <= set(range(1, 7))
                assert doc["text"][hit["char_start"]:hit["char_end"]] == hit["text"]
            else:
                assert hit["pages"] is None


# ---------------------------------------------------------------------------------------------
# qa add, then qa ask (the real model), in one step each


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(QA + args, cwd=cwd, capture_output=True, text=True, timeout=900, env=env)


def test_qa_add_a_pdf_then_ask_answers_with_a_page(tmp_path, generated):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    (corpus_dir / SOURCE).unlink()
    manifest = corpus_dir / "manifest.toml"
    manifest.write_text(re.sub(r'\[\[document\]\]\nid = "tip-2023-peru".*?\n\n', "", manifest.read_text(), flags=re.S))
    pdf = tmp_path / "downloads" / "tip-2023-peru.pdf"
    pdf.parent.mkdir()
    shutil.copy(generated[(SOURCE, "pdf")], pdf)
    scanned = tmp_path / "downloads" / "scanned.pdf"
    expected = bad_files(tmp_path / "downloads", generated)

    added = _run(["add", str(pdf), "--corpus", "corpus", "--index", "index"], tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[0] == ("added: tip-2023-peru.pdf as 'tip-2023-peru' — Trafficking in Persons "
                                            "Report 2023: Peru; U.S. Department of State (government), 2023, "
                                            "figures for 2022")
    assert re.match(r"indexed 5 documents, \d+ chunks", added.stdout.splitlines()[1])
    assert (corpus_dir / "tip-2023-peru.pdf").read_bytes() == pdf.read_bytes()
    assert 'file = "tip-2023-peru.pdf"' in manifest.read_text()

    asked = _run(["ask", "how many cases did specialized prosecutors open investigations in during 2022?",
                  "--index", "index", "--json"], tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)["answer"]
    assert answer["text"] == "813" and answer["source"] == "tip-2023-peru.pdf" and answer["pages"] == [2]
    stored = (tmp_path / "index").glob("build-*/texts/tip-2023-peru.txt")
    assert next(stored).read_text(encoding="utf-8")[answer["char_start"]:answer["char_end"]] == "813"

    before = manifest.read_text()
    again = _run(["add", str(pdf), "--corpus", "corpus", "--index", "index"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("unchanged: tip-2023-peru.pdf as 'tip-2023-peru'")
    assert again.stdout.splitlines()[1].startswith("the index is up to date")
    assert manifest.read_text() == before

    refused = _run(["add", str(scanned), "--corpus", "corpus", "--index", "index"], tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"error: {scanned}: {expected['scanned.pdf']}"
    assert manifest.read_text() == before and not (corpus_dir / "scanned.pdf").exists()

    unknown = tmp_path / "downloads" / "notes.html"
    unknown.write_text("<html><body><article><p>" + "Shelters opened in the north of the country. " * 20
                       + "</p></article></body></html>")
    asks = _run(["add", str(unknown), "--corpus", "corpus", "--index", "index"], tmp_path)
    assert asks.returncode == 1
    assert asks.stderr.strip() == ("error: notes.html: cannot tell its title, publisher, year, kind from the text; "
                                   "pass --title TEXT --publisher NAME --year YEAR --kind government|'civil society'")
