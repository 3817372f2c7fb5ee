"""Fuzzing the HTTP API from its own OpenAPI schema (schemathesis): no server error, every
response as the schema documents it (status code, content type, body), schema-violating input
rejected, and input the schema allows answered by the engine.

Per operation, with a fixed seed: ``EXAMPLES`` schema-valid cases, ``EXAMPLES`` schema-violating
cases and, for /search and /ask, ``ENGINE_EXAMPLES`` valid cases adjusted so that they reach the
engine (one spelling of the query, k within max_k, a real document or section), which must then
answer 200 unless the query is blank. The real engine (model and index) answers: the tokenizer and
the reader see whatever text schemathesis makes up.

Cases come from schemathesis 4's strategies (``operation.as_strategy``) under a plain Hypothesis
``@given``: its pytest integration with a fixture-built schema (``schemathesis.pytest.from_fixture``)
fails under pytest 9 (``'Function' object has no attribute '_nodeid'``), and the app needs the
session's engine fixture. Operations without parameters (/health, /documents) have one possible
request, so they run once and get no schema-violating cases.

QA_HARDENING_LONG=1 multiplies the counts by 10 (``python tests/hardening_long.py``).
"""

from __future__ import annotations

import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hardening import scaled
from qa.api import create_app

pytestmark = pytest.mark.slow

SEED = 20240607
EXAMPLES = scaled(300, 3000)
ENGINE_EXAMPLES = scaled(200, 2000)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
OPERATIONS = [("GET", "/health"), ("GET", "/search"), ("POST", "/search"), ("GET", "/ask"), ("POST", "/ask"),
              ("GET", "/documents"), ("GET", "/documents/{doc_id}")]
ALIASES = {"/search": "query", "/ask": "question"}


@pytest.fixture(scope="module")
def api(settings_factory, built_index, engine):
    app = create_app(settings_factory(index=built_index, allowed_hosts="testserver"), engine=engine)  # its Host
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=schemathesis.Config.from_dict({"seed": SEED}))
    return schema, engine


def first(*values):
    return next(v for v in values if v is not None)


def run(strategy, examples: int, check) -> None:
    """``check(case)`` on ``examples`` cases drawn with the fixed seed; every failure is collected
    and reported (the first five in full), not only the first one."""
    failures: list[str] = []

    @seed(SEED)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(case=strategy)
    def fuzz(case):
        try:
            check(case)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            sent = case[0] if isinstance(case, tuple) else case
            failures.append(f"{sent.method} {sent.formatted_path} query={sent.query!r} body={sent.body!r}:\n{exc}")

    fuzz()
    assert not failures, f"{len(failures)} failing cases; the first ones:\n\n" + "\n\n".join(failures[:5])


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_schema_valid_and_invalid_input(api, method, path):
    schema, engine = api
    operation = schema[path][method]
    statuses: collections.Counter = collections.Counter()

    def check(case):
        response = case.call()
        statuses[(case.meta.generation.mode.name.lower(), response.status_code)] += 1
        checks = CHECKS + ([negative_data_rejection] if case.meta.generation.mode.is_negative else [])
        case.validate_response(response, checks=checks)
        assert response.status_code < 500, response.text[:300]
        if response.status_code >= 400:
            body = response.json()
            assert isinstance(body["detail"], str) and body["detail"], body

    positive = operation.as_strategy(GenerationMode.POSITIVE)
    if path == "/documents/{doc_id}":  # besides made-up ids, every real id and file name
        keys = [key for doc in engine.index.documents.values() for key in (doc.id, doc.source)]
        positive = st.one_of(positive, st.sampled_from(keys).flatmap(
            lambda key: operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"doc_id": key})))
    run(positive, EXAMPLES, check)
    if operation.query or operation.body:  # else any request is schema-valid
        run(operation.as_strategy(GenerationMode.NEGATIVE), EXAMPLES, check)
    print(f"{method} {path}: {dict(sorted(statuses.items()))}")
    # an operation without parameters has few distinct requests; the others ran their cases
    assert sum(statuses.values()) >= (1 if path in ("/health", "/documents") else EXAMPLES)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op[1] in ALIASES],
                         ids=[f"{m} {p}" for m, p in OPERATIONS if p in ALIASES])
def test_valid_input_reaches_the_engine_and_is_answered(api, method, path):
    schema, engine = api
    operation = schema[path][method]
    docs = [key for doc in engine.index.documents.values() for key in (doc.id, doc.source)]
    sections = engine.searcher.section_names()
    statuses: collections.Counter = collections.Counter()

    def reachable(fields: dict, doc: str | None, section: str | None) -> dict:
        fields = dict(fields)
        if fields.get("q") is not None:
            fields.pop(ALIASES[path], None)
        for name in ("q", ALIASES[path]):
            if isinstance(fields.get(name), str):
                fields[name] = fields[name][:1000]
        if fields.get("q") is None and fields.get(ALIASES[path]) is None:
            fields["q"] = "shelter beds"
        if isinstance(fields.get("k"), int | float):  # JSON may say 3.0
            fields["k"] = min(fields["k"], 50)
        fields.pop("doc", None)
        fields.pop("section", None)
        return fields | ({"doc": doc} if doc else {}) | ({"section": section} if section else {})

    def check(args):
        case, doc, section = args
        if method == "GET":
            case.query = reachable(case.query or {}, doc, section)
            text = first(case.query.get("q"), case.query.get(ALIASES[path]))
        else:
            case.body = reachable(case.body, doc, section)
            text = first(case.body.get("q"), case.body.get(ALIASES[path]))
        response = case.call()
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        if text.strip():
            assert response.status_code == 200, response.text[:300]
        else:
            assert response.status_code == 422
            assert response.json() == {"detail": "the query is empty; ask a question or give keywords"}

    strategy = st.tuples(operation.as_strategy(GenerationMode.POSITIVE),
                         st.sampled_from([None, *docs]), st.sampled_from([None, *sections]))
    run(strategy, ENGINE_EXAMPLES, check)
    print(f"{method} {path}: {dict(sorted(statuses.items()))}")
    assert statuses[200] >= ENGINE_EXAMPLES * 0.8
