"""Answers: question analysis, candidate extraction, and the reader on the shipped corpus."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from conftest import CORPUS, GOLD
from qa import reader
from qa.analyze import analyze_query
from qa.data import Span
from qa.evaluate import evaluate, load_gold
from qa.extract import Candidate, figures_in
from qa.reader import FEATURES, Model, Option, _mark_best_cells, answer_key, best_option, marginal
from qa.schema import ask_response


def _figures(sentence: str, period: int | None = None):
    return [(sentence[c.start : c.end], c.value, c.year, c.kind) for c in figures_in(sentence, 0, len(sentence), period)]


def _figure_features(question: str, sentence: str) -> dict[str, dict[str, float]]:
    """Each figure of ``sentence`` (by its text) and its features as an answer to ``question``."""
    figures = figures_in(sentence, 0, len(sentence), None)
    q, context = analyze_query(question), SimpleNamespace(candidates=tuple(figures))
    return {sentence[c.start : c.end]: reader.Reader._figure_features(q, c, figures, context, sentence,
                                                                      lambda terms: 0.0) for c in figures}


@pytest.mark.parametrize("question, kind, years, report_years", [
    ("how many shelter beds existed in 2016", "count", (2016,), ()),
    ("what did MIMP spend on victims in 2016", "money", (2016,), ()),
    ("MIMP 2016 implemented budget", "money", (2016,), ()),
    ("According to the 2018 TIP report, how many cases ended in a guilty verdict in 2016?", "count", (2016,), (2018,)),
    ("Were any traffickers convicted in Peru in 2005?", "yesno", (2005,), ()),
    ("when did prosecutors open the forced labor case", "date", (), ()),
    ("minimum prison term for forced labor when the victim is under 14", "figure", (), ()),  # "when" joins a clause
    ("“When did the anti-trafficking law pass?”", "date", (), ()),
    ("Peru's anti-trafficking law - when was it passed?", "date", (), ()),
    ("The anti-trafficking law was passed when?", "date", (), ()),
    ('"How many shelter beds existed in 2016?"', "count", (2016,), ()),  # the closing quote is no clause
    ("what does UDAVIT stand for", "definition", (), ()),
    ("VRAEM stands for what", "definition", (), ()),
    ("What is UDAVIT?", "definition", (), ()),  # an acronym alone is asked to be spelled out
    ("what is MIMP doing about shelters", "sentence", (), ()),
    ("2023 TIP - is there any shelter that takes adult male victims?", "yesno", (), (2023,)),
    ("2006 TIP: which existing government hotline was widened to cover victims?", "sentence", (), (2006,)),
    # an aside between dashes is no topic; a topic holding what is asked is kept
    ("How many victims - adults and children - were identified in 2017?", "count", (2017,), ()),
    ("Which ministry — was it MIMP — ran the shelters?", "name", (), ()),
    ("Percentage of female victims in 2017: what was it?", "percent", (2017,), ()),
    ("MIMP budget in 2017: what was it?", "money", (2017,), ()),
    ("WHAT IS THE BUDGET?", "money", (), ()),  # typed in capitals, not an acronym
    ("What was the exchange rate used in 2017?", "sentence", (2017,), ()),
    ("How many calls did the 2017 tip line receive?", "count", (2017,), ()),  # "tip" is no TIP report
    ("foreign ministry budget execution rate 2016", "percent", (2016,), ()),
    ("how many victims were rescued at a rate of one a day", "count", (), ()),
    ("Which ministry reported giving legal aid to trafficking victims?", "name", (), ()),
    ("Were there more court rulings in 2017 than in 2016? What was the 2016 number?", "figure", (2017, 2016), ()),
    ("Where was the court that sentenced the trafficker?", "name", (), ()),
    ("how much did Comas allocate the year after 2015", "money", (2016,), ()),
    ("armed group from Colombia recruiting children", "name", (), ()),
    ("beds per shelter program", "figure", (), ()),
    ("what did the Ministry of Women spend in 2016", "money", (2016,), ()),
    ("How much did MIMP spend on victims in 2015? What did the 2017 report say?", "money", (2015,), (2017,)),
    ("court decisions in trafficking cases, 2017", "figure", (2017,), ()),
    ("What was the MOI budget the year after 2049?", "money", (2049,), ()),  # 2050 is no year the reader reads
    ("How many victims were served in 2015? Answer from the 2017 TIP report.", "figure", (2015,), (2017,)),
    # a year in an earlier clause is context when the last one names the report asked about
    ("The 2015-2016 report counted 23 units; how many units did the 2023 TIP report count?", "count", (), (2023,)),
])
def test_question_analysis(question, kind, years, report_years):
    q = analyze_query(question)
    assert (q.kind, q.years, q.report_years) == (kind, years, report_years)


def test_words_only_an_earlier_clause_gives_are_context():
    q = analyze_query("Did police arrest fewer suspected traffickers in 2017 than in 2016? How many were arrested in 2017?")
    assert q.context == {"polic", "fewer", "suspect", "traffick"}
    assert analyze_query("how many suspected traffickers did police arrest in 2017").context == frozenset()
    # a last clause that only names the report does not ask; "U.S." ends no clause
    q = analyze_query("How many victims did MIMP assist in 2017? Answer from the 2018 TIP report.")
    assert q.context == {"answer", "tip", "report"}
    assert analyze_query("How many victims did the U.S. Embassy fund in 2017?").context == frozenset()


def test_the_matcher_weighs_context_words_less(engine, monkeypatch):
    q = analyze_query("The 2017 report counted 28 beds; how many victims did the shelters assist?")
    assert "bed" in q.context and "victim" not in q.context
    weighed = engine.reader._matcher(q)
    monkeypatch.setattr(reader, "CONTEXT_WEIGHT", 1.0)
    flat = engine.reader._matcher(q)
    assert 0 < weighed({"bed"}) < flat({"bed"}) and weighed({"victim"}) > flat({"victim"})


@pytest.mark.parametrize("question, head", [
    ("how many shelter beds existed in 2016", ("shelter", "bed")),
    ("how many shelter bed spaces were there", ("shelter", "bed", "space")),  # "bed" is no past participle
    ("how many children aged 14 to 17", ("children",)),
    ("shelter beds - how many?", ("shelter", "bed")),
    ("prosecutors' victim & witness program spending", ("prosecutor", "victim", "wit", "program", "spend")),
    ("trafficking victims referred to specialized shelters in 2021 - how many?", ("traffick", "victim")),
    ("2006 TIP: how many officials were convicted?", ("offici",)),
    # the question names what it counts only in a comparison before it
    ("Did police arrest fewer suspected traffickers in 2017 than in 2016? How many were arrested in 2017?",
     ("suspect", "traffick")),
    ("Did MIMP spend more or less in 2016 than in 2015, and how much?", ()),
    ("how many of the public legal advocates specialized in trafficking", ("public", "legal", "advoc")),
    ("foreign-national child victims assisted in 2022", ("foreign", "nation", "child", "victim")),  # as the text splits it
    ("number of older cases the police unit kept working on", ("older", "case")),  # "the" opens another phrase
    ("child victims the women's ministry found", ("child", "victim")),
])
def test_what_a_question_counts(question, head):
    assert analyze_query(question).head == head


def test_two_years_in_one_sentence_give_each_figure_its_year():
    assert _figures("Police reported conducting 865 anti-trafficking operations in 2017 (764 in 2016), resulting "
                    "in the arrest of 410 suspected traffickers (427 in 2016).", 2017) == [
        ("865", 865, 2017, "count"), ("764", 764, 2016, "count"), ("410", 410, 2017, "count"),
        ("427", 427, 2016, "count")]
    assert _figures("MIMP dedicated 3,803,270 soles ($1,132,940) to serving trafficking victims in 2016, an increase "
                    "from 2,764,900 soles ($823,620) in 2015.", 2016) == [
        ("3,803,270 soles", 3803270, 2016, "money"), ("$1,132,940", 1132940, 2016, "money"),
        ("2,764,900 soles", 2764900, 2015, "money"), ("$823,620", 823620, 2015, "money")]
    # a figure without a year of its own speaks for the report's period
    assert _figures("Thirty-three of these cases resulted in convictions (13 in 2016).", 2017) == [
        ("Thirty-three", 33, 2017, "count"), ("13", 13, 2016, "count")]
    sentence = "Thirty-three of these cases resulted in convictions."
    assert [c.noun for c in figures_in(sentence, 0, len(sentence), 2017)] == [("case", "result")]  # not "se"
    # references are not counts; money keeps its currency
    assert _figures("Article 153 of law 28950 set 7.5 million soles for Tier 2.", None) == [
        ("7.5 million soles", 7_500_000, None, "money")]


def test_a_year_closing_the_sentence_dates_its_figures_unless_a_comparison_stands_between():
    assert _figures("In comparison, authorities prosecuted 121 suspects in newly-opened cases and courts convicted "
                    "233 defendants in 2021.", 2022) == [("121", 121, 2021, "count"), ("233", 233, 2021, "count")]
    assert _figures("The government identified 557 victims, up from 505 in 2015.", 2016) == [
        ("557", 557, 2016, "count"), ("505", 505, 2015, "count")]


def test_every_item_of_a_breakdown_is_a_part_of_its_total():
    sentence = ("Courts convicted 89 defendants in 2022, including 61 for sex trafficking, 21 for labor trafficking, "
                "and seven for unspecified forms; 12 others were acquitted.")
    parts = {sentence[c.start : c.end]: c.part for c in figures_in(sentence, 0, len(sentence), 2022)}
    assert parts == {"89": False, "61": True, "21": True, "seven": True, "12": False}


def test_people_asked_for_are_counted_by_any_noun_for_persons():
    sentence = "Courts convicted 89 defendants for trafficking in 2022."
    people = _figure_features("how many people were found guilty of trafficking in 2022", sentence)
    assert people["89"]["head_missing"] == 0.0
    assert _figure_features("how many shelters were there in 2022", sentence)["89"]["head_missing"] == 1.0


def test_art_abbreviated_in_a_question_matches_article_in_the_text():
    from qa.analyze import SYNONYMS, analyze
    art = analyze_query("penalty range under art. 153").target[-1]
    assert art == "art" and set(analyze("Article 153 of the penal code")) & set(SYNONYMS[art])


def test_the_preceding_period_asked_for_is_held_by_the_previous_one_in_the_text():
    from qa.analyze import SYNONYMS, analyze
    asked = analyze_query("how many had the shelters assisted in the preceding period?").target
    said = set(analyze("compared with 119 victims assisted during the previous period"))
    assert "preced" in asked and said & set(SYNONYMS["preced"])


def test_a_penalty_asked_for_is_held_by_years_of_imprisonment():
    features = _figure_features("aggravated penalty for child sex tourism",
                                "The law prescribed four to eight years imprisonment or eight to 10 years imprisonment "
                                "under aggravating circumstances.")
    assert features["eight to 10 years"]["head_missing"] == 0.0


def test_the_figure_a_change_started_from_is_not_the_change():
    features = _figure_features("did MIMP spend more or less in 2016 than in 2015",
                                "MIMP dedicated 3,803,270 soles to victims in 2016, an increase from 2,764,900 soles "
                                "in 2015, and an increase of 1,038,370 soles.")
    assert features["2,764,900 soles"]["change"] == 0.0
    assert features["1,038,370 soles"]["change"] == 1.0


@pytest.mark.parametrize("question, kind_of_name", [
    ("Which institution prosecutes trafficking cases according to the 2006 TIP report?", ("institut",)),
    ("Which legal instrument contains Article 168-B on forced labor?", ("legal", "instrument")),
    ("which ministry reported giving legal aid to victims", ("ministri",)),
    ("MINJUS anti-trafficking budget was assigned to which directorate", ("director",)),
    ("who leads the government's forced labor governance structure", ()),  # after "who" comes the verb
])
def test_the_kind_of_name_asked_for_ends_at_the_verb(question, kind_of_name):
    assert analyze_query(question).type_terms == kind_of_name


def test_phrases_after_a_cue_are_candidates_for_what_is_not_a_proper_name():
    from qa.extract import phrases_in

    def phrases(sentence):
        return [sentence[c.start : c.end] for c in phrases_in(sentence, 0, len(sentence))]

    assert "pimping" in phrases("Prosecutors charged lesser offenses, such as pimping, that carried lower penalties.")
    assert "girls and young women" in phrases("Most victims are girls and young women moved internally to cities.")
    assert "the Amazon region" in phrases("Sex tourism occurs, particularly in the Amazon region of the country.")
    assert phrases("The law took effect in 2017.") == []
    assert phrases("Victims were found at the office; others were exploited in mines.") == ["the office", "mines"]


def test_the_instrument_a_numbered_part_belongs_to_is_a_name_too():
    from qa.extract import names_in

    sentence = "Article 168-B of Legislative Decree No.1232 prescribed a six-year minimum sentence."
    assert [sentence[c.start : c.end] for c in names_in(sentence, 0, len(sentence))] == [
        "Article 168-B of Legislative Decree No.1232", "Legislative Decree No.1232"]


def test_names_a_question_gives_skip_the_reports_own_words():
    assert analyze_query("Did police identify more victims in 2016? Give the 2016 figure.").names == ()
    assert analyze_query("of the 42 convictions Jan-May 2016, how many were for sexual exploitation").names == ()
    assert analyze_query("per the IV Alternative Report, MIMP's budget in the State Dept table").names == (("mimp",),)


def test_a_name_is_found_as_the_acronym_the_report_spells_out():
    from qa.analyze import analyze
    from qa.names import Alias, writings
    from qa.reader import _names_missing

    aliases = (Alias(("moi",), frozenset({"ministri", "interior"}), True),
               Alias(("minedu",), frozenset({"ministri", "educ"}), True),
               Alias(("mp", "fn"), frozenset({"public", "ministri"}), True))

    def missing(question, text, aliases):
        names = [writings(name, aliases) for name in analyze_query(question).names]
        return _names_missing(names, frozenset(analyze(text)))

    moi = "The MOI's overall anti-trafficking budget increased to 7.5 million soles"
    assert missing("the Interior Ministry's budget in 2017", moi, aliases) == 0.0
    assert missing("the Public Ministry's budget in 2017", moi, aliases) == 1.0
    education = "The Ministry of Education included trafficking in the curriculum"
    assert missing("has MINEDU included trafficking content?", education, aliases) == 0.0
    assert missing("has MINEDU included trafficking content?", education, ()) == 1.0
    assert missing("the Public Ministry's budget", "The MP-FN reported a budget of 7'644,000 soles", aliases) == 0.0
    # one report's acronym for a name is another's: "MININTER" asked, "MOI" written
    mininter = aliases + (Alias(("minint",), frozenset({"ministri", "interior"}), True),)
    assert missing("What was MININTER's budget in 2017?", moi, mininter) == 0.0
    assert missing("What was MININTER's budget in 2017?", moi, aliases) == 1.0


def test_a_name_written_twice_is_one_answer_and_its_probability_is_summed():
    text = "The Public Ministry prosecutes. Cases go to the public  ministry. MIMP assists."
    chunk = SimpleNamespace(doc_id="d", char_start=0, char_end=len(text), text=text)

    def option(phrase: str, nth: int = 0) -> Option:
        start = [m.start() for m in re.finditer(re.escape(phrase), text)][nth]
        return Option("name", {}, SimpleNamespace(chunk=chunk, rank=1), None,
                      Candidate(kind="name", start=start, end=start + len(phrase)))

    options = [option("The Public Ministry"), option("public  ministry"), option("MIMP")]
    assert marginal(options, [0.3, 0.25, 0.45]) == pytest.approx([0.55, 0.55, 0.45])
    # the answer is the mention most probable on its own
    assert best_option(options, [0.2, 0.35, 0.45]) == (1, pytest.approx([0.55, 0.55, 0.45]))
    # a name with no words (punctuation) is not one answer with every other such name
    dash = "— and —"
    blank = SimpleNamespace(doc_id="d", char_start=0, char_end=len(dash), text=dash)
    first, second = (Option("name", {}, SimpleNamespace(chunk=blank, rank=1), None, Candidate(kind="name", start=a, end=a + 1))
                     for a in (0, 6))
    assert answer_key(first) != answer_key(second)


def test_a_name_and_its_acronym_are_one_answer():
    from qa.names import Alias
    aliases = (Alias(("moi",), frozenset({"ministri", "interior"}), True),)
    writings = ["the Ministry of Interior (MOI)", "MOI", "the MOI", "Ministry of Interior"]
    assert {reader._aliased(w, aliases) for w in writings} == {frozenset({"ministri", "interior"})}
    assert reader._aliased("MIMP", aliases) is None and reader._aliased("the Public Ministry", aliases) is None


def test_the_lead_agency_written_as_its_name_and_as_its_acronym_is_answered(engine):
    # the 2023 report writes "the Ministry of Interior (MOI)", "MOI" and "the MOI"; none alone is confident
    result = engine.ask("lead agency of Peru's multisectoral anti-trafficking commission according to the 2023 TIP report")
    answer = result.reading.answer
    assert answer is not None and "Ministry of Interior" in answer.text


def test_the_cell_whose_row_and_column_match_best_is_marked_so_in_its_passage():
    def cell(row: int, row_match: float, column_match: float) -> Option:
        return Option("figure", {"row_match": row_match, "column_match": column_match},
                      SimpleNamespace(row=row), None, Candidate(kind="count", start=0, end=1, context=frozenset({"x"})))

    cells = [cell(1, 0.2, 0.1), cell(1, 0.2, 0.0), cell(1, 0.0, 0.1), cell(2, 0.1, 0.0), cell(2, 0.0, 0.0)]
    _mark_best_cells(cells)
    assert [(o.features["row_best"], o.features["column_best"]) for o in cells] == [
        (1, 1), (1, 0), (0, 1), (1, 0), (0, 0)]  # passage 2's best row counts there; no match is never best


def test_a_cell_knows_the_numbers_of_its_row_label_and_column_header():
    from qa.data import Chunk, Span
    from qa.extract import table_cells

    text = "Victims by age\nPlace\taged 0-11\taged 12-17\nLima\t5\t100\n"
    rows = [Span(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    chunk = Chunk("c", "d", 0, ("T",), "table", text, 0, len(text), tuple(rows), ())
    cells = {text[c.start : c.end]: c for _, c in table_cells(text, chunk, None)}
    assert {"12", "17"} <= set(cells["100"].after) and "12" not in cells["5"].after
    assert "lima" in cells["100"].before


def test_the_shipped_weights_fit_the_features():
    model = Model.load()
    assert set(model.weights) == {*FEATURES, "null"}
    for family, names in FEATURES.items():
        assert set(model.weights[family]) == set(names), family
    assert 0 < model.threshold < 1


def test_shelter_beds_answer_is_28_beds_cited_to_the_2017_report(engine):
    response = ask_response(engine.ask("how many shelter beds existed in 2016"), engine.index)
    answer = response.answer
    assert (answer.value, answer.unit, answer.year) == (28, "beds", 2016)
    assert (answer.source, answer.report_year, answer.section) == ("000_abe84397df7d8ac3.txt", 2017, "Protection")
    raw = (CORPUS / answer.source).read_text(encoding="utf-8")
    assert raw[answer.char_start : answer.char_end] == answer.text == "28"
    assert raw[answer.sentence_start : answer.sentence_end] == answer.sentence
    assert answer.confidence >= engine.reader.model.threshold


def test_a_figure_that_counts_something_else_is_not_the_count_asked_for(engine):
    # "... to a trafficker convicted of subjecting four teenage girls": the words before "four" are
    # the question's, but four counts girls, not convicted traffickers
    answer = engine.ask("how many traffickers were convicted in 2017").reading.answer
    assert answer is None or answer.value != 4


def test_an_agency_is_not_matched_by_a_table_row_that_shares_a_word_of_its_name(engine):
    # the NGO report's victims table has a Women row (306); MIMP is the Ministry of Women, but the
    # row counts women, not what MIMP did
    answer = engine.ask("How many victims did MIMP assist in 2016?").reading.answer
    assert answer is None or answer.value != 306


@pytest.mark.parametrize("question, words, named", [
    ("MINJUS legal assistance to trafficking victims 2016 - number of victims (TIP report)", ("TIP",),
     {"tip-2006-peru", "tip-2017-peru-protection", "tip-2018-peru-prosecution", "tip-2023-peru"}),
    ("according to the civil-society alternative report, how many legal sponsorships", ("civil", "society", "alternative"),
     {"chs-alternative-report-2015-2016"}),
    ("When was the State Department's 2006 TIP report on Peru published?", ("Department", "TIP"), {"tip-2006-peru"}),
    ("How many victims did the U.S. report count in 2016?", ("US",),  # the publisher's words name a report too
     {"tip-2006-peru", "tip-2017-peru-protection", "tip-2018-peru-prosecution", "tip-2023-peru"}),
    ("when did media report prison guards in Huacho", (), None),  # "report" is a verb: names no report
    ("based on report data, how many cases", ("based",), None),  # "on" is in one title, but names nothing
    ("the trafficking report's figure for 2016", ("trafficking",), None),  # a word every title has names none
])
def test_a_report_is_named_by_the_words_of_its_title_or_publisher(engine, question, words, named):
    q = engine.searcher.report_years(analyze_query(question))
    assert q.report_words == words
    assert engine.reader.named(q) == (frozenset(named) if named is not None else None)


def test_the_report_named_without_a_year_picks_its_figure(engine):
    # the TIP report gives 293 victims MINJUS assisted; the alternative report gives 227 for MINJUS
    answer = engine.ask("MINJUS legal assistance to trafficking victims 2016 - number of victims (TIP report)").reading.answer
    assert answer is not None and answer.value == 293 and answer.doc_id == "tip-2017-peru-protection"


def test_a_list_question_is_answered_by_the_sentence_that_lists(engine):
    q = analyze_query("To which foreign countries were Peruvians trafficked?")
    listing = "Peruvians have also been trafficked to Spain, Japan, the United States, and Venezuela."
    other = "The police opened four new investigations and continued work on two older cases."
    series = [reader.Reader._sentence_features(q, SimpleNamespace(candidates=(), span=Span(0, len(s)), negative=False),
                                               s)["series"] for s in (listing, other)]
    assert series == [1.0, 0.0]
    answer = engine.ask("regions where the Public Ministry set up specialized trafficking prosecutor offices "
                        "(2015-2016)").reading.answer
    assert answer is not None and "Loreto, Cusco, Puno, Madre de Dios" in answer.text


def test_a_year_no_report_covers_gets_no_answer_and_says_why(engine):
    result = engine.ask("How many people were convicted of human trafficking in Peru in 2019?")
    assert result.reading.answer is None
    assert "2019" in result.reading.reason


def test_one_agencys_budget_is_not_anothers(engine):
    asked = engine.ask("What was the Interior Ministry's anti-trafficking budget in 2017?").reading.answer
    assert (asked.value, asked.unit, asked.year) == (7_500_000, "soles", 2017)
    other = engine.ask("What was the Public Ministry's anti-trafficking budget in 2017?").reading
    assert other.answer is None
    assert "agency asked about" in other.reason and "MOI" in other.reason
    titled = engine.ask("How Much Did MIMP Spend On Trafficking Victims In 2016?").reading.answer
    assert (titled.value, titled.unit) == (3_803_270, "soles")  # in title case only MIMP is a name


def _choice(reading) -> str:
    """The reader's best candidate: the answer, or the one the reason quotes below the threshold."""
    if reading.answer is not None:
        return reading.answer.text
    return re.search(r"the best candidate, “([^”]*)”", reading.reason).group(1)


