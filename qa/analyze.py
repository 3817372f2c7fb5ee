"""Stage 4b: text -> BM25 terms, and a question -> what it asks about.

The analyzer lower-cases, strips accents, drops stop words, stems (Snowball English) and
writes every figure in one canonical form, so "1,134", "1134" and "1,134.00" are one term,
"S/. 3'803,268.50" is ``soles 3803268.5`` and "thirty-three" is ``33``.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

import snowballstemmer

from qa.text import NUMBER_WORD, NUMERAL, YEAR, canonical_number, fold, parse_number_words, parse_numeral

ANALYZER_VERSION = 2
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


_local = threading.local()


def _stemmer():
    """One Snowball stemmer per thread: a stemmer keeps state while it works and is not
    safe to share between the service's threads."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


# British spellings analysts type, and the American ones the reports use
SPELLINGS = {"labour": "labor", "programme": "program", "organisation": "organization", "organisations": "organizations",
             "centre": "center", "centres": "centers", "defence": "defense", "offence": "offense",
             "offences": "offenses", "judgement": "judgment", "favour": "favor", "criminalise": "criminalize",
             "criminalised": "criminalized", "recognise": "recognize", "authorised": "authorized"}


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(SPELLINGS.get(word, word))


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
    r"|report\s+(?:of|from|for)\s+(?:19|20)\d\d|(?:19|20)\d\d\s+(?-i:TIP)|(?-i:TIP)\s+(?:report\s+)?(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


_ASKS = re.compile(r"\b(?:how|what|which|who|whom|when|where|did|does|do|is|are|was|were)\b")
_ASKED_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"  # a year a question can ask about
_RELATIVE_YEAR = re.compile(rf"\bthe year (after|before) ({_ASKED_YEAR})\b", re.IGNORECASE)


AnswerKind = str  # count | money | percent | figure | date | name | list | yesno | definition | sentence

# words that say what is asked, not what it is about
QUESTION_WORDS = frozenset(
    stem(w) for w in """how many much number numbers amount report reports according tip year years peru
    peruvian state department many give figure value what which who whom when where did does do was were
    is are has have had many much exist existed list name named say says said per alternative ngo""".split()
)
CHANGE_WORDS = frozenset(stem(w) for w in "increase increased decrease decreased fall fell drop dropped decline declined "
                         "rise rose grow grew growth reduction reduced cut more fewer less change changed".split())
_MONEY_WORDS = re.compile(r"\b(?:budget|budgets|spend|spent|spending|allocat\w*|implement\w*|execut\w*|fund\w*|"
                          r"soles|dollars?|usd|cost|costs|money|investment|invested|financ\w*|dedicat\w*)\b|\$|s/")
# words analysts use for what the reports say otherwise (stems); the reader counts either as a match
SYNONYMS = {
    "guilti": ("convict",), "verdict": ("convict", "decis"), "sentenc": ("convict",), "convict": ("sentenc",),
    "acquitt": ("acquit",), "acquit": ("acquitt",), "capac": ("accommod",), "accommod": ("capac",),
    "bed": ("capac",), "spend": ("spent", "dedic", "alloc", "budget"), "spent": ("dedic", "alloc", "budget"),
    "fund": ("budget",), "budget": ("fund",), "implement": ("execut",), "execut": ("implement",), "survivor": ("victim",), "victim": ("survivor",),
    "shelter": ("car", "resid"), "arrest": ("detain",), "detain": ("arrest",), "staff": ("offic", "agent"),
    "headcount": ("offic",), "ruling": ("decis",), "decis": ("ruling",), "rescu": ("identifi",),
    "found": ("identifi",), "identifi": ("rescu",), "trial": ("prosecut",), "prosecut": ("trial",),
    "women": ("femal",), "men": ("male",), "girl": ("femal",), "boy": ("male",), "kid": ("child", "minor"),
    "minor": ("child", "underag"), "child": ("minor",), "ministri": ("minist",), "art": ("articl",),
    "penalti": ("imprison",), "preced": ("previous", "prior"),
}


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    terms: tuple[str, ...]  # BM25 terms, years left out (years steer, they do not match text)
    years: tuple[int, ...]  # years the question is about; the last one named is the one asked for
    report_years: tuple[int, ...]  # years that name a report ("the 2018 TIP report")
    report_words: tuple[str, ...] = ()  # words before "report" that may name one ("US TIP", "alternative")
    kind: AnswerKind = "sentence"
    target: tuple[str, ...] = ()  # stems of what the question is about (question words left out)
    context: frozenset[str] = frozenset()  # terms only a clause other than the asking one gives
    head: tuple[str, ...] = ()  # stems of the thing counted ("how many shelter beds" -> shelter, bed)
    wants_usd: bool = False
    change: bool = False  # asks about a change ("by how much did it fall")
    acronym: str | None = None  # "what does UDAVIT stand for"
    type_terms: tuple[str, ...] = ()  # "which ministry ..." -> ministri: the kind of name wanted
    numbers: tuple[str, ...] = ()  # figures the question itself gives (not years)
    subset: bool = False  # "how many of the X ...": a part of a larger figure
    names: tuple[tuple[str, ...], ...] = ()  # stems of each name the question gives ("Public Ministry", "MIMP")
    place: bool = False  # asks where ("where was the court", "in which part of Peru")

    @property
    def year(self) -> int | None:
        return self.years[-1] if self.years else None


