"""``qa add``: a report file into the corpus, in one step.

The file is read as the index will read it (``qa.ingest`` for PDF, HTML and Markdown), its
metadata inferred from its text where the text says it (a TIP report names its year; the
publisher, year and period of other reports are looked for in their front matter), given
values override what is inferred, and what can be neither inferred nor was given is asked for
in one error line. Then the file is copied into the corpus and its ``[[document]]`` entry
written (with the file's sha256), or updated when the file was added before. Adding the same
file again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from qa.corpus import MANIFEST, DocumentEntry, ExtractionCache, _decode, _extract, _slug, load_manifest, nfc
from qa.errors import QAError
from qa.files import read_bytes, shown
from qa.ingest import SUFFIXES, format_of, wrong_format

TIP = re.compile(r"(?:\b(?P<a>(?:19|20)\d\d)\s+Trafficking in Persons Report|Trafficking in Persons Report\s*"
                 r"(?:[-–:,]\s*)?(?P<b>(?:19|20)\d\d))", re.I)
GOVERNMENT = re.compile(r"(?i)\b(department of state|ministry|ministerio|government|gobierno|state department|"
                        r"defensor[ií]a|congress|police)\b")
CIVIL = re.compile(r"(?i)\b(ngo|alternativ[oe]|foundation|fundaci[oó]n|association|asociaci[oó]n|civil society|"
                   r"institute|instituto|network|red|unhcr|unicef|iom|oim|university|universidad|capital humano)\b")
PUBLISHER_LINE = re.compile(r"(?im)^\s*(?:publisher|published by|elaborated by|prepared by|editor(?:ial)?)\s*:?\s+(.{3,120}?)\s*$")
COUNTRY = "Peru"


class AddError(QAError):
    pass


@dataclass(frozen=True)
class Added:
    entry: DocumentEntry
    status: str  # "added", "updated", "unchanged"


def infer(name: str, text: str, title: str | None, given: dict) -> DocumentEntry:
    """The manifest entry of a report from its text and the values given (which win)."""
    head = text[:5000]
    values: dict = {}
    tip = TIP.search(head) or TIP.search(title or "")
    if tip:
        year = int(tip.group("a") or tip.group("b"))
        country = COUNTRY if re.search(rf"\b{COUNTRY}\b", head, re.I) else None
        values.update(report_year=year, period=(year - 1, year - 1), publisher="U.S. Department of State",
                      kind="government", title=f"Trafficking in Persons Report {year}" + (f": {country}" if country else ""),
                      id=f"tip-{year}" + (f"-{country.lower()}" if country else ""))
    else:
        first = next((line.strip() for line in head.splitlines() if 3 < len(line.strip()) <= 200), None)
        values["title"] = title or first
        publisher = PUBLISHER_LINE.search(head)
        if publisher:
            values["publisher"] = publisher.group(1).rstrip(".")
        span = re.search(r"\b((?:19|20)\d\d)\s*[-–/]\s*((?:19|20)\d\d)\b", values["title"] or "")
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", values["title"] or "")]
        if span:
            values.update(period=(int(span.group(1)), int(span.group(2))), report_year=int(span.group(2)))
        elif years:
            values.update(report_year=max(years), period=(max(years), max(years)))
    values.update({k: v for k, v in given.items() if v is not None})
    if "period" not in values and "report_year" in values:
        values["period"] = (values["report_year"], values["report_year"])
    if "kind" not in values and values.get("publisher"):
        if GOVERNMENT.search(values["publisher"]):
            values["kind"] = "government"
        elif CIVIL.search(values["publisher"]):
            values["kind"] = "civil society"
    values.setdefault("id", _slug(values.get("title") or name)[:60].strip("-.") or _slug(name))
    missing = [flag for key, flag in (("title", "--title TEXT"), ("publisher", "--publisher NAME"),
                                      ("report_year", "--year YEAR"), ("kind", "--kind government|'civil society'"))
               if not values.get(key)]
    if missing:
        what = ", ".join(f.split()[0][2:] for f in missing)
        raise AddError(f"{name}: cannot tell its {what} from the text; pass {' '.join(missing)}")
    return DocumentEntry(file=name, country=COUNTRY, **{k: values[k] for k in (
        "id", "title", "publisher", "kind", "report_year", "period")}, section=values.get("section"))


def _toml(entry: DocumentEntry, sha256: str) -> str:
    lines = ["[[document]]"]
    for key in ("id", "file", "title", "publisher", "kind", "report_year", "period", "section", "url"):
        value = getattr(entry, key)
        if value is None:
            continue
        lines.append(f"{key} = {json.dumps(list(value) if key == 'period' else value, ensure_ascii=False)}")
    lines.append(f'sha256 = "{sha256}"')
    return "\n".join(lines) + "\n"


def _blocks(text: str) -> list[tuple[int, int]]:
    """(first line, end line) of each [[document]] block of a manifest, as line numbers (0-based)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == "[[document]]"]
    ends = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        for i in range(start + 1, end):
            if lines[i].strip().startswith("[") :
                end = i
                break
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        ends.append(end)
    return list(zip(starts, ends))


