"""Retrieval on the shipped corpus with the real model."""

from __future__ import annotations

import pytest

from qa.data import Filters
from qa.errors import QueryError
from qa.schema import search_response


def test_shelter_beds_question_ranks_the_tip_2017_protection_passage_first(engine):
    response = search_response(engine.search("how many shelter beds existed in 2016", 5), engine.index)
    top = response.hits[0]
    assert "total capacity of 28 beds" in top.text
    assert (top.source, top.report_year, top.section) == ("000_abe84397df7d8ac3.txt", 2017, "Protection")
    raw = (engine.settings.corpus / top.source).read_text(encoding="utf-8")
    assert raw[top.char_start : top.char_end] == top.text


def test_every_hit_cites_its_raw_span(engine):
    for query in ["MIMP 2016 implemented", "convictions 2017", "Tren de Aragua"]:
        for hit in search_response(engine.search(query, 10), engine.index).hits:
            raw = (engine.settings.corpus / hit.source).read_text(encoding="utf-8")
            assert raw[hit.char_start : hit.char_end] == hit.text
            if hit.context:
                assert raw[hit.context_start : hit.context_end] == hit.context


def test_table_cell_is_found_with_its_header(engine):
    hits = engine.search("MIMP 2016 implemented budget", 5).hits
    assert any("1,512,632.00" in h.chunk.text and "IMPLEMENTED" in h.chunk.text for h in hits[:3])


def test_filters_restrict_results(engine):
    hits = engine.search("budget", 10, Filters(doc="002_be79946195551afb.txt")).hits
    assert hits and {h.chunk.doc_id for h in hits} == {"chs-alternative-report-2015-2016"}
    hits = engine.search("victims", 10, Filters(section="prosecution", kind="government")).hits
    assert hits and all("Prosecution" in h.chunk.section_label for h in hits)
    hits = engine.search("victims identified", 10, Filters(year=2005)).hits
    assert hits and {h.chunk.doc_id for h in hits} == {"tip-2006-peru"}


def test_bad_filters_and_queries_name_the_fix(engine):
    with pytest.raises(QueryError, match="unknown document 'nope'; allowed: tip-2017-peru-protection"):
        engine.search("x", 5, Filters(doc="nope"))
    with pytest.raises(QueryError, match="no section matches 'Nowhere'; sections: .*Protection"):
        engine.search("x", 5, Filters(section="Nowhere"))
    with pytest.raises(QueryError, match="the query is empty"):
        engine.search("   ", 5)
    with pytest.raises(QueryError, match="unknown mode"):
        engine.search("x", 5, mode="fuzzy")


def test_question_year_steers_to_passages_about_that_year(engine):
    top = engine.search("court decisions on trafficking cases in 2017", 3).hits[0]
    assert top.chunk.doc_id == "tip-2018-peru-prosecution" and "50 court decisions in 2017" in top.chunk.text
    named = engine.search("according to the 2006 report, how many investigations did police open", 3).hits[0]
    assert named.chunk.doc_id == "tip-2006-peru"


def test_an_acronym_asked_finds_another_reports_acronym_for_the_same_name(engine):
    # the alternative report writes "Ministry of the Interior (MININTER)", the 2018 TIP report
    # "Ministry of Interior (MOI)": asked about MININTER, BM25 alone finds the TIP report's budget
    question = "Did MININTER's anti-trafficking budget grow between 2016 and 2017?"
    for mode in ("bm25", "hybrid"):
        top = engine.search(question, 3, mode=mode).hits[0]
        assert top.chunk.doc_id == "tip-2018-peru-prosecution" and "7.5 million soles" in top.chunk.text


def test_modes_give_scores_of_their_kind(engine):
    bm25 = engine.search("shelter beds", 3, mode="bm25").hits
    dense = engine.search("shelter beds", 3, mode="dense").hits
    hybrid = engine.search("shelter beds", 3, mode="hybrid").hits
    assert all(h.bm25 is not None and h.dense is None for h in bm25)
    assert all(h.dense is not None and h.bm25 is None for h in dense)
    assert all(h.dense is not None and h.bm25 is not None for h in hybrid)