_LIST_NOUNS = (r"countries|regions|provinces|languages|cities|groups|services|sectors|agencies|ministries|donors|"
               r"systems|institutions|organizations|municipalities|departments")
_NAME_NOUNS = (r"ministry|agency|institution|body|organi[sz]ation|unit|directorate|office|gang|court|article|decree|"
               r"law|entity|instrument|offen[sc]e|crime|tier|group|number|country|region|city|ngo|system|program|plan|"
               r"area|place|form|location")


_TOPIC = re.compile(r"[^:?;]{1,80}?(?::|\s[-–—])\s+(?=(?:what|which|how|who|whom|where|when|why|is|are|was|were|did|"
                    r"does|do|has|have|had|can|could|any|according)\b)", re.IGNORECASE)


def _asked(question: str) -> str:
    """The question without a topic put before it ("2006 TIP: which hotline ...", "2023 TIP - is
    there any shelter ..."). Not an aside ("How many victims - adults and children - were ..."),
    nor a topic that holds what is asked ("Number of convictions in 2017: what was it?")."""
    topic = _TOPIC.match(question)
    if topic is None or _ASKS.search(fold(topic.group())):
        return question
    rest = question[topic.end() :]
    named = [t for t in analyze(rest) if t not in QUESTION_WORDS and not is_year_term(t)]
    return rest if named else question


