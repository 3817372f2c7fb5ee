"""Building, saving and loading the index.

Layout of an index directory::

    index/CURRENT                 name of the published build (replaced atomically)
    index/build-<time>-<id>/      one build:
        manifest.json             model, dimensions, chunking, analyzer, corpus checksum,
                                  package version, a sha256 per file, and its own checksum
        documents.jsonl           metadata (the source file's sha256, format, page spans), raw text,
                                  boilerplate spans, sections and the acronyms each report spells
                                  out (``qa.names``)
        texts/<id>.txt            the text extracted from a PDF, HTML or Markdown file: the
                                  document's text, which its offsets point into (checksummed)
        chunks.jsonl              chunks with offsets
        dense.faiss               FAISS index of the chunk vectors (flat; IVF for large corpora)
        sentences.npy             a vector per sentence (table row) of every chunk, in chunk order,
                                  pooled from the chunk's token vectors (one encoder pass);
                                  read into memory when small, else row by row when a query asks
                                  (``RowFile``: at a million chunks the file is ~9 GB). float32:
                                  numpy converts float16 without SIMD, 3-4x slower re-scoring
        bm25.npz, bm25.json       BM25 term frequencies (term-major), vocabulary and parameters

A build is written to a fresh directory, fsynced, then published by atomically replacing
``CURRENT``; a crash mid-build leaves the previous build in place. Loading checks every
checksum and refuses a mismatch with a message naming the file and ``qa index`` as the fix.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa import __version__
from qa.analyze import ANALYZER_VERSION, analyze
from qa.chunking import Chunker, ChunkSettings
from qa.corpus import Corpus
from qa.data import Acronym, Chunk, Document, Section, Span
from qa.dense import DenseIndex
from qa.embed import Embedder
from qa.errors import FileProblem, IndexMismatch, IndexNotFound
from qa.files import check_regular, read_bytes
from qa.names import Aliases, find_acronyms
from qa.sections import detect_sections
from qa.sparse import SparseIndex

log = logging.getLogger(__name__)

FORMAT = 5  # 2: term-major BM25 postings, IVF for large corpora; 3: sentence vectors pooled in context;
# 4: the acronyms each report spells out; 5: documents' format and pages, extracted texts in texts/
CURRENT = "CURRENT"
MAX_POINTER_BYTES, MAX_MANIFEST_BYTES = 4096, 16_000_000  # what qa writes is far smaller
MANIFEST = "manifest.json"
WRITING = ".writing"
SENTENCE_DTYPE = np.float32
IN_MEMORY_BYTES = 512 << 20  # larger sentence vector files are read row by row (``RowFile``)


@dataclass
class Index:
    documents: dict[str, Document]
    sections: dict[str, list[Section]]
    acronyms: dict[str, list[Acronym]]
    chunks: list[Chunk]
    dense: DenseIndex
    sparse: SparseIndex
    sentence_vectors: np.ndarray | RowFile  # (sentences, dim): chunk i's are rows sentence_offsets[i]:[i+1]
    manifest: dict = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        self.sentence_offsets = np.cumsum([0] + [len(c.sentences) for c in self.chunks], dtype=np.int64)

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]

    @functools.cached_property
    def aliases(self) -> Aliases:
        """Every report's acronyms as stems, for the stages that match words."""
        return Aliases(self.documents, self.acronyms)


# ---------------------------------------------------------------------------------------------
# build


