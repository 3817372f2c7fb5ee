"""Shared fixtures. The real model loads once per session; plumbing tests use HashEmbedder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "questions.jsonl"
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# recorded by the page itself: CSP violations are events, not always console messages
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI}`));
"""


@pytest.fixture(scope="session")
def embedder():
    from qa.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def settings_factory():
    from qa.settings import Settings

    def make(**overrides):
        return Settings(**{"corpus": CORPUS, **overrides})

    return make


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder, settings_factory):
    """The shipped corpus indexed with the real model, once per session."""
    from qa.engine import build

    directory = tmp_path_factory.mktemp("index")
    settings = settings_factory(index=directory)
    build(settings, embedder)
    return directory


@pytest.fixture(scope="session")
def engine(built_index, embedder, settings_factory):
    from qa.engine import Engine

    return Engine.load(settings_factory(index=built_index), embedder=embedder)


@pytest.fixture(scope="session")
def hash_embedder():
    from fakes import HashEmbedder

    return HashEmbedder()


@pytest.fixture(scope="session")
def corpus():
    from qa.corpus import load_corpus

    return load_corpus(CORPUS)


@pytest.fixture()
def corpus_copy(tmp_path):
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("QA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; QA_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()
