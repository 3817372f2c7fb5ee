"""Stage 1: the corpus directory and its manifest -> ``Document`` records.

The raw text is kept exactly as in the file. Boilerplate lines (web chrome) are recorded as
excluded spans, not removed, so every offset still points into the raw file.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qa.data import Document, Kind, Span
from qa.errors import CorpusError, FileProblem, ManifestError
from qa.files import read_bytes, shown
from qa.ingest import SUFFIXES, Extracted, ExtractionError, extract, format_of, wrong_format

log = logging.getLogger(__name__)

MANIFEST = "manifest.toml"
MAX_MANIFEST_BYTES = 1_000_000
# the file types the loader reads (``qa.ingest`` extracts all but .txt); other files in the corpus
# directory are listed in one warning, not read
READABLE_SUFFIXES = tuple(SUFFIXES)
MAX_CACHED_BYTES = 200_000_000  # an extraction cache entry qa wrote is far smaller
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")]
Year = Annotated[int, Field(ge=1900, le=2100)]


class CorpusSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: str = ""
    boilerplate: list[str] = []

    @field_validator("boilerplate")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return _check_patterns(patterns)


class DocumentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Slug
    file: str
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    kind: Kind
    report_year: Year
    period: tuple[Year, Year] | None = None
    country: str | None = None
    section: str | None = None
    url: str | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")  # of the file as `qa add` copied it in
    boilerplate: list[str] = []

    @field_validator("file")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise ValueError("must be a file name inside the corpus directory, without a path")
        return name

    @field_validator("boilerplate")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return _check_patterns(patterns)

    @field_validator("period")
    @classmethod
    def _period_order(cls, period: tuple[int, int] | None) -> tuple[int, int] | None:
        if period and period[0] > period[1]:
            raise ValueError(f"period {list(period)} must be [first year, last year]")
        return period


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is raised (and reported once), not also logged by RE2


def compile_pattern(pattern: str):
    """A boilerplate pattern compiled by RE2, which matches in time linear in the line (no
    backtracking: ``(a+)+$`` cannot hang the load); ``ValueError`` naming what RE2 refuses
    (backreferences and lookarounds, which need backtracking)."""
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"boilerplate pattern {pattern!r} is not a regular expression RE2 accepts ({reason}); "
                         "write it without backreferences or lookarounds") from None


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        compile_pattern(pattern)
    return patterns


def nfc(name: str) -> str:
    """File names are compared in one Unicode form (NFC): macOS and some copies write NFD."""
    return unicodedata.normalize("NFC", name)


@dataclass(frozen=True)
class Problem:
    """A file that was skipped or indexed with a warning."""

    source: str
    message: str
    skipped: bool


@dataclass
class Corpus:
    root: Path
    documents: list[Document]
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.skipped]

    def checksum(self) -> str:
        """One digest over every document's id, metadata and bytes: the index is built from this."""
        digest = hashlib.sha256()
        for doc in sorted(self.documents, key=lambda d: d.id):
            digest.update(repr(sorted(doc.meta().items())).encode())
            digest.update(repr([(s.start, s.end) for s in doc.excluded]).encode())
            if doc.extracted:  # another version of the extractor gives another text
                digest.update(hashlib.sha256(doc.text.encode()).digest())
        return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# manifest


