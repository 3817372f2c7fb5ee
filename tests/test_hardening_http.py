"""HTTP details (issue 18, finding 5): HEAD wherever GET works; a 405's Allow header and message
agree; a year filter that matches nothing is named; an overload 503 comes before the body is read;
a body that never arrives gets a 408; the Host header must name the service."""

from __future__ import annotations

import socket
import threading

import pytest
from fastapi.testclient import TestClient

from hardening import serving
from qa.api import create_app
from test_api import BlockingEngine

QUESTION = "how many shelter beds existed in 2016"


@pytest.fixture(scope="module")
def client(settings_factory, built_index, engine):
    with TestClient(create_app(settings_factory(index=built_index), engine=engine), base_url="http://localhost") as c:
        yield c


@pytest.mark.parametrize("url", ["/health", "/", "/docs", f"/ask?q={QUESTION}", "/search?q=beds", "/documents",
                                 "/openapi.json", "/static/app.js"])
def test_head_works_wherever_get_does(client, url):
    head, get = client.head(url), client.get(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert "content-security-policy" in head.headers


@pytest.mark.parametrize(("method", "url", "allowed"), [
    ("PUT", "/openapi.json", "GET, HEAD"), ("DELETE", "/openapi.json", "GET, HEAD"),
    ("OPTIONS", "/openapi.json", "GET, HEAD"), ("PUT", "/static/app.js", "GET, HEAD"),
    ("DELETE", "/static/swagger/swagger-ui.css", "GET, HEAD"), ("PUT", "/ask", "GET, HEAD, POST"),
    ("PATCH", "/health", "GET, HEAD"), ("POST", "/", "GET, HEAD"),
])
def test_a_405_allow_header_and_message_agree(client, method, url, allowed):
    response = client.request(method, url)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    methods = allowed.split(", ")
    said = f"{', '.join(methods[:-1])} or {methods[-1]}"
    assert response.json() == {"detail": f"{method} is not allowed on {url!r}; use {said}"}


def test_a_year_filter_that_matches_nothing_is_named(client):
    body = client.get("/ask", params={"q": QUESTION, "year": 1950}).json()
    assert body["answer"] is None and body["passages"] == []
    assert body["reason"] == "no passage matches the filter year 1950; widen or remove it"
    body = client.get("/ask", params={"q": QUESTION, "year": 1950, "section": "Budget"}).json()
    assert body["reason"] == "no passage matches the filter year 1950, section 'Budget'; widen or remove it"


@pytest.mark.parametrize(("allowed", "host", "status"), [
    ("", "localhost", 200), ("", "127.0.0.1:8000", 200), ("", "evil.example", 400),
    ("", "[::1]:8000", 200), ("qa.example, other", "qa.example:80", 200), ("qa.example", "localhost", 400),
    ("*", "evil.example", 200),
])
def test_the_host_header_must_name_the_service(settings_factory, built_index, engine, allowed, host, status):
    app = create_app(settings_factory(index=built_index, allowed_hosts=allowed), engine=engine)
    with TestClient(app, base_url="http://localhost") as client:
        response = client.get("/health", headers={"host": host})
    assert response.status_code == status
    if status == 400:
        assert response.json()["detail"].startswith(f"the Host header {host!r} is not a name of this service (")
        assert response.json()["detail"].endswith("); use one of them, or add it to QA_ALLOWED_HOSTS")


def test_serving_on_every_interface_accepts_any_host(settings_factory, built_index, engine):
    app = create_app(settings_factory(index=built_index, host="0.0.0.0"), engine=engine)
    with TestClient(app, base_url="http://somewhere.example") as client:
        assert client.get("/health").status_code == 200


def raw_request(base: str, data: bytes, timeout: float = 10) -> bytes:
    """``data`` sent as is over a socket; what comes back until the server closes or 2 s pass
    after the first bytes."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_a_body_that_never_arrives_gets_a_408(settings_factory, built_index, engine):
    app = create_app(settings_factory(index=built_index, body_timeout=0.5), engine=engine)
    with serving(app) as base:
        reply = raw_request(base, b"POST /ask HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                  b"Content-Length: 100\r\n\r\n{\"q\": \"be")
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert reply.endswith(b'{"detail":"the request body did not arrive within 0.5 s; send it whole, with a '
                          b'Content-Length that matches it"}')


def test_an_overload_503_is_answered_before_the_body_is_read(settings_factory, built_index, engine):
    """With every slot held, a request whose body has not arrived is refused at once: the check
    comes at arrival, before any reading or queueing (with the body read first it would wait)."""
    fake = BlockingEngine(engine)
    app = create_app(settings_factory(index=built_index, max_concurrency=1, body_timeout=60), engine=fake)
    with serving(app) as base:
        import httpx

        first = threading.Thread(target=lambda: httpx.get(f"{base}/ask", params={"q": QUESTION}, timeout=60))
        first.start()
        try:
            assert fake.entered.wait(30)
            reply = raw_request(base, b"POST /ask HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                      b"Content-Length: 100\r\n\r\n", timeout=10)
            assert reply.startswith(b"HTTP/1.1 503 "), reply[:200]
            assert b"busy: the service answers 1 searches or questions at a time" in reply
        finally:
            fake.release.set()
            first.join(60)
