"""Stage 8: hits -> an extractive ``Answer``, or ``None`` with the reason.

The reader looks at the sentences of the top passages and their candidates (``qa.extract``):
figures for how-many / how-much questions, dates for when, names and cued phrases ("such as
pimping", "a court in Cusco") for who / which / where, whole sentences for yes/no, lists and
definitions. Each candidate is described by a few features:
how relevant its sentence is (cosine of precomputed sentence vectors with the question's,
share of the question's terms), whether it counts what the question asks about (the words
after a figure, a table cell's row, column and caption), whether its year is the year asked
about (when one sentence gives two years, "865 operations in 2017 (764 in 2016)", or a table a
column per year, the question's year picks the figure; a report published in year N speaks for
its manifest period when the sentence names no year), whether it comes from the report the
question names (by its year, "the 2018 report", or by words of its title or publisher, "the TIP
report", "the alternative report"), whether its sentence mentions the agencies the question
names (an acronym the report spells out counts as its name: money that no such sentence ties to
the agency asked about is not a candidate), whether it is a breakdown or a parenthetical. A
logistic model per family of candidates (fitted on the gold set by ``python -m qa.fit``, weights
in ``reader_weights.json``) turns the features into the probability that the candidate is right:
the best one is the answer and its probability the confidence. Below the threshold, or when no
passage holds the kind of answer asked for, there is no answer and the reason says why. Figures
for the same thing and year from other reports come back as cited ``alternatives``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources

import numpy as np

from qa.analyze import CHANGE_WORDS, MEASURES, SYNONYMS, QueryAnalysis, analyze
from qa.data import Answer, Hit
from qa.extract import Candidate, SentenceCandidates, sentence_candidates
from qa.index import Index
from qa.names import PARENTHESIZED, Alias, spelled_out
from qa.text import fold

READ_DEPTH = 5
# Weight of a word only a clause other than the asking one gives ("The 2017 report says MIMP
# dedicated 3,803,270 soles; what did the alternative report give?"), by CV over 3 seeds: 0.5
# strict 0.687 -> 0.693, 0.25 0.689 and abstention 0.869 -> 0.856.
CONTEXT_WEIGHT = 0.5
NUMERIC = frozenset({"count", "money", "percent"})
# which candidate families may answer each kind of question
FAMILIES = {
    "count": ("figure",),
    "money": ("figure",),
    "percent": ("figure",),
    "figure": ("figure", "sentence"),
    "date": ("date",),
    "name": ("name", "sentence"),
    "definition": ("sentence",),
    "yesno": ("sentence",),
    "list": ("sentence",),
    "sentence": ("sentence",),
}
KIND_OF_FAMILY = {"figure": NUMERIC, "date": {"date"}, "name": {"name"}}
STRICT_KINDS = {"count": {"count"}, "money": {"money"}, "percent": {"percent"}}
AGENCY = re.compile(r"\b(?:Ministry|Ministries|Commission|Unit|Office|Directorate|Police|Congress|Court|Program|"
                    r"Secretariat|Prosecutor|Judiciary|Government|Municipality|UN|Department|Institute|Agency|"
                    r"Council|Network|Committee|System)\b|^[A-Z]{2,}")
_GENERIC_HEADS = frozenset({"traffick", "anti", "peopl", "person", "total"})
_PEOPLE = frozenset({"peopl", "person", "individu"})  # "how many people were found guilty": any person counted
_PERSONS = frozenset(analyze("defendants suspects perpetrators offenders victims survivors child children "
                             "minors adults girls boys women men officials officers judges prosecutors police"))
_PLACE_BEFORE = re.compile(r"\b(?:in|at)\s+(?:the\s+)?$", re.IGNORECASE)  # "a court in Cusco", "at the shelter"
# "an increase from 2,764,900 soles": the figure a change started from, not the change (a figure's
# span starts at its currency sign, so "from S/. 3'803,268" reads "from" right before it too)
_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")  # a word of letters only
_MINISTRY = re.compile(r"\bMinistry of [A-Z]")
DURATIONS = frozenset({"year", "month", "week", "day", "hour", "minute"})
DURATION_STEMS = frozenset({"year", "month", "week", "day", "hour", "minut", "term", "sentenc", "penalti", "prison"})
NEGATION = re.compile(r"\b(?:no|not|never|none|nor|without|pending|lack\w*|fewer|less|yet|neither|failed)\b", re.IGNORECASE)
# A name's words ("Madre de Dios"): of text.NAME_CONNECTORS only those that cannot end one item of a
# list and start the next ("and" separates the items; "in", "to", "for" would join "Lima" to what follows)
_NAME_WORDS = r"(?:the\s+)?[A-Z][\w'’-]*(?:\s+(?:(?:de|del|la|of)\s+)?[A-Z][\w'’-]*)*"
SERIES = re.compile(rf"{_NAME_WORDS},\s+{_NAME_WORDS}(?:,\s+{_NAME_WORDS})*,?\s+(?:and|or)\s+{_NAME_WORDS}")
# ^ three or more names in a row ("Spain, Japan, the United States, and Venezuela"): a list's answer
_KIND_NAMES = {"count": "count", "money": "amount of money", "percent": "percentage", "date": "date",
               "name": "name", "figure": "figure", "definition": "definition"}

FEATURES = {
    "figure": ["bias", "cosine", "overlap", "context_overlap", "rank", "report_match", "report_mismatch", "names_missing", "name_conflict", "period_match", "period_wrong",
               "after_near", "after_far", "before_near", "before_far", "after_unique", "head_first", "head_before",
               "head_all", "measure_before", "reference", "part_specific", "total", "total_shadowed",
               "how_many_of_part", "label_number", "duration", "noun_conflict", "head_missing",
               "table", "row_match", "column_match", "row_best", "column_best", "year_stated", "year_sentence", "year_period",
               "year_other_asked", "year_wrong", "year_unknown", "no_year_asked", "secondary", "part", "denominator",
               "first", "word", "tiny", "modifier", "kind_exact", "currency", "change", "range", "in_question",
               "shared_number", "agree"],
    "date": ["bias", "cosine", "overlap", "context_overlap", "rank", "report_match", "report_mismatch", "names_missing", "name_conflict", "period_match", "period_wrong", "after_near",
             "before_near", "full_date", "bare_year", "year_match", "year_wrong"],
    "name": ["bias", "cosine", "overlap", "context_overlap", "rank", "report_match", "report_mismatch", "names_missing", "name_conflict", "period_match", "period_wrong", "after_near",
             "before_near", "type_noun", "agency", "in_question", "acronym", "words", "phrase", "place"],
    "sentence": ["bias", "cosine", "overlap", "context_overlap", "rank", "report_match", "report_mismatch", "names_missing", "name_conflict", "period_match", "period_wrong",
                 "year_match", "year_wrong", "negative_yesno", "negative_other", "negation_yesno", "list_commas",
                 "figure_question", "series",
                 "length"],
}


@dataclass(frozen=True)
class Model:
    """A conditional logit: each candidate's score is its family's weights times its features;
    a softmax over the candidates and "no answer" (score ``weights["null"]["bias"]``) gives each
    candidate's probability of being the right answer."""

    weights: dict[str, dict[str, float]]
    threshold: float

    @classmethod
    def load(cls, path=None) -> "Model":
        raw = json.loads(path.read_text() if path else resources.files("qa").joinpath("reader_weights.json").read_text())
        return cls(raw["weights"], raw["threshold"])

    def score(self, family: str, features: dict[str, float]) -> float:
        weights = self.weights.get(family, {})
        return sum(weights.get(name, 0.0) * value for name, value in features.items())

    def probabilities(self, options: list["Option"]) -> np.ndarray:
        scores = np.array([self.score(o.family, o.features) for o in options]
                          + [self.weights.get("null", {}).get("bias", 0.0)])
        p = np.exp(scores - scores.max())
        return (p / p.sum())[:-1]