def test_where_asks_for_the_place_a_sentence_puts_it_in(engine):
    assert _choice(engine.ask("Where was the court that sentenced the trafficker?").reading) == "Cusco"


def test_a_year_asked_in_the_first_clause_is_kept_when_the_last_only_names_the_report(engine):
    reading = engine.ask("How many victims did MIMP provide services to in 2015? Answer from the 2017 TIP report.").reading
    assert _choice(reading) == "505"


def test_a_report_the_corpus_lacks_gets_no_answer(engine):
    result = engine.ask("how many victims did the 2012 TIP report count?")
    assert result.reading.answer is None
    assert result.reading.reason == "the corpus holds no report published in 2012"


def test_money_answer_cites_other_reports_figures_for_the_same_year(engine):
    answer = engine.ask("how much did MIMP allocate to trafficking victims in 2016").reading.answer
    assert answer is not None and answer.value is not None and answer.year == 2016
    for alternative in answer.alternatives:
        assert alternative.doc_id != answer.doc_id and alternative.year == 2016
        raw = engine.index.documents[alternative.doc_id].text
        assert raw[alternative.char_start : alternative.char_end] == alternative.text


@pytest.fixture(scope="module")
def gold_run(engine):
    return evaluate(engine, load_gold(GOLD), modes=("hybrid",))


def test_every_answer_in_the_gold_run_is_its_raw_span(gold_run):
    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}
    answered = 0
    for line in gold_run.run:
        for answer in [line["answer"], *(line["answer"] or {}).get("alternatives", [])] if line["answer"] else []:
            raw = texts[answer["source"]]
            assert raw[answer["char_start"] : answer["char_end"]] == answer["text"], line["id"]
            assert raw[answer["sentence_start"] : answer["sentence_end"]] == answer["sentence"], line["id"]
            assert answer["sentence_start"] <= answer["char_start"] <= answer["char_end"] <= answer["sentence_end"]
            answered += 1
        for passage in line["passages"]:
            assert texts[passage["source"]][passage["char_start"] : passage["char_end"]] == passage["text"]
    assert answered > len(gold_run.run) / 2
    json.dumps(gold_run.run)  # the run file is plain JSON
