"""The analysts' page in headless Chromium (Debian's, never a Playwright download): ask, read
the cited answer, open the report at the cited span; no console error, no CSP violation."""

from __future__ import annotations

import json

import pytest

from conftest import CORPUS, RECORD_VIOLATIONS, ROOT
from hardening import serving
from qa.api import create_app

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
QUESTION = "how many shelter beds existed in 2016"


@pytest.fixture(scope="module")
def server(settings_factory, built_index, engine):
    """The app under uvicorn in a thread, on a free port, with the session's engine."""
    with serving(create_app(settings_factory(index=built_index), engine=engine)) as base:
        yield base


@pytest.fixture()
def problems() -> list[str]:
    return []


@pytest.fixture()
def page(browser, problems):
    """A page that records console errors, uncaught exceptions and CSP violations in ``problems``,
    and fails the test on any of them."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.add_init_script(RECORD_VIOLATIONS)
    yield page
    problems += page.evaluate("window.__violations || []")
    context.close()
    assert problems == []


def test_ask_read_the_cited_answer_and_open_the_report(page, server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    expect(page.locator("#doc option")).to_have_count(6)  # "any report" and the five reports

    page.locator("#q").fill(QUESTION)
    page.locator("#q").press("Enter")  # the form submits from the keyboard
    card = page.locator("#answer")
    expect(card.locator(".figure").first).to_contain_text("28")
    expect(card).not_to_contain_text("null")
    expect(card).not_to_contain_text("undefined")
    citation = card.locator(".citation").first
    expect(citation.locator(".cite-title")).to_contain_text("Trafficking in Persons Report 2017")
    expect(citation.locator(".cite-year")).to_have_text("2017")
    expect(citation.locator(".cite-section")).to_have_text("Protection")
    expect(citation.locator(".cite-offsets")).to_contain_text("of 000_abe84397df7d8ac3.txt")
    expect(page.locator("#results")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#passage-list > li")).to_have_count(5)
    expect(page.locator("#passage-list mark.answer").first).to_contain_text("28")
    assert page.url.endswith("?q=how+many+shelter+beds+existed+in+2016&k=5")
    page.screenshot(path=ARTIFACTS / "browser-answer.png", full_page=True)

    link = card.get_by_role("link", name="Show in the report")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#document-view")).to_be_visible()
    expect(page.locator("#search-view")).to_be_hidden()
    expect(page.locator("#doc-title")).to_have_text("Trafficking in Persons Report 2017: Peru (Protection)")
    cited = page.locator("#doc-text mark.cited")
    expect(cited).to_contain_text("28 beds")
    expect(cited).to_be_focused()
    expect(cited).to_be_in_viewport()
    expect(cited.locator("mark.answer")).to_contain_text("28")
    raw = (CORPUS / "000_abe84397df7d8ac3.txt").read_bytes().decode("utf-8")
    assert page.locator("#doc-text").text_content() == raw  # text nodes: the report exactly as filed
    page.screenshot(path=ARTIFACTS / "browser-document.png")

    page.go_back()  # the document view is in the history
    expect(page.locator("#search-view")).to_be_visible()
    expect(page.locator("#document-view")).to_be_hidden()
    expect(card.locator(".figure").first).to_contain_text("28")


def test_no_answer_state_and_text_is_never_html(page, server):
    """The service's answer is replaced (route) by one with no answer and hostile text: the page
    shows the reason, and shows the markup as text."""
    from playwright.sync_api import expect

    hostile = '<img src=x onerror="window.__pwned=1">'
    passage = {"chunk_id": "x:000", "doc_id": "tip-2006-peru", "source": "003_796d65032d1b4d01.txt",
               "title": hostile, "publisher": "p", "report_year": 2006, "section": hostile, "text": hostile,
               "char_start": 0, "char_end": len(hostile), "context": "", "context_start": None,
               "context_end": None, "kind": "text", "rank": 1, "score": 1.0, "scores": {"bm25": 1.0, "dense": 0.5}}
    body = {"question": "q", "answer": None, "reason": f"no passage says {hostile}", "passages": [passage],
            "took_ms": 1.0}
    page.route("**/ask?*", lambda route: route.fulfill(status=200, content_type="application/json",
                                                       body=json.dumps(body)))
    page.goto(f"{server}/")
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    page.locator("#q").fill("who won the 1998 world cup")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#answer h2")).to_have_text("The reports do not say")
    expect(page.locator("#answer .reason")).to_have_text(f"no passage says {hostile}")
    expect(page.locator("#passage-list .passage-text")).to_have_text(hostile)
    assert page.locator("#results img").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_alternatives_and_errors_are_shown(page, server, problems):
    from playwright.sync_api import expect

    def with_alternative(route):
        body = route.fetch().json()
        alternative = dict(body["answer"], alternatives=[], text="29 beds", unit="beds")
        body["answer"]["alternatives"] = [alternative]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/ask?*", with_alternative)
    page.goto(f"{server}/?q={QUESTION.replace(' ', '+')}")  # the address asks the question
    alternatives = page.locator("#answer .alternatives li")
    expect(alternatives).to_have_count(1)
    expect(alternatives.locator(".figure")).to_have_text("29 beds")
    expect(alternatives.locator(".cite-section")).to_have_text("Protection")
    page.unroute("**/ask?*")

    page.locator("#year").fill("2005")  # filters no passage passes
    page.locator("#section").select_option("Protection")
    page.locator("#doc").select_option("tip-2018-peru-prosecution")
    page.locator("#q").press("Enter")
    expect(page.locator("#answer h2")).to_have_text("The reports do not say")
    expect(page.locator("#passages")).to_be_hidden()
    assert "year=2005" in page.url and "section=Protection" in page.url

    busy = {"detail": "busy: the service answers 1 searches or questions at a time; retry in a moment"}
    page.route("**/ask?*", lambda route: route.fulfill(status=503, content_type="application/json",
                                                       body=json.dumps(busy)))
    page.locator("#q").press("Enter")
    expect(page.locator("#error")).to_have_text(busy["detail"])
    expect(page.locator("#answer")).to_be_hidden()
    problems.remove("console error: Failed to load resource: the server responded with a status of 503 "
                    "(Service Unavailable)")  # the one error this test asked for


def test_docs_work_offline_under_the_csp(page, server):
    from playwright.sync_api import expect

    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(f"{server}/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/ask")).to_have_count(2)  # GET and POST
    assert outside == []


def test_an_unknown_doc_or_k_in_the_address_is_kept_and_named(page, server):
    """A ``doc=`` (or ``k=``) the lists do not offer - a typo, or a file name, which the API
    accepts - is kept, asked with, and named; never dropped silently (issue 18, finding 6)."""
    from playwright.sync_api import expect

    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/ask?" in r.url else None)
    page.goto(f"{server}/?q=shelter+beds&doc=000_abe84397df7d8ac3.txt&k=7")
    expect(page.locator("#answer")).to_be_visible()
    expect(page.locator("#notice")).to_have_text(
        "doc=000_abe84397df7d8ac3.txt in the address is not one of this page's options; asked with it as given; "
        "k=7 in the address is not one of this page's options; asked with it as given")
    assert "doc=000_abe84397df7d8ac3.txt" in asked[-1] and "k=7" in asked[-1]
    assert "doc=000_abe84397df7d8ac3.txt" in page.url and "k=7" in page.url
    expect(page.locator("#doc")).to_have_value("000_abe84397df7d8ac3.txt")
    offsets = page.locator("#passage-list .cite-offsets")
    expect(offsets.first).to_be_visible()
    assert all("of 000_abe84397df7d8ac3.txt" in text for text in offsets.all_text_contents())
