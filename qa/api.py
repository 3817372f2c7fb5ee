"""The HTTP service: a thin layer over ``qa.engine`` that parses, calls ``Engine`` and converts
with ``qa.schema``; it also serves the analysts' page (``qa/web/``) and an offline ``/docs``.

    qa serve                        # loads (or builds) the index, then listens
    uvicorn --factory qa.api:create_app

The index and the model load once: given to ``create_app`` (``qa serve``, tests), or loaded by
the lifespan in a background thread, during which ``/health`` answers "loading" and the other
endpoints 503. Every error is JSON ``{"detail": "what was wrong and how to fix it"}``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

import anyio
import anyio.to_thread
import fastapi_offline
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa import __version__
from qa.data import Filters, Kind, Mode
from qa.engine import Engine
from qa.errors import IndexMismatch, IndexNotFound, NotFound, QAError, QueryError
from qa.schema import AskResponse, SearchResponse, ask_response, search_response
from qa.settings import Settings, get_settings

log = logging.getLogger(__name__)

WEB = Path(__file__).parent / "web"
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI 5, shipped by a pip package
EXAMPLE = "how many shelter beds existed in 2016"
EXAMPLE_BODY = f'{{"q": "{EXAMPLE}"}}'
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
THREADS_BESIDES_LIMITED = 16  # worker threads for /documents and the page while every search slot is busy
STATUS = {NotFound: 404, QueryError: 422, IndexNotFound: 503, IndexMismatch: 503}  # other QAErrors: 500


# ---------------------------------------------------------------------------------------------
# input and output shapes (the search and ask responses are qa.schema's)


def _blank_allowed(schema: dict) -> None:
    """The OpenAPI schema says what the validator accepts: an empty value ("any", as a blank form
    field sends it) besides the typed one and null."""
    schema["anyOf"] = [*schema.get("anyOf", []), {"type": "string", "maxLength": 0}]


class Input(BaseModel):
    """Fields shared by /search and /ask, as query parameters (GET) or a JSON object (POST)."""

    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(None, ge=1900, le=2100, description="only passages about this year (empty: any)",
                             json_schema_extra=_blank_allowed)
    doc: str | None = Field(None, max_length=200, description="only this document (id or file name)")
    section: str | None = Field(None, max_length=200, description="only sections whose path contains this text")
    kind: Kind | None = Field(None, description="only this kind of publisher (empty: any)",
                              json_schema_extra=_blank_allowed)

    @field_validator("year", "doc", "section", "kind", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if value == "" else value  # an empty form field means "any"

    @field_validator("*")
    @classmethod
    def _valid_unicode(cls, value):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("holds a lone surrogate, which is not text; send valid UTF-8") from None
        return value

    def filters(self) -> Filters:
        return Filters(year=self.year, doc=self.doc, section=self.section, kind=self.kind)


class SearchIn(Input):
    q: str | None = Field(None, description="the query (max_query_chars, 1000 by default)", examples=[EXAMPLE])
    query: str | None = Field(None, description="the same as q")
    k: int = Field(10, ge=1, description="passages to return, at most max_k (50 by default)")
    mode: Mode = Field("hybrid", description="hybrid, bm25 or dense retrieval")


class AskIn(Input):
    q: str | None = Field(None, description="the question (max_query_chars, 1000 by default)", examples=[EXAMPLE])
    question: str | None = Field(None, description="the same as q")
    k: int = Field(5, ge=1, description="passages to read, at most max_k (50 by default)")


class ErrorItem(BaseModel):
    loc: list[str] = Field(description="where: query, body or path, then the parameter")
    msg: str


class ErrorOut(BaseModel):
    detail: str = Field(description="what was wrong and how to fix it")
    errors: list[ErrorItem] | None = Field(None, description="each problem of a 422, one by one")


class Health(BaseModel):
    status: Literal["loading", "ok", "error"]
    detail: str | None = Field(None, description="why the index could not be loaded")
    documents: int | None = None
    chunks: int | None = None
    model: str | None = None
    built_at: str | None = Field(None, description="when the index was built (UTC, ISO 8601)")


class SectionOut(BaseModel):
    path: list[str]
    label: str = Field(description="the path, ' > ' between levels")
    char_start: int
    char_end: int


class DocumentOut(BaseModel):
    id: str
    source: str = Field(description="file name of the report in the corpus")
    title: str
    publisher: str
    kind: Kind
    report_year: int
    period: list[int] = Field(description="first and last year whose figures the report gives")
    country: str
    url: str | None
    chars: int
    sha256: str
    inferred: bool = Field(description="metadata guessed: the file has no manifest entry")
    format: str = Field(description="text (the raw file is the text), or pdf, html, markdown: the text "
                                    "was extracted from the file")
    pages: list[list[int]] = Field(description="[start, end) of each page (1, 2, ...) in text; empty "
                                               "for a report without pages")
    sections: list[SectionOut]


class DocumentText(DocumentOut):
    text: str = Field(description="the raw file, or the text extracted from a PDF, HTML or Markdown file: "
                                  "every char_start/char_end points into it")


ERRORS = {
    422: {"model": ErrorOut, "description": "Bad input: the detail says what to change"},
    503: {"model": ErrorOut, "description": "The index is loading or failed to load, or the service is busy"},
}
BODY_ERRORS = {
    **ERRORS,
    400: {"model": ErrorOut, "description": "The body could not be read (not UTF-8, or nested too deeply)"},
    413: {"model": ErrorOut, "description": "The body is over max_body_bytes (65,536 by default)"},
}


# ---------------------------------------------------------------------------------------------
# the engine, loaded once in the background


class Loader:
    """Holds the engine; ``start`` loads it in a daemon thread unless one was given."""

    def __init__(self, settings: Settings, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> Literal["loading", "ok", "error"]:
        return "ok" if self.engine else "error" if self.error else "loading"

    def start(self) -> None:
        if self.engine is None and self._thread is None:
            self._thread = threading.Thread(target=self._load, name="qa-engine-load", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        started = time.perf_counter()
        log.info("loading the index in %s", self.settings.index)
        try:
            self.engine = Engine.load(self.settings)
        except QAError as exc:
            self.error = str(exc)
        except Exception as exc:  # the service stays up to say so on /health
            log.exception("the engine failed to load")
            self.error = f"unexpected {exc.__class__.__name__}: {exc}"
        if self.error:
            log.error("the index could not be loaded: %s", self.error)
        else:
            log.info("ready in %.1f s", time.perf_counter() - started)

    def get(self) -> Engine:
        if self.engine is not None:
            return self.engine
        if self.error is not None:
            raise HTTPException(503, f"the index could not be loaded: {self.error}")
        raise HTTPException(503, "the index is still loading; retry in a few seconds (GET /health says "
                                 'when it is "ok")', headers={"Retry-After": "5"})


def get_engine(request: Request) -> Engine:
    return request.app.state.loader.get()


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _checked(text: str | None, k: int, settings: Settings, name: str) -> str:
    """The query text, within the settings' limits; QueryError saying how to fix it."""
    if text is None:
        raise QueryError(f"no {name}: give it as q (or {name}), e.g. q={EXAMPLE.replace(' ', '+')}")
    if len(text) > settings.max_query_chars:
        raise QueryError(f"the {name} is {len(text):,} characters long; shorten it to at most "
                         f"{settings.max_query_chars:,}")
    if k > settings.max_k:
        raise QueryError(f"k is {k}; ask for at most {settings.max_k} passages")
    return text


