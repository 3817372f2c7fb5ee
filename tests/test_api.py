"""The HTTP service: every endpoint and error path, whole JSON bodies. /search and /ask must
return exactly what the library returns for the same call (the reader changes; the API must not
change what it says), and every offset must point into the raw file."""

from __future__ import annotations

import re
import threading
import time

import pytest
from fastapi.testclient import TestClient

from conftest import CORPUS
from qa.api import SECURITY_HEADERS, create_app
from qa.data import Filters
from qa.engine import Engine
from qa.errors import IndexMismatch
from qa.schema import ask_response, search_response
from qa.settings import get_settings

QUESTION = "how many shelter beds existed in 2016"
EXAMPLE_BODY = '{"q": "how many shelter beds existed in 2016"}'


@pytest.fixture(scope="module")
def app_settings(settings_factory, built_index):
    return settings_factory(index=built_index)


@pytest.fixture(scope="module")
def client(app_settings, engine):
    with TestClient(create_app(app_settings, engine=engine), base_url="http://localhost") as client:
        yield client


def raw(source: str) -> str:
    return (CORPUS / source).read_bytes().decode("utf-8")


def without_took(body: dict) -> dict:
    assert isinstance(body.pop("took_ms"), float | int)
    return body


def assert_cited(item: dict) -> None:
    """The citation rule: the raw file sliced at the offsets is the text."""
    assert raw(item["source"])[item["char_start"] : item["char_end"]] == item["text"]


def wait_for(client: TestClient, status: str) -> dict:
    deadline = time.monotonic() + 30
    while (body := client.get("/health").json())["status"] == "loading" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert body["status"] == status, body
    return body


# ---------------------------------------------------------------------------------------------
# health and start-up


def test_health_ok(client, engine):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "detail": None,
        "documents": 5,
        "chunks": len(engine.index.chunks),
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "built_at": engine.index.manifest["built_at"],
    }


def test_health_says_loading_until_the_engine_is_loaded(app_settings, engine, monkeypatch):
    gate = threading.Event()

    def slow_load(settings, **kwargs):
        assert settings == app_settings
        gate.wait(30)
        return engine

    monkeypatch.setattr(Engine, "load", slow_load)
    with TestClient(create_app(app_settings), base_url="http://localhost") as client:
        response = client.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "loading", "detail": None, "documents": None, "chunks": None,
                                   "model": None, "built_at": None}
        for path in ("/ask?q=beds", "/search?q=beds", "/documents", "/documents/tip-2006-peru"):
            response = client.get(path)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert response.json() == {"detail": 'the index is still loading; retry in a few seconds '
                                                 '(GET /health says when it is "ok")'}
        gate.set()
        assert wait_for(client, "ok")["chunks"] == len(engine.index.chunks)
        assert client.get("/ask", params={"q": QUESTION}).status_code == 200


def test_an_index_that_cannot_load_is_reported(settings_factory, tmp_path):
    missing = tmp_path / "none"
    with TestClient(create_app(settings_factory(index=missing)), base_url="http://localhost") as client:
        message = f"no index in '{missing}' (run `qa index` to build it)"
        assert wait_for(client, "error") == {"status": "error", "detail": message, "documents": None,
                                             "chunks": None, "model": None, "built_at": None}
        assert client.get("/health").status_code == 503
        for path in ("/ask?q=beds", "/search?q=beds", "/documents"):
            response = client.get(path)
            assert response.status_code == 503
            assert response.json() == {"detail": f"the index could not be loaded: {message}"}


# ---------------------------------------------------------------------------------------------
# search and ask: the library's answer, unchanged

SEARCHES = [
    {"q": QUESTION},
    {"query": "MIMP budget for victims", "k": 3, "mode": "bm25"},
    {"q": "traffickers convicted", "k": 4, "mode": "dense", "year": 2017},
    {"q": "shelters", "doc": "tip-2017-peru-protection", "section": "protection", "kind": "government"},
    {"q": "prosecutions", "doc": "004_844f8cd0d9c37617.txt", "k": 50},
]