def answer_kind(question: str) -> AnswerKind:
    """The kind of answer a question wants, from its wording."""
    question = _asked(question)
    f = fold(question).strip()
    money = bool(_MONEY_WORDS.search(f))
    if re.search(r"\b(?:percentage|percent|proportion)\b|%|\bwhat share\b", f) or \
            re.search(r"(?<!-)\brates?\b", f) and not re.search(r"\bhow (?:many|much)\b|\bexchange rate|\bper [\d,]+", f):
        return "percent"  # "budget execution rate"; not "exchange rate", "rate per 100,000"
    if re.search(r"\bhow much\b", f):
        return "money"
    if re.search(r"\bhow many\b|\bnumber of\b|\bhow large\b|\bheadcount\b|\bcapacity\b|\bhow big\b", f):
        return "count"
    if re.search(r"\bgive the\b.*\b(?:figure|number|total)\b|\bwhat (?:was|is|were) the\b.*\b(?:number|figure|total)\b", f):
        return "figure"
    if re.search(r"\b(?:what year|which year|what date|since when|what month|by what date|time ?frame|"
                 r"publication date|date of)\b|(?:^\W*|[,;:?(\[–—-]\s*|\b(?:and|so|but|until|till)\s+)when\b"
                 r"|\bwhen\s+(?:did|does|do|is|are|was|were|has|have|had|will|would)\b|\bwhen\W*$", f):
        # not "minimum prison term for forced labor when the victim is under 14"
        return "date"
    if re.search(r"\bstands? for\b|\bmeaning\b|\bdefinition\b|\bdefine\b|\bacronym\b|\bwhat does \w+ mean\b", f) \
            or not question.isupper() and re.fullmatch(r"\W*(?i:what (?:is|are|was|were) (?:the )?)[A-Z][A-Z0-9-]{2,}\W*",
                                                        question.strip()):
        return "definition"  # "what is UDAVIT?": an acronym alone is asked to be spelled out
    if re.search(r"^(?:(?:according to [^,]*, )?(?:did|does|do|is|are|was|were|has|have|had|can|could|must|will|should)|"
                 r"any)\b|[:,] (?:any|did|does|is|are|was|were|has|have)\b", f):
        return "yesno"
    if re.search(rf"\b(?:which|what)\s+(?:\w+\s+){{0,2}}(?:{_LIST_NOUNS})\b|\blist\b|\bwhere (?:are|were)\b", f) or \
            re.match(rf"(?:\w+\s+)?(?:{_LIST_NOUNS})\b", f):
        return "list"
    if re.search(rf"^who\b|\bwho (?:is|are|was|were|leads?|led|runs?|heads?|remained)\b|^where\b|\bin (?:which|what) part\b|"
                 rf"\b(?:which|what)\s+(?:(?!(?:did|does|do|was|is|were|are|has|have|had)\b)\w+\s+){{0,2}}(?:{_NAME_NOUNS})\b|\btier\b|\blead agency\b", f):
        return "name"
    if money and re.match(r"(?:what|how)\b", f) and not re.search(r"\b(?:on|for)\W*$", f):
        return "money"  # "what did MIMP spend on victims in 2016"; not "what did it spend its budget on"
    if re.search(r"^(?:what|which|where|how|why|who|in what|on what|to what|to which)\b", f):
        return "sentence"
    if re.search(r"\bshare of\b", f):
        return "percent"
    if money:
        return "money"
    if re.match(rf"(?:[\w-]+\s+){{0,3}}(?:{_NAME_NOUNS})\s+(?:from|in|that|which|who|\w+ing)\b", f):
        return "name"  # "transnational criminal gang from Venezuela ...": what is named first is asked for
    return "figure"  # keyword style ("diplomats trained by MRREE"): a figure if one fits, else a sentence


MEASURES = frozenset(stem(w) for w in "capacity total budget amount sum population rate share size".split())
_HEAD_STOP = re.compile(r"(?:about|by|in|of|for|from|with|to|on|at|under|who|that|which|whose|during|per|"
                        r"did|does|do|were|was|are|is|have|has|had|exist|existed|according|\d.*|\(.*)$")


# after the head's first word, a determiner opens another phrase: "older cases the police unit kept working on"
_DETERMINER = re.compile(r"the|a|an|its|their|these|those|this")
_ED_NOUNS = frozenset({"bed", "need", "seed", "shed", "speed", "hundred"})  # not past participles


def _participle(word: str) -> bool:
    return word.endswith("ed") and word not in _ED_NOUNS


def _head(question: str) -> tuple[str, ...]:
    """Stems of what is counted: after "how many"/"number of", or a keyword query's first words
    ("micro informative radio broadcasts about ..." -> micro, inform, radio, broadcast); in the
    topic put before the question when the question names nothing ("victims referred in 2021 -
    how many?")."""
    asked = _asked(question)
    head = _head_of(asked) or (_head_of(question) if asked != question else ())
    if not head:  # "Did police arrest fewer suspected traffickers ...? How many were arrested?"
        named = re.search(r"\b(?:more|fewer)\s+(?!or\b)(.*)", fold(question))
        if named:
            head = _phrase(named.group(1))
    return head


def _head_of(question: str) -> tuple[str, ...]:
    folded = fold(question)
    match = re.search(r"\b(?:how many|number of|total number of|how much)\s+(?:of the\s+)?(.*)", folded)
    if match:
        return _phrase(match.group(1))
    if re.match(r"(?:what|which|where|how|why|who|when|did|does|do|is|are|was|were)\b", folded):
        return ()
    return _phrase(folded)