def _one_of(a: str | None, b: str | None, name: str) -> str | None:
    if a is not None and b is not None and a != b:
        raise QueryError(f"give the {name} once, as q or as {name}, not both")
    return a if a is not None else b


def _search(params: SearchIn, engine: Engine, settings: Settings) -> SearchResponse:
    query = _checked(_one_of(params.q, params.query, "query"), params.k, settings, "query")
    return search_response(engine.search(query, params.k, params.filters(), params.mode), engine.index)


def _ask(params: AskIn, engine: Engine, settings: Settings) -> AskResponse:
    question = _checked(_one_of(params.q, params.question, "question"), params.k, settings, "question")
    return ask_response(engine.ask(question, params.k, params.filters()), engine.index)


def _document(engine: Engine, doc_id: str) -> DocumentOut:
    doc = engine.index.documents[doc_id]
    sections = [SectionOut(path=list(s.path), label=s.label, char_start=s.char_start, char_end=s.char_end)
                for s in engine.index.sections[doc_id]]
    return DocumentOut(**doc.meta(), sections=sections)


# ---------------------------------------------------------------------------------------------
# errors: one JSON shape


def _short(value) -> str:
    text = repr(value)  # repr escapes NUL bytes and lone surrogates
    return text if len(text) <= 80 else text[:77] + "..."