def add_files(corpus: Path, paths: list[Path], given: dict, cache: Path | None,
              max_bytes: int = 20_000_000) -> list[Added]:
    """Copy ``paths`` into ``corpus`` and write their manifest entries; nothing is written when
    one of them cannot be added (the error names it and what to pass)."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise AddError(f"corpus directory {shown(corpus)} does not exist", "pass --corpus DIR")
    if len(paths) > 1 and given.get("id"):
        raise AddError("--id names one report; add the files one at a time to give each its id")
    manifest = corpus / MANIFEST
    text = manifest.read_text(encoding="utf-8") if manifest.exists() else ""
    _, entries = load_manifest(manifest) if manifest.exists() else (None, [])
    by_file = {nfc(e.file): e for e, _ in entries}
    ids = {e.id: e.file for e, _ in entries}
    extraction = ExtractionCache(cache)
    plans = []
    for path in paths:
        path = Path(path)
        name = nfc(path.name)
        if format_of(name) is None:
            raise AddError(f"{path}: qa reads {', '.join(SUFFIXES)} files, not {path.suffix or 'files without a suffix'}")
        data = read_bytes(path, max_bytes, setting="QA_MAX_DOCUMENT_BYTES")
        if format_of(name) == "text":
            wrong = wrong_format("text", data)
            content, note = (None, wrong) if wrong else _decode(data)
            title = None
        else:
            extracted, note = _extract(name, data, extraction)
            content, title = (extracted.text, extracted.title) if extracted else (None, None)
        if content is None:
            raise AddError(f"{path}: {note}")
        sha = hashlib.sha256(data).hexdigest()
        old = by_file.get(name)
        entry = infer(name, content, title, {**given, **({"id": old.id} if old and not given.get("id") else {})})
        owner = ids.get(entry.id)
        if owner is not None and nfc(owner) != name:
            if given.get("id"):
                raise AddError(f"{path}: id {entry.id!r} is taken by {owner}; pass another --id")
            base, n = entry.id, 2
            while f"{base}-{n}" in ids:
                n += 1
            entry = entry.model_copy(update={"id": f"{base}-{n}"})
        ids[entry.id] = name
        plans.append((path, name, data, sha, entry, old))
    results = []
    for path, name, data, sha, entry, old in plans:
        target = corpus / name
        same_file = target.exists() and target.resolve() == path.resolve()
        if not same_file:
            tmp = corpus / f".{name}.{os.getpid()}.tmp"
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        block = _toml(entry, sha)
        if old is None:
            text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + block
            results.append(Added(entry, "added"))
            continue
        spans = _blocks(text)
        lines = text.split("\n")
        for start, end in spans:
            block_data = tomllib.loads("\n".join(lines[start:end]))["document"][0]
            if nfc(str(block_data.get("file", ""))) == name:
                current = "\n".join(lines[start:end]) + "\n"
                if current == block:
                    results.append(Added(entry, "unchanged"))
                else:
                    text = "\n".join(lines[:start] + block.rstrip("\n").split("\n") + lines[end:])
                    results.append(Added(entry, "updated"))
                break
    if any(r.status != "unchanged" for r in results):
        tmp = corpus / f".{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        try:
            load_manifest(tmp)  # the manifest as written must load (it names the line if not)
        except QAError:
            tmp.unlink()
            raise
        os.replace(tmp, manifest)
    return results
