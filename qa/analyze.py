"""Stage 4b: text -> BM25 terms, and a question -> what it asks about.

The analyzer lower-cases, strips accents, drops stop words, stems (Snowball English) and
writes every figure in one canonical form, so "1,134", "1134" and "1,134.00" are one term,
"S/. 3'803,268.50" is ``soles 3803268.5`` and "thirty-three" is ``33``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import snowballstemmer

from qa.text import NUMBER_WORD, NUMERAL, YEAR, canonical_number, fold, parse_number_words, parse_numeral

ANALYZER_VERSION = 1
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves also per via according""".split()
)

_TOKEN = re.compile(
    rf"(?P<soles>\bs/\.?(?=\s*\d))|(?P<dollar>\$(?=\s*\d))|(?P<num>{NUMERAL.pattern})"
    rf"|(?P<word>[a-z]+)"
)


@functools.cache
def _stemmer():
    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def analyze(text: str) -> list[str]:
    """BM25 terms of ``text``."""
    folded = fold(text)
    folded = NUMBER_WORD.sub(lambda m: f" {canonical_number(parse_number_words(m.group()) or 0)} ", folded)
    terms: list[str] = []
    for match in _TOKEN.finditer(folded):
        kind = match.lastgroup
        if kind == "word":
            word = match.group()
            if word not in STOPWORDS and (len(word) > 1):
                terms.append(stem(word))
        elif kind == "num":
            value = parse_numeral(match.group())
            if value is not None:
                terms.append(canonical_number(value))
        elif kind == "soles":
            terms.append("sole")
        elif kind == "dollar":
            terms.append("dollar")
    return terms


def is_year_term(term: str) -> bool:
    return bool(YEAR.fullmatch(term))


# ---------------------------------------------------------------------------------------------
# questions

_REPORT_YEAR = re.compile(
    r"\b(?:(?:19|20)\d\d\s+(?:tip|trafficking in persons|us|u\.s\.|state department|alternative|ngo)?\s*report"
    r"|report\s+(?:of|from|for)\s+(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    terms: tuple[str, ...]  # BM25 terms, years left out (years steer, they do not match text)
    years: tuple[int, ...]  # years the question is about
    report_years: tuple[int, ...]  # years that name a report ("the 2018 TIP report")


def analyze_query(question: str) -> QueryAnalysis:
    report_years: list[int] = []
    for match in _REPORT_YEAR.finditer(question):
        report_years += [int(y) for y in YEAR.findall(match.group())]
    stripped = _REPORT_YEAR.sub(" ", question)
    years = [int(y) for y in YEAR.findall(stripped)]
    terms = [t for t in analyze(question) if not is_year_term(t)]
    return QueryAnalysis(
        text=question,
        terms=tuple(terms),
        years=tuple(dict.fromkeys(years)),
        report_years=tuple(dict.fromkeys(report_years)),
    )
