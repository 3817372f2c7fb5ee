"""The gold set, the harness on any gold file, and the regression gate against eval/baseline.json."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from conftest import CORPUS, GOLD, ROOT
from qa import metrics as m
from qa.cli import main
from qa.evaluate import NUMERIC_TYPES, baseline_of, evaluate, load_gold
from qa.text import years_in

GATE = 0.02


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD)


def test_gold_evidence_and_answers_are_verbatim(gold):
    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}
    for q in gold:
        if not q.answerable:
            assert q.evidence == "" and q.doc is None and q.type == "unanswerable", q.id
            continue
        assert q.doc in texts, q.id
        assert q.evidence in texts[q.doc], f"{q.id}: evidence not verbatim in {q.doc}"
        for answer in q.answers:
            assert answer and answer in q.evidence, f"{q.id}: answer {answer!r} not in its evidence"


def test_gold_set_covers_what_the_issue_asks(gold):
    per_doc = Counter(q.doc for q in gold if q.doc)
    numeric = [q for q in gold if q.type in NUMERIC_TYPES and q.answers and m.answer_value(q.answers[0]) is not None]
    from_tables = [q for q in numeric if "\t" in q.evidence]
    two_year = [q for q in numeric if q.year and len(years_in(q.evidence)) >= 2 and q.year in years_in(q.evidence)]
    assert len(gold) >= 120
    assert len(per_doc) == 5 and min(per_doc.values()) >= 12, per_doc
    assert len(numeric) - len(from_tables) >= 30 and len(from_tables) >= 8
    assert len(two_year) >= 15
    assert sum(q.type == "comparison" for q in gold) >= 10
    assert sum(not q.answerable for q in gold) >= 12
    assert len({q.id for q in gold}) == len(gold)


def test_load_gold_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "a", "question": "q", "answers": [], "doc": None, "section": None,
                       "evidence": "", "type": "unanswerable", "year": None})
    path.write_text(good + "\n" + good.replace('"unanswerable"', '"opinion"') + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: type: Input should be"):
        load_gold(path)


@pytest.fixture(scope="module")
def evaluation(engine, gold):
    return evaluate(engine, gold)


def test_hybrid_is_at_least_as_good_as_either_mode(evaluation):
    retrieval = evaluation.metrics["retrieval"]
    for metric in ("hit@5", "mrr@10"):
        assert retrieval["hybrid"][metric] >= max(retrieval["bm25"][metric], retrieval["dense"][metric]), metric


def test_regression_gate(evaluation):
    baseline = json.loads((ROOT / "eval" / "baseline.json").read_text())
    current = baseline_of(evaluation.metrics)
    for name in ("hybrid_hit@5", "hybrid_mrr@10", "answer_strict"):
        assert current[name] >= baseline[name] - GATE, f"{name} fell from {baseline[name]} to {current[name]}"


def test_run_lines_are_what_the_api_returns(evaluation, gold):
    assert [line["id"] for line in evaluation.run] == [q.id for q in gold]
    line = evaluation.run[0]
    assert {"id", "answer", "passages"} <= set(line)
    assert {"chunk_id", "doc_id", "source", "char_start", "char_end", "scores"} <= set(line["passages"][0])


def test_eval_command_on_another_gold_file(tmp_path, built_index):
    other = tmp_path / "other.jsonl"
    rows = [
        {"id": "x1", "question": "how many beds did the two shelters have", "answers": ["28 beds"],
         "doc": "000_abe84397df7d8ac3.txt", "section": "Protection",
         "evidence": "The government operated two shelters, in Lima and Mazuko, exclusively for trafficking victims, "
                     "with a total capacity of 28 beds.", "type": "count", "year": 2016},
        {"id": "x2", "question": "how many traffickers were convicted in Chile in 2030", "answers": [], "doc": None,
         "section": None, "evidence": "", "type": "unanswerable", "year": 2030},
    ]
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["eval", "--questions", str(other), "--out", str(out), "--index", str(built_index)])
    assert result.exit_code == 0, result.output
    assert re.search(r"hybrid: hit@1 \d\.\d{3}", result.stdout)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["questions"] == 2 and metrics["answers"]["n_unanswerable"] == 1
    assert set(metrics["retrieval"]) == {"bm25", "dense", "hybrid"}
    assert [json.loads(l)["id"] for l in (out / "run.jsonl").read_text().splitlines()] == ["x1", "x2"]
    report = (out / "report.md").read_text()
    assert "![modes and types](chart.png)" in report and (out / "chart.png").stat().st_size > 1000
