"""Path traversal on /documents/{id} (and /static): a document id is looked up among the indexed
documents, never used as a path. Requests go over a real socket to uvicorn with the path sent
byte for byte (http.client does not normalize "../" the way httpx does), so the server's own
decoding and routing are under test. Only 404 or 422 come back, always JSON; a canary file next
to the corpus, /etc/passwd and the package's source are never served; and no file is opened
while the document requests are answered."""

from __future__ import annotations

import http.client
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from conftest import CORPUS
from hardening import hash_engine, serving
from qa.api import create_app

CANARY = "CANARY-3f9c2d7e-never-serve-this"
REAL = "000_abe84397df7d8ac3.txt"


def variants(canary: Path) -> list[str]:
    """Path segments after /documents/, as sent on the wire."""
    absolute = str(canary)
    name = canary.name
    double = quote(quote(f"../{name}", safe=""), safe="")
    return [
        f"../{name}", f"..%2f{name}", f"..%2F{name}", f"%2e%2e%2f{name}", f"%2E%2E/{name}", f"%2e%2e%252f{name}",
        double, quote(quote(f"../../{canary.parent.name}/{name}", safe=""), safe=""),
        f"..%5c{name}", f"..\\{name}", f"%2e%2e%5c{name}", "..%5c..%5c..%5cetc%5cpasswd", "..\\..\\..\\etc\\passwd",
        quote(absolute, safe=""), absolute.lstrip("/"), "%2Fetc%2Fpasswd", quote(quote("/etc/passwd", safe=""), safe=""),
        "C:%5cWindows%5cwin.ini", "file:%2F%2F%2Fetc%2Fpasswd", quote(f"file://{absolute}", safe=""),
        f"{name}%00", f"{name}%00.txt", "%00", "..%00", f"..%00%2f{name}", "%2e%2e%00%2f",
        f"..%c0%af{name}", f"%c0%ae%c0%ae%c0%af{name}", f"%ef%bc%8e%ef%bc%8e%ef%bc%8f{name}", f"..%u2215{name}",
        f"....//{name}", f"..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f{absolute.lstrip('/')}", "../" * 12 + "etc/passwd",
        f"..%2fcorpus%2f{REAL}", f"{REAL}%2f..%2f..%2f{name}", f"./{REAL}", f"%2e%2f{REAL}", f"{REAL}/",
        f"{REAL}%2f", f"corpus%2f{REAL}", quote(str(canary.parent / "corpus" / REAL), safe=""), "..", "%2e%2e",
        ".", "%2e", "~", "~root", "%7e%2f.ssh%2fid_rsa", "%ff%fe", "%", "%zz", "%2", "con", "nul",
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory, hash_embedder):
    root = tmp_path_factory.mktemp("traversal")
    shutil.copytree(CORPUS, root / "corpus")
    canary = root / "canary.txt"
    canary.write_text(f"{CANARY}\n")
    engine = hash_engine(root / "corpus", root / "index", hash_embedder)
    with serving(create_app(engine.settings, engine=engine)) as base:
        yield base, canary, root


def get(base: str, path: str) -> tuple[int, str, str]:
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)  # the path exactly as given
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


class FileOpens:
    """Paths opened by this process while ``on`` (an audit hook: it sees every open(), os.open()
    and io.open(), including the ones the server's threads make)."""

    def __init__(self):
        self.on, self.paths = False, []
        sys.addaudithook(self.hook)

    def hook(self, event: str, args: tuple) -> None:
        if self.on and event == "open" and isinstance(args[0], (str, bytes, Path)):
            self.paths.append(str(args[0]))


def test_document_ids_are_never_paths(site):
    base, canary, root = site
    opens = FileOpens()
    answers = []
    opens.on = True
    try:
        for variant in variants(canary):
            answers.append((variant, *get(base, f"/documents/{variant}")))
    finally:
        opens.on = False
    source = (Path(__file__).parent.parent / "qa" / "api.py").read_text()[:200]
    for variant, status, content_type, body in answers:
        assert status in (404, 422), (variant, status, body[:200])
        assert content_type == "application/json", (variant, content_type)
        assert CANARY not in body and "root:x:0:0" not in body and source not in body, variant
    opened = [p for p in opens.paths if str(root) in p or p.startswith("/etc") or "canary" in p]
    assert opened == [], opened
    # the real document is served by its id and file name, and by nothing that merely resolves to it
    status, _, body = get(base, f"/documents/{REAL}")
    assert status == 200 and "tip-2017-peru-protection" in body
    assert [v for v, status, _, _ in answers if status == 200] == []


@pytest.mark.parametrize("path", [
    "/static/../api.py", "/static/..%2fapi.py", "/static/%2e%2e/api.py", "/static/%2e%2e%2fapi.py",
    "/static/..%252fapi.py", "/static/..%5capi.py", "/static/..\\api.py", "/static/swagger/../../api.py",
    "/static/swagger/..%2f..%2fapi.py", "/static/%2fetc%2fpasswd", "/static//etc/passwd", "/static/app.js%00.py",
    "/static/../../../../../../etc/passwd", "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
])
def test_static_files_stay_in_their_directory(site, path):
    base, canary, _ = site
    status, content_type, body = get(base, path)
    assert (status, content_type) == (404, "application/json"), (path, status, body[:200])
    assert "def create_app" not in body and "root:x:0:0" not in body and CANARY not in body


def test_concurrent_traversal_attempts_are_all_refused(site):
    """The same requests from several threads at once: no race serves anything."""
    base, canary, _ = site
    results: list[int] = []
    lock = threading.Lock()

    def hammer(chunk: list[str]) -> None:
        for variant in chunk:
            status, _, body = get(base, f"/documents/{variant}")
            assert CANARY not in body
            with lock:
                results.append(status)

    paths = variants(canary)
    threads = [threading.Thread(target=hammer, args=(paths[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == len(paths) and set(results) <= {404, 422}


def test_no_redirect_is_built_from_the_host_header(site):
    """A trailing slash used to get a 307 to an address built from the Host header (an open
    redirect for whoever controls that header); now a 404 says where to go, and a Host that is not
    allowed (QA_ALLOWED_HOSTS) is refused with a 400 before any route is tried."""
    base, _, _ = site
    url = urlsplit(base)

    def get(host: str) -> tuple[int, str | None, str]:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            connection.putrequest("GET", f"/documents/{REAL}/", skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", host)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.getheader("location"), response.read().decode()
        finally:
            connection.close()

    status, location, body = get("evil.example")
    assert status == 400 and location is None and "QA_ALLOWED_HOSTS" in body
    status, location, body = get(f"localhost:{url.port}")
    assert status == 404 and location is None
    assert body == ('{"detail":"nothing at \'/documents/000_abe84397df7d8ac3.txt/\'; did you mean '
                    '\'/documents/000_abe84397df7d8ac3.txt\', without the trailing slash?"}')
