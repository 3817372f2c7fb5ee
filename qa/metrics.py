"""Retrieval and answer metrics as pure functions (checked against ir-measures in the tests).

Retrieval relevance is positional: a passage is relevant to a question when its span overlaps
the gold evidence span in the gold document. A *hit* is stricter (the DPR convention, made
stricter): the passage's span contains the gold answer's occurrence inside the evidence, so a
bare "28" elsewhere in the corpus does not count.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from qa.text import NUMBER_WORD, NUMERAL, fold, parse_number_words, parse_numeral

# -- retrieval ----------------------------------------------------------------------------------


def hit_at(hits: Sequence[bool], k: int) -> float:
    """1.0 when one of the first ``k`` results is a hit."""
    return 1.0 if any(hits[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int = 10) -> float:
    for rank, rel in enumerate(relevant[:k], start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at(relevant: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    """Binary-relevance nDCG@k; ``n_relevant`` is how many relevant passages exist in all."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, rel in enumerate(relevant[:k], start=1) if rel)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


def recall_at(relevant: Sequence[bool], n_relevant: int, k: int) -> float:
    return sum(bool(r) for r in relevant[:k]) / n_relevant if n_relevant else 0.0


# -- answers ------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s%.]|(?<!\d)\.|\.(?!\d)")


def normalize_answer(text: str) -> str:
    """SQuAD-style: folded case and accents, no punctuation (decimal points kept), no articles."""
    text = _PUNCT.sub(" ", fold(text))
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_value(text: str) -> float | None:
    """The figure an answer states: its first numeral or number word ("Thirty-three")."""
    numeral, word = NUMERAL.search(text), NUMBER_WORD.search(text)
    if word and (not numeral or word.start() < numeral.start()):
        return parse_number_words(word.group())
    return parse_numeral(numeral.group()) if numeral else None


def same_number(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = Counter(pred) & Counter(ref)
    overlap = sum(common.values())
    if not overlap:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