def describe(error: dict, allowed: Iterable[str]) -> str:
    """One pydantic validation error as a sentence that says how to fix it."""
    kind, loc = error["type"], tuple(error.get("loc") or ("request",))
    place, name = loc[0], ".".join(str(part) for part in loc[1:])
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "it does not parse")
        return f"the body is not valid JSON ({reason}); send a JSON object such as {EXAMPLE_BODY}"
    if place == "body" and not name:
        if kind == "missing":
            return f"the request has no body; send a JSON object such as {EXAMPLE_BODY}"
        return f"the body must be a JSON object sent as Content-Type: application/json, such as {EXAMPLE_BODY}"
    where = {"query": "query parameter", "body": "field", "path": "path parameter"}.get(place, place)
    if kind == "extra_forbidden":
        return f"unknown {where} {name!r}; allowed: {', '.join(allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    got = f" (got {_short(error['input'])})" if kind != "missing" and "input" in error else ""
    return f"{where} {name!r}: {message}{got}"


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    route = request.scope.get("route")
    model = {"/search": SearchIn, "/ask": AskIn}.get(getattr(route, "path", ""))
    allowed = list(model.model_fields) if model else []
    problems = [describe(e, allowed) for e in exc.errors()]
    errors = [{"loc": [str(part) for part in e.get("loc", ())], "msg": p} for e, p in zip(exc.errors(), problems)]
    return JSONResponse({"detail": "; ".join(problems), "errors": errors}, 422)


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    detail, path = str(exc.detail), request.scope["path"]
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        if isinstance(exc.__cause__, UnicodeDecodeError):
            detail = f"the body is not UTF-8 text; send a JSON object encoded as UTF-8, such as {EXAMPLE_BODY}"
        else:  # nested too deeply for the JSON parser, for one
            detail = f"the body could not be parsed; send a JSON object such as {EXAMPLE_BODY}"
    elif exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {path!r}; the API is described at /docs"
        trimmed = path.rstrip("/")
        if trimmed != path and trimmed and any(
            route.matches({**request.scope, "path": trimmed})[0] != Match.NONE for route in request.app.routes
        ):  # no redirect (it would be built from the Host header): say where to go instead
            detail = f"nothing at {path!r}; did you mean {trimmed!r}, without the trailing slash?"
    elif exc.status_code == 405:
        top = {**request.scope, "root_path": request.scope.get("app_root_path", request.scope.get("root_path", ""))}
        methods = allowed_methods(request.app.routes, top)  # matched from the top (a mount moves root_path)
        detail = f"{request.method} is not allowed on {path!r}; use {', '.join(methods[:-1])} or {methods[-1]}" \
            if len(methods) > 1 else f"{request.method} is not allowed on {path!r}; use {''.join(methods) or 'GET'}"
        return JSONResponse({"detail": detail}, 405, headers={"Allow": ", ".join(methods or ["GET", "HEAD"])})
    return JSONResponse({"detail": detail}, exc.status_code, headers=exc.headers)


