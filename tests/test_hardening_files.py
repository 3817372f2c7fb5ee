"""Files the loaders must not trust (issue 18, findings 2-4): a symlink out of the corpus, a
device, a FIFO or a directory in place of a file, a pattern that would backtrack forever, a name
too long for the file system, an unreadable file, a name in another Unicode form, and files of a
type the loader does not read. Each is refused (or read) with one line naming the file and the
fix, and nothing blocks: every load runs under a deadline (``finishes``)."""

from __future__ import annotations

import os
import shutil
import threading
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.chunking import ChunkSettings
from qa.cli import main
from qa.corpus import load_corpus
from qa.errors import FileProblem, ManifestError
from qa.index import build_index, current_build, load_index, save_index

REPORT = "PROTECTION\n\nThe government identified 1,908 potential trafficking victims in 2016.\n"
ENTRY = """
[[document]]
id = "{id}"
file = "{file}"
title = "A report"
publisher = "U.S. Department of State"
kind = "government"
report_year = 2017
"""


def finishes(call, seconds: float = 20):
    """``call()``'s result or exception, failing the test when it is still running after ``seconds``."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (it hangs)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture()
def corpus_dir(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "good.txt").write_text(REPORT)
    (root / "manifest.toml").write_text(ENTRY.format(id="good", file="good.txt"))
    return root


def messages(corpus) -> list[str]:
    return [p.message for p in corpus.problems]


# --- finding 2: files outside the corpus ---------------------------------------------------


def test_a_symlink_out_of_the_corpus_is_refused_never_indexed(corpus_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (corpus_dir / "passwd.txt").symlink_to(secret)
    corpus = load_corpus(corpus_dir)
    assert [d.id for d in corpus.documents] == ["good"]
    assert messages(corpus) == [
        f"skipped: {str(corpus_dir / 'passwd.txt')!r} is a symbolic link to {str(secret)!r}, outside "
        f"{str(corpus_dir)!r}; only files inside it are read (copy the file in instead)"]
    assert corpus.skipped


def test_a_listed_file_replaced_by_a_link_out_is_refused_with_its_manifest_line(corpus_dir, tmp_path):
    (corpus_dir / "good.txt").unlink()
    (corpus_dir / "good.txt").symlink_to("/etc/passwd")
    corpus = load_corpus(corpus_dir)
    assert corpus.documents == []
    assert messages(corpus) == [
        f"{corpus_dir / 'manifest.toml'}: line 4: skipped: {str(corpus_dir / 'good.txt')!r} is a symbolic "
        f"link to '/etc/passwd', outside {str(corpus_dir)!r}; only files inside it are read (copy the file in instead)"]


def test_a_symlink_inside_the_corpus_is_followed(corpus_dir):
    (corpus_dir / "drafts").mkdir()
    (corpus_dir / "drafts" / "draft.txt").write_text(REPORT.replace("1,908", "1,909"))
    (corpus_dir / "alias.txt").symlink_to(corpus_dir / "drafts" / "draft.txt")
    corpus = load_corpus(corpus_dir)
    assert sorted(d.source for d in corpus.documents) == ["alias.txt", "good.txt"]


# --- finding 3: hangs ----------------------------------------------------------------------


def test_a_corpus_manifest_that_is_a_device_or_a_fifo_is_refused_at_once(corpus_dir):
    manifest = corpus_dir / "manifest.toml"
    manifest.unlink()
    manifest.symlink_to("/dev/zero")
    with pytest.raises(FileProblem, match="is a symbolic link to '/dev/zero', outside"):
        finishes(lambda: load_corpus(corpus_dir))
    manifest.unlink()
    os.mkfifo(manifest)
    with pytest.raises(FileProblem, match=r"manifest.toml' is a FIFO \(named pipe\), not a regular file"):
        finishes(lambda: load_corpus(corpus_dir))


@pytest.mark.parametrize("command", ["index", "serve"])
@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_qa_index_and_serve_refuse_such_a_manifest_before_they_load_the_model(corpus_dir, tmp_path, monkeypatch,
                                                                               command, kind):
    """The refusal comes first: the model is not loaded for it (no timing here)."""
    import qa.embed
    import qa.engine

    for module in (qa.embed, qa.engine):
        monkeypatch.setattr(module, "load_embedder", lambda *a: pytest.fail("the model was loaded first"))
    manifest = corpus_dir / "manifest.toml"
    manifest.unlink()
    manifest.symlink_to("/dev/zero") if kind == "device" else os.mkfifo(manifest)
    # not under finishes(): the commands set signal handlers, which only the main thread may
    # (that load_corpus does not block on these is the test above)
    result = CliRunner().invoke(main, [command, "--corpus", str(corpus_dir), "--index", str(tmp_path / "index")])
    assert result.exit_code == 1, result.output
    assert "manifest.toml' is a" in result.output and ("'/dev/zero', outside" in result.output
                                                        or "FIFO (named pipe), not a regular file" in result.output)


def test_a_document_that_is_a_fifo_or_a_directory_is_skipped_not_waited_on(corpus_dir):
    os.mkfifo(corpus_dir / "pipe.txt")
    (corpus_dir / "folder.txt").mkdir()
    corpus = finishes(lambda: load_corpus(corpus_dir))
    assert [d.id for d in corpus.documents] == ["good"]
    assert messages(corpus) == [
        f"skipped: {str(corpus_dir / 'folder.txt')!r} is a directory, not a regular file; replace it with the file",
        f"skipped: {str(corpus_dir / 'pipe.txt')!r} is a FIFO (named pipe), not a regular file; replace it with "
        "the file"]


def test_a_pattern_that_would_backtrack_forever_runs_in_linear_time(corpus_dir):
    (corpus_dir / "good.txt").write_text(REPORT + "a" * 40 + "!\n" + "a" * 30 + "\n")
    manifest = corpus_dir / "manifest.toml"
    manifest.write_text('[corpus]\nboilerplate = ["(a+)+$"]\n' + manifest.read_text())
    corpus = finishes(lambda: load_corpus(corpus_dir), seconds=10)
    doc = corpus.documents[0]
    assert [doc.text[s.start:s.end] for s in doc.excluded] == ["a" * 30]


def test_a_pattern_re2_cannot_compile_is_refused_naming_it(corpus_dir):
    manifest = corpus_dir / "manifest.toml"
    manifest.write_text('[corpus]\nboilerplate = ["(?<=a)b"]\n' + manifest.read_text())
    with pytest.raises(ManifestError) as caught:
        load_corpus(corpus_dir)
    assert str(caught.value) == (
        f"{manifest}: line 2: [corpus]: boilerplate: boilerplate pattern '(?<=a)b' is not a regular expression "
        "RE2 accepts (invalid perl operator: (?<=); write it without backreferences or lookarounds "
        "(fix that line of the manifest)")


@pytest.fixture()
def index_root(tmp_path, corpus_dir, hash_embedder):
    root = tmp_path / "index"
    save_index(build_index(load_corpus(corpus_dir), hash_embedder, ChunkSettings()), root)
    return root


def test_an_index_manifest_that_is_a_device_or_a_fifo_is_refused_at_once(index_root, hash_embedder):
    manifest = current_build(index_root) / "manifest.json"
    manifest.unlink()
    manifest.symlink_to("/dev/zero")
    with pytest.raises(FileProblem, match="manifest.json' is a symbolic link to '/dev/zero', outside"):
        finishes(lambda: load_index(index_root))
    manifest.unlink()
    os.mkfifo(manifest)
    with pytest.raises(FileProblem, match=r"manifest.json' is a FIFO \(named pipe\), not a regular file"):
        finishes(lambda: load_index(index_root))


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_index_data_file_replaced_is_named_as_what_it_is_not_missing(index_root, kind):
    path = current_build(index_root) / "dense.faiss"
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    what = "a FIFO (named pipe)" if kind == "fifo" else "a directory"
    with pytest.raises(FileProblem) as caught:
        finishes(lambda: load_index(index_root))
    assert str(caught.value) == f"{str(path)!r} is {what}, not a regular file; replace it with the file"


# --- finding 4: messages -------------------------------------------------------------------


def search(index: Path):
    return CliRunner().invoke(main, ["search", "beds", "--mode", "bm25", "--index", str(index)])


def test_a_current_naming_a_huge_build_gives_one_short_line(index_root):
    (index_root / "CURRENT").write_text("build-" + "x" * 300)
    result = search(index_root)
    assert result.exit_code == 1
    assert result.stderr == (f"error: {index_root / 'CURRENT'} names a build that does not exist "
                             f"({'build-' + 'x' * 54!r}) (run `qa index` to rebuild it)\n")
    (index_root / "CURRENT").write_text("build-" + "x" * 10_000_000)
    result = search(index_root)
    assert result.exit_code == 1 and len(result.stderr) < 400 and result.stderr.count("\n") == 1
    assert "CURRENT' is 10,000,006 bytes, over the 4,096-byte limit" in result.stderr


def refuse_opening(monkeypatch, name: str) -> None:
    real = os.open

    def os_open(path, *args, **kwargs):  # chmod does not stop root, who runs the tests in CI
        if Path(path).name == name:
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)


def test_an_unreadable_index_file_says_to_fix_its_permissions(index_root, monkeypatch):
    refuse_opening(monkeypatch, "dense.faiss")
    result = search(index_root)
    assert result.exit_code == 1
    assert result.stderr == (f"error: cannot read {str(current_build(index_root) / 'dense.faiss')!r}: Permission "
                             "denied; fix its permissions (it must be readable by this user)\n")


def test_an_unreadable_corpus_manifest_says_to_fix_its_permissions(corpus_dir, monkeypatch):
    refuse_opening(monkeypatch, "manifest.toml")
    with pytest.raises(FileProblem) as caught:
        load_corpus(corpus_dir)
    assert str(caught.value) == (f"cannot read {str(corpus_dir / 'manifest.toml')!r}: Permission denied; fix its "
                                 "permissions (it must be readable by this user)")


def test_a_long_path_is_shortened_in_the_message():
    with pytest.raises(FileProblem) as caught:
        load_corpus_file = "/tmp/" + "n" * 5000
        from qa.files import read_bytes

        read_bytes(load_corpus_file, 10)
    assert "File name too long" in str(caught.value) and len(str(caught.value)) < 300
    assert "(5,005 characters)" in str(caught.value)


def test_a_file_name_in_another_unicode_form_is_the_listed_file(corpus_dir):
    nfc = unicodedata.normalize("NFC", "informe año.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    (corpus_dir / nfd).write_text(REPORT)
    manifest = corpus_dir / "manifest.toml"
    manifest.write_text(manifest.read_text() + ENTRY.format(id="informe", file=nfc))
    corpus = load_corpus(corpus_dir)
    assert messages(corpus) == []
    assert sorted(d.id for d in corpus.documents) == ["good", "informe"]
    assert not any(d.inferred for d in corpus.documents)


def test_files_of_other_types_are_listed_in_one_warning(corpus_dir):
    for name in ("report.text", "report.docx", "notes"):
        (corpus_dir / name).write_text(REPORT)
    (corpus_dir / "subdir").mkdir()
    corpus = load_corpus(corpus_dir)
    assert [d.id for d in corpus.documents] == ["good"]
    assert messages(corpus) == [f"{str(corpus_dir)!r}: 3 file(s) not read, as only .txt, .md, .markdown, "
                                ".html, .htm, .pdf files are: notes, report.docx, report.text"]
    assert not corpus.skipped


def test_a_file_named_pdf_that_is_text_is_skipped_with_the_fix(corpus_dir):
    (corpus_dir / "scan.pdf").write_text(REPORT)
    corpus = load_corpus(corpus_dir)
    assert [d.id for d in corpus.documents] == ["good"]
    assert [p.message for p in corpus.skipped] == [
        "scan.pdf: skipped: the file is named .pdf but is not a PDF (no %PDF- header); export the report "
        "as PDF again, or give it its real suffix"]