@dataclass(frozen=True)
class Reading:
    answer: Answer | None
    reason: str | None


@dataclass(frozen=True)
class Option:
    """A candidate answer with its features and probability."""

    family: str
    features: dict[str, float]
    hit: Hit
    sentence: SentenceCandidates
    candidate: Candidate | None  # None: the sentence itself is the answer
    probability: float = 0.0
    same: frozenset[str] | None = None  # a name's stems as its report's acronyms read it: one answer however written


class Reader:
    def __init__(self, index: Index, model: Model | None = None):
        self.index = index
        self.model = model or Model.load()
        self._period_year = {d.id: d.period[0] if d.period[0] == d.period[1] else None
                             for d in index.documents.values()}
        self._covered = sorted({y for d in index.documents.values() for y in d.period_years})
        self._idf = index.sparse.idf()
        self._default_idf = max(self._idf.values(), default=1.0)
        # the reports published each year, the reports each word of a title or publisher names
        # ("alternative", "state"), and the initials a title starts with ("TIP": Trafficking in
        # Persons Report); a word naming every report names none
        published: dict[int, set[str]] = {}
        naming: dict[str, set[str]] = {}
        for d in index.documents.values():
            published.setdefault(d.report_year, set()).add(d.id)
            for word in _WORD.findall(f"{d.title} {d.publisher}".replace(".", "")):  # "U.S." -> "us"
                naming.setdefault(word.lower(), set()).add(d.id)
            words = _WORD.findall(d.title)
            for j in range(2, min(4, len(words)) + 1):
                naming.setdefault("".join(w[0] for w in words[:j]).upper(), set()).add(d.id)
        self._published = {year: frozenset(ids) for year, ids in published.items()}
        self._naming = {w: frozenset(ids) for w, ids in naming.items() if len(ids) < len(index.documents)}

    @functools.lru_cache(maxsize=4096)
    def _sentences(self, row: int) -> tuple[SentenceCandidates, ...]:
        chunk = self.index.chunks[row]
        text = self.index.documents[chunk.doc_id].text
        return tuple(sentence_candidates(text, chunk, self._period_year[chunk.doc_id]))

    # -- options ------------------------------------------------------------------------------

    def options(self, q: QueryAnalysis, hits: list[Hit], vector: np.ndarray | None) -> list[Option]:
        """Every candidate answer in the top passages, with its features (not yet scored).
        A figure about another year than the one asked, or from another report than the one
        named, is not a candidate: the reports' figure for another year is not an answer."""
        return [o for o in self.all_options(q, hits, vector) if not self.excluded(q, o)]

    def excluded(self, q: QueryAnalysis, o: Option) -> str | None:
        """Why an option cannot answer the question, or None."""
        doc = self.index.documents[o.hit.chunk.doc_id]
        if q.report_years and doc.report_year not in q.report_years:
            return f"it is from the {doc.report_year} report, not the one named"
        c = o.candidate
        if q.years and c is not None and c.kind in NUMERIC and c.year is not None and c.year not in q.years:
            return f"it is about {c.year}"
        if q.years and c is not None and c.kind in NUMERIC and c.year is None \
                and not any(y in doc.period_years for y in q.years):
            return f"its report covers {_spans(list(doc.period_years))}"
        if _unowned_money(q, o):
            return "it is not said to be the money of the agency asked about: its sentence (and the one before) " \
                   "names none of the agencies asked about"
        if (c is not None and q.kind == "count" and (c.unit or "").lower().rstrip("s’'") in DURATIONS
                and not set(q.head) & DURATION_STEMS):
            return "it is a length of time, not a count of what was asked"
        return None

    def named(self, q: QueryAnalysis) -> frozenset[str] | None:
        """The reports a question names, by year ("the 2018 report") and by words before "report"
        ("the US TIP report", "the alternative report"), or None when it names none."""
        out = None
        if q.report_years:
            out = frozenset().union(*(self._published.get(year, ()) for year in q.report_years))
        for word in q.report_words:
            ids = self._naming.get(word.lower()) or (self._naming.get(word) if word.isupper() else None)
            if ids is not None:
                out = ids if out is None else out & ids
        return out

    def all_options(self, q: QueryAnalysis, hits: list[Hit], vector: np.ndarray | None) -> list[Option]:
        families = FAMILIES.get(q.kind, ("sentence",))
        wanted = STRICT_KINDS.get(q.kind) or set().union(*(KIND_OF_FAMILY.get(f, set()) for f in families))
        match = self._matcher(q)
        names = [self.index.aliases.writings(name) for name in q.names]  # once a question, not a sentence
        named = self.named(q)
        out: list[Option] = []
        for hit in hits[:READ_DEPTH]:
            row = hit.row
            sentences = self._sentences(row)
            start = self.index.sentence_offsets[row]
            vectors = self.index.sentence_vectors[start : start + len(sentences)]
            cosines = vectors @ vector if vector is not None else np.zeros(len(sentences))
            doc = self.index.documents[hit.chunk.doc_id]
            aliases = self.index.aliases.of(doc.id)
            for i, (sentence, cosine) in enumerate(zip(sentences, cosines)):
                previous = sentences[i - 1].terms if i else frozenset()
                missing = _names_missing(names, sentence.terms | previous)
                base = {
                    "bias": 1.0,
                    "cosine": float(cosine),
                    "overlap": match(sentence.terms),
                    "context_overlap": match(sentence.terms | previous),
                    "rank": 1.0 / hit.rank,
                    "report_match": float(named is not None and doc.id in named),
                    "report_mismatch": float(named is not None and doc.id not in named),
                    "names_missing": missing,
                    "name_conflict": float(missing == 1.0 and _names_agency(doc.text, sentence, aliases)),
                    "period_match": float(any(y in doc.period_years for y in q.years)),
                    "period_wrong": float(bool(q.years) and not any(y in doc.period_years for y in q.years)),
                }
                if "sentence" in families:
                    out.append(Option("sentence", base | self._sentence_features(q, sentence, doc.text), hit,
                                      sentence, None))
                figures = [c for c in sentence.candidates if c.kind in NUMERIC]
                for c in sentence.candidates:
                    if c.kind not in wanted:
                        continue
                    if c.kind in NUMERIC:
                        family, extra = "figure", self._figure_features(q, c, figures, sentence, doc.text, match)
                    elif c.kind == "date":
                        family, extra = "date", self._date_features(q, c, match)
                    else:
                        family, extra = "name", self._name_features(q, c, doc.text, match)
                    same = _aliased(doc.text[c.start : c.end], aliases) if family == "name" else None
                    out.append(Option(family, base | extra, hit, sentence, c, same=same))
        _mark_agreement(out)
        _mark_best_cells(out)
        return out

    def _matcher(self, q: QueryAnalysis):
        """A function: terms -> the idf-weighted share of the question's target they hold
        (a synonym counts as the word; a word only a clause other than the asking one gives,
        ``q.context``, counts CONTEXT_WEIGHT of its weight)."""
        target = list(q.target)
        weights = [self._idf.get(t, self._default_idf) * (CONTEXT_WEIGHT if t in q.context else 1.0) for t in target]
        total = sum(weights) or 1.0
        alternatives = [(t, *SYNONYMS.get(t, ())) for t in target]

        def match(terms) -> float:
            return sum(w for w, alts in zip(weights, alternatives) if any(a in terms for a in alts)) / total

        return match

    @staticmethod
    def _figure_features(q: QueryAnalysis, c: Candidate, figures: list[Candidate], sentence: SentenceCandidates,
                         text: str, match) -> dict[str, float]:
        near = set(c.noun)
        elsewhere = set().union(*(set(o.noun) for o in figures if o is not c))
        head = q.head[-1] if q.head else None
        head_words = {head, *SYNONYMS.get(head, ())} if head else set()
        heads = [h for h in q.head if h not in _GENERIC_HEADS] or list(q.head[-1:])  # "how many traffickers"
        head_stems = {a for h in heads for a in (h, *SYNONYMS.get(h, ()), *(_PERSONS if h in _PEOPLE else ()))}
        value = c.value
        numbers = {float(n) for n in q.numbers if _is_float(n)}
        f = {
            "after_near": match(near),
            "after_far": match(set(c.after) - near),
            "before_near": match(set(c.before[-3:])),
            "before_far": match(set(c.before[:-3])),
            "after_unique": match(near - elsewhere),
            "head_first": float(bool(head_words & set(c.noun[:2]))),
            "head_before": float(bool(head_words & set(c.before[-3:]))),
            "head_all": float(len(q.head) > 1 and set(q.head) <= set(c.noun)),
            "measure_before": float(head in MEASURES and bool(head_words & set(c.before[-4:]))),
            "reference": float(c.reference),
            "part_specific": match(c.own),
            "total": float(c.total),
            "total_shadowed": match(c.parts_own),
            "how_many_of_part": float(c.part and q.subset),
            "label_number": float(bool(c.context) and any(n in c.before or n in c.after for n in q.numbers)),
            "noun_conflict": float(bool(q.head) and not c.context and bool(c.noun) and not match(near)
                                   and not head_words & near),
            "head_missing": float(bool(head_stems) and bool(c.noun) and not c.context
                                  and not head_stems & (set(c.noun) | set(c.before[-3:]))),
            "duration": float((c.unit or "").lower().rstrip("s’'") in DURATIONS and not (set(q.head) & DURATION_STEMS)),
            "table": float(bool(c.context)),
            "row_match": match(set(c.before)) if c.context else 0.0,
            "column_match": match(set(c.after)) if c.context else 0.0,
            "secondary": float(c.secondary and not (q.wants_usd and c.unit == "USD")),
            "part": float(c.part),
            "denominator": float(c.denominator),
            "first": float(c.first),
            "word": float(c.word),
            "tiny": float(c.word and value is not None and value < 3),
            "modifier": float(c.modifier),
            "kind_exact": float(c.kind == q.kind),
            "currency": float(c.kind == "money" and (c.unit == "USD") == q.wants_usd),
            "change": float(q.change and bool(CHANGE_WORDS & (set(c.before) | set(c.after[:2])))
                            and not _FROM_BEFORE.search(text, max(0, c.start - 12), c.start)),
            "range": float(" to " in text[c.start : c.end]),
            "in_question": float(value in numbers),
            "shared_number": float(bool(numbers - {value}) and any(
                o.value in numbers for o in sentence.candidates if o is not c and o.value is not None)),
        }
        if f["noun_conflict"]:  # "a trafficker convicted of subjecting four teenage girls": four counts girls,
            f["before_near"] = f["head_before"] = 0.0  # and the words before it say nothing of what it counts
        if c.context:  # a table cell: its row label and column header are not prose windows
            for key in ("after_near", "after_far", "before_near", "before_far", "after_unique", "head_first",
                        "head_before", "head_all", "measure_before"):
                f[key] = 0.0
        f.update(_year_features(q, c))
        return f

    @staticmethod
    def _date_features(q: QueryAnalysis, c: Candidate, match) -> dict[str, float]:
        return {
            "after_near": match(set(c.after[:3])),
            "before_near": match(set(c.before[-3:])),
            "full_date": float(not c.secondary and c.year is not None),
            "bare_year": float(c.secondary),
            "year_match": float(c.year in q.years) if q.years else 0.0,
            "year_wrong": float(bool(q.years) and c.year not in q.years),
        }

    @staticmethod
    def _name_features(q: QueryAnalysis, c: Candidate, text: str, match) -> dict[str, float]:
        name = text[c.start : c.end]
        stems = set(analyze(name))
        return {
            "after_near": match(set(c.after[:3])),
            "before_near": match(set(c.before[-3:])),
            "type_noun": float(bool(stems & set(q.type_terms))),
            "agency": float(bool(AGENCY.search(name))),
            "in_question": len(stems & set(q.terms)) / len(stems) if stems else 1.0,
            "acronym": float(bool(re.fullmatch(r"(?:the )?[A-Z][A-Z0-9-]+", name))),
            "words": min(1.0, len(name.split()) / 6),
            "phrase": float(c.phrase),
            "place": float(q.place and bool(_PLACE_BEFORE.search(text, max(0, c.start - 16), c.start))),
        }

    @staticmethod
    def _sentence_features(q: QueryAnalysis, sentence: SentenceCandidates, text: str) -> dict[str, float]:
        years = {c.year for c in sentence.candidates if c.kind == "date" and c.year}
        commas = text.count(",", sentence.span.start, sentence.span.end)
        return {
            "year_match": float(bool(set(q.years) & years)),
            "year_wrong": float(bool(q.years) and bool(years) and not set(q.years) & years),
            "negative_yesno": float(sentence.negative and q.kind == "yesno"),
            "negative_other": float(sentence.negative and q.kind != "yesno"),
            "negation_yesno": float(q.kind == "yesno" and bool(NEGATION.search(text, sentence.span.start, sentence.span.end))),
            "list_commas": float(q.kind == "list") * min(1.0, commas / 3),
            "figure_question": float(q.kind == "figure"),
            "series": float(q.kind in ("list", "figure")
                            and bool(SERIES.search(text, sentence.span.start, sentence.span.end))),
            "length": min(1.0, (sentence.span.end - sentence.span.start) / 400),
        }

    # -- reading ------------------------------------------------------------------------------

    def settle(self, q: QueryAnalysis, hits: list[Hit]) -> Reading | None:
        """A reading decided before any candidate is weighed: no passages, a year no report
        covers, an acronym spelled out in a passage."""
        if not hits:
            return Reading(None, "no passage in the reports matches the question")
        uncovered = [y for y in q.years if y not in self._covered and not any(y in h.chunk.years for h in hits)]
        if q.years and len(uncovered) == len(q.years):
            return Reading(None, f"no report in the corpus covers {' or '.join(map(str, uncovered))} "
                                 f"(their figures are for {_spans(self._covered)})")
        if q.kind == "definition" and q.acronym:
            expansion = self._expansion(q.acronym, hits)
            if expansion:
                return Reading(expansion, None)
        return None

    def read(self, q: QueryAnalysis, hits: list[Hit], vector: np.ndarray | None) -> Reading:
        settled = self.settle(q, hits)
        if settled is not None:
            return settled
        every = self.all_options(q, hits, vector)
        options = [o for o in every if not self.excluded(q, o)]
        if not options:
            return Reading(None, self._nothing(q, every))
        index, probabilities = best_option(options, self.model.probabilities(options))
        options = [replace(o, probability=p) for o, p in zip(options, probabilities)]
        best = options[index]
        answer = self._answer(best)
        if best.probability < self.model.threshold:
            where = f"{self.index.documents[answer.doc_id].title}, {best.hit.chunk.section_label}"
            return Reading(None, f"not confident enough: the best candidate, “{_short(answer.text)}” in {where}, "
                                 f"has confidence {best.probability:.2f} (below {self.model.threshold:.2f})")
        if best.candidate is not None and best.candidate.kind in NUMERIC:
            answer = replace(answer, alternatives=tuple(self._alternatives(best, options)))
        return Reading(answer, None)

    def _nothing(self, q: QueryAnalysis, every: list[Option]) -> str:
        """The reason there is no candidate (``every``: the options before exclusion): what the
        passages hold instead, if anything."""
        kind = _KIND_NAMES.get(q.kind, "answer")
        published = {d.report_year for d in self.index.documents.values()}
        if q.report_years and not set(q.report_years) & published:
            years = ", ".join(map(str, q.report_years))
            return f"the corpus holds no report published in {years}"
        others = [o for o in every if o.candidate is not None and o.candidate.kind in NUMERIC]
        elsewhere = [o for o in others if _unowned_money(q, o)]
        if elsewhere:
            best = max(elsewhere, key=lambda o: o.features.get("overlap", 0.0))
            doc = self.index.documents[best.hit.chunk.doc_id]
            sentence = doc.text[best.sentence.span.start : best.sentence.span.end]
            return (f"the passages found give money, but none they tie to the agency asked about; the "
                    f"nearest: “{_short(sentence)}”")
        if q.years and others:
            asked = " or ".join(map(str, q.years))
            found = sorted({o.candidate.year for o in others if o.candidate.year is not None})
            if found:
                return (f"the passages found give no {kind} for {asked}; they speak of "
                        f"{', '.join(map(str, found[-4:]))}")
        return f"the passages found hold no {kind} for this question"

    def _alternatives(self, best: Option, options: list[Option]) -> list[Answer]:
        """The best figure of each other report for the same kind and year, when it differs."""
        out, seen = [], {best.hit.chunk.doc_id}
        c = best.candidate
        for o in sorted(options, key=lambda o: -o.probability):
            other, doc = o.candidate, o.hit.chunk.doc_id
            if other is None or doc in seen or other.kind != c.kind or other.secondary:
                continue
            if other.year != c.year or other.value == c.value or o.probability < self.model.threshold / 2:
                continue
            seen.add(doc)
            out.append(self._answer(o))
            if len(out) == 3:
                break
        return out

    def _expansion(self, acronym: str, hits: list[Hit]) -> Answer | None:
        """'What does UDAVIT stand for': the name written before "(UDAVIT)" in a passage."""
        pattern = re.compile(rf"\(\s*{re.escape(acronym)}\s*\)")
        for hit in hits[:READ_DEPTH]:
            text = self.index.documents[hit.chunk.doc_id].text
            for m in pattern.finditer(text, hit.chunk.char_start, hit.chunk.char_end):
                sentence = next((s for s in self._sentences(hit.row) if s.span.start <= m.start() < s.span.end), None)
                if sentence is None:
                    continue
                span = spelled_out(text, sentence.span.start, m.start(), acronym)
                if span is not None:
                    option = Option("name", {}, hit, sentence, Candidate(kind="name", start=span[0], end=span[1]), 0.9)
                    return self._answer(option)
        return None

    # -- records ------------------------------------------------------------------------------

    def _answer(self, o: Option) -> Answer:
        doc = self.index.documents[o.hit.chunk.doc_id]
        span = o.sentence.span
        c = o.candidate
        start, end = (c.start, c.end) if c is not None else (span.start, span.end)
        return Answer(
            text=doc.text[start:end],
            value=c.value if c is not None else None,
            unit=c.unit if c is not None else None,
            confidence=o.probability,
            chunk_id=o.hit.chunk.id,
            doc_id=doc.id,
            source=doc.source,
            char_start=start,
            char_end=end,
            sentence=doc.text[span.start : span.end],
            sentence_start=span.start,
            sentence_end=span.end,
            year=c.year if c is not None else None,
        )


