"""The README's two commands are what CI runs and what a fresh machine needs."""

from __future__ import annotations

import re

from conftest import ROOT


def _commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_starts_with_the_run_and_test_commands():
    run, test = _commands()[:2]
    assert run.startswith("python3 -m venv .venv && .venv/bin/pip install -q torch==2.13.0")
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_test_command():
    test = _commands()[1]
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()
