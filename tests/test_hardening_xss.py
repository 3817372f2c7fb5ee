"""XSS: a corpus whose text, titles and headings hold <script>, onerror=, javascript: and SVG
payloads is indexed, searched and opened in the analysts' page in headless Chromium (Debian's).
No script runs: the test listens for dialogs (every payload calls alert), console errors,
uncaught errors and CSP violations, and checks a flag every payload would set. The CSP header is
on the page and on the API's responses. A second pass bypasses the CSP: the page alone must
still never turn text into markup (every piece of service text goes in as a text node)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from conftest import RECORD_VIOLATIONS
from hardening import hash_engine, serving
from qa.api import SECURITY_HEADERS, create_app

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>alert('script');window.__xss=1</script>",
    "<img src=x onerror=\"alert('img');window.__xss=1\">",
    "<a href=\"javascript:alert('link');window.__xss=1\">the shelter beds</a>",
    "<svg onload=\"alert('svg');window.__xss=1\"><circle r=5></circle></svg>",
    "<svg><script>alert('svg-script');window.__xss=1</script></svg>",
    "javascript:alert('bare');window.__xss=1",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    "\"><script>alert('attribute')</script><b x=\"",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>",
    "<details open ontoggle=\"alert('toggle')\">x</details>",
    "<input autofocus onfocus=\"alert('focus')\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('meta')\">",
    "<object data=\"javascript:alert('object')\"></object>",
    "<style>body{background:url(\"javascript:alert('css')\")}</style>",
]
HOSTILE = "\n\n".join([
    "PROTECTION",
    f"The government operated four shelters with 28 beds in 2016. {PAYLOADS[1]} The shelters served girls.",
    f"Officials said {PAYLOADS[0]} that 1,908 victims were identified in 2016.",
    "// <img src=x onerror=\"alert('section');window.__xss=1\">",
    *[f"Report paragraph {i}: shelter beds and victims in 2016, {p}" for i, p in enumerate(PAYLOADS)],
    "PROSECUTION",
    f"Authorities convicted 38 traffickers in 2016 {PAYLOADS[3]} and {PAYLOADS[2]}.",
])
UNLISTED = f"<img src=x onerror=\"alert('inferred-title');window.__xss=1\"> 2017 report\n\n{HOSTILE}\n"
MANIFEST = f"""[[document]]
id = "hostile-report"
file = "hostile.txt"
title = {json.dumps(PAYLOADS[0])}
publisher = {json.dumps(PAYLOADS[1])}
kind = "government"
report_year = 2017
section = {json.dumps(PAYLOADS[4])}
"""
QUESTIONS = ["how many shelter beds existed in 2016", "script alert onerror svg javascript iframe",
             "how many traffickers were convicted in 2016"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, hash_embedder):
    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(HOSTILE)
    (corpus / "unlisted.txt").write_text(UNLISTED)
    (corpus / "manifest.toml").write_text(MANIFEST)
    engine = hash_engine(corpus, root / "index", hash_embedder)
    assert sorted(engine.index.documents) == ["hostile-report", "unlisted"]
    assert any("<img src=x" in " ".join(s.path) for s in engine.index.sections["hostile-report"])
    with serving(create_app(engine.settings, engine=engine)) as base:
        yield base


def drive(browser, base: str, *, bypass_csp: bool) -> tuple[list[str], dict]:
    """Everything an analyst does with the hostile corpus; returns (problems, facts)."""
    from playwright.sync_api import expect

    problems: list[str] = []
    context = browser.new_context(bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.add_init_script(RECORD_VIOLATIONS)
    facts: dict = {"csp": [], "texts": []}

    response = page.goto(f"{base}/")
    facts["csp"].append(response.headers.get("content-security-policy"))
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    expect(page.locator("#doc option")).to_have_count(3)
    facts["options"] = page.locator("#doc option").all_text_contents()
    for question in QUESTIONS:
        page.locator("#k").select_option("20")
        page.locator("#q").fill(question)
        with page.expect_response(re.compile(r"/ask\?")) as asked:
            page.locator("#q").press("Enter")
        facts["csp"].append(asked.value.headers.get("content-security-policy"))
        expect(page.locator("#results")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#passage-list > li").first).to_be_visible()
        facts["texts"] += page.locator("#passage-list .passage-text").all_text_contents()
        facts["texts"] += page.locator("#answer").all_text_contents()
        for link in page.locator("#results a.open").all()[:3]:  # open the report at cited spans
            link.click()
            expect(page.locator("#document-view")).to_be_visible()
            expect(page.locator("#doc-text")).not_to_be_empty()
            facts["texts"].append(page.locator("#doc-text").text_content())
            page.go_back()
            expect(page.locator("#search-view")).to_be_visible()
    # hostile input in the address: the question, and the document view's parameters
    page.goto(f"{base}/?q={quote(PAYLOADS[0])}&k=5")
    expect(page.locator("#q")).to_have_value(PAYLOADS[0])
    expect(page.locator("#results")).to_have_attribute("aria-busy", "false")
    page.goto(f"{base}/#doc={quote(PAYLOADS[1])}&span=0-5&mark={quote(PAYLOADS[2])}")
    expect(page.locator("#doc-title")).to_have_text("Cannot open the report")
    expect(page.locator("#doc-meta")).to_contain_text("no document")
    problems.remove("console error: Failed to load resource: the server responded with a status of 404 "
                    "(Not Found)")  # the one error asked for: that document does not exist
    page.goto(f"{base}/#doc=hostile-report&span=0-40&mark={quote('javascript:alert(1)')}")
    expect(page.locator("#doc-text mark.cited")).to_be_visible()
    facts["texts"].append(page.locator("#doc-text").text_content())
    facts["markup"] = page.evaluate("""() => [...document.querySelectorAll(
        'main script, main img, main svg, main iframe, main object, main style, main input:not(#q):not(#year),'
        + ' main details, main meta, main math, [onerror], [onload], [onfocus], a[href^="javascript"]')]
        .map((e) => e.outerHTML.slice(0, 80))""")
    facts["xss"] = page.evaluate("window.__xss")
    problems += page.evaluate("window.__violations || []")
    context.close()
    return problems, facts


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with CSP", "CSP bypassed"])
def test_hostile_reports_never_run_script_in_the_page(browser, site, bypass_csp):
    problems, facts = drive(browser, site, bypass_csp=bypass_csp)
    assert problems == []  # no dialog, console error, uncaught error or CSP violation
    assert facts["xss"] is None and facts["markup"] == []
    text = "\n".join(facts["texts"])
    for payload in PAYLOADS[:5]:  # shown as the text it is
        assert payload in text, payload
    assert PAYLOADS[0] in facts["options"] and any("onerror" in o for o in facts["options"])
    assert facts["csp"] == [SECURITY_HEADERS["Content-Security-Policy"]] * (1 + len(QUESTIONS))
