"""Acronyms a report spells out (qa.names): read from the text once, at index time."""

from __future__ import annotations

import pytest

from qa.data import Document
from qa.names import Aliases, find_acronyms, spelled_out


@pytest.mark.parametrize("sentence, acronym, name", [
    ("mining areas and the Valley of the Apurímac, Ene, and Mantaro Rivers (VRAEM).", "VRAEM",
     "Valley of the Apurímac, Ene, and Mantaro Rivers"),
    ("a budget for the operation of the Specialized Prosecutor's Office in the crime of human trafficking (FISTRAP).",
     "FISTRAP", "Specialized Prosecutor's Office in the crime of human trafficking"),
    ("It met MIMP, the Ministry of Labor (MOL), and others.", "MOL", "Ministry of Labor"),
    ("the Public Ministry’s Victim and Witness Assistance Unit (UDAVIT) helped.", "UDAVIT",
     "Victim and Witness Assistance Unit"),
    ("the implementation of the National Plan against Human Trafficking 2011 – 2016 (PNAT).", "PNAT",
     "National Plan against Human Trafficking 2011 – 2016"),
    ("victims in the 245 Women's Emergency Centers (CEM).", "CEM", "Women's Emergency Centers"),
    ("Police. The unit trained 50 officials (MIMP).", "MIMP", None),  # no name before it
    ("Police trained 50 officials (MIMP).", "MIMP", None),  # a sentence, not a name
    ("the National Plan against Human Trafficking 2011-2016 (PNAT).", "PNAT", "National Plan against Human Trafficking 2011-2016"),
    ("In 2017 the Ministry of Labor trained 300 inspectors (MOL).", "MOL", None),
    ("It met MIMP, MININTER, and the Ministry of Labor (MOL).", "MOL", "Ministry of Labor"),
    ("in Cusco, Puno, and the Ministry of Labor (MOL)", "MOL", "Ministry of Labor"),
])
def test_an_acronym_is_spelled_out_by_the_name_before_it(sentence, acronym, name):
    end = sentence.index(f"({acronym})")
    span = spelled_out(sentence, 0, end, acronym)
    assert (sentence[span[0] : span[1]] if span else None) == name


def _doc(doc_id: str, text: str) -> Document:
    return Document(id=doc_id, source=f"{doc_id}.txt", title=doc_id, publisher="", kind="tip", report_year=2018,
                    period=(2017, 2017), country="Peru", text=text, sha256="")


def test_each_acronym_of_the_shipped_reports_is_found_once_with_its_name(corpus):
    names = {}
    for doc in corpus.documents:
        found = find_acronyms(doc)
        assert len({(a.acronym, doc.text[a.name.start : a.name.end]) for a in found}) == len(found)
        names[doc.id] = {a.acronym: doc.text[a.name.start : a.name.end] for a in found}
    assert names["tip-2018-peru-prosecution"] == {"MOI": "Ministry of Interior"}
    assert names["chs-alternative-report-2015-2016"]["MININTER"] == "Ministry of the Interior"
    assert names["tip-2023-peru"]["UDAVIT"] == "Victim and Witness Assistance Unit"
    assert names["tip-2006-peru"] == {}


def test_one_reports_acronym_finds_anothers_for_the_same_name():
    docs = {d.id: d for d in (
        _doc("a", "The Ministry of the Interior (MININTER) and the Public Ministry (MP-FN) reported."),
        _doc("b", "The Ministry of Interior (MOI) and the Ministry of Women (MIMP) reported."),
    )}
    aliases = Aliases(docs, {doc_id: find_acronyms(doc) for doc_id, doc in docs.items()})
    assert aliases.expand(["minint", "budget"]) == ["minint", "budget", "moi"]
    assert aliases.expand(["moi", "budget"]) == ["moi", "budget", "minint"]
    assert aliases.expand(["moi", "minint"]) == ["moi", "minint"]  # nothing twice
    assert aliases.expand(["mimp", "budget"]) == ["mimp", "budget"]  # no other acronym for its name
    assert [a.acronym for a in aliases.of("a")] == [("minint",), ("mp", "fn")]
    assert all(a.institution for a in aliases.all) and aliases.of("unknown") == ()
