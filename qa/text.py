"""Text helpers shared by the stages: sentence spans, numbers, years, normalization."""

from __future__ import annotations

import re
import unicodedata

from qa.data import Span

# Abbreviations after which a period does not end a sentence (compared lower-cased, without the dot).
ABBREVIATIONS = frozenset(
    "u.s no nos mr mrs ms dr st jr sr av art arts inc ltd co corp vs e.g i.e etc approx "
    "dept gov jan feb mar apr jun jul aug sep sept oct nov dec n° nº s/ tel tlf fig p pp "
    "lic ing mt ft vol ed eds".split()
)

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=[\s\u00a0]+)")
_NEXT_START = re.compile(r"[\s\u00a0]+([\"'“‘(\[]?[A-Z0-9ÁÉÍÓÚÑ¿¡•+\-–])")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split ``text[start:end]`` into sentence spans (absolute offsets, whitespace trimmed).

    Line breaks always end a sentence; inside a line a sentence ends at ``.``, ``!`` or ``?``
    followed by space and a capital, a digit or a quote, unless the word before the period is
    an abbreviation ("U.S.", "No.") or a single initial.
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        line_end = start + line.end()
        cut = line_start
        for match in _BOUNDARY.finditer(text, line_start, line_end):
            stop = match.end()
            nxt = _NEXT_START.match(text, stop, line_end)
            if not nxt:
                continue
            word = re.search(r"(\S+)$", text[cut : match.start() + 1])
            token = word.group(1).lower().rstrip(".").lstrip("(\"'“‘") if word else ""
            if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
            spans.append(Span(cut, stop))
            cut = nxt.start(1)
        spans.append(Span(cut, line_end))
    return [s for s in (trim(text, s) for s in spans) if s.end > s.start]


def trim(text: str, span: Span) -> Span:
    s, e = span.start, span.end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return Span(s, e)


# ---------------------------------------------------------------------------------------------
# years

# the small words inside a proper name, between its capitalized words ("Ministry of Women and
# Vulnerable Populations", "Centro de Emergencia Mujer", "Commission to Fight Trafficking")
NAME_CONNECTORS = frozenset("of and for the against in on to de del la el y".split())

YEAR = re.compile(r"(?<![\d.,'/-])(19[5-9]\d|20[0-4]\d)(?![\d.,']\d)")


def years_in(text: str) -> tuple[int, ...]:
    """Distinct years printed in ``text`` (1950-2049), in order of first appearance."""
    seen: dict[int, None] = {}
    for match in YEAR.finditer(text):
        seen.setdefault(int(match.group(1)), None)
    return tuple(seen)


# ---------------------------------------------------------------------------------------------
# numbers

WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
NUMBER_WORD = re.compile(
    rf"\b(?:(?:{_TENS})(?:[-\s](?:{_UNITS}))?|{_UNITS}|ten|eleven|twelve|thirteen|fourteen|"
    rf"fifteen|sixteen|seventeen|eighteen|nineteen|zero|hundred)\b",
    re.IGNORECASE,
)

# A figure as printed: 1,134 / 3'803,268.50 / 6'485,049 / 813.815 / 7.5 / 91.82 / 1134
NUMERAL = re.compile(
    r"(?<![\w,'’])(?<!\d\.)(?:\d{1,3}(?:[,'’]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d])"
)


def parse_numeral(raw: str) -> float | None:
    """Value of a printed figure; thousands separators may be ``,`` ``'`` or (European) ``.``."""
    s = raw.strip().replace("’", "'")
    if not s or not s[0].isdigit():
        return None
    if re.fullmatch(r"\d{1,3}(?:\.\d{3}){1,}", s) and not re.fullmatch(r"\d\.\d{3}", s):
        s = s.replace(".", "")  # 813.815 -> 813815 (European grouping); 1.350 stays ambiguous
    s = s.replace(",", "").replace("'", "")
    try:
        return float(s)
    except ValueError:
        return None


def parse_number_words(raw: str) -> float | None:
    """``thirty-three`` -> 33, ``eight`` -> 8; ``None`` when ``raw`` is not a number word."""
    total = 0.0
    found = False
    for part in re.split(r"[-\s]+", raw.strip().lower()):
        if part in WORD_NUMBERS:
            value = WORD_NUMBERS[part]
            total = total * value if value == 100 and total else total + value
            found = True
        elif part:
            return None
    return total if found else None


def canonical_number(value: float) -> str:
    """Token form of a value: ``1134``, ``3803268.5``."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------------------
# normalization

_FOLD = str.maketrans(
    {"\u00a0": " ", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
    | {sup: " " for sup in "⁰¹²³⁴⁵⁶⁷⁸⁹"}
)


def fold(text: str) -> str:
    """Lower case, accents stripped, typographic quotes and dashes made plain."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