@pytest.mark.parametrize("params", SEARCHES)
def test_search_returns_what_the_library_returns(client, engine, params):
    filters = Filters(params.get("year"), params.get("doc"), params.get("section"), params.get("kind"))
    text = params.get("q") or params.get("query")
    result = engine.search(text, params.get("k", 10), filters, params.get("mode", "hybrid"))
    expected = without_took(search_response(result, engine.index).model_dump(mode="json"))
    for response in (client.get("/search", params=params), client.post("/search", json=params)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert without_took(body) == expected
        assert body["hits"], params
        for hit in body["hits"]:
            assert_cited(hit)


ASKS = [
    {"q": QUESTION},
    {"question": "how many traffickers were convicted in 2017", "k": 3},
    {"q": "what did MIMP spend on victims in 2016", "kind": "civil society"},
    {"q": "how many shelter beds existed", "year": 2016, "section": "Protection"},
    {"q": "who won the football world cup in 1998"},
]


@pytest.mark.parametrize("params", ASKS)
def test_ask_returns_what_the_library_returns(client, engine, params):
    filters = Filters(params.get("year"), params.get("doc"), params.get("section"), params.get("kind"))
    text = params.get("q") or params.get("question")
    expected = without_took(ask_response(engine.ask(text, params.get("k", 5), filters), engine.index)
                            .model_dump(mode="json"))
    for response in (client.get("/ask", params=params), client.post("/ask", json=params)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert without_took(body) == expected
        assert set(body) == {"question", "answer", "reason", "passages"}
        for passage in body["passages"]:
            assert_cited(passage)
        if body["answer"] is None:
            assert body["reason"]
            continue
        for answer in (body["answer"], *body["answer"]["alternatives"]):
            assert_cited(answer)
            assert raw(answer["source"])[answer["sentence_start"] : answer["sentence_end"]] == answer["sentence"]


def test_q_and_its_long_name_may_both_be_given_when_equal(client):
    response = client.get("/search", params={"q": "beds", "query": "beds", "k": 1})
    assert response.status_code == 200 and response.json()["query"] == "beds"


# ---------------------------------------------------------------------------------------------
# documents


def expected_meta(engine, doc_id: str) -> dict:
    sections = [{"path": list(s.path), "label": " > ".join(s.path), "char_start": s.char_start,
                 "char_end": s.char_end} for s in engine.index.sections[doc_id]]
    return {**engine.index.documents[doc_id].meta(), "sections": sections}


def test_documents_lists_metadata_and_sections(client, engine):
    response = client.get("/documents")
    assert response.status_code == 200
    body = response.json()
    assert body == [expected_meta(engine, doc_id) for doc_id in engine.index.documents]
    assert [d["id"] for d in body] == ["tip-2017-peru-protection", "tip-2023-peru",
                                       "chs-alternative-report-2015-2016", "tip-2006-peru",
                                       "tip-2018-peru-prosecution"]
    for doc in body:
        assert "text" not in doc
        assert all(0 <= s["char_start"] < s["char_end"] <= doc["chars"] for s in doc["sections"])


@pytest.mark.parametrize("key", ["tip-2017-peru-protection", "000_abe84397df7d8ac3.txt"])
def test_a_document_by_id_or_file_name(client, engine, key):
    response = client.get(f"/documents/{key}")
    assert response.status_code == 200
    expected = expected_meta(engine, "tip-2017-peru-protection")
    assert response.json() == {**expected, "text": raw("000_abe84397df7d8ac3.txt")}


# ---------------------------------------------------------------------------------------------
# errors: the exact body, always {"detail": "..."}

DOCS = ("tip-2017-peru-protection, tip-2023-peru, chs-alternative-report-2015-2016, tip-2006-peru, "
        "tip-2018-peru-prosecution")
JSON = {"content-type": "application/json"}

# (method, url, request options, status, detail, loc of a validation error or None)
ERRORS = [
    ("GET", "/search?q=beds&k=0", {}, 422,
     "query parameter 'k': Input should be greater than or equal to 1 (got '0')", ["query", "k"]),
    ("GET", "/search?q=beds&k=51", {}, 422, "k is 51; ask for at most 50 passages", None),
    ("POST", "/ask", {"json": {"q": "beds", "k": 1000}}, 422, "k is 1000; ask for at most 50 passages", None),
    ("GET", "/ask?q=beds&k=five", {}, 422, "query parameter 'k': Input should be a valid integer, unable to parse "
     "string as an integer (got 'five')", ["query", "k"]),
    ("GET", "/search?k=3", {}, 422,
     "no query: give it as q (or query), e.g. q=how+many+shelter+beds+existed+in+2016", None),
    ("POST", "/ask", {"json": {"k": 3}}, 422,
     "no question: give it as q (or question), e.g. q=how+many+shelter+beds+existed+in+2016", None),
    ("GET", "/search?q=", {}, 422, "the query is empty; ask a question or give keywords", None),
    ("GET", "/ask?q=%20%20", {}, 422, "the query is empty; ask a question or give keywords", None),
    ("GET", "/search?q=" + "x" * 1001, {}, 422, "the query is 1,001 characters long; shorten it to at most 1,000",
     None),
    ("POST", "/ask", {"json": {"question": "y" * 5000}}, 422,
     "the question is 5,000 characters long; shorten it to at most 1,000", None),
    ("GET", "/search?q=a&query=b", {}, 422, "give the query once, as q or as query, not both", None),
    ("GET", "/search?q=beds&doc=nope", {}, 422, f"unknown document 'nope'; allowed: {DOCS}", None),
    ("POST", "/ask", {"json": {"q": "beds", "doc": "nope"}}, 422, f"unknown document 'nope'; allowed: {DOCS}", None),
    ("GET", "/search?q=beds&kind=ngo", {}, 422,
     "query parameter 'kind': Input should be 'government' or 'civil society' (got 'ngo')", ["query", "kind"]),
    ("POST", "/search", {"json": {"q": "beds", "mode": "fuzzy"}}, 422,
     "field 'mode': Input should be 'hybrid', 'bm25' or 'dense' (got 'fuzzy')", ["body", "mode"]),
    ("GET", "/search?q=beds&year=1800", {}, 422,
     "query parameter 'year': Input should be greater than or equal to 1900 (got '1800')", ["query", "year"]),
    ("GET", "/search?q=beds&qeury=x", {}, 422,
     "unknown query parameter 'qeury'; allowed: year, doc, section, kind, q, query, k, mode", ["query", "qeury"]),
    ("POST", "/ask", {"json": {"q": "beds", "mode": "bm25"}}, 422,
     "unknown field 'mode'; allowed: year, doc, section, kind, q, question, k", ["body", "mode"]),
    ("POST", "/ask", {"json": {"q": 5}}, 422, "field 'q': Input should be a valid string (got 5)", ["body", "q"]),
    ("POST", "/ask", {"content": b'{"q": "\\ud800"}', "headers": JSON}, 422,
     "field 'q': holds a lone surrogate, which is not text; send valid UTF-8 (got '\\ud800')", ["body", "q"]),
    ("POST", "/ask", {"content": b'{"q": ', "headers": JSON}, 422,
     f"the body is not valid JSON (Expecting value); send a JSON object such as {EXAMPLE_BODY}", ["body", "6"]),
    ("POST", "/search", {"json": ["beds"]}, 422, "the body must be a JSON object sent as Content-Type: "
     f"application/json, such as {EXAMPLE_BODY}", ["body"]),
    ("POST", "/search", {"content": b'{"q": "beds"}'}, 422, "the body must be a JSON object sent as Content-Type: "
     f"application/json, such as {EXAMPLE_BODY}", ["body"]),
    ("POST", "/ask", {}, 422, f"the request has no body; send a JSON object such as {EXAMPLE_BODY}", ["body"]),
    ("POST", "/ask", {"content": b"[" * 100_000 + b"]" * 100_000, "headers": JSON}, 413,
     "the request body is over the limit of 65,536 bytes; send a shorter JSON object", None),
    ("POST", "/search", {"json": {"q": "x" * 70_000}}, 413,
     "the request body is over the limit of 65,536 bytes; send a shorter JSON object", None),
    ("POST", "/ask", {"content": b"[" * 30_000 + b"]" * 30_000, "headers": JSON}, 400,
     f"the body could not be parsed; send a JSON object such as {EXAMPLE_BODY}", None),
    ("GET", "/documents/nope", {}, 404, f"no document 'nope'; documents: {DOCS}", None),
    ("GET", "/nowhere", {}, 404, "nothing at '/nowhere'; the API is described at /docs", None),
    ("GET", "/static/nothing.js", {}, 404, "nothing at '/static/nothing.js'; the API is described at /docs", None),
    ("DELETE", "/search", {}, 405, "DELETE is not allowed on '/search'; use GET, HEAD or POST", None),
    ("POST", "/documents", {}, 405, "POST is not allowed on '/documents'; use GET or HEAD", None),
]


@pytest.mark.parametrize(("method", "url", "options", "status", "detail", "loc"), ERRORS,
                         ids=[f"{e[0]} {e[1][:40]} {e[4][:30]}" for e in ERRORS])
def test_errors_say_what_was_wrong(client, method, url, options, status, detail, loc):
    response = client.request(method, url, **options)
    assert response.status_code == status
    expected = {"detail": detail} if loc is None else {"detail": detail, "errors": [{"loc": loc, "msg": detail}]}
    assert response.json() == expected


def test_unknown_section_names_the_sections(client, engine):
    sections = ", ".join(engine.searcher.section_names())
    for response in (client.get("/search", params={"q": "beds", "section": "nope"}),
                     client.post("/ask", json={"q": "beds", "section": "nope"})):
        assert response.status_code == 422
        assert response.json() == {"detail": f"no section matches 'nope'; sections: {sections}"}


def test_several_problems_are_all_named(client):
    response = client.get("/search", params={"q": "beds", "k": "0", "kind": "ngo"})
    assert response.status_code == 422
    k = "query parameter 'k': Input should be greater than or equal to 1 (got '0')"
    kind = "query parameter 'kind': Input should be 'government' or 'civil society' (got 'ngo')"
    assert response.json() == {"detail": f"{kind}; {k}",  # in the order of the fields
                               "errors": [{"loc": ["query", "kind"], "msg": kind}, {"loc": ["query", "k"], "msg": k}]}


def test_empty_form_fields_mean_any(client, engine):
    response = client.get("/search?q=beds&k=2&year=&doc=&section=&kind=")
    assert response.status_code == 200
    expected = without_took(search_response(engine.search("beds", 2), engine.index).model_dump(mode="json"))
    assert without_took(response.json()) == expected


def test_settings_come_from_an_overridable_dependency(app_settings, engine):
    app = create_app(app_settings, engine=engine)
    app.dependency_overrides[get_settings] = lambda: app_settings.model_copy(update={"max_k": 3, "max_query_chars": 5})
    with TestClient(app, base_url="http://localhost") as client:
        assert client.get("/search?q=beds&k=4").json() == {"detail": "k is 4; ask for at most 3 passages"}
        assert client.get("/ask?q=shelters").json() == {
            "detail": "the question is 8 characters long; shorten it to at most 5"}
        assert client.get("/search?q=beds&k=3").status_code == 200


NASTY_GETS = [
    "q=%00", "q=%00%01%02&doc=%00&section=%00", "q=%ff%fe%fd", "q=%ED%A0%80", "q=" + "%F0%9F%98%80" * 300,
    "q=<script>alert(1)</script>", "q=a&k=-1", "q=a&k=1e9", "q=a&k=1.5", "q=a&k=" + "9" * 5000, "q=a&k=",
    "q=a&year=abc", "q=a&year=-5", "q=a&year=" + "9" * 400, "q=a&kind=", "q=a&mode=", "q=a&q=b", "q=a&section=%20",
    "q=a&doc=" + "x" * 300, "q=a&section=" + "s" * 300, "q=" + "x" * 60_000, "q=%25s%25n%25x", "q[]=a", "q=a&k[]=1",
    "q=" + "\u202e\u200b\ufeff", "q=a&year=2016&doc=tip-2006-peru",
]
NASTY_BODIES = [
    b"", b"{", b"null", b"true", b"[]", b"123", b'"beds"', b"{}", b'{"q": null}', b'{"q": ["a"]}',
    b'{"q": {"a": 1}}', b'{"q": "a", "k": "five"}', b'{"q": "a", "k": 1e308}', b'{"q": "a", "k": NaN}',
    b'{"q": "a", "k": 99999999999999999999999}', b'{"q": "a", "k": true}', b'{"q": "a", "year": true}',
    b'{"q": "\\u0000"}', b'{"q": "a", "kind": "NGO"}', b'{"q": "a", "filters": {}}', b"\xff\xfe\x00",
    b'{"q": "a"}{"q": "b"}', b'{"q": "a", "q": "b"}', b'{"q": "\\udfff\\ud800"}', b'{"q": "a", "doc": "\\ud800"}',
    b'{"q": "a", "section": 12}', "{\"q\": \"¿cuántas camas había en 2016?\"}".encode(),
]


def test_no_input_produces_a_server_error(client):
    requests = [("GET", f"{path}?{query}", {}) for path in ("/search", "/ask") for query in NASTY_GETS]
    for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        requests += [("POST", path, {"content": body, "headers": headers})
                     for path in ("/search", "/ask") for body in NASTY_BODIES]
    requests += [("GET", path, {}) for path in ("/documents/%00", "/documents/..%2F..%2Fetc%2Fpasswd",
                                                "/documents/" + "x" * 5000, "/static/..%2F..%2Fapi.py",
                                                "/static/%2e%2e/api.py", "/%ff", "/health?x=%00")]
    requests += [("POST", "/ask", {"content": b"x", "headers": {"content-length": "99999999999999999999"}})]
    for method, url, options in requests:
        response = client.request(method, url, **options)
        assert response.status_code < 500, (method, url[:80], options, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert set(body) <= {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]


# ---------------------------------------------------------------------------------------------
# domain errors, the concurrency limit, headers (plumbing: fakes are fine)


class BlockingEngine:
    """The real engine behind a gate: search and ask wait until ``release`` is set."""

    def __init__(self, engine, error: Exception | None = None):
        self.engine, self.index, self.error = engine, engine.index, error
        self.entered, self.release = threading.Event(), threading.Event()

    def _wait(self):
        self.entered.set()
        assert self.release.wait(30)
        if self.error:
            raise self.error

    def search(self, *args):
        self._wait()
        return self.engine.search(*args)

    def ask(self, *args):
        self._wait()
        return self.engine.ask(*args)


def test_domain_errors_map_to_http_in_one_place(app_settings, engine):
    fake = BlockingEngine(engine, IndexMismatch("the index changed on disk"))
    fake.release.set()
    with TestClient(create_app(app_settings, engine=fake), base_url="http://localhost") as client:
        response = client.get("/search?q=beds")
        assert response.status_code == 503
        assert response.json() == {"detail": "the index changed on disk (run `qa index` to rebuild it)"}


def test_requests_over_the_concurrency_limit_get_an_immediate_503(settings_factory, built_index, engine):
    fake = BlockingEngine(engine)
    app = create_app(settings_factory(index=built_index, max_concurrency=1), engine=fake)
    with TestClient(app, base_url="http://localhost") as client:
        first = []
        thread = threading.Thread(target=lambda: first.append(client.get("/ask", params={"q": QUESTION})))
        thread.start()
        try:
            assert fake.entered.wait(30)
            # the first request is held inside the engine: an answer now cannot have waited for it
            for busy in (client.get("/search?q=beds"), client.post("/ask", json={"q": "beds"})):
                assert busy.status_code == 503
                assert busy.headers["retry-after"] == "1"
                assert busy.json() == {"detail": "busy: the service answers 1 searches or questions at a time; "
                                                 "retry in a moment"}
            assert client.get("/health").json()["status"] == "ok"  # never waits
            assert client.get("/documents").status_code == 200  # not limited
        finally:
            fake.release.set()
            thread.join(30)
        assert first[0].status_code == 200
        assert client.get("/search?q=beds").status_code == 200  # the slot is free again


def _without_timing(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "took_ms"}


def test_concurrent_requests_get_the_answers_sequential_ones_get(client):
    """The engine serves requests from several threads at once (one stemmer per thread)."""
    questions = [QUESTION, "MIMP 2016 implemented budget", "convictions in 2022", "Tren de Aragua",
                 "how many traffickers were convicted in 2017", "shelter capacity girls 2022"] * 2  # under the limit of 16
    expected = {q: _without_timing(client.get("/ask", params={"q": q}).json()) for q in set(questions)}
    responses: dict[int, dict] = {}

    def ask(i: int, q: str) -> None:
        responses[i] = client.get("/ask", params={"q": q}).json()

    threads = [threading.Thread(target=ask, args=(i, q)) for i, q in enumerate(questions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [_without_timing(responses[i]) for i in range(len(questions))] == [expected[q] for q in questions]


@pytest.mark.parametrize("path", ["/", "/docs", "/health", "/static/app.js", "/static/swagger/swagger-ui.css",
                                  "/openapi.json", "/nowhere", "/search?k=0", "/documents/nope"])
def test_every_response_sends_the_security_headers(client, path):
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_the_page_has_no_inline_script_or_style(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert 'id="ask-form"' in page and 'aria-live="polite"' in page
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="static/app.js" defer>']
    assert "<style" not in page and " style=" not in page and "http" not in page.replace("http-equiv", "")
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text and "eval(" not in script.text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_docs_are_served_offline(client):
    response = client.get("/docs")
    assert response.status_code == 200
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts == ['<script src="static/swagger/swagger-ui-bundle.js" defer>',
                       '<script src="static/docs.js" defer>']
    assert "//" not in response.text.replace("<!doctype html>", "")  # no outside address
    for asset in ("static/swagger/swagger-ui-bundle.js", "static/swagger/swagger-ui.css", "static/docs.js"):
        assert client.get(f"/{asset}").status_code == 200, asset
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/health", "/search", "/ask", "/documents", "/documents/{doc_id}"}
    assert set(spec["paths"]["/search"]) == {"get", "post"} and set(spec["paths"]["/ask"]) == {"get", "post"}
    assert client.get("/redoc").status_code == 404  # it would need a CDN