def allowed_methods(routes, scope: Scope) -> list[str]:
    """The methods some route at this path answers (a mount, the static files, answers GET);
    HEAD wherever GET is (``HeadAsGet``). The 405's message and its Allow header both use it."""
    methods: set[str] = set()
    for route in routes:
        if route.matches({**scope, "method": "GET"})[0] == Match.NONE and route.matches(scope)[0] == Match.NONE:
            continue
        methods |= {"GET"} if isinstance(route, Mount) else set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _domain_error(request: Request, exc: QAError) -> JSONResponse:
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 500)
    return JSONResponse({"detail": str(exc)}, status)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.scope["path"])
    detail = f"unexpected {exc.__class__.__name__} on the server; please report it with the request that caused it"
    return JSONResponse({"detail": detail}, 500, headers=SECURITY_HEADERS)


# ---------------------------------------------------------------------------------------------
# middleware (plain ASGI)


class SecurityHeaders:
    """A Content-Security-Policy without 'unsafe-inline', and nosniff, on every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD is answered wherever GET is (monitors and ``curl -I`` use it): the app sees a GET and
    the body is dropped, the headers (Content-Length included) kept."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class AllowedHosts:
    """Only requests whose Host header names this service (``hosts``; ``*`` allows any): a
    DNS-rebinding page cannot reach it through a name of its own. A request without a Host
    header (HTTP/1.0) is let through: it names nothing."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "*" in self.hosts:
            return await self.app(scope, receive, send)
        host = Headers(scope=scope).get("host")
        if host is None or host_name(host) in self.hosts:
            return await self.app(scope, receive, send)
        detail = (f"the Host header {_short(host)} is not a name of this service ({', '.join(sorted(self.hosts))}); "
                  "use one of them, or add it to QA_ALLOWED_HOSTS")
        await JSONResponse({"detail": detail}, 400, headers=SECURITY_HEADERS)(scope, receive, send)


