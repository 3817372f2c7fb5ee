"""The CLI: help everywhere, JSON output in the contract's shape, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qa.cli import main

@pytest.fixture()
def runner():
    return CliRunner()


def test_every_command_has_help(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert {"index", "search", "ask", "eval"} <= set(main.commands)
    for command in main.commands:
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, command
        assert main.commands[command].help, f"{command} has no help text"


def test_python_dash_m_qa_works():
    result = subprocess.run([sys.executable, "-m", "qa", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "search" in result.stdout


def test_search_json(runner, built_index):
    result = runner.invoke(main, ["search", "how many shelter beds existed in 2016", "--json", "-k", "3",
                                  "--index", str(built_index)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"query", "hits", "took_ms"}
    assert len(data["hits"]) == 3
    assert set(data["hits"][0]) >= {"chunk_id", "doc_id", "source", "title", "publisher", "report_year", "section",
                                    "text", "char_start", "char_end", "score", "scores"}
    assert "total capacity of 28 beds" in data["hits"][0]["text"]


def test_ask_json(runner, built_index):
    result = runner.invoke(main, ["ask", "how many shelter beds existed in 2016", "--json",
                                  "--index", str(built_index)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"question", "answer", "reason", "passages", "took_ms"}
    assert "28" in data["answer"]["text"]


def test_errors_are_one_line_with_a_hint(runner, tmp_path, built_index):
    result = runner.invoke(main, ["search", "beds", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: no index in '{tmp_path / 'none'}' (run `qa index` to build it)"
    result = runner.invoke(main, ["search", "beds", "--doc", "nope", "--index", str(built_index)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("error: unknown document 'nope'; allowed:")
    result = runner.invoke(main, ["search", "beds", "--mode", "fuzzy"])
    assert result.exit_code == 2 and "Invalid value for '--mode'" in result.stderr


def test_index_reports_partial_success(runner, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("PROTECTION\n\nThe government operated two shelters with 28 beds in 2016.\n")
    (corpus / "bad.txt").write_bytes(b"\x00\x01binary")
    result = runner.invoke(main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "idx")])
    assert result.exit_code == 3, result.output
    assert "indexed 1 documents" in result.stdout
    assert "bad.txt: skipped: the file is binary" in result.stderr