def _key_lines(text: str) -> tuple[dict[str, int], list[dict[str, int]], list[int]]:
    """Line numbers of the keys of ``[corpus]`` and of each ``[[document]]`` (1-based)."""
    corpus: dict[str, int] = {}
    documents: list[dict[str, int]] = []
    headers: list[int] = []
    current: dict[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[[") and stripped.rstrip().endswith("]]"):
            current = {}
            documents.append(current)
            headers.append(number)
        elif stripped.startswith("["):
            current = corpus if stripped.strip("[] ") == "corpus" else {}
        else:
            match = re.match(r"([A-Za-z0-9_-]+)\s*=", stripped)
            if match and current is not None:
                current.setdefault(match.group(1), number)
    return corpus, documents, headers


def _validation_message(where: str, exc: ValidationError, lines: dict[str, int], default: int) -> str:
    messages = []
    line = default
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        line = lines.get(key, default) if not messages else line
        if error["type"] == "extra_forbidden":
            messages.append(f"unknown key {key!r}")
        elif error["type"] == "missing":
            messages.append(f"missing key {key!r}")
        else:
            messages.append(f"{key}: {error['msg'].removeprefix('Value error, ')}")
    return f"line {line}: {where}: " + "; ".join(messages)


def load_manifest(path: Path) -> tuple[CorpusSettings, list[tuple[DocumentEntry, int]]]:
    """Parse and validate the manifest; raises ``qa.errors.ManifestError`` naming file and line."""
    try:
        raw = read_bytes(path, MAX_MANIFEST_BYTES, root=path.parent).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc}", "save it as UTF-8") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    corpus_lines, doc_lines, headers = _key_lines(raw)
    unknown = sorted(set(data) - {"corpus", "document"})
    if unknown:
        raise ManifestError(f"{path}: unknown top-level table {unknown[0]!r}; allowed: [corpus], [[document]]")
    try:
        settings = CorpusSettings.model_validate(data.get("corpus", {}))
    except ValidationError as exc:
        raise ManifestError(f"{path}: " + _validation_message("[corpus]", exc, corpus_lines, 1)) from None
    entries = data.get("document", [])
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: 'document' must be an array of tables, written [[document]]")
    result: list[tuple[DocumentEntry, int]] = []
    seen_ids: dict[str, int] = {}
    seen_files: dict[str, int] = {}
    for number, item in enumerate(entries):
        lines = doc_lines[number] if number < len(doc_lines) else {}
        header = headers[number] if number < len(headers) else 1
        where = f"[[document]] #{number + 1}"
        try:
            entry = DocumentEntry.model_validate(item)
        except ValidationError as exc:
            raise ManifestError(f"{path}: " + _validation_message(where, exc, lines, header)) from None
        for key, value, seen in (("id", entry.id, seen_ids), ("file", entry.file, seen_files)):
            if value in seen:
                line = lines.get(key, header)
                raise ManifestError(
                    f"{path}: line {line}: {where}: duplicate {key} {value!r} "
                    f"(first used on line {seen[value]})"
                )
            seen[value] = lines.get(key, header)
        result.append((entry, lines.get("file", header)))
    return settings, result


# ---------------------------------------------------------------------------------------------
# documents


BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
SAVE_AS_UTF8 = "save it as UTF-8 to silence this"
NOT_TEXT = "convert it to plain text (UTF-8) or remove it"


def _controls(text: str) -> int:
    """Characters that text does not hold: C0 controls but tab and line breaks, DEL, C1 controls."""
    return sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n\f") or 0x7F <= ord(ch) < 0xA0)


def _utf16_without_bom(sample: bytes) -> bool:
    """Text in UTF-16 (Latin script) without a byte-order mark: every other byte is NUL."""
    pairs = len(sample) // 2
    for codec, high in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if pairs >= 8 and high[:pairs].count(0) >= pairs * 0.9:
            text = sample[: pairs * 2].decode(codec, errors="replace")
            return _controls(text) + text.count("\ufffd") < len(text) * 0.01
    return False


