"""Stage 2b: a ``Document`` -> the acronyms it spells out, read once when the index is built.

"the Ministry of Women and Vulnerable Populations (MIMP)": an ``Acronym`` is "MIMP" and the span
of its name in the raw text (``spelled_out`` reads the name backwards from the parenthesis).
``Aliases`` holds every report's acronyms as analyzer stems, for the stages that match words:
a question naming an agency by its acronym or by its name finds a passage that writes the other
(the reader), and one report's acronym finds another report's acronym for the same name,
"Ministry of the Interior (MININTER)" in one and "Ministry of Interior (MOI)" in another (the
search adds "MOI" to the BM25 query when "MININTER" is asked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from qa.analyze import analyze
from qa.data import Acronym, Document, Span
from qa.text import NAME_CONNECTORS

PARENTHESIZED = re.compile(r"\(\s*([A-Z][A-Z0-9-]{1,20})\s*\)")
_LOOKBACK = 300  # characters before "(MIMP)" a name is read in
_NAME_GLUE = frozenset({"the"})
_INSTITUTION = frozenset(analyze("ministry office police directorate prosecutor unit commission program institute agency "
                                 "department court judiciary government municipality congress secretariat council "
                                 "superintendency service division"))


def find_acronyms(doc: Document) -> list[Acronym]:
    """The acronyms ``doc`` spells out, each name once (at its first mention)."""
    found: dict[tuple[str, str], Acronym] = {}
    text = doc.text
    for m in PARENTHESIZED.finditer(text):
        span = spelled_out(text, max(0, m.start() - _LOOKBACK), m.start(), m.group(1))
        if span is not None:
            found.setdefault((m.group(1), text[span[0] : span[1]]), Acronym(m.group(1), Span(*span)))
    return list(found.values())


_NAME_WORDS = 16  # the longest name read before an acronym, in words and commas
_NAME_TOKEN = re.compile(r"[\w’'-]+|,")


def spelled_out(text: str, floor: int, end: int, acronym: str) -> tuple[int, int] | None:
    """The span of the name an acronym in parentheses at ``end`` spells out, read backwards no
    further than ``floor``: capitalized words with the small words between them ("Ministry of
    Women and Vulnerable Populations"), a list ("Valley of the Apurímac, Ene, and Mantaro
    Rivers"), a year range ("National Plan against Human Trafficking 2011 – 2016"), and lowercase
    words only between the last capitalized word and the parenthesis ("Specialized Prosecutor's
    Office in the crime of human trafficking"). An institution owning the name is dropped ("the
    Public Ministry's Victim and Witness Assistance Unit") unless its initials are more of the
    acronym's; another possessive is part of the name ("Women's Emergency Centers")."""
    stop = len(text[floor:end].rstrip())
    tokens = [(m.start(), m.end(), m.group()) for m in _NAME_TOKEN.finditer(text, floor, floor + stop)]
    start, capital, lowercase = None, False, 0
    for i in range(len(tokens) - 1, -1, -1):
        a, b, word = tokens[i]
        gap = text[b : tokens[i + 1][0]] if i + 1 < len(tokens) else text[b : floor + stop]
        if gap.strip(" \t–-"):
            break  # punctuation other than a comma or a dash between words ends the name
        if len(tokens) - i > _NAME_WORDS:
            break
        if word == ",":
            # a list inside the name ("Apurímac, Ene, and Mantaro"), not a list of names before
            # it ("MIMP, MININTER, and the Ministry of Labor")
            before, after = (tokens[i - 1][2] if i else ""), [t[2] for t in tokens[i + 1 : i + 3]]
            if not (capital and before[:1].isupper() and not before.isupper()
                    and (after[0][:1].isupper() or after[0] == "and" and after[1:2] and after[1][:1].isupper())):
                break
        elif word.lower() in NAME_CONNECTORS or re.fullmatch(r"(?:19|20)\d\d(?:[–-](?:19|20)?\d\d)?|[–-]", word):
            continue  # "The" opening a sentence is no name; a year range is part of one
        elif word[:1].isupper():
            start, capital = a, True
        elif not capital and lowercase < 6 and not word[0].isdigit() and not word.endswith("ed"):
            lowercase += 1  # "... Office in the crime of human trafficking (FISTRAP)"; not "trained 300 inspectors"
        else:
            break
    if start is None:
        return None
    name_end = floor + stop
    name = text[start:name_end]
    possessive = max(name.rfind("’s "), name.rfind("'s "))
    if possessive >= 0:
        letters = set(acronym.upper())

        def initials(part: str) -> int:
            words = [w for w in _NAME_TOKEN.findall(part) if w != "," and w.lower() not in NAME_CONNECTORS]
            return len({w[0].upper() for w in words} & letters)

        owner = frozenset(analyze(name[:possessive]))
        if owner & _INSTITUTION and initials(name[possessive + 3 :]) >= initials(name):
            start += possessive + 3
            # the name read starts at a capitalized word; what follows an owner may not
            while (first := text[start:name_end].split(" ", 1)[0]).lower() in NAME_CONNECTORS:
                start += len(first) + 1
    return (start, name_end) if start < name_end else None


@dataclass(frozen=True)
class Alias:
    """An acronym a report spells out, as stems: the acronym's ("mp", "fn" for "MP-FN"), its
    name's, and whether the name is an institution's (a ministry, an office, a police unit ...)."""

    acronym: tuple[str, ...]
    name: frozenset[str]
    institution: bool


class Aliases:
    """Every report's acronyms as stems (``Alias``), per report and all together."""

    def __init__(self, documents: Mapping[str, Document], acronyms: Mapping[str, Iterable[Acronym]]):
        self._by_doc: dict[str, tuple[Alias, ...]] = {}
        read: dict[tuple[str, str], Alias | None] = {}  # each (acronym, name) analyzed once, however many reports
        for doc_id, found in acronyms.items():
            text = documents[doc_id].text
            out = []
            for a in found:
                key = (a.acronym, text[a.name.start : a.name.end])
                if key not in read:
                    stems, name = tuple(analyze(key[0])), frozenset(analyze(key[1])) - _NAME_GLUE
                    read[key] = Alias(stems, name, bool(name & _INSTITUTION)) if stems and name else None
                if read[key] is not None:
                    out.append(read[key])
            self._by_doc[doc_id] = tuple(dict.fromkeys(out))
        self.all: tuple[Alias, ...] = tuple(dict.fromkeys(a for found in self._by_doc.values() for a in found))
        # a one-word acronym -> the other one-word acronyms written for the same name
        by_name: dict[frozenset[str], set[str]] = {}
        for a in self.all:
            if len(a.acronym) == 1:
                by_name.setdefault(a.name, set()).add(a.acronym[0])
        self._same: dict[str, set[str]] = {}
        for written in by_name.values():
            for term in written:
                self._same.setdefault(term, set()).update(written - {term})

    def of(self, doc_id: str) -> tuple[Alias, ...]:
        return self._by_doc.get(doc_id, ())

    def writings(self, name: tuple[str, ...]) -> tuple[Iterable[str], ...]:
        return writings(name, self.all)

    def expand(self, terms: Sequence[str]) -> list[str]:
        """BM25 terms, then for an acronym the other reports' acronyms for its name ("minint"
        asked: "moi" added), each once and not already asked."""
        out = list(terms)
        asked = set(terms)
        for term in terms:
            for other in sorted(self._same.get(term, ())):
                if other not in asked:
                    asked.add(other)
                    out.append(other)
        return out


def writings(name: tuple[str, ...], aliases: Iterable[Alias]) -> tuple[Iterable[str], ...]:
    """The ways a report may write a name a question gives, as stems: the name itself, the name
    an acronym stands for ("MINEDU": "Ministry of Education"), and the acronyms of a name holding
    it ("Interior Ministry": "MOI"; "MININTER": "MOI", another report's acronym for its name)."""
    asked = frozenset(name)
    aliases = tuple(aliases)
    stands_for = [a.name for a in aliases if asked == set(a.acronym)]
    written = [a.acronym for a in aliases if any(n <= a.name for n in (asked, *stands_for))]
    return tuple(dict.fromkeys((name, *stands_for, *written)))