def host_name(host: str) -> str:
    """``Host`` without its port, lower-cased: ``[::1]:8000`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """QA_ALLOWED_HOSTS (comma-separated), else the host served on plus localhost; any host when
    served on every interface (0.0.0.0), whose names the service cannot know."""
    if settings.allowed_hosts.strip():
        return frozenset(host_name(h) for h in settings.allowed_hosts.split(",") if h.strip())
    if settings.host in ("0.0.0.0", "::", ""):
        return frozenset({"*"})
    return frozenset({host_name(settings.host), "localhost", "127.0.0.1", "::1"})


class BodyLimit:
    """A request body over ``limit`` bytes gets a 413 before the app reads any of it; a body that
    does not arrive within ``timeout`` seconds gets a 408 (the connection is then closed)."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float):
        self.app, self.limit, self.timeout = app, limit, timeout

    async def too_slow(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = (f"the request body did not arrive within {self.timeout:g} s; send it whole, with a "
                  "Content-Length that matches it")
        await JSONResponse({"detail": detail}, 408, headers={"Connection": "close"})(scope, receive, send)

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is over the limit of {self.limit:,} bytes; send a shorter JSON object"
        await JSONResponse({"detail": detail}, 413)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            return await self.too_large(scope, receive, send)
        body, more = bytearray(), True
        while more:
            with anyio.move_on_after(self.timeout) as waiting:
                message = await receive()
            if waiting.cancelled_caught:
                return await self.too_slow(scope, receive, send)
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                return await self.too_large(scope, receive, send)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


class ConcurrencyLimit:
    """At most ``limit`` requests to ``paths`` at a time; one more gets an immediate 503. The
    outermost middleware: the refusal is a counter check and a prepared response, before the body
    is read or anything is queued for a worker thread."""

    def __init__(self, app: ASGIApp, limit: int, paths: tuple[str, ...]):
        self.app, self.limit, self.paths = app, limit, paths
        self.active = 0  # only the event loop touches it
        detail = f"busy: the service answers {limit} searches or questions at a time; retry in a moment"
        self.busy = JSONResponse({"detail": detail}, 503, headers={"Retry-After": "1", **SECURITY_HEADERS})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            return await self.app(scope, receive, send)
        if self.active >= self.limit:
            return await self.busy(scope, receive, send)
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


# ---------------------------------------------------------------------------------------------
# the app


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The service. ``settings`` default to the environment (``QA_*``); pass ``engine`` when it is
    already loaded (``qa serve``, tests), else the lifespan loads it in the background."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # every admitted search or ask runs in a worker thread: with fewer threads than the limit
        # admits, the requests over the thread count would wait in a queue instead of getting a 503
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.max_concurrency + THREADS_BESIDES_LIMITED)
        app.state.loader.start()
        yield

    app = FastAPI(
        title="qa: ask the reports on human trafficking in Peru",
        version=__version__,
        description="Cited passages and extractive answers from the TIP reports and civil-society "
                    "reports on Peru. Every char_start/char_end points into the report's raw file.",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # a 404 that says where to go, not a redirect built from the Host header
        lifespan=lifespan,
    )
    app.state.loader = Loader(settings, engine)
    app.dependency_overrides[get_settings] = lambda: settings
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(QAError, _domain_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # the last added runs first: a refusal (busy, a foreign Host) costs the least work
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, timeout=settings.body_timeout)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AllowedHosts, hosts=allowed_hosts(settings))
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrency, paths=("/search", "/ask"))

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    async def health(request: Request):
        """Whether the index is loaded ("loading", "ok" or "error"), and what it holds. Never waits."""
        loader: Loader = request.app.state.loader
        if loader.status == "error":
            return JSONResponse(Health(status="error", detail=loader.error).model_dump(), 503)
        if loader.status == "loading":
            return Health(status="loading")
        index = loader.engine.index
        return Health(status="ok", documents=len(index.documents), chunks=len(index.chunks),
                      model=index.model, built_at=index.manifest.get("built_at"))

    @app.get("/search", response_model=SearchResponse, responses=ERRORS)
    def search_get(params: Annotated[SearchIn, Query()], engine: EngineDep, settings: SettingsDep):
        """Rank passages for a query, each cited (report, section, offsets)."""
        return _search(params, engine, settings)

    @app.post("/search", response_model=SearchResponse, responses=BODY_ERRORS)
    def search_post(params: SearchIn, engine: EngineDep, settings: SettingsDep):
        """The same as GET /search, with the parameters as a JSON object."""
        return _search(params, engine, settings)

    @app.get("/ask", response_model=AskResponse, responses=ERRORS)
    def ask_get(params: Annotated[AskIn, Query()], engine: EngineDep, settings: SettingsDep):
        """Answer a question: the figure or sentence, cited, or null with the reason."""
        return _ask(params, engine, settings)

    @app.post("/ask", response_model=AskResponse, responses=BODY_ERRORS)
    def ask_post(params: AskIn, engine: EngineDep, settings: SettingsDep):
        """The same as GET /ask, with the parameters as a JSON object."""
        return _ask(params, engine, settings)

    @app.get("/documents", response_model=list[DocumentOut], responses={503: ERRORS[503]})
    def documents(engine: EngineDep):
        """Every report's metadata and sections (with offsets into its raw text)."""
        return [_document(engine, doc_id) for doc_id in engine.index.documents]

    @app.get("/documents/{doc_id}", response_model=DocumentText,
             responses={404: {"model": ErrorOut, "description": "No such document"}, 503: ERRORS[503]})
    def document(doc_id: str, engine: EngineDep):
        """One report (by id or file name): metadata, sections with offsets, and its full raw text."""
        try:
            found = engine.searcher.resolve_doc(doc_id)
        except QueryError:
            raise NotFound(f"no document {_short(doc_id)}; documents: {', '.join(engine.index.documents)}") from None
        return DocumentText(**_document(engine, found).model_dump(), text=engine.index.documents[found].text)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(WEB / "index.html")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return FileResponse(WEB / "docs.html")

    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_UI), name="swagger")
    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app