def _decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, warning) or (None, reason to skip). UTF-8 is the norm; a byte-order mark, a few
    damaged bytes in UTF-8 text and legacy 8-bit text are read with a warning that says so."""
    if not data.strip():
        return None, "the file is empty; add the report's text or remove the file"
    for bom, codec, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), f"the file is {name}, not UTF-8; read it as {name} ({SAVE_AS_UTF8})"
            except UnicodeDecodeError:
                break
    sample = data[:65536]
    if b"\x00" in sample:
        if _utf16_without_bom(sample):
            return None, "the file looks like UTF-16 text without a byte-order mark; save it as UTF-8"
        return None, f"the file is binary (it holds NUL bytes), not text; {NOT_TEXT}"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    escaped = data.decode("utf-8", errors="surrogateescape")
    bad = sum(1 for ch in escaped if "\udc80" <= ch <= "\udcff")
    if sum(1 for ch in escaped if ord(ch) > 127) - bad > bad:  # UTF-8 text with a few damaged bytes
        return data.decode("utf-8", errors="replace"), (
            f"{bad:,} byte(s) are not valid UTF-8; replaced them with U+FFFD (repair the file to silence this)")
    for codec, name in (("cp1252", "Windows-1252 (Latin-1)"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _controls(text[:65536]) > len(text[:65536]) * 0.01:
            break
        return text, f"the file is not UTF-8; read it as {name} ({SAVE_AS_UTF8})"
    return None, f"the file is binary (control characters), not text; {NOT_TEXT}"


def boilerplate_spans(text: str, patterns: list[str]) -> tuple[Span, ...]:
    """Spans of whole lines that match a boilerplate pattern (line break excluded)."""
    if not patterns:
        return ()
    compiled = [compile_pattern(p) for p in patterns]
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group().strip()
        if line and any(p.fullmatch(line) for p in compiled):
            spans.append(Span(match.start(), match.end()))
    return tuple(spans)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", Path(name).stem.lower()).strip("-.")
    return (slug or "document")[:80]


def _infer(source: str, text: str, country: str, title: str | None = None) -> DocumentEntry:
    head = text[:3000]
    title = title or next((line.strip() for line in head.splitlines() if 3 < len(line.strip()) <= 150), source)
    years = [int(y) for y in re.findall(r"\b(19[5-9]\d|20\d\d)\b", head)]
    year = years[0] if years else 2000
    government = bool(re.search(r"Department of State|Trafficking in Persons Report", head))
    period = (year - 1, year - 1) if government else (year, year)
    return DocumentEntry(
        id=_slug(source),
        file=source,
        title=title,
        publisher="unknown",
        kind="government" if government else "civil society",
        report_year=year,
        period=period,
        country=country or None,
    )


class ExtractionCache:
    """Extracted texts by the sha256 of their source file (``<index>/extracted/<sha256>.json``):
    an unchanged file is not extracted again, a changed one is. An entry that does not read back
    whole (a crash, a hand edit) is extracted again and rewritten."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None

    def get(self, sha256: str) -> Extracted | None:
        if self.directory is None:
            return None
        path = self.directory / f"{sha256}.json"
        if not path.exists():
            return None
        try:
            data = json.loads(read_bytes(path, MAX_CACHED_BYTES, root=self.directory))
            found = Extracted.from_json(data)
            if data.get("text_sha256") != hashlib.sha256(found.text.encode()).hexdigest():
                raise ValueError("its checksum does not match")
            return found
        except (FileProblem, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: extracting again (%s)", shown(path), exc)
            return None

    def put(self, sha256: str, extracted: Extracted) -> None:
        if self.directory is None:
            return
        data = {**extracted.to_json(), "text_sha256": hashlib.sha256(extracted.text.encode()).hexdigest()}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{sha256}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.directory / f"{sha256}.json")
        except OSError as exc:  # a read-only index directory: extract again next time
            log.warning("cannot cache the extracted text in %s (%s)", shown(self.directory), exc.strerror or exc)


def _extract(source: str, data: bytes, cache: ExtractionCache) -> tuple[Extracted | None, str | None]:
    """(extracted, None) or (None, why the file is skipped)."""
    sha = hashlib.sha256(data).hexdigest()
    found = cache.get(sha)
    if found is not None:
        return found, None
    text = None
    if format_of(source) == "markdown" and not wrong_format("markdown", data):
        text, note = _decode(data)
        if text is None:
            return None, note
    try:
        found = extract(source, data, text)
    except ExtractionError as exc:
        return None, str(exc)
    cache.put(sha, found)
    return found, None