def best_option(options: list[Option], own) -> tuple[int, list[float]]:
    """Which option the reader answers with, and every option's confidence (``marginal``: its
    answer's probability, summed over the answer's mentions). The most confident answer; of its
    mentions, the one most probable on its own (``own``), then the better-ranked passage."""
    probabilities = marginal(options, own)
    best = max(range(len(options)), key=lambda i: (probabilities[i], own[i], -options[i].hit.rank))
    return best, probabilities


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _year_features(q: QueryAnalysis, c: Candidate) -> dict[str, float]:
    f = {"year_stated": 0.0, "year_sentence": 0.0, "year_period": 0.0, "year_other_asked": 0.0, "year_wrong": 0.0,
         "year_unknown": 0.0, "no_year_asked": float(not q.years)}
    if q.years:
        if c.year == q.year:
            f["year_stated" if c.year_stated else "year_sentence" if c.year_source == "sentence" else "year_period"] = 1.0
        elif c.year in q.years:
            f["year_other_asked"] = 1.0
        elif c.year is not None:
            f["year_wrong"] = 1.0
        else:
            f["year_unknown"] = 1.0
    return f


def answer_key(option: Option) -> tuple:
    """What two options must share to be the same answer: a figure's value and year, a name's or
    date's text (wherever it is written), a sentence's place."""
    c = option.candidate
    if c is None:
        return ("sentence", option.hit.chunk.doc_id, option.sentence.span.start)
    if c.kind in NUMERIC:
        return ("figure", c.value, c.year)
    if option.same is not None:
        return (c.kind, option.same)
    chunk = option.hit.chunk
    text = _normal(chunk.text[c.start - chunk.char_start : c.end - chunk.char_start])
    return (c.kind, text) if text else (c.kind, chunk.doc_id, c.start)


