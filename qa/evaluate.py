"""The eval harness: a gold question file -> retrieval and answer metrics, a run file, a report.

Gold format (JSONL, one question per line)::

    {"id", "question", "answers": [verbatim, canonical first], "doc": file name or null,
     "section", "evidence": verbatim sentence, "type", "year"}

Per question and per mode (bm25, dense, hybrid) the top 10 passages are scored:
hit@k (a passage holds a gold answer at its place in the evidence), MRR@10, nDCG@10 and
recall@k (relevance: the passage overlaps the evidence span), and hits by document and by
section. ``ask`` is scored on answerable questions (strict and lenient accuracy, false
abstention) and on unanswerable ones (abstention).

Strict accuracy: for count, money and comparison questions whose gold answer is a figure, the
same number; for sentence questions (yesno, list, definition), the returned span contains the
gold answer's place in the evidence; otherwise the same normalized text. Lenient: token F1.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from qa import metrics as m
from qa.data import MODES, Answer, Hit, Span
from qa.engine import Engine
from qa.errors import QAError
from qa.schema import ask_response

QuestionType = Literal[
    "count", "money", "date", "entity", "yesno", "list", "definition", "comparison", "unanswerable"
]
SENTENCE_TYPES = frozenset({"yesno", "list", "definition"})
NUMERIC_TYPES = frozenset({"count", "money", "comparison"})
KS = (1, 5, 10)
DEPTH = 10
CONFIDENCE_BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


class GoldQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    question: str
    answers: list[str]
    doc: str | None
    section: str | None
    evidence: str
    type: QuestionType
    year: int | None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Located:
    """Where a question's evidence and answers are, in one document of the index."""

    doc_id: str | None
    evidence: Span | None
    answers: tuple[Span, ...] = ()


def load_gold(path: Path) -> list[GoldQuestion]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QAError(f"cannot read gold questions {str(path)!r}: {exc}") from None
    questions, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            q = GoldQuestion.model_validate_json(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise QAError(f"{path}:{number}: {where}: {first['msg']}", "see the gold format in DESIGN.md") from None
        if q.id in seen:
            raise QAError(f"{path}:{number}: duplicate id {q.id!r}")
        if q.answerable and not q.evidence:
            raise QAError(f"{path}:{number}: question {q.id!r} has answers but no evidence")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QAError(f"{path} holds no questions")
    return questions


def locate(question: GoldQuestion, engine: Engine) -> Located:
    if not question.answerable:
        return Located(None, None)
    docs = engine.index.documents.values()
    candidates = [d for d in docs if question.doc in (None, d.source, d.id)]
    if question.doc is not None and not candidates:
        raise QAError(f"question {question.id!r}: document {question.doc!r} is not in the index")
    for doc in candidates:
        start = doc.text.find(question.evidence)
        if start < 0:
            continue
        evidence = Span(start, start + len(question.evidence))
        spans = []
        for answer in question.answers:
            offset = question.evidence.find(answer)
            if offset < 0:
                raise QAError(f"question {question.id!r}: answer {answer!r} is not in its evidence")
            spans.append(Span(start + offset, start + offset + len(answer)))
        return Located(doc.id, evidence, tuple(spans))
    raise QAError(f"question {question.id!r}: the evidence is not in {question.doc or 'any document'}")


# -- judging ------------------------------------------------------------------------------------


def _contains(outer_start: int, outer_end: int, inner: Span) -> bool:
    return outer_start <= inner.start and inner.end <= outer_end


def is_hit(hit: Hit, where: Located) -> bool:
    c = hit.chunk
    return c.doc_id == where.doc_id and any(_contains(c.char_start, c.char_end, a) for a in where.answers)


def is_relevant(hit: Hit, where: Located) -> bool:
    c = hit.chunk
    ev = where.evidence
    return c.doc_id == where.doc_id and ev is not None and c.char_start < ev.end and ev.start < c.char_end


def answer_correct(question: GoldQuestion, where: Located, answer: Answer | None) -> bool:
    if answer is None:
        return False
    golds = [m.normalize_answer(a) for a in question.answers]
    if m.normalize_answer(answer.text) in golds:
        return True
    if question.type in SENTENCE_TYPES:
        return answer.doc_id == where.doc_id and any(
            _contains(answer.char_start, answer.char_end, a) for a in where.answers
        )
    values = [v for v in map(m.answer_value, question.answers) if v is not None]
    if question.type in NUMERIC_TYPES and values:
        predicted = answer.value
        if predicted is None and answer.text != answer.sentence:  # a short span, not a whole sentence
            predicted = m.answer_value(answer.text)
        return predicted is not None and any(m.same_number(predicted, v) for v in values)
    return False


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    metrics: dict
    run: list[dict] = field(default_factory=list)


def _n_relevant(engine: Engine, where: Located) -> int:
    ev = where.evidence
    return sum(1 for c in engine.index.chunks if c.doc_id == where.doc_id and c.char_start < ev.end and ev.start < c.char_end)


def _retrieval_row(hits: list[Hit], question: GoldQuestion, where: Located, n_relevant: int) -> dict:
    hit_flags = [is_hit(h, where) for h in hits]
    rel_flags = [is_relevant(h, where) for h in hits]
    doc_flags = [h.chunk.doc_id == where.doc_id for h in hits]
    section = (question.section or "").lower()
    sec_flags = [d and section in h.chunk.section_label.lower() for d, h in zip(doc_flags, hits)]
    row = {f"hit@{k}": m.hit_at(hit_flags, k) for k in KS}
    row["mrr@10"] = m.reciprocal_rank(rel_flags, DEPTH)
    row["ndcg@10"] = m.ndcg_at(rel_flags, n_relevant, DEPTH)
    row["recall@5"] = m.recall_at(rel_flags, n_relevant, 5)
    row["recall@10"] = m.recall_at(rel_flags, n_relevant, 10)
    row["doc_hit@5"] = m.hit_at(doc_flags, 5)
    row["section_hit@5"] = m.hit_at(sec_flags, 5)
    return row


def _average(rows: Iterable[dict]) -> dict:
    rows = list(rows)
    if not rows:
        return {}
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]} | {"n": len(rows)}


