"""Corpus loading: manifest validation with file and line, bad files, boilerplate."""

from __future__ import annotations

import re

import pytest

from qa.corpus import load_corpus, load_manifest
from qa.errors import CorpusError, ManifestError


def _write_manifest(directory, body: str):
    path = directory / "manifest.toml"
    path.write_text(body)
    return path


def _entry(id="a", file="a.txt", extra=""):
    return (f'[[document]]\nid = "{id}"\nfile = "{file}"\ntitle = "A"\npublisher = "P"\n'
            f'kind = "government"\nreport_year = 2017\n{extra}')


def test_shipped_manifest_describes_every_file(corpus):
    assert [d.source for d in corpus.documents] == sorted(p.name for p in corpus.root.glob("*.txt"))
    assert not corpus.problems
    ids = {d.id for d in corpus.documents}
    assert len(ids) == 5 and all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
    tip17 = next(d for d in corpus.documents if d.source == "000_abe84397df7d8ac3.txt")
    assert (tip17.report_year, tip17.period, tip17.section, tip17.kind) == (2017, (2016, 2016), "Protection", "government")


def test_unknown_key_names_file_and_line(tmp_path):
    (tmp_path / "a.txt").write_text("text")
    path = _write_manifest(tmp_path, "[corpus]\ncountry = \"Peru\"\n\n" + _entry(extra='titel = "typo"\n'))
    with pytest.raises(ManifestError, match=r"manifest\.toml: line 11: \[\[document\]\] #1: unknown key 'titel'"):
        load_manifest(path)


def test_missing_key_and_bad_value(tmp_path):
    path = _write_manifest(tmp_path, '[[document]]\nid = "a"\nfile = "a.txt"\n')
    with pytest.raises(ManifestError, match="missing key 'title'"):
        load_manifest(path)
    path = _write_manifest(tmp_path, _entry(extra="period = [2017, 2015]\n"))
    with pytest.raises(ManifestError, match=r"line 8: .*period \[2017, 2015\] must be \[first year, last year\]"):
        load_manifest(path)
    path = _write_manifest(tmp_path, _entry().replace('kind = "government"', 'kind = "ngo"'))
    with pytest.raises(ManifestError, match="line 6: .*kind"):
        load_manifest(path)


def test_duplicate_id_names_both_lines(tmp_path):
    path = _write_manifest(tmp_path, _entry() + "\n" + _entry(file="b.txt"))
    with pytest.raises(ManifestError, match=r"line 10: \[\[document\]\] #2: duplicate id 'a' \(first used on line 2\)"):
        load_manifest(path)


def test_invalid_toml_and_path_in_file_name(tmp_path):
    path = _write_manifest(tmp_path, "[[document]\n")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest(path)
    path = _write_manifest(tmp_path, _entry(file="../etc/passwd"))
    with pytest.raises(ManifestError, match="line 3: .*without a path"):
        load_manifest(path)


def test_missing_file_is_skipped_with_its_line(tmp_path):
    (tmp_path / "b.txt").write_text("Some report text about 2016.")
    _write_manifest(tmp_path, _entry() + "\n" + _entry(id="b", file="b.txt"))
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["b"]
    assert len(corpus.skipped) == 1
    assert re.search(r"manifest\.toml: line 3: file 'a\.txt' is missing", corpus.skipped[0].message)


def test_unlisted_file_is_indexed_with_inferred_metadata_and_a_warning(tmp_path):
    (tmp_path / "New Report 2024.txt").write_text("2024 Trafficking in Persons Report: Chile\n\nBody text.")
    corpus = load_corpus(tmp_path)
    (doc,) = corpus.documents
    assert (doc.id, doc.report_year, doc.kind, doc.period, doc.inferred) == (
        "new-report-2024", 2024, "government", (2023, 2023), True)
    (problem,) = corpus.problems
    assert not problem.skipped and "no entry in manifest.toml" in problem.message


def test_bad_documents_are_reported_and_the_rest_loaded(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 100)
    (tmp_path / "latin1.txt").write_bytes("Informe sobre trata en Perú, 2016.".encode("latin-1"))
    (tmp_path / "big.txt").write_text("x" * 2000)
    (tmp_path / "good.txt").write_text("A good report, 2016.")
    corpus = load_corpus(tmp_path, max_bytes=1000)
    assert sorted(d.source for d in corpus.documents) == ["good.txt", "latin1.txt"]
    latin = next(d for d in corpus.documents if d.source == "latin1.txt")
    assert "Perú" in latin.text
    messages = " | ".join(p.message for p in corpus.problems)
    assert "empty.txt: skipped: the file is empty" in messages
    assert "binary.txt: skipped: the file is binary" in messages
    assert f"skipped: {str(tmp_path / 'big.txt')!r} is 2,000 bytes, over the 1,000-byte limit" in messages
    assert "latin1.txt: the file is not UTF-8" in messages
    assert {p.source for p in corpus.skipped} == {"empty.txt", "binary.txt", "big.txt"}


def test_missing_corpus_directory(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_boilerplate_lines_are_excluded_but_text_is_raw(corpus):
    for doc in corpus.documents:
        raw = (corpus.root / doc.source).read_text(encoding="utf-8")
        assert doc.text == raw
    web = next(d for d in corpus.documents if d.source == "001_4b85ea8049368ffd.txt")
    excluded = [web.text[s.start : s.end] for s in web.excluded]
    assert excluded.count("LETTER TO THE EDITOR") == 2
    assert "Send a Letter" in excluded and "More News" in excluded
    refworld = next(d for d in corpus.documents if d.source == "003_796d65032d1b4d01.txt")
    assert "Search Refworld" in [refworld.text[s.start : s.end] for s in refworld.excluded]