_WITH_ACRONYM = re.compile(rf"(.*?)\s*{PARENTHESIZED.pattern}")  # "the Ministry of Interior (MOI)"


def _aliased(name: str, aliases: tuple[Alias, ...]) -> frozenset[str] | None:
    """The stems of the name an acronym of the report stands for, when ``name`` is that acronym
    ("MOI", "the MOI"), that name ("the Ministry of Interior") or both ("the Ministry of Interior
    (MOI)"); else None."""
    both = _WITH_ACRONYM.fullmatch(name.strip())
    written = [both.group(2), both.group(1)] if both else [name]
    for text in written:
        stems = analyze(text)
        for a in aliases:
            if tuple(stems) == a.acronym or frozenset(stems) == a.name:  # the analyzer drops "the"
                return a.name
    return None


def _normal(text: str) -> str:
    """A name's or date's text as two mentions of it compare: case, spacing, a leading "the" and
    punctuation do not count ("the Public Ministry" is "Public Ministry")."""
    words = re.findall(r"\w+", fold(text))
    return " ".join(words[1:] if words[:1] == ["the"] else words)


def marginal(options: list[Option], probabilities: np.ndarray) -> list[float]:
    """Each option's confidence: the probability of its answer, summed over every option that
    gives the same answer (the same figure found in two passages is one answer)."""
    totals: dict[tuple, float] = {}
    keys = [answer_key(o) for o in options]
    for key, p in zip(keys, probabilities):
        totals[key] = totals.get(key, 0.0) + float(p)
    return [totals[key] for key in keys]