def _group(items: list[tuple[str, dict]]) -> dict:
    groups: dict[str, list[dict]] = defaultdict(list)
    for key, row in items:
        groups[key].append(row)
    return {key: _average(rows) for key, rows in sorted(groups.items())}


def evaluate(engine: Engine, questions: list[GoldQuestion], *, modes: Iterable[str] = MODES, k: int = 5,
             progress: bool = False) -> Evaluation:
    from tqdm import tqdm

    modes = list(modes)
    located = [locate(q, engine) for q in questions]
    retrieval: dict[str, list[tuple[GoldQuestion, dict]]] = {mode: [] for mode in modes}
    judged: list[tuple[GoldQuestion, dict]] = []
    stage_ms: dict[str, list[float]] = defaultdict(list)
    run: list[dict] = []
    for question, where in tqdm(list(zip(questions, located)), desc="eval", unit="q", disable=not progress):
        if question.answerable:
            n_relevant = _n_relevant(engine, where)
            for mode in modes:
                result = engine.search(question.question, DEPTH, mode=mode)
                retrieval[mode].append((question, _retrieval_row(result.hits, question, where, n_relevant)))
                stage_ms[f"search_{mode}"].append(sum(result.timings.values()))
        asked = engine.ask(question.question, k)
        for stage, ms in asked.timings.items():
            stage_ms[stage].append(ms)
        answer = asked.reading.answer
        row = {
            "answered": answer is not None,
            "correct": answer_correct(question, where, answer) if question.answerable else answer is None,
            "f1": max((m.token_f1(answer.text, g) for g in question.answers), default=0.0) if answer else 0.0,
            "confidence": answer.confidence if answer else None,
        }
        judged.append((question, row))
        response = ask_response(asked, engine.index).model_dump()
        run.append({"id": question.id, "question": question.question, "answer": response["answer"],
                    "reason": response["reason"], "passages": response["passages"], "judgement": row})
    return Evaluation(_summarize(retrieval, judged, stage_ms, engine), run)


def _summarize(retrieval, judged, stage_ms, engine: Engine) -> dict:
    doc_source = {d.id: d.source for d in engine.index.documents.values()}
    answerable = [(q, r) for q, r in judged if q.answerable]
    unanswerable = [(q, r) for q, r in judged if not q.answerable]
    answers = {
        "strict": m.mean([r["correct"] for _, r in answerable]),
        "lenient_f1": m.mean([r["f1"] for _, r in answerable]),
        "false_abstention": m.mean([not r["answered"] for _, r in answerable]),
        "abstention": m.mean([not r["answered"] for _, r in unanswerable]),
        "answered_accuracy": m.mean([r["correct"] for _, r in answerable if r["answered"]]),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
    }
    answers = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in answers.items()}
    by_type = defaultdict(list)
    by_doc = defaultdict(list)
    for q, r in judged:
        by_type[q.type].append(r["correct"])
        by_doc[q.doc or "(none)"].append(r["correct"])
    bands = []
    for low, high in zip(CONFIDENCE_BANDS, CONFIDENCE_BANDS[1:]):
        inside = [(q, r) for q, r in judged if r["confidence"] is not None and low <= r["confidence"] < high]
        bands.append({"band": f"{low:.1f}-{min(high, 1.0):.1f}", "n": len(inside),
                      "accuracy": round(m.mean([r["correct"] for _, r in inside]), 4) if inside else None})
    return {
        "questions": len(judged),
        "index": {"chunks": len(engine.index.chunks), "model": engine.index.model,
                  "chunking": engine.index.manifest.get("chunking"),
                  "fusion": engine.settings.fusion, "year_boost": engine.settings.year_boost},
        "retrieval": {mode: _average(r for _, r in rows) for mode, rows in retrieval.items()},
        "retrieval_by_type": {mode: _group([(q.type, r) for q, r in rows]) for mode, rows in retrieval.items()},
        "retrieval_by_doc": {mode: _group([(q.doc or "", r) for q, r in rows]) for mode, rows in retrieval.items()},
        "answers": answers,
        "answers_by_type": {t: {"accuracy": round(m.mean(v), 4), "n": len(v)} for t, v in sorted(by_type.items())},
        "answers_by_doc": {d: {"accuracy": round(m.mean(v), 4), "n": len(v)} for d, v in sorted(by_doc.items())},
        "calibration": bands,
        "latency_ms_median": {stage: round(statistics.median(v), 3) for stage, v in sorted(stage_ms.items())},
        "documents": doc_source,
    }


