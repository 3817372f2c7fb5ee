"""Bad documents: an empty file, a binary file, Latin-1 text, a 50 MB file and a manifest entry
whose file is missing, indexed by `qa index` next to good reports. Each gets one clear message
that says what to do, the good documents are still indexed and searchable, and the exit code
tells partial success (3) from success (0) and from failure (1)."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.chunking import ChunkSettings
from qa.cli import main
from qa.corpus import load_corpus
from qa.embed import DEFAULT_MODEL
from qa.index import current_build, load_index

GOOD = {
    "protection.txt": "PROTECTION\n\nThe government identified 1,908 potential trafficking victims in 2016. "
                      "The Ministry of Women operated four shelters with a total capacity of 28 beds.\n",
    "prosecution.txt": "PROSECUTION\n\nAuthorities convicted 38 traffickers in 2016, compared with 11 in 2015.\n",
}
LATIN1 = "Informe sobre la trata de personas en el Perú, 2016: se identificaron 1.908 víctimas.\n"
MANIFEST = """[corpus]
country = "Peru"

[[document]]
id = "protection"
file = "protection.txt"
title = "Protection"
publisher = "U.S. Department of State"
kind = "government"
report_year = 2017

[[document]]
id = "lost-report"
file = "lost.txt"
title = "A report that is not there"
publisher = "Somebody"
kind = "civil society"
report_year = 2016
"""


def write_good(corpus: Path) -> None:
    corpus.mkdir(exist_ok=True)
    for name, text in GOOD.items():
        (corpus / name).write_text(text)


def write_bad(corpus: Path) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)  # holds NUL bytes, like a PDF or an image
    (corpus / "latin1.txt").write_bytes(LATIN1.encode("latin-1"))
    with (corpus / "big.txt").open("w") as out:  # text, so only its size can stop it
        for _ in range(50):
            out.write("The reports say nothing new here. " * 29_412 + "\n")  # ~1 MB a line
    (corpus / "manifest.toml").write_text(MANIFEST)


def index(corpus: Path, root: Path):
    return CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(root)])


@pytest.fixture()
def corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    write_good(corpus)
    write_bad(corpus)
    return corpus


def test_bad_documents_are_named_the_rest_indexed_and_the_exit_code_says_partial(corpus, tmp_path):
    assert (corpus / "big.txt").stat().st_size >= 50_000_000
    result = index(corpus, tmp_path / "index")
    assert result.exit_code == 3, result.output
    build = current_build(tmp_path / "index")
    assert result.stdout.startswith("indexed 3 documents, ") and result.stdout.strip().endswith(f"-> {build}")
    messages = [line for line in result.stderr.splitlines() if "%|" not in line and line.strip()]
    manifest = corpus / "manifest.toml"
    assert messages == [
        "warning: latin1.txt: the file is not UTF-8; read it as Windows-1252 (Latin-1) (save it as UTF-8 to "
        "silence this)",
        "warning: latin1.txt: no entry in manifest.toml; indexed with inferred metadata (id 'latin1', year 2016); "
        "add an entry to set it",
        "warning: prosecution.txt: no entry in manifest.toml; indexed with inferred metadata (id 'prosecution', "
        "year 2016); add an entry to set it",
        "partial: 4 file(s) skipped, not indexed:",
        f"  {manifest}: line 14: file 'lost.txt' is missing; add it to {str(corpus)!r} or remove its [[document]] "
        "entry",
        f"  skipped: {str(corpus / 'big.txt')!r} is 50,000,450 bytes, over the 20,000,000-byte limit for it; "
        "split it or raise QA_MAX_DOCUMENT_BYTES",
        "  binary.txt: skipped: the file is binary (it holds NUL bytes), not text; convert it to plain text (UTF-8) "
        "or remove it",
        "  empty.txt: skipped: the file is empty; add the report's text or remove the file",
    ]
    loaded = load_index(tmp_path / "index", model=DEFAULT_MODEL, chunking=ChunkSettings())
    assert sorted(loaded.documents) == ["latin1", "prosecution", "protection"]
    assert "Perú" in loaded.documents["latin1"].text  # decoded, not mangled
    assert loaded.manifest["corpus"]["skipped"] == ["lost.txt", "big.txt", "binary.txt", "empty.txt"]
    search = CliRunner().invoke(main, ["search", "shelters with beds", "-k", "1", "--index", str(tmp_path / "index")])
    assert search.exit_code == 0 and "total capacity of 28 beds" in search.stdout


def test_good_documents_alone_exit_0_and_warnings_do_not_make_it_partial(tmp_path):
    corpus = tmp_path / "corpus"
    write_good(corpus)
    result = index(corpus, tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert "partial" not in result.stderr and "warning: prosecution.txt: no entry in manifest.toml" in result.stderr
    (corpus / "latin1.txt").write_bytes(LATIN1.encode("latin-1"))  # read, with a warning: still success
    result = index(corpus, tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 3 documents")
    assert "warning: latin1.txt: the file is not UTF-8" in result.stderr


def test_nothing_readable_exits_1_says_why_and_keeps_the_published_index(corpus, tmp_path):
    root = tmp_path / "index"
    assert index(corpus, root).exit_code == 3
    before = current_build(root)
    for name in GOOD:
        (corpus / name).unlink()
    (corpus / "latin1.txt").unlink()
    result = index(corpus, root)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1] == f"error: no readable documents in {str(corpus)!r} (add reports (.txt, .md, .html, .pdf) and a manifest.toml)"
    assert any("lost.txt' is missing" in line for line in lines)
    assert any(line.startswith(f"error: skipped: {str(corpus / 'big.txt')!r} is 50,000,450 bytes, over") for line in lines)
    assert any(line.startswith("error: binary.txt: skipped: the file is binary") for line in lines)
    assert any(line.startswith("error: empty.txt: skipped: the file is empty") for line in lines)
    assert current_build(root) == before  # the published index is untouched
    assert len(load_index(root).documents) == 3


@pytest.mark.parametrize(("data", "indexed", "message"), [
    ("Informe del Perú".encode("utf-16"), "Informe del Perú",
     "bom.txt: the file is UTF-16, not UTF-8; read it as UTF-16 (save it as UTF-8 to silence this)"),
    ("Trafficking report, 2016, Peru".encode("utf-16-le"), None,
     "bom.txt: skipped: the file looks like UTF-16 text without a byte-order mark; save it as UTF-8"),
    ("“Victims” – Perú".encode("cp1252"), "“Victims” – Perú",
     "bom.txt: the file is not UTF-8; read it as Windows-1252 (Latin-1) (save it as UTF-8 to silence this)"),
    ("El Perú identificó víctimas; más niñas. ".encode() * 5 + b"\xff" + " Fin.".encode(), None,
     "bom.txt: 1 byte(s) are not valid UTF-8; replaced them with U+FFFD (repair the file to silence this)"),
    (codecs.BOM_UTF8 + "Informe del Perú".encode(), "\ufeffInforme del Perú", None),
    (b" \n\t\n", None, "bom.txt: skipped: the file is empty; add the report's text or remove the file"),
])
def test_encodings_are_read_or_refused_with_a_reason(tmp_path, data, indexed, message):
    (tmp_path / "bom.txt").write_bytes(data)
    corpus = load_corpus(tmp_path)
    problems = [p.message for p in corpus.problems if "no entry in manifest.toml" not in p.message]
    assert problems == ([message] if message else [])
    if indexed is None and "skipped" in (message or ""):
        assert corpus.documents == []
    elif indexed is not None:
        assert corpus.documents[0].text == indexed
    else:
        assert "\ufffd" in corpus.documents[0].text and "Perú" in corpus.documents[0].text


def test_an_unreadable_file_or_a_directory_is_skipped_not_fatal(tmp_path, monkeypatch):
    write_good(tmp_path)
    (tmp_path / "locked.txt").write_text("secret")
    (tmp_path / "folder.txt").mkdir()
    (tmp_path / "manifest.toml").write_text(MANIFEST.replace('file = "lost.txt"', 'file = "folder.txt"'))
    real = os.open

    def os_open(path, *args, **kwargs):  # chmod does not stop root, who runs the tests in CI
        if Path(path).name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    corpus = load_corpus(tmp_path)
    assert sorted(d.source for d in corpus.documents) == ["prosecution.txt", "protection.txt"]
    assert [p.message for p in corpus.skipped] == [
        f"{tmp_path / 'manifest.toml'}: line 14: skipped: {str(tmp_path / 'folder.txt')!r} is a directory, "
        "not a regular file; replace it with the file",
        f"skipped: cannot read {str(tmp_path / 'locked.txt')!r}: Permission denied; fix its permissions (it must "
        "be readable by this user)",
    ]