def build_index(corpus: Corpus, embedder: Embedder, settings: ChunkSettings, *, progress: bool = False) -> Index:
    started = time.perf_counter()
    chunker = Chunker(embedder.count_tokens, settings)
    sections: dict[str, list[Section]] = {}
    acronyms: dict[str, list[Acronym]] = {}
    chunks: list[Chunk] = []
    for doc in tqdm(corpus.documents, desc="chunking", unit="doc", disable=not progress):
        sections[doc.id] = detect_sections(doc)
        acronyms[doc.id] = find_acronyms(doc)
        chunks += chunker.chunk_document(doc, sections[doc.id])
    documents = {doc.id: doc for doc in corpus.documents}
    texts = [c.indexed_text(documents[c.doc_id].title) for c in chunks]
    # one pass of the encoder: chunk vectors, and sentence vectors pooled from the same tokens;
    # a chunk's text ends its indexed text, so its sentences' spans there are shifted by ``lead``
    spans = []
    for c, t in zip(chunks, texts):
        lead = len(t) - len(c.text) - c.char_start
        spans.append([(s.start + lead, s.end + lead) for s in c.sentences])
    if progress:
        log.info("embedding %d chunks and their %d sentences in one pass", len(texts), sum(map(len, spans)))
    vectors, sentence_vectors = embedder.encode_with_spans(texts, spans, progress=progress)
    sparse = SparseIndex.build(analyze(t) for t in texts)
    dense = DenseIndex.build(vectors)
    manifest = {
        "format": FORMAT,
        "package_version": __version__,
        "model": {"name": embedder.name, "dim": embedder.dim, "max_tokens": embedder.max_tokens},
        "chunking": asdict(settings),
        "analyzer": ANALYZER_VERSION,
        "corpus": {
            "root": str(corpus.root),
            "checksum": corpus.checksum(),
            "documents": len(documents),
            "skipped": [p.source for p in corpus.skipped],
        },
        "chunks": len(chunks),
        "dense": {"kind": dense.kind},
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    return Index(documents, sections, acronyms, chunks, dense, sparse, sentence_vectors, manifest)


# ---------------------------------------------------------------------------------------------
# (de)serialization of records


def _chunk_to_json(chunk: Chunk) -> dict:
    data = asdict(chunk)
    data["section"] = list(chunk.section)
    data["sentences"] = [[s.start, s.end] for s in chunk.sentences]
    data["years"] = list(chunk.years)
    data["context_span"] = [chunk.context_span.start, chunk.context_span.end] if chunk.context_span else None
    return data


def _chunk_from_json(data: dict, text: str, shared: dict | None = None) -> Chunk:
    """``shared``: one object for equal values across chunks (document ids, section paths, years,
    repeated table headers), so a million chunks do not hold a million copies of each."""
    one = (lambda value: shared.setdefault(value, value)) if shared is not None else (lambda value: value)
    chunk = Chunk(
        id=data["id"],
        doc_id=one(data["doc_id"]),
        ordinal=data["ordinal"],
        section=one(tuple(one(part) for part in data["section"])),
        kind=one(data["kind"]),
        text=data["text"],
        char_start=data["char_start"],
        char_end=data["char_end"],
        sentences=tuple(Span(s, e) for s, e in data["sentences"]),
        years=one(tuple(data["years"])),
        tokens=data["tokens"],
        tiktokens=data["tiktokens"],
        context=one(data["context"]),
        context_span=Span(*data["context_span"]) if data["context_span"] else None,
    )
    if text[chunk.char_start : chunk.char_end] != chunk.text:
        raise ValueError(f"chunk {chunk.id} does not match its document's text at its offsets")
    return chunk


TEXTS = "texts"  # the extracted text of each PDF, HTML or Markdown document: texts/<id>.txt
MAX_TEXT_BYTES = 200_000_000


def text_file(doc: Document) -> str | None:
    """Where a build stores the document's extracted text (None: the raw file is the text)."""
    return f"{TEXTS}/{doc.id}.txt" if doc.extracted else None


def _document_to_json(doc: Document, sections: list[Section], acronyms: list[Acronym]) -> dict:
    data = doc.meta()
    data.update(
        text=None if doc.extracted else doc.text,
        text_file=text_file(doc),
        section=doc.section,
        excluded=[[s.start, s.end] for s in doc.excluded],
        sections=[
            {"path": list(s.path), "char_start": s.char_start, "char_end": s.char_end,
             "heading": [s.heading.start, s.heading.end] if s.heading else None}
            for s in sections
        ],
        acronyms=[[a.acronym, a.name.start, a.name.end] for a in acronyms],
    )
    return data


def _document_from_json(data: dict, shared: dict | None = None, build: Path | None = None,
                        files: dict | None = None) -> tuple[Document, list[Section], list[Acronym]]:
    """``shared``: one object for equal acronyms across documents (see ``_chunk_from_json``);
    ``build`` and ``files`` (the manifest's checksums): where a stored text file is read from."""
    text = data["text"]
    name = data.get("text_file")
    if name is not None:
        if build is None or files is None or name not in files or not name.startswith(f"{TEXTS}/") or ".." in name:
            raise ValueError(f"{data['id']}'s text file {name!r} is not one the manifest lists")
        text = read_bytes(build / name, MAX_TEXT_BYTES, root=build).decode("utf-8")
    doc = Document(
        id=data["id"],
        source=data["source"],
        title=data["title"],
        publisher=data["publisher"],
        kind=data["kind"],
        report_year=data["report_year"],
        period=tuple(data["period"]),
        country=data["country"],
        text=text,
        sha256=data["sha256"],
        section=data["section"],
        url=data["url"],
        excluded=tuple(Span(s, e) for s, e in data["excluded"]),
        inferred=data["inferred"],
        format=data["format"],
        pages=tuple(Span(s, e) for s, e in data["pages"]),
    )
    if len(doc.text) != data["chars"] or any(p.end > len(doc.text) for p in doc.pages):
        raise ValueError(f"{doc.id}'s text is not the one its offsets were made for")
    sections = [
        Section(doc.id, tuple(s["path"]), s["char_start"], s["char_end"], Span(*s["heading"]) if s["heading"] else None)
        for s in data["sections"]
    ]
    one = (lambda value: shared.setdefault(value, value)) if shared is not None else (lambda value: value)
    acronyms = [Acronym(one(acronym), Span(start, end)) for acronym, start, end in data["acronyms"]]
    if any(a.name.end > len(doc.text) for a in acronyms):
        raise ValueError(f"an acronym of {doc.id} is named past the end of its text")
    return doc, sections, acronyms


# ---------------------------------------------------------------------------------------------
# save


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_index(index: Index, root: Path) -> Path:
    """Write ``index`` as a new build under ``root`` and publish it; returns the build dir."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    name = f"build-{stamp}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{name}"
    with _publish_lock(root):  # so that no clean-up sees ``tmp`` before its writer holds the lock
        tmp.mkdir()
        writing = (tmp / WRITING).open("a")  # locked while this process writes ``tmp`` (see _remove_old_builds)
        fcntl.flock(writing, fcntl.LOCK_EX)
    try:
        stored = []
        for doc in index.documents.values():
            stored_as = text_file(doc)
            if stored_as:
                (tmp / TEXTS).mkdir(exist_ok=True)
                (tmp / stored_as).write_text(doc.text, encoding="utf-8", newline="")
                stored.append(stored_as)
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as out:
            for doc in index.documents.values():
                record = _document_to_json(doc, index.sections[doc.id], index.acronyms[doc.id])
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as out:
            for chunk in index.chunks:
                out.write(json.dumps(_chunk_to_json(chunk), ensure_ascii=False) + "\n")
        np.save(tmp / "sentences.npy", np.asarray(index.sentence_vectors, dtype=SENTENCE_DTYPE), allow_pickle=False)
        files = ["documents.jsonl", "chunks.jsonl", "sentences.npy", *index.dense.save(tmp), *index.sparse.save(tmp),
                 *stored]
        manifest = dict(index.manifest)
        manifest["files"] = {f: _sha256(tmp / f) for f in files}
        manifest["manifest_sha256"] = _manifest_digest(manifest)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        for f in [*files, MANIFEST]:
            _fsync(tmp / f)
        if stored:
            _fsync(tmp / TEXTS)
        build = root / name
        # one publish at a time (`qa serve` building while someone runs `qa index`): the clean-up
        # after a publish must not remove a build that another publish is about to point CURRENT at
        with _publish_lock(root):
            (tmp / WRITING).unlink()
            os.rename(tmp, build)
            pointer = root / f".{CURRENT}.{name}"
            pointer.write_text(name + "\n")
            _fsync(pointer)
            os.replace(pointer, root / CURRENT)  # the publish step: atomic
            _fsync(root)
            _remove_old_builds(root, keep=name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        writing.close()
    index.manifest, index.path = manifest, build
    return build


def _being_written(tmp: Path) -> bool:
    try:
        with (tmp / WRITING).open("r") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # no lock file: written by a process that is gone
        return False
    return False


@contextmanager
def _publish_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on ``root/.lock``, released when the holder ends, even by SIGKILL."""
    with (root / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_old_builds(root: Path, keep: str) -> None:
    """Builds other than ``keep``, and partial ones left by a killed build (not one still being
    written: its writer holds the lock on its ``.writing`` file). Called under ``_publish_lock``."""
    for entry in root.iterdir():
        if entry.name != keep and entry.name.startswith("build-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".tmp-build-") and not _being_written(entry):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{CURRENT}."):
            entry.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# load


class RowFile:
    """The rows of a 2-D ``.npy`` file, read when asked for with ``os.pread``. What is hot stays
    in the operating system's page cache, outside the process: memory-mapping the file instead
    would map every row read *and its neighbours* into the service (the kernel's fault-around,
    64 KB a fault; measured at a million chunks: 7 GB of the 9 GB file resident after some 600
    searches). Offers what the library uses: ``len``, ``shape``, ``dtype``, a slice of rows,
    an array of row numbers (one read per run of consecutive rows) and ``np.asarray``."""

    def __init__(self, path: Path):
        with Path(path).open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            offset = handle.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{Path(path).name} is not a C-ordered 2-D numeric array")
        if Path(path).stat().st_size != offset + shape[0] * shape[1] * dtype.itemsize:
            raise ValueError(f"{Path(path).name} is shorter or longer than its header says")
        self.shape, self.dtype, self.ndim = shape, dtype, 2
        self._offset, self._row_bytes = offset, shape[1] * dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, start: int, stop: int) -> np.ndarray:
        size = (stop - start) * self._row_bytes
        data = os.pread(self._fd, size, self._offset + start * self._row_bytes) if size else b""
        if len(data) != size:
            raise OSError(f"short read of rows {start}:{stop}")
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, self.shape[1])

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            return self._read(start, max(start, stop)) if step == 1 else np.asarray(self)[key]
        rows = np.asarray(key, dtype=np.int64)
        if rows.ndim == 0:
            return self[int(rows) : int(rows) + 1][0]
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"row out of range 0:{len(self)}")
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for a, b in zip([0, *breaks.tolist()], [*breaks.tolist(), len(rows)]):
            if b > a:
                out[a:b] = self._read(int(rows[a]), int(rows[b - 1]) + 1)
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        rows = self._read(0, len(self))
        return rows if dtype is None else rows.astype(dtype)