# -- outputs ------------------------------------------------------------------------------------


def write_outputs(evaluation: Evaluation, out: Path, questions_path: Path) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "run": out / "run.jsonl", "report": out / "report.md",
             "chart": out / "chart.png"}
    paths["metrics"].write_text(json.dumps(evaluation.metrics, indent=2) + "\n")
    with paths["run"].open("w", encoding="utf-8") as handle:
        for line in evaluation.run:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    _chart(evaluation.metrics, paths["chart"])
    paths["report"].write_text(_report(evaluation.metrics, questions_path, paths["chart"].name))
    return paths


def _chart(metrics: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    retrieval = metrics["retrieval"]
    modes = list(retrieval)
    keys = ["hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@10"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        left.bar([x + i * width for x in range(len(keys))], [retrieval[mode].get(k, 0) for k in keys],
                 width, label=mode)
    left.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(keys))], keys)
    left.set_ylim(0, 1)
    left.set_title("Retrieval by mode")
    left.legend()
    types = [t for t in metrics["answers_by_type"]]
    hybrid = metrics["retrieval_by_type"].get("hybrid", {})
    x = range(len(types))
    right.bar([i - 0.2 for i in x], [hybrid.get(t, {}).get("hit@5", 0) for t in types], 0.4, label="hybrid hit@5")
    right.bar([i + 0.2 for i in x], [metrics["answers_by_type"][t]["accuracy"] for t in types], 0.4,
              label="answer accuracy (abstention for unanswerable)")
    right.set_xticks(list(x), types, rotation=30, ha="right")
    right.set_ylim(0, 1)
    right.set_title("By question type")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _table(rows: dict[str, dict], keys: list[str]) -> str:
    lines = ["| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, row in rows.items():
        cells = [("" if row.get(k) is None else f"{row[k]:.3f}" if isinstance(row.get(k), float) else str(row[k])) for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _report(metrics: dict, questions_path: Path, chart: str) -> str:
    a = metrics["answers"]
    keys = ["hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@5", "recall@10", "doc_hit@5", "section_hit@5", "n"]
    parts = [
        f"# Eval report: {questions_path}",
        "",
        f"{metrics['questions']} questions ({a['n_answerable']} answerable, {a['n_unanswerable']} unanswerable); "
        f"index: {metrics['index']['chunks']} chunks, model {metrics['index']['model']}, "
        f"fusion {metrics['index']['fusion']}.",
        "",
        f"![modes and types]({chart})",
        "",
        "## Retrieval (answerable questions, top 10)",
        "",
        _table(metrics["retrieval"], keys),
        "",
        "## Answers",
        "",
        f"- strict accuracy (answerable): **{a['strict']}**",
        f"- lenient token F1 (answerable): {a['lenient_f1']}",
        f"- abstention (unanswerable): **{a['abstention']}**",
        f"- false abstention (answerable): {a['false_abstention']}",
        f"- accuracy when answering: {a['answered_accuracy']}",
        "",
        "### By question type (hybrid retrieval; answer accuracy, abstention for unanswerable)",
        "",
        _table({t: {**metrics["retrieval_by_type"].get("hybrid", {}).get(t, {}), "answer": v["accuracy"], "n": v["n"]}
                for t, v in metrics["answers_by_type"].items()}, ["hit@5", "mrr@10", "answer", "n"]),
        "",
        "### By document",
        "",
        _table({d: {**metrics["retrieval_by_doc"].get("hybrid", {}).get(d, {}), "answer": v["accuracy"], "n": v["n"]}
                for d, v in metrics["answers_by_doc"].items()}, ["hit@5", "mrr@10", "answer", "n"]),
        "",
        "### Accuracy by confidence band",
        "",
        _table({b["band"]: b for b in metrics["calibration"]}, ["n", "accuracy"]),
        "",
        "## Latency (median ms per question)",
        "",
        _table({"median": metrics["latency_ms_median"]}, list(metrics["latency_ms_median"])),
        "",
    ]
    return "\n".join(parts)


BASELINE_KEYS = {"hybrid_hit@5": ("retrieval", "hybrid", "hit@5"), "hybrid_mrr@10": ("retrieval", "hybrid", "mrr@10"),
                 "answer_strict": ("answers", "strict"), "abstention": ("answers", "abstention")}


def baseline_of(metrics: dict) -> dict:
    """The numbers the regression gate holds the project to."""
    out = {}
    for name, path in BASELINE_KEYS.items():
        value = metrics
        for key in path:
            value = value[key]
        out[name] = value
    return out