def load_corpus(root: Path, max_bytes: int = 20_000_000, cache: Path | None = None) -> Corpus:
    """Read ``root/manifest.toml`` (optional) and every report in ``root``: ``.txt`` as it is,
    ``.pdf``, ``.html``/``.htm`` and ``.md`` through ``qa.ingest`` (``cache``: a directory where
    extracted texts are kept by their source's checksum; None extracts every time).

    A manifest error stops the load (nothing would be indexed right). A bad file (empty,
    binary, too large, missing, a PDF without text, a page without a body) is skipped and
    reported in ``Corpus.problems``; a file without a manifest entry is indexed with inferred
    metadata and a warning.
    """
    extraction_cache = ExtractionCache(cache)
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus directory {str(root)!r} does not exist", "pass --corpus DIR")
    manifest = root / MANIFEST
    if manifest.exists() or manifest.is_symlink():
        settings, entries = load_manifest(manifest)
    else:
        settings, entries = CorpusSettings(), []
    problems: list[Problem] = []
    names = sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and p.name != MANIFEST)
    on_disk = {nfc(name): name for name in names}
    readable = [name for name in names if Path(name).suffix.lower() in READABLE_SUFFIXES]
    unread = [name for name in names if name not in readable and not (root / name).is_dir()]
    if unread:
        problems.append(Problem("", f"{shown(root)}: {len(unread)} file(s) not read, as only "
                                f"{', '.join(READABLE_SUFFIXES)} files are: " + ", ".join(unread), False))
    listed = {nfc(entry.file) for entry, _ in entries}
    todo: list[tuple[DocumentEntry | None, str, int]] = [(e, e.file, line) for e, line in entries]
    todo += [(None, name, 0) for name in readable if nfc(name) not in listed]
    documents: list[Document] = []
    used_ids = {entry.id for entry, _ in entries}
    for entry, source, line in todo:
        path = root / on_disk.get(nfc(source), source)
        where = f"{manifest}: line {line}: " if entry is not None else ""
        if not path.exists() and not path.is_symlink():
            problems.append(Problem(source, f"{where}file {source!r} is missing; add it to "
                                    f"{str(root)!r} or remove its [[document]] entry", True))
            continue
        try:
            data = read_bytes(path, max_bytes, root=root, setting="QA_MAX_DOCUMENT_BYTES")
        except FileProblem as exc:
            problems.append(Problem(source, f"{where}skipped: {exc}", True))
            continue
        extracted: Extracted | None = None
        if format_of(source) in (None, "text"):
            wrong = wrong_format("text", data)
            text, note = (None, wrong) if wrong else _decode(data)
        else:
            extracted, note = _extract(source, data, extraction_cache)
            text = extracted.text if extracted else None
        if text is None:
            problems.append(Problem(source, f"{source}: skipped: {note}", True))
            continue
        if note:
            problems.append(Problem(source, f"{source}: {note}", False))
        if entry is not None and entry.sha256 and entry.sha256 != hashlib.sha256(data).hexdigest():
            problems.append(Problem(source, f"{source}: the file changed since `qa add` copied it in (its "
                                    f"sha256 is not the manifest's); indexed as it is now (run `qa add` "
                                    "on it again to record it)", False))
        inferred = entry is None
        if entry is None:
            entry = _infer(source, text, settings.country, extracted.title if extracted else None)
            base, n = entry.id, 2
            while entry.id in used_ids:
                entry = entry.model_copy(update={"id": f"{base}-{n}"})
                n += 1
            used_ids.add(entry.id)
            problems.append(
                Problem(source, f"{source}: no entry in {MANIFEST}; indexed with inferred metadata "
                        f"(id {entry.id!r}, year {entry.report_year}); add an entry to set it", False)
            )
        period = entry.period or (entry.report_year - 1, entry.report_year - 1)
        documents.append(
            Document(
                id=entry.id,
                source=source,
                title=entry.title,
                publisher=entry.publisher,
                kind=entry.kind,
                report_year=entry.report_year,
                period=tuple(period),  # type: ignore[arg-type]
                country=entry.country or settings.country,
                text=text,
                sha256=hashlib.sha256(data).hexdigest(),
                section=entry.section,
                url=entry.url,
                excluded=boilerplate_spans(text, settings.boilerplate + entry.boilerplate),
                inferred=inferred,
                format=extracted.format if extracted else "text",
                pages=extracted.pages if extracted else (),
            )
        )
    for problem in problems:
        (log.error if problem.skipped else log.warning)(problem.message)
    return Corpus(root=root, documents=documents, problems=problems)
