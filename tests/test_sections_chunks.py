"""Sections and chunks on the shipped corpus: headings, window, offsets, tables."""

from __future__ import annotations

import pytest

from qa.chunking import Chunker, ChunkSettings
from qa.data import Document
from qa.sections import detect_sections
from qa.text import sentence_spans


def _doc(corpus, source) -> Document:
    return next(d for d in corpus.documents if d.source == source)


def test_tip_headings_and_headerless_excerpts(corpus):
    labels = [s.label for s in detect_sections(_doc(corpus, "001_4b85ea8049368ffd.txt"))]
    assert labels == ["Overview", "Prioritized Recommendations", "Prosecution", "Protection", "Prevention",
                      "Trafficking Profile"]
    assert [s.label for s in detect_sections(_doc(corpus, "003_796d65032d1b4d01.txt"))] == [
        "Overview", "Prosecution", "Protection", "Prevention"]
    (only,) = detect_sections(_doc(corpus, "000_abe84397df7d8ac3.txt"))
    assert only.label == "Protection" and only.heading is None


def test_ngo_outline(corpus):
    labels = [s.label for s in detect_sections(_doc(corpus, "002_be79946195551afb.txt"))]
    tops = list(dict.fromkeys(label.split(" > ")[0] for label in labels))
    assert tops[tops.index("Introduction"):] == [
        "Introduction", "Progress", "Budget", "Prevention", "Prosecution",
        "Assistance and Protection for Human Trafficking Victims and Their Relatives", "Challenges",
        "Civil Society Proposals to Improve State Actions on the Fight Against Human Trafficking", "Key Questions"]
    assert "Budget > Annual Budget Allocated by regional and local governments" in labels
    # caps headings right under KEY QUESTIONS are its subsections, not new top-level sections
    assert [l for l in labels if l.startswith("Key Questions >")] == [
        "Key Questions > Budget", "Key Questions > Prevention Axis",
        "Key Questions > Implementation, Follow-Up and Monitoring",
        "Key Questions > Persecution, Prosecution and Punishment Axis",
        "Key Questions > Care and Protection for the Victims"]
    # the table of contents lists headings; none of its lines opens a section
    assert labels.count("Table of Contents") == 1


def test_sections_tile_each_document(corpus):
    for doc in corpus.documents:
        sections = detect_sections(doc)
        assert sections[0].char_start == 0 and sections[-1].char_end == len(doc.text)
        assert all(a.char_end == b.char_start for a, b in zip(sections, sections[1:]))


@pytest.fixture(scope="module")
def chunks(corpus, embedder):
    chunker = Chunker(embedder.count_tokens, ChunkSettings())
    return {doc.id: (doc, detect_sections(doc), chunker.chunk_document(doc)) for doc in corpus.documents}


def test_chunks_match_the_raw_file_at_their_offsets(chunks):
    for doc, _, doc_chunks in chunks.values():
        for chunk in doc_chunks:
            assert doc.text[chunk.char_start : chunk.char_end] == chunk.text
            for span in chunk.sentences:
                assert chunk.char_start <= span.start < span.end <= chunk.char_end or chunk.context_span
            if chunk.context_span:
                assert doc.text[chunk.context_span.start : chunk.context_span.end] == chunk.context


def test_chunks_never_cross_a_section(chunks):
    for doc, sections, doc_chunks in chunks.values():
        for chunk in doc_chunks:
            (section,) = [s for s in sections if s.char_start <= chunk.char_start < s.char_end]
            assert chunk.char_end <= section.char_end
            assert chunk.section == section.path


def test_chunks_fit_the_model_window(chunks, embedder):
    texts = [c.indexed_text(doc.title) for doc, _, cs in chunks.values() for c in cs]
    with_special = [len(ids) for ids in embedder.tokenizer(texts)["input_ids"]]  # [CLS] ... [SEP]
    assert max(with_special) <= embedder.max_tokens == 256
    assert all(c.tokens > 0 and c.tiktokens > 0 for _, _, cs in chunks.values() for c in cs)


def test_chunks_never_span_boilerplate(chunks):
    for doc, _, doc_chunks in chunks.values():
        for chunk in doc_chunks:
            for s in doc.excluded:
                assert not (chunk.char_start < s.end and s.start < chunk.char_end), doc.text[s.start : s.end]


def test_budget_table_keeps_caption_and_header(chunks):
    doc, _, doc_chunks = chunks["chs-alternative-report-2015-2016"]
    table = [c for c in doc_chunks if c.kind == "table" and "MIMP\t2,914,192.00" in c.text]
    assert len(table) == 1
    (mimp,) = table
    assert mimp.text.startswith("Specific budget allocated and implemented by sector")
    assert "\tALLOCATED\tIMPLEMENTED\t%" in mimp.text and "1,512,632.00" in mimp.text
    # later rows of the same table repeat caption and header as context, outside their span
    later = next(c for c in doc_chunks if c.kind == "table" and c.text.startswith("MRREE\t"))
    assert later.context.startswith("Specific budget allocated and implemented by sector")
    assert later.context.endswith("% ¹")
    assert doc.text[later.char_start : later.char_end] == later.text
    assert later.context_span.end < later.char_start


def test_sentence_spans_keep_abbreviations_together():
    text = "One U.S. citizen arrested in December 2015 remained. Decree No. 1232 applied. S/. 3'803,268.50 was spent."
    spans = [text[s.start : s.end] for s in sentence_spans(text)]
    assert spans == ["One U.S. citizen arrested in December 2015 remained.", "Decree No. 1232 applied.",
                     "S/. 3'803,268.50 was spent."]


def test_chunk_settings_are_validated():
    with pytest.raises(ValueError, match="target_tokens"):
        ChunkSettings(max_tokens=100, target_tokens=200)