def _phrase(text: str) -> tuple[str, ...]:
    """Stems of the noun phrase ``text`` opens (at most six words, up to a preposition, verb or figure)."""
    head = []
    for word in text.split()[:6]:
        word = word.strip(",.;:?!'\"")
        if word == "&":
            continue
        if not re.search(r"\w", word) or _HEAD_STOP.match(word) or (head and (_participle(word) or _DETERMINER.fullmatch(word))):
            break
        if word not in STOPWORDS:
            head.extend(stem(w) for w in word.split("-") if w and w not in STOPWORDS)  # as the text's words are
    return tuple(w for w in head if w not in QUESTION_WORDS)


def _shift_year(m: re.Match) -> str:
    year = int(m.group(2)) + (1 if m.group(1).lower() == "after" else -1)
    return str(year) if re.fullmatch(_ASKED_YEAR, str(year)) else m.group()


_REPORT_NAME = re.compile(r"((?:[\w.’'-]+[ \t]+){1,3})reports?\b", re.IGNORECASE)
_NOT_REPORT_NAME = STOPWORDS | frozenset("per according previous last latest media government y de".split())


def _report_words(scope: str) -> tuple[str, ...]:
    """The words right before "report" ("the US TIP report" -> "US", "TIP"; "the 2015-2016
    alternative report" -> "alternative"), as written: the reader keeps those that name some of
    the reports (by a title or publisher word, or as a title's initials), not all of them."""
    words = []
    for m in _REPORT_NAME.finditer(scope):
        words += [w for w in re.sub(r"[’']s\b|[.’']", "", m.group(1)).replace("-", " ").split()
                  if w.lower() not in _NOT_REPORT_NAME and not YEAR.search(w) and not w[0].isdigit()]
    return tuple(dict.fromkeys(w for w in words if w))


def _clauses(question: str) -> list[str]:
    """The question's sentences and clauses ("Did X rise? What was the 2016 figure?"); a closing
    quote or bracket after the question mark is none."""
    return [c for c in re.split(r"[?;]\s*|(?<!\.[A-Z])\.\s+(?=[A-Z])", question) if re.search(r"\w", c)]


def _asking(clauses: list[str]) -> str:
    """The clause that asks: the last, unless it only names a report ("How many victims did MIMP
    assist? Answer from the 2018 report." asks in the first; "... Give the 2016 figure." in the last)."""
    return next((c for c in reversed(clauses) if _ASKS.search(fold(c)) or not _REPORT_YEAR.search(c)), clauses[-1])


def analyze_query(question: str) -> QueryAnalysis:
    clauses = _clauses(question)
    # in several clauses, a report named before the last one is context, not where to look
    scope = clauses[-1] if len(clauses) > 1 else question
    report_years: list[int] = []
    for match in _REPORT_YEAR.finditer(scope):
        report_years += [int(y) for y in YEAR.findall(match.group())]
    stripped = _RELATIVE_YEAR.sub(_shift_year, _REPORT_YEAR.sub(" ", question))  # "the year after 2015": 2016
    mentions = [int(y) for y in re.findall(rf"\b({_ASKED_YEAR})\b", stripped)]
    years = list(reversed(dict.fromkeys(reversed(mentions))))  # ordered by last mention: the last is asked
    last = _REPORT_YEAR.sub(" ", scope)
    own = [t for t in analyze(last) if t not in QUESTION_WORDS and not t[0].isdigit()]
    if (len(clauses) > 1 and report_years and own and _ASKS.search(fold(scope))
            and not re.search(rf"\b{_ASKED_YEAR}\b", last)):
        # "The 2015-2016 report counted 23; how many units per the 2023 report?": the last clause asks
        # about something, and the years before it are context (not in "How many in 2015? What did
        # the 2017 report say?", nor "... in 2015? Answer from the 2017 report.")
        years = []
    terms = [t for t in analyze(question) if not is_year_term(t)]
    acronym = re.search(r"\b([A-Z][A-Z0-9]{1,}(?:-[A-Z0-9]+)*)\b", question)
    folded = fold(question)
    return QueryAnalysis(
        text=question,
        terms=tuple(terms),
        years=tuple(years),
        report_years=tuple(dict.fromkeys(report_years)),
        report_words=_report_words(scope),
        kind=_kind(question),
        target=tuple(dict.fromkeys(t for t in terms if t not in QUESTION_WORDS and not t[0].isdigit())),
        context=frozenset(terms) - set(analyze(_asking(clauses))) if len(clauses) > 1 else frozenset(),
        numbers=tuple(t for t in terms if t[0].isdigit()),
        head=_head(question),
        wants_usd=bool(re.search(r"\$|\bdollars?\b|\busd\b|\bus\$", folded)),
        change=bool(set(terms) & CHANGE_WORDS) or "by how much" in folded,
        acronym=acronym.group(1) if acronym else None,
        type_terms=_type_terms(question),
        names=_names(question),
        place=bool(re.search(r"^where\b|\bwhere (?:was|is|were|are|could|can|did|do|does)\b|"
                             r"\bin (?:which|what) (?:part|region|city|area|place|province)\b", folded)),
        subset=bool(re.search(r"\b(?:how many|what number|what share|what proportion) of\b|^of the\b", folded)),
    )


