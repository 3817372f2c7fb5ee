"""`qa bench` end to end with tiny sizes: every part runs and the report is written.

No timing is asserted here: speed claims come from `qa bench`'s medians over repeated runs
(eval/BENCHMARKS.md), never from a timed test.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import CORPUS, ROOT
from qa.bench import Options, Variation, run, write

SMALL = ("000_abe84397df7d8ac3.txt", "003_796d65032d1b4d01.txt")


@pytest.fixture()
def small_corpus(tmp_path):
    """Two of the shipped reports with their manifest entries (a build takes seconds)."""
    target = tmp_path / "corpus"
    target.mkdir()
    head, *entries = (CORPUS / "manifest.toml").read_text(encoding="utf-8").split("\n[[document]]\n")
    kept = [e for e in entries if any(name in e for name in SMALL)]
    (target / "manifest.toml").write_text("\n[[document]]\n".join([head, *kept]), encoding="utf-8")
    for name in SMALL:
        shutil.copy(CORPUS / name, target / name)
    return target


def test_variation_keeps_lengths_and_moves_years():
    import numpy as np

    v = Variation.random(np.random.default_rng(3))
    text = "In 2016 the police identified 1,134 victims (S/. 3'803,268.50); 0 convictions in 2049."
    varied = v.text(text)
    assert len(varied) == len(text)
    assert re.sub(r"\d", "#", varied) == re.sub(r"\d", "#", text)
    assert varied.startswith(f"In {2016 + v.shift} ")
    assert v.term("1134") == varied[varied.index("identified") + 11 :][:5].replace(",", "")
    assert v.term("victim") == "victim" and "0 convictions" in varied


def test_smoke_run_of_every_part_writes_the_report(small_corpus, tmp_path, embedder):
    out = tmp_path / "eval" / "BENCHMARKS.md"
    options = Options(index=tmp_path / "index", corpus=small_corpus, out=out,
                      parts=("query", "http", "build", "scale"),  # robust: its own test below
                      questions=(ROOT / "eval" / "questions.jsonl",), queries=4, rounds=2, warmup=1,
                      http_seconds=0.5, concurrency=(1, 2), build_runs=1, sizes=(120,), real_vectors=0,
                      scale_queries=4, rank_bm25_upto=120, uniform_upto=120, hnsw_upto=120, ivf_min_rows=100,
                      work=tmp_path, command="qa bench (smoke)")
    results = run(options)
    report, picture = write(results, out)

    names = [t["target"].split(":")[0] for t in results["targets"]]
    assert names == ["/ask in process", "HTTP, concurrency 1", "index build >= 0.9 x raw encoder throughput",
                     "120 chunks", "120 chunks", "120 chunks"]  # no concurrency 8 in this run
    assert all(t["verdict"] for t in results["targets"])
    q = results["query"]
    assert q["ask"]["n"] == 8 and set(q["stages"]) == {"analysis", "encode", "dense", "sparse", "fusion", "answer"}
    assert [r["concurrency"] for r in results["http"]["runs"]] == [1, 2]
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in results["http"]["runs"])
    assert results["build"]["chunks"] > 0 and len(results["build"]["build_seconds"]) == 1
    [row] = results["scale"]["sizes"]
    assert (row["chunks"], row["vectors"], row["dense_kind"]) == (120, "gaussian", "ivf")
    assert row["bm25"]["identical"] is True
    assert set(row["dense"]) == {"flat", "ivf", "hnsw", "ivf_uniform", "hnsw_uniform"}
    assert row["dense"]["flat"]["recall@10"] == 1.0
    assert 0.0 <= row["dense"]["ivf"]["recall@10"] <= 1.0 and 0.0 <= row["probe"]["hybrid_recall@10"] <= 1.0
    assert row["disk_total_bytes"] > 0 and row["probe"]["memory"]["rss"] > 0
    assert row["probe"]["search"]["n"] == 4 and row["probe"]["ask"]["n"] == 4

    text = report.read_text()
    for heading in ("## Machine", "## Targets", "## 1. Query path, in process", "## 2. Over HTTP",
                    "## 3. Index build", "## 4. Scale", "## Chart"):
        assert heading in text
    assert "qa bench (smoke)" in text and "| 120 | gaussian | ivf |" in text
    assert picture.stat().st_size > 0 and picture.name == "benchmarks.png"
    assert json.loads(out.with_name("benchmarks.json").read_text())["targets"] == json.loads(json.dumps(results["targets"]))


def test_cli_runs_chosen_parts_and_prints_the_verdicts(built_index, tmp_path):
    from click.testing import CliRunner

    from qa.cli import main

    out = tmp_path / "B.md"
    result = CliRunner().invoke(main, ["bench", "--index", str(built_index), "--corpus", str(CORPUS), "--parts", "query",
                                       "--queries", "3", "--rounds", "1", "--warmup", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("/ask in process: median <= 1.3 x bare query encoding: " + lines[0].split(": ", 2)[-1])
    assert lines[-1] == f"report: {out} (chart benchmarks.png)"
    assert "## 1. Query path, in process" in out.read_text() and "## 2. Over HTTP" not in out.read_text()
    result = CliRunner().invoke(main, ["bench", "--parts", "query,nope", "--index", str(built_index)])
    assert result.exit_code == 2 and "unknown part(s) nope; allowed: build, query, http, scale, robust, ingest" in result.output


def test_robust_part_runs_at_a_tiny_size_and_reports_its_fields(built_index, tmp_path):
    """Plumbing only: the part starts a real qa serve, runs each of its measurements and reports
    them; whether the targets are met is the benchmark's to say, not this test's."""
    out = tmp_path / "eval" / "BENCHMARKS.md"
    options = Options(index=built_index, corpus=CORPUS, out=out, parts=("robust",), rounds=1, warmup=0,
                      burst=20, chaos_seconds=0.5, repeats=3, work=tmp_path, command="qa bench (robust smoke)")
    results = run(options)
    report, _ = write(results, out)

    r = results["robust"]
    assert r["finding_1"] == {"repeats": 3, "answered": 3}
    assert r["max_concurrency"] == 16 and r["burst"] == 20
    [b] = r["bursts"]
    assert sum(b["statuses"].values()) == 20 and b["accepted"] + b["refused"] <= 20
    assert set(b) >= {"refused_median_ms", "refused_p95_ms", "answered", "accepted_median_ms", "failures",
                      "health_median_ms", "health_p95_ms"}
    assert b["health_answered"] == 20
    assert b["failures"] == 0 and b["answered"] == b["accepted"] > 0
    [c] = r["rounds"]
    assert c["health_probes"] > 0 and c["idle_p95_ms"] > 0 and c["chaos_p95_ms"] > 0 and c["alive_after"]
    assert r["deaths"] == 0 and r["http_5xx"] == 0 and r["no_answer"] == 0 and r["log_problems"] == []
    assert r["health_ratio"] == r["chaos_p95_ms"] / r["idle_p95_ms"]
    names = [t["target"] for t in results["targets"]]
    assert names == ["burst of 20 concurrent /ask: median time to a 503 < 50 ms",
                     "clients hanging up: /health p95 <= 5 x its idle p95",
                     "clients hanging up and bursts: no server death, no 5xx but 503, every accepted request answered"]
    assert all(t["verdict"] for t in results["targets"])
    text = report.read_text()
    assert "## 5. Robustness" in text and "answered after **3**" in text and "## 1. Query path" not in text


def test_ingest_part_measures_pages_per_second(small_corpus, tmp_path):
    out = tmp_path / "eval" / "BENCHMARKS.md"
    options = Options(index=tmp_path / "index", corpus=small_corpus, out=out, parts=("ingest",),
                      questions=(ROOT / "eval" / "questions.jsonl",), queries=2, build_runs=1, work=tmp_path,
                      command="qa bench --parts ingest (smoke)")
    results = run(options)
    ingest = results["ingest"]
    assert (ingest["pdf_files"], ingest["html_files"], ingest["runs"]) == (2, 2, 3)
    assert ingest["pdf_pages"] >= 2 and len(ingest["pdf_seconds"]) == 3 and ingest["pdf_pages_per_s"] > 0
    assert [t["target"] for t in results["targets"]] == ["ingest: text PDFs >= 10 pages/s"]
    report, _ = write(results, out)
    assert "## 6. Ingest" in report.read_text()