def load_rows(path: Path) -> np.ndarray | RowFile:
    """An ``.npy`` array of vectors: in memory up to ``IN_MEMORY_BYTES``, else a ``RowFile``."""
    if path.stat().st_size <= IN_MEMORY_BYTES:
        return np.load(path, allow_pickle=False)
    return RowFile(path)


def current_build(root: Path) -> Path:
    root = Path(root)
    pointer = root / CURRENT
    if not pointer.exists() and not pointer.is_symlink():
        if root.is_dir() and any(e.name.startswith("build-") for e in root.iterdir()):
            raise IndexMismatch(f"{pointer} is missing: it names the build to load of those in {str(root)!r}")
        raise IndexNotFound(f"no index in {str(root)!r}")
    name = read_bytes(pointer, MAX_POINTER_BYTES, root=root).decode("utf-8", errors="replace").strip()
    build = root / name
    if not name.startswith("build-") or "/" in name or len(name.encode()) > 255 or not build.is_dir():
        raise IndexMismatch(f"{pointer} names a build that does not exist ({name[:60]!r})")
    return build


def read_manifest(root: Path, build: Path | None = None) -> dict:
    """The manifest of ``build`` (by default the published build in ``root``), checked."""
    build = build or current_build(root)
    path = build / MANIFEST
    if not path.exists() and not path.is_symlink():
        raise IndexMismatch(f"{path} is missing")
    try:
        manifest = json.loads(read_bytes(path, MAX_MANIFEST_BYTES, root=build).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexMismatch(f"{path} is unreadable or corrupted ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise IndexMismatch(f"{path} is corrupted (its checksum does not match)")
    return manifest


def outdated(manifest: dict, *, model: str | None = None, chunking: ChunkSettings | None = None) -> str | None:
    """Why an intact index cannot serve this version of qa with these settings, or None."""
    if manifest.get("format") != FORMAT:
        return f"index format {manifest.get('format')} is not {FORMAT} (built by another version of qa)"
    if manifest.get("analyzer") != ANALYZER_VERSION:
        return (f"the index was built with analyzer version {manifest.get('analyzer')}, "
                f"this version of qa uses {ANALYZER_VERSION}")
    if model is not None and manifest["model"]["name"] != model:
        return f"the index was built with model {manifest['model']['name']!r}, not {model!r}"
    if chunking is not None and manifest["chunking"] != asdict(chunking):
        return f"the index was built with chunking {manifest['chunking']}, not {asdict(chunking)}"
    return None


def load_index(root: Path, *, model: str | None = None, chunking: ChunkSettings | None = None) -> Index:
    """Load the published build in ``root``; refuse a corrupted or mismatched one."""
    build = current_build(root)  # once: a publish meanwhile must not mix two builds
    manifest = read_manifest(root, build)
    files = manifest.get("files", {})
    for name in ("documents.jsonl", "chunks.jsonl", "sentences.npy", "dense.faiss", "bm25.npz", "bm25.json"):
        if name not in files:
            raise IndexMismatch(f"{build / MANIFEST} lists no checksum for {name}")
    for name, expected in files.items():
        path = build / name
        if not path.exists() and not path.is_symlink():
            raise IndexMismatch(f"{path} is missing")
        check_regular(path, root=build)  # not a FIFO or a device, which would block or never end
        if _sha256(path) != expected:
            raise IndexMismatch(f"{path} is corrupted (its checksum does not match the manifest)")
    reason = outdated(manifest, model=model, chunking=chunking)
    if reason:
        raise IndexMismatch(reason)
    try:
        documents: dict[str, Document] = {}
        sections: dict[str, list[Section]] = {}
        acronyms: dict[str, list[Acronym]] = {}
        shared: dict = {}
        with (build / "documents.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                doc, doc_sections, doc_acronyms = _document_from_json(json.loads(line), shared, build, files)
                documents[doc.id], sections[doc.id], acronyms[doc.id] = doc, doc_sections, doc_acronyms
        with (build / "chunks.jsonl").open(encoding="utf-8") as lines:
            chunks = [_chunk_from_json(c, documents[c["doc_id"]].text, shared) for c in map(json.loads, lines)]
        del shared
        dense = DenseIndex.load(build)
        sparse = SparseIndex.load(build)
        sentence_vectors = load_rows(build / "sentences.npy")
    except (KeyError, TypeError, ValueError, RuntimeError, FileProblem) as exc:
        raise IndexMismatch(f"{build} is inconsistent: {exc}") from None
    dim = manifest["model"]["dim"]
    if len(dense) != len(chunks) or len(sparse) != len(chunks) or dense.dim != dim:
        raise IndexMismatch(f"{build}: the dense, sparse and chunk files disagree on the number of chunks")
    index = Index(documents, sections, acronyms, chunks, dense, sparse, sentence_vectors, manifest, build)
    if sentence_vectors.shape != (index.sentence_offsets[-1], dim) or sentence_vectors.dtype != SENTENCE_DTYPE:
        raise IndexMismatch(f"{build / 'sentences.npy'} does not match the chunks")
    return index