def _mark_agreement(options: list[Option]) -> None:
    """A figure another report gives too (same value and year) is more likely right."""
    by_value: dict[tuple, set[str]] = {}
    for o in options:
        if o.candidate is not None and o.candidate.value is not None:
            by_value.setdefault((o.candidate.value, o.candidate.year), set()).add(o.hit.chunk.doc_id)
    for o in options:
        if o.family == "figure":
            o.features["agree"] = float(len(by_value.get((o.candidate.value, o.candidate.year), ())) > 1)


def _mark_best_cells(options: list[Option]) -> None:
    """A table cell whose row label (column header) matches the question best of all the cells of
    its passage: the question names its row (column), however small a share of the question's
    words the label is ("adults row, men column")."""
    best: dict[tuple[int, str], float] = {}
    cells = [o for o in options if o.family == "figure" and o.candidate.context]
    for o in cells:
        for key in ("row_match", "column_match"):
            best[(o.hit.row, key)] = max(best.get((o.hit.row, key), 0.0), o.features[key])
    for o in cells:
        for key, name in (("row_match", "row_best"), ("column_match", "column_best")):
            o.features[name] = float(o.features[key] > 0 and o.features[key] == best[(o.hit.row, key)])


def _unowned_money(q: QueryAnalysis, o: Option) -> bool:
    """Money asked of an agency, in a sentence that (with the one before) names none of the
    agencies the question gives: not that agency's money."""
    c = o.candidate
    return c is not None and q.kind == "money" and c.kind == "money" and o.features.get("names_missing") == 1.0


def _names_missing(names: list[tuple[Iterable[str], ...]], terms: frozenset[str]) -> float:
    """Share of the names the question gives ("Public Ministry", "MIMP") that a sentence (with
    the one before it) does not mention in any of their writings (``Aliases.writings``: as an
    acronym a report spells out, as the name an acronym stands for), synonyms counted."""
    if not names:
        return 0.0

    def present(stems) -> bool:
        return all(t in terms or any(a in terms for a in SYNONYMS.get(t, ())) for t in stems)

    return sum(1 for ways in names if not any(present(w) for w in ways)) / len(names)


def _names_agency(text: str, sentence: SentenceCandidates, aliases: tuple[Alias, ...]) -> bool:
    """Whether a sentence names an institution: "Ministry of ...", or an acronym the report
    spells out as an institution's name."""
    return bool(_MINISTRY.search(text, sentence.span.start, sentence.span.end)) or any(
        a.institution and all(t in sentence.terms for t in a.acronym) for a in aliases)


def _spans(years: list[int]) -> str:
    """[2005, 2015, 2016, 2017] -> "2005, 2015-2017"."""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