# capitalized words that name no agency, place or program: the reports themselves, months, numerals
_GENERIC_NAMES = frozenset(stem(w) for w in (
    "tip peru peruvian us u.s state department dept report ngo the alternative edition table row column "
    "i ii iii iv v vi vii viii ix x jan feb mar apr may jun jul aug sep sept oct nov dec january february march "
    "april june july august september october november december").split())


def _names(question: str) -> tuple[tuple[str, ...], ...]:
    """Each run of capitalized words or acronym ("Public Ministry", "MIMP"), without the word that
    opens a clause ("Answer from ..."). In a question written in title case or capitals only its
    acronyms are names (in "How Much Did MIMP Spend" only MIMP)."""
    words = re.findall(r"[A-Za-z]+", question)
    if len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words):
        if question.upper() == question:
            return ()
        runs = [m.group() for m in re.finditer(r"\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*\b", question)]
    else:
        runs = []
        pattern = r"\b((?:[A-Z][\w’'-]*)(?:\s+(?:of|and|for|the|de)?\s*[A-Z][\w’'-]*)*)"
        for match in re.finditer(pattern, question):
            run = match.group(1)
            opens = match.start() == 0 or re.search(r"[.?!;:]\s*$", question[: match.start()])
            if opens and " " not in run and not re.fullmatch(r"[A-Z][A-Z0-9-]+", run):
                continue  # a capitalized word opening a clause ("Answer from ...") is no name; an acronym is
            runs.append(run)
    names = []
    for run in runs:
        stems = tuple(t for t in analyze(run) if t not in _GENERIC_NAMES and not t[0].isdigit())
        if stems:
            names.append(stems)
    return tuple(dict.fromkeys(names))


def _kind(question: str) -> AnswerKind:
    """The kind asked for; in a question of several clauses ("Did X rise? What was the 2016
    figure?") the last clause asks."""
    clauses = _clauses(question)
    if len(clauses) > 1:
        last = answer_kind(clauses[-1])
        if last != "sentence":
            return last
    return answer_kind(question)


def _type_terms(question: str) -> tuple[str, ...]:
    """The kind of name asked for: the words after "which"/"what" up to the verb ("which legal
    instrument contains ..." -> legal, instrument; "which ministry reported ..." -> ministri)."""
    match = re.search(r"\b(?:which|what)\s+((?:[a-z’'-]+(?:\s+|$)){0,3})", fold(question))
    if not match:
        return ()  # "who leads ...": the word after "who" is the verb
    words = []
    for word in match.group(1).split():
        if _HEAD_STOP.match(word) or (words and (_participle(word) or re.search(r"[^s]s$", word))):
            break
        words.append(word)
    return tuple(stem(w) for w in words if w not in STOPWORDS)
