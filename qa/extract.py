"""Candidate answers in a passage: figures with their unit, year and counted noun; dates;
names; table cells with their row and column; whole sentences.

Everything here is a pure function of the raw text, so a chunk's candidates are computed once
and cached by the reader. Offsets are absolute offsets into the raw file.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace

from qa.analyze import STOPWORDS, stem
from qa.chunking import _split_header
from qa.data import Chunk, Span
from qa.text import NAME_CONNECTORS, NUMBER_WORD, NUMERAL, SCALES, YEAR, fold, parse_number_words, parse_numeral

MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)")
_FIGURE = re.compile(
    rf"(?P<prefix>S/\.?\s*|US\$\s*|\$\s*)?(?P<num>{NUMERAL.pattern}|{NUMBER_WORD.pattern})"
    rf"(?P<scale>\s+(?:million|billion|thousand)\b)?(?P<pct>\s*%|\s+percent\b)?"
    rf"(?P<cur>[¹²³⁴⁵⁶⁷⁸⁹⁰]*\s+(?:nuevos\s+)?soles\b|\s+dollars\b|\s+USD\b)?",
    re.IGNORECASE,
)
_RANGE_TAIL = re.compile(rf"\s+to\s+(?:{NUMERAL.pattern}|{NUMBER_WORD.pattern})", re.IGNORECASE)
_DATE = re.compile(
    rf"(?:(?:early|mid|late)[- ])?(?:\d{{1,2}}\s+)?{MONTH}(?:\s+\d{{1,2}},)?\s+(?:19|20)\d\d"
    rf"|(?:between\s+)?{MONTH}\s+(?:and|to|-|–)\s+{MONTH}\s+(?:19|20)\d\d"
    rf"|{MONTH}\s+(?:19|20)\d\d\s*(?:-|–|to)\s*{MONTH}\s+(?:19|20)\d\d"
    rf"|(?:early|mid|late)[- ](?:19|20)\d\d"
    rf"|(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d"
    rf"|(?<![\d.,'/-])(?:19|20)\d\d(?![\d.,']\d|-\w)"
)
# words that make the next number a reference, not a count ("Article 153", "law 28950", "Tier 2")
_REFERENCE_WORDS = frozenset(
    "article articles law laws decree no nº n° resolution line option hotline tel tlf phone page chapter "
    "table ds tier level number axis goal target activity".split()
)
_NOT_NAMES = frozenset(
    "the a an in on at by for from to of and or but however although while during since according as this "
    "these those that there it its their they he she we our no not some several many most all each every "
    "other another further also if when where which who what how january february march april may june july "
    "august september october november december".split()
)
_NAME_HEADS = re.compile(r"[A-ZÁÉÍÓÚÑ][\w’'.&-]*|[A-Z]{2,}[\w-]*")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*[A-Z0-9]\b")


@dataclass(frozen=True)
class Candidate:
    kind: str  # count | money | percent | date | name | sentence
    start: int
    end: int
    value: float | None = None
    unit: str | None = None
    year: int | None = None
    year_source: str = ""  # stated (next to it), sentence (elsewhere in it), column, period (the report's)
    after: tuple[str, ...] = ()  # stems after it, up to the next figure
    noun: tuple[str, ...] = ()  # stems of the phrase right after it, up to punctuation (what it counts)
    before: tuple[str, ...] = ()  # stems right before it (at most 3, not past the previous figure)
    context: frozenset[str] = field(default_factory=frozenset)  # row, column and caption of a table cell
    secondary: bool = False  # a conversion in parentheses ("($1,132,940)") or a comparison figure
    part: bool = False  # a breakdown of an earlier figure ("216 victims, including 106 ...")
    denominator: bool = False  # the total in "28 of 31 districts"
    first: bool = False  # the first figure of its sentence
    word: bool = False  # spelled out ("four", "Thirty-three")
    reference: bool = False  # names the set a later figure counts in ("of the 25 regional governments, five")
    total: bool = False  # has breakdowns after it
    own: frozenset[str] = frozenset()  # a breakdown's words that its total does not have
    parts_own: frozenset[str] = frozenset()  # a total's breakdowns' own words
    modifier: bool = False  # used as an adjective ("a six-person section", "a 15-year minimum")
    phrase: bool = False  # a phrase after a cue ("such as pimping", "seek help at government shelters"), not a name

    @property
    def year_stated(self) -> bool:
        return self.year_source in ("stated", "column")


@dataclass(frozen=True)
class SentenceCandidates:
    span: Span
    terms: frozenset[str]
    candidates: tuple[Candidate, ...]
    negative: bool  # says a figure was not reported ("did not report", "no data")


_NEGATIVE = re.compile(
    r"\b(?:did not (?:report|provide|specify|collect|track|track|disaggregate)|does not (?:report|indicate|specify)|"
    r"not reported|no data|not available|unknown|without indicating|has not (?:reported|provided)|"
    r"there is no (?:report|information|source))\b",
    re.IGNORECASE,
)


def _stems(text: str) -> list[str]:
    return [stem(w) for w in re.findall(r"[a-z]+", fold(text)) if w not in STOPWORDS and len(w) > 1]


def _figure_value(match: re.Match) -> float | None:
    raw = match.group("num")
    value = parse_numeral(raw) if raw[0].isdigit() else parse_number_words(raw)
    if value is None:
        return None
    if match.group("scale"):
        value *= SCALES[match.group("scale").strip().lower()]
    return value


def _paren_regions(text: str) -> list[tuple[int, int]]:
    regions, stack = [], []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            regions.append((stack.pop(), i + 1))
    return regions


def _is_conversion(inner: str) -> bool:
    """A parenthetical that only restates an amount: "($1,132,940)", "($2.3 million)"."""
    return bool(re.fullmatch(r"\s*(?:approximately\s+)?(?:US\$|\$|S/\.?)\s*[\d.,']+(?:\s+(?:million|billion|thousand))?\s*", inner))


def figures_in(text: str, start: int, end: int, period_year: int | None) -> list[Candidate]:
    """Numbers in ``text[start:end]`` (one sentence) with unit, counted noun and year."""
    sentence = text[start:end]
    parens = _paren_regions(sentence)
    conversions = [(a, b) for a, b in parens if _is_conversion(sentence[a + 1 : b - 1])]
    years = [(m.start(), m.end(), int(m.group(1))) for m in YEAR.finditer(sentence)]
    date_spans = [(m.start(), m.end()) for m in _DATE.finditer(sentence) if not m.group().strip().isdigit()]
    found: list[tuple[re.Match, float]] = []
    for m in _FIGURE.finditer(sentence):
        value = _figure_value(m)
        if value is None:
            continue
        a, b = m.span("num")
        if any(s <= a < e for s, e in date_spans):
            continue  # the day or year of a date
        if YEAR.fullmatch(m.group("num")) and not (m.group("prefix") or m.group("cur") or m.group("pct")):
            continue  # a year
        before_word = re.search(r"([A-Za-zº°.]+)\s*$", sentence[max(0, a - 16) : a])
        if before_word and before_word.group(1).lower().rstrip(".") in _REFERENCE_WORDS:
            continue  # Article 153, law 28950, Tier 2
        if re.match(r"-\d", sentence[b : b + 2]) or re.search(r"\d-$", sentence[max(0, a - 2) : a]):
            continue  # part of a code (005-2016-IN, 0800-2-3232) or of a hyphenated range
        found.append((m, value))

    def in_conversion(m: re.Match) -> bool:
        return any(x <= m.start() and m.end() <= y for x, y in conversions)

    main = [m for m, _ in found if not in_conversion(m)]
    figure_starts = [m.start() for m in main]
    out: list[Candidate] = []
    covered = 0  # end of the last range ("eight to 15 years"): figures inside it are not new
    for i, (m, value) in enumerate(found):
        a, b = m.start(), m.end()
        if a < covered:
            continue
        stop = b
        tail = _RANGE_TAIL.match(sentence, b)
        if tail and not m.group("prefix"):
            stop = tail.end()
        later = [m2 for m2 in main if m2.start() >= stop]
        of = later and re.fullmatch(r"\s+(?:of|out of)\s+", sentence[stop : later[0].start()])
        window_from = later[0].end() if of else stop  # "28 of 31 judicial districts": 28 counts districts
        unit_match = re.match(r"\s+(?:(?:of|the|these|those)\s+)*([A-Za-z][\w-]*)", sentence[window_from:])
        kind, unit = "count", None
        if m.group("pct"):
            kind, unit = "percent", "%"
        elif m.group("prefix") or m.group("cur"):
            kind = "money"
            marker = (m.group("prefix") or m.group("cur") or "").strip().lower()
            unit = "USD" if "$" in marker or "dollar" in marker or "usd" in marker else "soles"
        elif unit_match:
            unit = unit_match.group(1)
        if kind == "count" and tail and unit and unit.lower() in ("years", "year") and unit_match.start(1) == 1:
            stop += len(unit_match.group(0))  # "eight to 15 years"
            window_from = max(window_from, stop)
        covered = stop
        inside = [(x, y) for x, y in parens if x < a and b <= y and (x, y) not in conversions]
        year, source = _year_for(sentence, a, window_from, years, figure_starts, parens, conversions, inside)
        if year is None and period_year is not None:
            year, source = period_year, "period"
        next_start = next((m2.start() for m2 in main if m2.start() >= window_from), len(sentence))
        previous_end = max((m2.end() for m2 in main if m2.end() <= a), default=0)
        between = sentence[previous_end:a]
        part = bool(previous_end) and bool(re.search(r"\bincluding\b|\bof (?:which|whom)\b|[–:]|\s-\s|\(", between)
                                           or out and out[-1].part and _LIST_NEXT.search(between))
        out.append(Candidate(
            kind=kind, start=start + a, end=start + (stop if kind == "count" else b), value=value, unit=unit,
            year=year, year_source=source, after=tuple(_stems(sentence[window_from:next_start])[:8]),
            noun=_noun(sentence[window_from:next_start]),
            before=tuple(_stems(between)[-6:]), secondary=in_conversion(m) or bool(inside), part=part,
            denominator=bool(previous_end) and bool(re.fullmatch(r"\s*(?:of|out of)\s*", between)),
            first=not previous_end, word=m.group("num")[0].isalpha(),
            reference=bool(re.search(r"\b(?:of|among|out of)(?: the| these| those)?\s*$", sentence[max(0, a - 14) : a],
                                     re.IGNORECASE)),
            modifier=bool(re.match(r"-[A-Za-z]", sentence[b : b + 2])),
        ))
    return _relate(sentence, start, out, parens, conversions)


_LIST_NEXT = re.compile(r"^[^;()]*(?:,|\band)\s*$")  # "including 61 for sex trafficking, 21 for ...": a breakdown goes on


def _relate(sentence: str, start: int, out: list[Candidate], parens, conversions) -> list[Candidate]:
    """Figures in one sentence that speak of each other: a comparison in parentheses
    ("865 operations in 2017 (764 in 2016)") counts what the figure before it counts; a breakdown
    ("216 victims, including 106 subjected to labor trafficking") has the year of its total when
    it names none, and keeps its own words (``own``: those the total's do not share)."""
    main = [c for c in out if not c.part and not c.secondary]
    for i, c in enumerate(out):
        if c.secondary and not any(x <= c.start - start < y for x, y in conversions):
            before = next((p for p in reversed(main) if p.end <= c.start), None)
            if before is not None:
                out[i] = c = replace(c, after=tuple(dict.fromkeys(before.after[:3] + c.after)),
                                     noun=c.noun or before.noun, unit=c.unit or before.unit)
        if c.part:
            total = next((p for p in reversed(out[:i]) if not p.part and not p.secondary), None)
            if total is None:
                continue
            if c.year_source in ("", "period") and total.year_source in ("stated", "sentence"):
                c = replace(c, year=total.year, year_source=total.year_source)
            own = frozenset(set(c.noun or c.after[:3]) - set(total.noun or total.after[:4]) - set(total.before))
            out[i] = replace(c, own=own)
            j = out.index(total)
            out[j] = replace(out[j], total=True, parts_own=out[j].parts_own | own)
    return out


_NOUN_END = re.compile(r"[—–,;:()\[\]]|\s-\s|\s(?:to|in|for|from|with|by|at|on|during|under|between|into|after|"
                       r"before|since|as|who|which|that|were|was|are|is|have|has|had|and)\s", re.IGNORECASE)


def _noun(text: str) -> tuple[str, ...]:
    """Stems of the phrase a figure counts: "28 beds", "865 anti-trafficking operations in 2017"
    -> anti, traffick, oper; "Thirty-three of these cases resulted ..." -> case, result."""
    text = re.sub(r"^\s*(?:of|out of)\s+(?:(?:these|those|the|which|whom)\b)?\s*", " ", text)
    return tuple(_stems(_NOUN_END.split(text + ",", maxsplit=1)[0])[:6])


def _year_for(sentence, a, b, years, figure_starts, parens, conversions, inside) -> tuple[int | None, str]:
    """The year a figure is about, and where it was found: inside its own parentheses or the
    first year after it before the next figure or clause ("stated"), else the nearest year
    before it in its clause ("stated"), else a year opening the sentence or the nearest one
    before it anywhere in the sentence ("sentence")."""
    if inside:
        x, y = min(inside, key=lambda r: r[1] - r[0])
        in_paren = [yr for s, e, yr in years if x <= s and e <= y and not (s <= a < e)]
        if in_paren:
            return in_paren[0], "stated"
    limit = min([s for s in figure_starts if s >= b] + [len(sentence)])
    for match in re.finditer(r"[;(]", sentence[b:limit]):
        pos = b + match.start()
        if sentence[pos] == "(" and any(x == pos for x, _ in conversions):
            continue
        limit = pos
        break
    for s, e, yr in years:
        if b <= s < limit and not _in_other_paren(s, a, parens, conversions):
            return yr, "stated"
    floor = max([s for s in figure_starts if s < a] + [sentence.rfind(";", 0, a) + 1, 0])
    outside = [(s, yr) for s, e, yr in years if s < a and not _in_other_paren(s, a, parens, conversions)]
    near = [yr for s, yr in outside if s >= floor]
    if near:
        return near[-1], "stated"
    opening = re.match(r"\W*(?:in|during|by|for|since|as of|until)?\s*(?:\w+\s+)?((?:19|20)\d\d)\b", sentence, re.IGNORECASE)
    if opening and opening.start(1) < 25:
        return int(opening.group(1)), "sentence"
    if outside:
        return outside[-1][1], "sentence"
    closing = _CLOSING_YEAR.search(sentence, b)
    if closing and not _COMPARED.search(sentence, b, closing.start()):
        return int(closing.group(1)), "sentence"
    return None, ""


# a year closing the sentence ("... prosecuted 121 suspects ... and convicted 233 defendants in 2021.")
_CLOSING_YEAR = re.compile(r"\b(?:in|during)\s+((?:19|20)\d\d)\W*$")
_COMPARED = re.compile(r"\(|\b(?:compar\w*|than|from|versus|vs|up|down|increas\w*|decreas\w*|previous\w*|prior|"
                       r"while|whereas|last|before)\b", re.IGNORECASE)


def _in_other_paren(pos: int, a: int, parens, conversions) -> bool:
    """True when ``pos`` is inside a parenthesis (not a conversion) that does not hold the figure."""
    return any(x < pos < y and not (x < a < y) and (x, y) not in conversions for x, y in parens)


def dates_in(text: str, start: int, end: int) -> list[Candidate]:
    sentence = text[start:end]
    out = []
    for m in _DATE.finditer(sentence):
        years = [int(y) for y in re.findall(r"(?:19|20)\d\d", m.group())]
        bare = m.group().strip().isdigit()
        out.append(Candidate(kind="date", start=start + m.start(), end=start + m.end(), year=years[-1] if years else None,
                             year_source="stated", before=tuple(_stems(sentence[max(0, m.start() - 60) : m.start()])[-6:]),
                             after=tuple(_stems(sentence[m.end() : m.end() + 60])[:5]), secondary=bare))
    return out


def names_in(text: str, start: int, end: int) -> list[Candidate]:
    """Proper names and acronyms: "the Ministry of Justice", "Tren de Aragua", "MOI",
    "Article 153", "Supreme Decree No. 001-2016-IN"."""
    sentence = text[start:end]
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[\w’'./&°º-]+", sentence)]
    out: list[Candidate] = []
    i = 0
    while i < len(tokens):
        s, e, word = tokens[i]
        clean = word.strip(".,'’")
        starts = (clean and clean[0].isalpha() and not any(ch.isdigit() for ch in clean)
                  and (clean[0].isupper() or _ACRONYM.fullmatch(clean)))
        if not starts or clean.lower() in _NOT_NAMES:
            i += 1
            continue
        last, j = i, i
        while j + 1 < len(tokens) and not _ends_name(tokens[j][2]):
            nxt = tokens[j + 1][2].strip(".,'’")
            if sentence[tokens[j][1] : tokens[j + 1][0]].strip() or not nxt:
                break
            if nxt[0].isupper() or (nxt[0].isdigit() and last == j) or nxt.lower() in ("no.", "no", "n°", "nº"):
                last = j + 1
            elif nxt.lower() not in NAME_CONNECTORS:
                break
            j += 1
        capitals = sum(1 for k in range(i, last + 1) if tokens[k][2][:1].isupper() or tokens[k][2][:1].isdigit())
        if i == 0 and capitals < 2 and not _ACRONYM.fullmatch(clean):
            i = last + 1  # a capitalized first word of the sentence is not a name by itself
            continue
        a, b = s, tokens[last][1]
        while b > a and sentence[b - 1] in ".,;:’'":
            b -= 1
        b -= 2 if sentence[a:b].endswith(("’s", "'s")) else 0
        acro = re.match(r"\s*\(([A-Z][A-Z0-9-]+)\)", sentence[b:])
        if acro:
            b += acro.end()
        if i > 0 and tokens[i - 1][2].lower() == "the":
            a = tokens[i - 1][0]
        out.append(_name(sentence, start, a, b))
        part_of = _PART_OF.match(sentence, a, b)
        if part_of:  # "Article 168-B of Legislative Decree No.1232": the instrument is a name too
            out.append(_name(sentence, start, part_of.start(1), b))
        i = last + 1
    return out


_CUE = re.compile(r"\b(?:such as|in the form of|particularly in|at|in|are|were|as)\s+", re.IGNORECASE)
_NOT_ADVERBS = frozenset("family supply assembly ally rally anomaly monopoly".split())
_PHRASE_TOKEN = re.compile(r"[\w’'/-]+|[^\w\s]")
_PHRASE_STOP = frozenset("""of for to with from in on at by as than that which who whom whose but while because when where
    if after before during since until or nor would could should can will did does has have had is are was were be been
    not including through into between among against
    found made held given taken seen known done sent kept brought sold led paid left told put set run become""".split())


def phrases_in(text: str, start: int, end: int) -> list[Candidate]:
    """What follows a cue, up to the clause's end (at most six words): "offenses, such as pimping",
    "could seek help at government domestic violence shelters", "most victims are girls and young
    women moved ...", "a court in Cusco issued". The answers to where / what form / which offense
    questions that are not proper names."""
    sentence = text[start:end]
    out: list[Candidate] = []
    for cue in _CUE.finditer(sentence):
        kept = []
        for w in itertools.islice(_PHRASE_TOKEN.finditer(sentence, cue.end()), 7):
            word = w.group()
            low = word.lower()
            if not re.match(r"[\w’']", low) or low in _PHRASE_STOP:
                break  # punctuation, a preposition or conjunction ends it
            if low.endswith("ly") and word[0].islower() and low not in _NOT_ADVERBS:
                break  # an adverb: "moved internally"
            if low.endswith("ed") and (kept or cue.group().strip().lower() in ("are", "were", "as")):
                break  # a verb after the phrase ("women moved"), or "were exploited" (no phrase at all)
            kept.append(w)
        while kept and kept[-1].group().lower() in ("and", "the", "a", "an"):
            kept.pop()
        if not kept or len(kept) > 6 or kept[0].group()[0].isdigit() or not _stems(" ".join(w.group() for w in kept)):
            continue
        out.append(_name(sentence, start, kept[0].start(), kept[-1].end(), phrase=True))
    return out


def _name(sentence: str, start: int, a: int, b: int, phrase: bool = False) -> Candidate:
    """A name (or cued phrase) candidate at ``sentence[a:b]`` (``start``: the sentence's offset in
    the file), with the words around it."""
    return Candidate(kind="name", start=start + a, end=start + b, phrase=phrase,
                     before=tuple(_stems(sentence[max(0, a - 60) : a])[-6:]),
                     after=tuple(_stems(sentence[b : b + 60])[:5]))


_PART_OF = re.compile(r"[^\n]*?\d\S*\s+of\s+((?:the\s+)?[A-Z][^\n]*)")


def _ends_name(token: str) -> bool:
    """A token ending in a period ends a name, unless it is "No." or an initial ("U.S.")."""
    return token.endswith(".") and token.lower() not in ("no.", "n°.", "nº.") and not re.fullmatch(r"(?:[A-Z]\.)+", token)


# -- tables -------------------------------------------------------------------------------------


def _cells(text: str, span: Span) -> list[Span]:
    cells, pos = [], span.start
    for part in text[span.start : span.end].split("\t"):
        cells.append(Span(pos, pos + len(part)))
        pos += len(part) + 1
    return cells


def table_cells(text: str, chunk: Chunk, period_year: int | None) -> list[tuple[int, Candidate]]:
    """(row index in chunk.sentences, candidate) for every figure in a table chunk's data rows.
    A cell's context is its row label, its column header and the table's caption."""
    lines = [s for s in chunk.sentences if "\t" not in text[s.start : s.end]]
    rows = [(i, s) for i, s in enumerate(chunk.sentences) if "\t" in text[s.start : s.end]]
    header_lines: list[str] = []
    caption = " ".join(text[s.start : s.end] for s in lines)
    if chunk.context:
        context_rows = [r for r in chunk.context.split("\n") if "\t" in r]
        caption = " ".join(r for r in chunk.context.split("\n") if r.strip() and "\t" not in r) or caption
        header_lines = context_rows
        data = rows
    else:
        n_header, _ = _split_header([text[s.start : s.end] for _, s in rows]) if rows else (0, False)
        header_lines = [text[s.start : s.end] for _, s in rows[:n_header]]
        data = rows[n_header:]
    width = max((len(h.split("\t")) for h in header_lines), default=0)
    columns = [""] * width
    for number, header in enumerate(header_lines):
        cells = header.split("\t")
        group = number < len(header_lines) - 1  # an upper header row spans the empty cells after it
        filled = ""
        for c in range(1, width):
            cell = cells[c].strip() if c < len(cells) else ""
            filled = cell or (filled if group else "")
            columns[c] = f"{columns[c]} {filled}".strip()
    caption_years = [int(y) for y in YEAR.findall(caption)]
    caption_stems = _stems(caption)
    money_table = bool(re.search(r"soles|budget|S/|\$", caption + " ".join(header_lines), re.IGNORECASE))
    out = []
    for i, row in data:
        spans = _cells(text, row)
        label = text[spans[0].start : spans[0].end].strip() if spans else ""
        for c, cell in enumerate(spans[1:], start=1):
            raw = text[cell.start : cell.end]
            m = _FIGURE.search(raw)
            if not m or m.group("num")[0].isalpha():
                continue
            value = _figure_value(m)
            if value is None:
                continue
            column = columns[c] if c < len(columns) else ""
            col_years = [int(y) for y in YEAR.findall(column)]
            year = col_years[-1] if col_years else (caption_years[0] if len(caption_years) == 1 else None)
            source = "column" if col_years else "sentence" if len(caption_years) == 1 else ""
            if year is None and period_year is not None:
                year, source = period_year, "period"
            pct = bool(m.group("pct")) or "%" in column
            kind = "percent" if pct else "money" if (money_table or m.group("prefix")) else "count"
            a, b = m.span()
            out.append((i, Candidate(
                kind=kind, start=cell.start + a, end=cell.start + b, value=value,
                unit="%" if pct else ("soles" if kind == "money" else None), year=year, year_source=source,
                after=_label_terms(column), before=_label_terms(label),
                context=frozenset(_stems(label) + _stems(column) + caption_stems),
            )))
    return out


def _label_terms(label: str) -> tuple[str, ...]:
    """A row label's or column header's stems and numbers ("aged 12-17" -> age, 12, 17)."""
    return tuple(_stems(label) + re.findall(r"\d+", label))


def sentence_candidates(text: str, chunk: Chunk, period_year: int | None) -> list[SentenceCandidates]:
    """Every sentence of a chunk with its candidates (table chunks: one entry per row)."""
    out = []
    cells: dict[int, list[Candidate]] = {}
    if chunk.kind == "table":
        for i, cand in table_cells(text, chunk, period_year):
            cells.setdefault(i, []).append(cand)
    for i, span in enumerate(chunk.sentences):
        sentence = text[span.start : span.end]
        if chunk.kind == "table" and "\t" in sentence:
            found = cells.get(i, [])
            terms = frozenset(_stems(sentence)) | frozenset().union(*(c.context for c in found))
        else:
            names = names_in(text, span.start, span.end)
            spans = {(c.start, c.end) for c in names}
            found = (figures_in(text, span.start, span.end, period_year) + dates_in(text, span.start, span.end)
                     + names + [c for c in phrases_in(text, span.start, span.end) if (c.start, c.end) not in spans])
            terms = frozenset(_stems(sentence))
        out.append(SentenceCandidates(span, terms, tuple(found), bool(_NEGATIVE.search(sentence))))
    return out

