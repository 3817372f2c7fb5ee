"""``qa bench``: speed and scale, measured, written to ``eval/BENCHMARKS.md`` (chart beside it).

Six parts, each a function returning plain data (``qa bench --json`` prints all of it):

1. ``query_path``: ``Engine.ask`` in process over the gold questions, after a warm-up, in
   several rounds: each stage's time (analysis, query encoding, dense, sparse, fusion, answer)
   and, for the same question, the bare encoder, so the ratio can be read.
2. ``http``: ``qa serve`` in a subprocess and a closed-loop load client on loopback (threads,
   keep-alive connections, the standard library's ``http.client``) at each concurrency for a
   fixed time: median, p95, p99, requests per second, errors.
3. ``build``: ``qa index``'s work on the shipped corpus against the encoder alone on the same
   chunks.
4. ``scale``: synthetic corpora made from the shipped index (``Synthetic``): each copy of the
   reports gets its figures changed (digits 1-9 permuted) and its years moved, offsets kept.
   Each size is built in a subprocess and then loaded, asked and measured in a fresh one
   (resident memory is that process's). Chunk vectors are the model's own up to
   ``real_vectors`` chunks, and beyond that random unit vectors drawn from a Gaussian with the
   mean and covariance of the model's vectors of the shipped corpus; sentence vectors are
   always drawn so (they only re-score candidates). Uniform random unit vectors are the
   worst case for an approximate index and no model makes them: their recall is shown apart.
5. ``robust``: a real ``qa serve`` against misbehaving clients (``qa.chaos``), in rounds:
   issue 18's hang-up reproduction repeated (does the server answer after each?), bursts of
   concurrent /ask against the default limits (time to each 503; did every accepted request get
   its answer?), and /health p95 idle against /health p95 while clients hang up at random points
   under a steady /ask load, with server deaths and 5xx counted.
6. ``ingest``: ``qa.ingest`` on the shipped reports rendered as text PDFs and web pages
   (``qa.docgen``): pages per second.

Speed claims come from medians over repeated runs here, never from timed assertions in tests;
``tests/test_bench.py`` runs every part with tiny sizes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qa.data import Acronym, Chunk, Document, Section

QUESTION_FILES = (Path("eval/questions.jsonl"), Path("eval/heldout.jsonl"))
STAGES = ("analysis", "encode", "dense", "sparse", "fusion", "answer")
SIZES = (10_000, 100_000, 1_000_000)
TARGETS = {
    "ask_over_encode": 1.3,  # in process: median /ask at most this times the bare query encoding
    "http_c1_median_ms": 25.0,
    "http_c8_rps": 60.0,
    "build_over_encoder": 0.9,
    "scale_p95_ms": 100.0,  # hybrid query at 1M chunks
    "scale_recall": 0.95,  # recall@10 of the dense index against exact search at 1M chunks
    "scale_rss_gb": 6.0,
    "robust_503_median_ms": 50.0,  # median time to a refusal in a burst of 200 concurrent /ask
    "robust_health_ratio": 5.0,  # /health p95 under chaos at most this times its idle p95
    "ingest_pdf_pages_per_s": 10.0,  # issue 20: text PDFs, extraction alone
}


@dataclass
class Options:
    index: Path = Path("index")
    corpus: Path = Path("corpus")
    questions: tuple[Path, ...] = QUESTION_FILES
    out: Path | None = Path("eval/BENCHMARKS.md")
    parts: tuple[str, ...] = ("query", "http", "build", "scale", "robust", "ingest")
    queries: int = 200  # questions per round (the gold files cycled if shorter)
    rounds: int = 3
    warmup: int = 20
    threads: int = 1  # torch threads for the query path, as `qa serve` sets them
    http_seconds: float = 30.0
    concurrency: tuple[int, ...] = (1, 8)
    build_runs: int = 3
    sizes: tuple[int, ...] = SIZES
    real_vectors: int = 10_000  # model vectors for synthetic corpora up to this many chunks
    scale_queries: int = 200
    rank_bm25_upto: int = 100_000  # time rank-bm25 itself up to this many chunks
    uniform_upto: int = 100_000  # recall on uniform random vectors up to this many chunks
    hnsw_upto: int = 100_000  # compare with an HNSW graph up to this many chunks (slow to build)
    ivf_min_rows: int | None = None  # None: qa.dense.IVF_MIN_ROWS, the library's rule
    burst: int = 200  # concurrent /ask per burst (robust; `rounds` bursts)
    chaos_seconds: float = 10.0  # of hang-ups under load per round (robust; `rounds` rounds)
    repeats: int = 100  # issue 18's finding-1 reproduction, each followed by a /health (robust)
    work: Path | None = None
    command: str = ""


# ---------------------------------------------------------------------------------------------
# small helpers


def summary(values: list[float]) -> dict:
    """Median, p95, p99, mean, min, max of ``values`` (milliseconds), and how many."""
    if not values:
        return {"n": 0, "median": None, "p95": None, "p99": None, "mean": None, "min": None, "max": None}
    a = np.asarray(values, dtype=np.float64)
    return {"n": len(a), "median": float(np.median(a)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}


def memory() -> dict:
    """This process's resident memory (bytes): now, peak, anonymous and file-backed (Linux)."""
    fields = {"VmRSS": "rss", "VmHWM": "peak", "RssAnon": "anon", "RssFile": "file"}
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                out[fields[key]] = int(value.split()[0]) * 1024
    except OSError:
        import resource

        out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def load_questions(paths: tuple[Path, ...], n: int) -> list[str]:
    """``n`` question texts from the gold files (cycled when they hold fewer)."""
    texts = []
    for path in paths:
        if Path(path).is_file():
            texts += [json.loads(line)["question"] for line in Path(path).read_text(encoding="utf-8").splitlines()
                      if line.strip()]
    if not texts:
        raise ValueError(f"no questions in {', '.join(map(str, paths))}")
    return [texts[i % len(texts)] for i in range(max(n, 1))]


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cores": os.cpu_count()}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.*)", cpu).group(1).strip()
        mem = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s*(\d+)", mem).group(1)) / 2**20, 1)
    except (OSError, AttributeError):
        info["cpu"] = platform.processor()
    from importlib import metadata

    versions = {}
    for name in ("torch", "faiss-cpu", "numpy", "scipy", "sentence-transformers", "rank-bm25", "uvicorn", "fastapi"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    info["versions"] = versions
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            info["commit"] = head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _set_threads(n: int | None) -> int:
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    return before


# ---------------------------------------------------------------------------------------------
# 1. the query path, in process


def query_path(engine, questions: list[str], rounds: int, warmup: int, threads: int | None = 1) -> dict:
    """``engine.ask`` per stage, and the bare encoder on the same question right after it."""
    before = _set_threads(threads)
    try:
        for q in questions[:warmup]:
            engine.ask(q)
            engine.embedder.encode([q])
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        total, bare, per_round = [], [], []
        for _ in range(rounds):
            round_total, round_bare = [], []
            for q in questions:
                t0 = time.perf_counter()
                result = engine.ask(q)
                t1 = time.perf_counter()
                engine.embedder.encode([q])
                t2 = time.perf_counter()
                round_total.append((t1 - t0) * 1000)
                round_bare.append((t2 - t1) * 1000)
                for s in STAGES:
                    stages[s].append(result.timings.get(s, 0.0))
            per_round.append({"ask": float(np.median(round_total)), "encode": float(np.median(round_bare))})
            total += round_total
            bare += round_bare
    finally:
        _set_threads(before)
    ask, enc = summary(total), summary(bare)
    return {"questions": len(questions), "rounds": rounds, "warmup": warmup, "threads": threads,
            "stages": {s: summary(v) for s, v in stages.items()}, "ask": ask, "bare_encode": enc,
            "ratio": ask["median"] / enc["median"], "per_round": per_round}


# ---------------------------------------------------------------------------------------------
# 2. over HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """End a server process: politely, then by force after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def _get(host: str, port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load_client(host: str, port: int, paths: list[str], concurrency: int, seconds: float) -> dict:
    """``concurrency`` threads, each with one keep-alive connection, each sending its next
    request when the last one is answered (a closed loop: at most ``concurrency`` in flight)."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        j = i
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            path = paths[j % len(paths)]
            j += concurrency
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            if ok:
                latencies[i].append((time.perf_counter() - t) * 1000)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    deadline[0] = start + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    done = [x for lat in latencies for x in lat]
    return {"concurrency": concurrency, "seconds": elapsed, "requests": len(done) + sum(errors),
            "errors": sum(errors), "rps": len(done) / elapsed, **{k: v for k, v in summary(done).items() if k != "n"}}


def _cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) of process ``pid``, or of this process; None where unknown."""
    if pid is None:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def http_bench(options: Options, questions: list[str], work: Path) -> dict:
    """Start ``qa serve`` on a free port, warm it up, then load it at each concurrency."""
    port = free_port()
    log = work / "serve.log"
    command = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--index", str(options.index), "--corpus", str(options.corpus)]
    paths = ["/ask?" + urllib.parse.urlencode({"q": q}) for q in questions]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"qa serve did not start: {log.read_text()[-2000:]}")
            try:
                status, body = _get("127.0.0.1", port, "/health", timeout=5)
                if status == 200 and json.loads(body).get("status") == "ok":
                    break
            except OSError:
                pass
            time.sleep(0.2)
        for path in paths[: max(options.warmup, 1)]:
            _get("127.0.0.1", port, path, timeout=60)
        runs = []
        for c in options.concurrency:
            server, client = _cpu_seconds(process.pid), _cpu_seconds()
            run = load_client("127.0.0.1", port, paths, c, options.http_seconds)
            if server is not None and run["requests"]:
                run["server_cpu_ms"] = (_cpu_seconds(process.pid) - server) * 1000 / run["requests"]
            run["client_cpu_ms"] = (_cpu_seconds() - client) * 1000 / max(1, run["requests"])
            runs.append(run)
    finally:
        stop(process)
    return {"command": " ".join(["qa", *command[3:]]), "endpoint": "GET /ask?q=...", "runs": runs}


# ---------------------------------------------------------------------------------------------
# 3. index build against the bare encoder


def build_bench(settings, embedder, index, runs: int, work: Path) -> dict:
    """What ``qa index`` does (load the corpus, chunk, encode the chunks with their sentence
    vectors pooled from the same pass, BM25, FAISS, save), timed, against the bare encoder on the
    same chunk texts in one call (the raw throughput); in rotating order, ``runs`` times each.
    ``index``: the one built from ``settings`` (its chunks are what a build encodes)."""
    from qa.engine import build

    texts = [c.indexed_text(index.documents[c.doc_id].title) for c in index.chunks]
    sentences = len(index.sentence_vectors)
    embedder.encode(texts[:8])  # warm-up
    target = settings.model_copy(update={"index": work / "build-bench"})
    seconds: dict[str, list[float]] = {"build": [], "chunks": []}
    steps = list(seconds)
    for run in range(runs):
        for step in steps[run % 2 :] + steps[: run % 2]:
            t = time.perf_counter()
            if step == "build":
                build(target, embedder)
            else:
                embedder.encode(texts)
            seconds[step].append(time.perf_counter() - t)
    shutil.rmtree(target.index, ignore_errors=True)
    n = len(texts)
    build_rate, encode_rate = [n / s for s in seconds["build"]], [n / s for s in seconds["chunks"]]
    return {"chunks": n, "sentences": sentences, "runs": runs, "threads": _set_threads(None),
            "build_seconds": seconds["build"], "encode_seconds": seconds["chunks"],
            "build_chunks_per_s": float(np.median(build_rate)),
            "encode_chunks_per_s": float(np.median(encode_rate)),
            "ratio": float(np.median(build_rate) / np.median(encode_rate))}


# ---------------------------------------------------------------------------------------------
# 5. ingest: text PDFs and web pages


def ingest_bench(corpus: Path, runs: int, work: Path) -> dict:
    """``qa.ingest`` on the shipped reports rendered as two-column text PDFs and as web pages
    (``qa.docgen``, which needs reportlab from the ``test`` extra): pages per second for the PDFs,
    pages (files) per second for HTML; medians over ``runs`` rounds after a warm-up."""
    try:
        from qa import docgen
    except ImportError as exc:  # pragma: no cover - the test extra is missing
        return {"error": f"needs the test extra (pip install -e '.[test]'): {exc}"}
    from qa.corpus import load_corpus
    from qa.ingest import extract

    out = work / "ingest"
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[tuple[Path, bytes]]] = {"pdf": [], "html": []}
    for doc in load_corpus(corpus).documents:
        if doc.extracted:
            continue
        stem = Path(doc.source).stem
        for fmt, render in (("pdf", docgen.render_pdf), ("html", docgen.render_html)):
            path = render(doc, out / f"{stem}.{fmt}")
            files[fmt].append((path, path.read_bytes()))
    pages = {fmt: 0 for fmt in files}
    for fmt, items in files.items():
        for path, data in items:  # warm-up: imports, fonts, the word list
            pages[fmt] += max(1, len(extract(path.name, data).pages))
    seconds: dict[str, list[float]] = {fmt: [] for fmt in files}
    for _ in range(runs):
        for fmt, items in files.items():
            t = time.perf_counter()
            for path, data in items:
                extract(path.name, data)
            seconds[fmt].append(time.perf_counter() - t)
    shutil.rmtree(out, ignore_errors=True)
    return {"runs": runs, "pdf_files": len(files["pdf"]), "pdf_pages": pages["pdf"], "html_files": len(files["html"]),
            "pdf_seconds": seconds["pdf"], "html_seconds": seconds["html"],
            "pdf_pages_per_s": float(np.median([pages["pdf"] / x for x in seconds["pdf"]])) if seconds["pdf"] else None,
            "html_pages_per_s": float(np.median([pages["html"] / x for x in seconds["html"]])) if seconds["html"] else None}


# ---------------------------------------------------------------------------------------------
# 4. scale: synthetic corpora

_DIGITS = re.compile(r"\d+")
_NUMBER_TERM = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Variation:
    """One copy's figures and years: the digits 1-9 permuted (0 stays, so no figure gains or
    loses a digit) and every year from 1950 to 2049 moved by ``shift`` years."""

    table: dict
    shift: int

    @classmethod
    def random(cls, rng: np.random.Generator) -> "Variation":
        digits = "".join(str(d) for d in rng.permutation(9) + 1)
        return cls(str.maketrans("123456789", digits), int(rng.integers(-8, 9)))

    def number(self, digits: str) -> str:
        """A run of digits (or a figure term such as "3803268.5") as this copy prints it."""
        if len(digits) == 4 and digits.isdigit() and 1950 <= int(digits) <= 2049:
            year = int(digits) + self.shift
            return str(year) if 1950 <= year <= 2049 else digits
        return digits.translate(self.table)

    def text(self, text: str) -> str:
        return _DIGITS.sub(lambda m: self.number(m.group()), text)

    def term(self, term: str) -> str:
        return self.number(term) if _NUMBER_TERM.fullmatch(term) else term


class Synthetic:
    """Corpora of any size made from a built index: copy ``i`` of the reports is the shipped
    text with ``Variation`` ``i`` applied (same length, so every chunk, sentence and section
    keeps its offsets). The BM25 terms of a copied chunk are its source chunk's analyzer terms
    with the same variation applied: the analyzer runs once per source chunk, not per copy."""

    def __init__(self, index, seed: int = 0):
        from qa.analyze import analyze

        self.index = index
        self.seed = seed
        docs = index.documents
        self.terms = [analyze(c.indexed_text(docs[c.doc_id].title)) for c in index.chunks]
        self.numeric = [[i for i, t in enumerate(terms) if _NUMBER_TERM.fullmatch(t)] for terms in self.terms]
        vectors = np.vstack([index.dense.vectors(np.arange(len(index.chunks))),
                             np.asarray(index.sentence_vectors, dtype=np.float32)]).astype(np.float64)
        self.mean = vectors.mean(axis=0)
        self.cholesky = np.linalg.cholesky(np.cov(vectors.T) + 1e-6 * np.eye(vectors.shape[1]))

    def corpus(self, n: int) -> tuple[dict[str, Document], dict[str, list[Section]], dict[str, list[Acronym]],
                                       list[Chunk], list[list[str]]]:
        from qa.names import find_acronyms
        from qa.text import years_in

        rng = np.random.default_rng(self.seed)
        documents: dict[str, Document] = {}
        sections: dict[str, list[Section]] = {}
        acronyms: dict[str, list[Acronym]] = {}
        chunks: list[Chunk] = []
        terms: list[list[str]] = []
        source = self.index
        copy = 0
        while len(chunks) < n:
            v = Variation.random(rng)
            ids = {}
            for doc in source.documents.values():
                new = replace(doc, id=f"{doc.id}~{copy}", source=f"copy{copy}-{doc.source}", title=v.text(doc.title),
                              text=v.text(doc.text), report_year=int(v.number(str(doc.report_year))),
                              period=tuple(int(v.number(str(y))) for y in doc.period), sha256="")
                documents[new.id], ids[doc.id] = new, new.id
                sections[new.id] = [replace(s, doc_id=new.id) for s in source.sections[doc.id]]
                acronyms[new.id] = find_acronyms(new)  # its words vary: read, not copied
            for chunk, chunk_terms, numeric in zip(source.chunks, self.terms, self.numeric):
                if len(chunks) == n:
                    break
                doc = documents[ids[chunk.doc_id]]
                text = doc.text[chunk.char_start : chunk.char_end]
                context = doc.text[chunk.context_span.start : chunk.context_span.end] if chunk.context_span else ""
                chunks.append(replace(chunk, id=f"{doc.id}:{chunk.ordinal:03d}", doc_id=doc.id, text=text,
                                      context=context, years=years_in(context + "\n" + text)))
                varied = list(chunk_terms)
                for i in numeric:
                    varied[i] = v.term(varied[i])
                terms.append(varied)
            copy += 1
        return documents, sections, acronyms, chunks, terms

    def vectors(self, n: int, out: np.ndarray | None = None, *, uniform: bool = False, seed: int = 1) -> np.ndarray:
        """``n`` random unit vectors: Gaussian with the model vectors' mean and covariance
        (or ``uniform`` on the sphere), written into ``out`` (float32 or float16) in blocks."""
        rng = np.random.default_rng(seed)
        dim = len(self.mean)
        out = np.zeros((n, dim), dtype=np.float32) if out is None else out
        cholesky, mean = self.cholesky.T.astype(np.float32), self.mean.astype(np.float32)
        for start in range(0, n, 100_000):
            z = rng.standard_normal((min(100_000, n - start), dim), dtype=np.float32)
            g = z if uniform else z @ cholesky + mean
            out[start : start + len(g)] = g / np.linalg.norm(g, axis=1, keepdims=True)
        return out


def _timed_searches(search, queries: np.ndarray, k: int) -> tuple[list[float], list[np.ndarray]]:
    times, ids = [], []
    for q in queries:
        t = time.perf_counter()
        found, _ = search(q, k)
        times.append((time.perf_counter() - t) * 1000)
        ids.append(found)
    return times, ids


def _recall(found: list, truth: list, k: int) -> float:
    """Mean share of each true top ``k`` that was found in the top ``k``."""
    return float(np.mean([len(set(list(f[:k])) & set(list(t[:k]))) / max(1, min(k, len(t)))
                          for f, t in zip(found, truth)]))


def scale_build(base_index: Path, n: int, out: Path, queries: np.ndarray, real_vectors: int,
                rank_bm25_upto: int, uniform_upto: int, hnsw_upto: int, ivf_min_rows: int | None = None,
                query_terms: list[list[str]] = ()) -> dict:
    """Build a synthetic index of ``n`` chunks into ``out`` and measure its parts: dense flat,
    IVF and HNSW (build, latency, recall@10 and @100 against exact) on ``queries`` (question
    vectors), BM25 against rank-bm25 on ``query_terms``."""
    from qa import __version__
    from qa.dense import DenseIndex, kind_for
    from qa.index import FORMAT, SENTENCE_DTYPE, Index, load_index, save_index
    from qa.sparse import SparseIndex

    result: dict = {"chunks": n}
    base = load_index(base_index)
    synthetic = Synthetic(base)
    t = time.perf_counter()
    documents, sections, acronyms, chunks, terms = synthetic.corpus(n)
    result["generate_s"] = time.perf_counter() - t
    result["documents"] = len(documents)
    sentences = sum(len(c.sentences) for c in chunks)
    result["sentences"] = sentences
    work = out.parent / f".{out.name}-vectors"
    work.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        if n <= real_vectors:
            from qa.embed import load_embedder

            texts = [c.indexed_text(documents[c.doc_id].title) for c in chunks]
            vectors = load_embedder(base.model).encode(texts)
            result["vectors"] = "model"
            result["encode_chunks_per_s"] = n / (time.perf_counter() - t)
        else:
            vectors = synthetic.vectors(n)
            result["vectors"] = "gaussian"
        result["vectors_s"] = time.perf_counter() - t
        sentence_file = work / "sentences.npy"
        sentence_vectors = np.lib.format.open_memmap(sentence_file, mode="w+", dtype=SENTENCE_DTYPE,
                                                     shape=(sentences, base.dense.dim))
        synthetic.vectors(sentences, sentence_vectors, seed=2)
        sentence_vectors.flush()
        sentence_vectors = np.load(sentence_file, mmap_mode="r")

        dense: dict = {}
        built_indexes = {}
        for kind in ("flat", "ivf", "hnsw"):
            if kind == "hnsw" and n > hnsw_upto:
                continue
            t = time.perf_counter()
            index = DenseIndex.build(vectors, kind) if kind != "hnsw" else _HNSW(vectors)
            built = time.perf_counter() - t
            times, found = _timed_searches(index.search, queries, 100)
            dense[kind] = {"build_s": built, "search": summary(times), "found": found}
            if kind != "hnsw":
                built_indexes[kind] = index
        truth = dense["flat"]["found"]
        for kind in dense:
            found = dense[kind].pop("found")
            dense[kind]["recall@10"] = _recall(found, truth, 10)
            dense[kind]["recall@100"] = _recall(found, truth, 100)
        if n <= uniform_upto:
            uniform = synthetic.vectors(n, uniform=True, seed=3)
            truth_u = _timed_searches(DenseIndex.build(uniform, "flat").search, queries, 100)[1]
            for kind in ("ivf", "hnsw"):
                if kind == "hnsw" and n > hnsw_upto:
                    continue
                ann = DenseIndex.build(uniform, kind) if kind != "hnsw" else _HNSW(uniform)
                found = _timed_searches(ann.search, queries, 100)[1]
                dense[f"{kind}_uniform"] = {"recall@10": _recall(found, truth_u, 10),
                                            "recall@100": _recall(found, truth_u, 100)}
            del uniform, ann
        result["dense"] = dense
        kind = kind_for(n, ivf_min_rows)
        dense_index = built_indexes[kind]
        del vectors, built_indexes
        result["dense_kind"] = kind

        t = time.perf_counter()
        sparse = SparseIndex.build(iter(terms))
        result["sparse_build_s"] = time.perf_counter() - t
        result["vocabulary"] = len(sparse.vocab)
        result["postings"] = int(len(sparse.indices))
        times = []
        for qt in query_terms:
            t = time.perf_counter()
            sparse.scores(qt)
            times.append((time.perf_counter() - t) * 1000)
        result["bm25"] = {"ours": summary(times)}
        if n <= rank_bm25_upto:
            from rank_bm25 import BM25Okapi

            t = time.perf_counter()
            reference = BM25Okapi(terms)
            result["bm25"]["rank_bm25_build_s"] = time.perf_counter() - t
            sample = query_terms[: min(len(query_terms), 30)]
            times, identical = [], True
            for qt in sample:
                t = time.perf_counter()
                theirs = reference.get_scores(qt)
                times.append((time.perf_counter() - t) * 1000)
                identical &= bool(np.array_equal(theirs, sparse.scores(qt)))
            result["bm25"]["rank_bm25"] = summary(times)
            result["bm25"]["identical"] = identical
            del reference
        del terms

        manifest = dict(base.manifest)
        manifest.update(format=FORMAT, package_version=__version__, chunks=n, dense={"kind": kind},
                        corpus={"root": "synthetic", "checksum": "", "documents": len(documents), "skipped": []},
                        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        manifest.pop("files", None)
        manifest.pop("manifest_sha256", None)
        index = Index(documents, sections, acronyms, chunks, dense_index, sparse, sentence_vectors, manifest)
        t = time.perf_counter()
        build = save_index(index, out)
        result["save_s"] = time.perf_counter() - t
        result["disk_bytes"] = {p.name: p.stat().st_size for p in build.iterdir()}
        result["disk_total_bytes"] = sum(result["disk_bytes"].values())
        result["build_s"] = (result["vectors_s"] if result["vectors"] == "model" else 0.0) + \
            dense[kind]["build_s"] + result["sparse_build_s"] + result["save_s"]
        result["build_peak_rss"] = memory().get("peak")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


class _HNSW:
    """FAISS's HNSW graph (M = 32, efSearch = 256), for comparison with the index qa uses."""

    def __init__(self, vectors: np.ndarray, m: int = 32, ef_search: int = 256):
        import faiss

        self.index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efSearch = ef_search
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int):
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k)
        return ids[0][ids[0] >= 0], scores[0][ids[0] >= 0]


class _ExactDense:
    """A dense index that always searches exactly (the reference for the hybrid ranking)."""

    def __init__(self, dense):
        self._dense = dense

    def __getattr__(self, name):
        return getattr(self._dense, name)

    def __len__(self) -> int:
        return len(self._dense)

    def search(self, query, k, allowed=None):
        return self._dense.search(query, k, allowed, exact=True)


def scale_probe(index_dir: Path, questions: list[str], threads: int | None = 1, warmup: int = 20) -> dict:
    """Load a (synthetic) index as the service does and measure it: load time, resident
    memory, hybrid search and ask latency per stage, and the hybrid top 10 against the top 10
    with exact dense search."""
    from qa.embed import load_embedder
    from qa.engine import Engine
    from qa.index import load_index, read_manifest
    from qa.settings import Settings

    _set_threads(threads)
    model = read_manifest(index_dir)["model"]["name"]
    embedder = load_embedder(model)
    embedder.encode(["warm up"])
    result: dict = {"rss_model": memory().get("rss")}
    t = time.perf_counter()
    index = load_index(index_dir)
    result["load_s"] = time.perf_counter() - t
    engine = Engine(index, embedder, Settings())
    result["rss_loaded"] = memory().get("rss")
    for q in questions[:warmup]:
        engine.ask(q)
    search_ms, stages, ranked = [], {s: [] for s in STAGES[:-1]}, []
    for q in questions:
        t = time.perf_counter()
        found = engine.search(q, 10)
        search_ms.append((time.perf_counter() - t) * 1000)
        for s in stages:
            stages[s].append(found.timings.get(s, 0.0))
        ranked.append([h.chunk.id for h in found.hits])
    ask_ms = []
    for q in questions:
        t = time.perf_counter()
        engine.ask(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
    result.update(search=summary(search_ms), stages={s: summary(v) for s, v in stages.items()}, ask=summary(ask_ms),
                  memory=memory())
    approximate, index.dense = index.dense, _ExactDense(index.dense)
    try:
        exact = [[h.chunk.id for h in engine.search(q, 10).hits] for q in questions]
    finally:
        index.dense = approximate
    result["hybrid_recall@10"] = _recall(ranked, exact, 10)
    return result


def _subprocess(args: list[str], out: Path, timeout: float | None = None) -> dict:
    command = [sys.executable, "-m", "qa.bench", *args, "--result", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed: {done.stderr[-3000:]}")
    return json.loads(out.read_text())


def scale_bench(options: Options, embedder, questions: list[str], work: Path, progress=None) -> dict:
    from qa.analyze import analyze_query
    from qa.dense import IVF_MIN_ROWS

    ivf_min_rows = options.ivf_min_rows or IVF_MIN_ROWS

    questions_file = work / "questions.json"
    questions_file.write_text(json.dumps({"questions": questions, "terms": [analyze_query(q).terms for q in questions]}))
    np.save(work / "queries.npy", embedder.encode(questions))
    rows = []
    for n in options.sizes:
        if progress:
            progress(f"scale: building {n:,} chunks")
        target = work / f"scale-{n}"
        built = _subprocess(["build", "--base", str(options.index), "--size", str(n), "--out", str(target),
                             "--questions", str(questions_file), "--queries", str(work / "queries.npy"),
                             "--real-vectors", str(options.real_vectors),
                             "--rank-bm25-upto", str(options.rank_bm25_upto),
                             "--uniform-upto", str(options.uniform_upto), "--hnsw-upto", str(options.hnsw_upto),
                             "--ivf-min-rows", str(ivf_min_rows)],
                            work / f"build-{n}.json")
        if progress:
            progress(f"scale: loading and asking {n:,} chunks")
        probed = _subprocess(["probe", "--index", str(target), "--questions", str(questions_file),
                              "--threads", str(options.threads), "--warmup", str(options.warmup)],
                             work / f"probe-{n}.json")
        shutil.rmtree(target, ignore_errors=True)
        rows.append({**built, "probe": probed})
    return {"sizes": rows, "ivf_min_rows": ivf_min_rows}


# ---------------------------------------------------------------------------------------------
# 5. robustness: qa serve against misbehaving clients


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def robust_bench(options: Options, work: Path, progress=None) -> dict:
    """``qa serve`` on a free port with the default limits (``QA_*`` settings of the environment
    apart, as ``qa serve`` reads them): the finding-1 reproduction ``repeats`` times, then
    ``rounds`` bursts of ``burst`` concurrent /ask, then ``rounds`` pairs of an idle /health probe
    and ``chaos_seconds`` of hang-ups under load. A server that dies is counted and started again."""
    import collections
    import contextlib

    from qa import chaos
    from qa.settings import Settings

    say = progress or (lambda message: None)
    deaths, logs, problems = 0, [], []
    stack = contextlib.ExitStack()
    server: list = []

    def serving() -> int:
        """The port of a live server, after counting (and replacing) a dead one."""
        nonlocal deaths
        if server and server[0].poll() is None:
            return server[1]
        if server:
            deaths += 1
        log = work / f"robust-serve-{len(logs)}.log"
        logs.append(log)
        process, port = stack.enter_context(chaos.qa_serve(options.index, options.corpus, log))
        server[:] = [process, port]
        return port

    limit = Settings().max_concurrency
    try:
        port = serving()
        for q in chaos.QUESTIONS:  # warm-up: the first questions load what the answer needs
            chaos.request(port, "GET", chaos.ask_path(q), timeout=120)

        say(f"robust: issue 18's finding-1 reproduction {options.repeats} times")
        answered = 0
        for _ in range(options.repeats):
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", serving()), timeout=10) as sock:
                    chaos.finding_1(sock)
            answered += chaos.health(serving()) == "ok"
        finding_1 = {"repeats": options.repeats, "answered": answered}

        say(f"robust: {options.rounds} bursts of {options.burst} concurrent /ask")
        bursts = []
        for _ in range(options.rounds):
            out = chaos.burst(serving(), options.burst)
            statuses = collections.Counter(str(status) for status, _, _ in out)
            refused = [ms for status, ms, _ in out if status == 503]
            accepted = [(ms, ok) for status, ms, ok in out if status == 200]
            bursts.append({"statuses": dict(statuses), "refused": len(refused),
                           "refused_median_ms": _median(refused), "refused_p95_ms": _percentile(refused, 95),
                           "accepted": len(accepted), "answered": sum(ok for _, ok in accepted),
                           "accepted_median_ms": _median([ms for ms, _ in accepted]),
                           "no_answer": sum(status is None for status, _, _ in out),
                           "failures": sum(status is None or (status >= 500 and status != 503)
                                           or (status == 200 and not ok) for status, _, ok in out)})
            time.sleep(0.5)
            # the same burst against /health, which does no work: what 200 connections at once cost
            reference = [ms for status, ms, _ in chaos.burst(serving(), options.burst, "/health") if status == 200]
            bursts[-1].update(health_median_ms=_median(reference), health_p95_ms=_percentile(reference, 95),
                              health_answered=len(reference))
            time.sleep(0.5)

        say(f"robust: {options.rounds} rounds of /health idle and {options.chaos_seconds:g} s of chaos")
        rounds = []
        for i in range(options.rounds):
            idle = chaos.idle_health_ms(serving())
            run = chaos.run_chaos(serving(), options.chaos_seconds, steady=2, rude=4, seed=i, pause=0.01)
            alive = server[0].poll() is None
            statuses = {str(k): v for k, v in sorted(run.statuses.items())}
            rounds.append({"idle_p95_ms": _percentile(idle, 95), "idle_median_ms": _median(idle),
                           "chaos_p95_ms": _percentile(run.health_ms, 95),
                           "chaos_median_ms": _median(run.health_ms), "health_probes": len(run.health_ms),
                           "statuses": statuses, "actions": dict(run.actions), "no_answer": len(run.failures),
                           "http_5xx": sum(v for k, v in run.statuses.items() if k >= 500),
                           "alive_after": alive})
        serving()  # counts a death in the last round
        for log in logs:
            problems += chaos.log_problems(log.read_text(errors="replace"))
    finally:
        stack.close()

    refused_all = [b["refused_median_ms"] for b in bursts if b["refused_median_ms"] is not None]
    idle_p95 = _median([r["idle_p95_ms"] for r in rounds if r["idle_p95_ms"] is not None])
    chaos_p95 = _median([r["chaos_p95_ms"] for r in rounds if r["chaos_p95_ms"] is not None])
    return {"command": f"qa serve --index {options.index} --corpus {options.corpus}", "max_concurrency": limit,
            "finding_1": finding_1, "burst": options.burst, "bursts": bursts,
            "refused_median_ms": _median(refused_all),
            "refused_p95_ms": _median([b["refused_p95_ms"] for b in bursts if b["refused_p95_ms"] is not None]),
            "burst_failures": sum(b["failures"] for b in bursts),
            "health_burst_median_ms": _median([b["health_median_ms"] for b in bursts
                                               if b["health_median_ms"] is not None]),
            "chaos_seconds": options.chaos_seconds, "rounds": rounds, "idle_p95_ms": idle_p95,
            "chaos_p95_ms": chaos_p95, "health_ratio": chaos_p95 / idle_p95 if idle_p95 and chaos_p95 else None,
            "deaths": deaths, "http_5xx": sum(r["http_5xx"] for r in rounds),
            "no_answer": sum(r["no_answer"] for r in rounds), "log_problems": problems[:20]}


# ---------------------------------------------------------------------------------------------
# the whole run


def run(options: Options, progress=None) -> dict:
    """Every part in ``options.parts``; returns the results (what ``--json`` prints)."""
    from qa.embed import load_embedder
    from qa.engine import Engine
    from qa.settings import Settings

    say = progress or (lambda message: None)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-", dir=options.work))
    results: dict = {"command": options.command, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "machine": machine(), "load_average": {"start": load_average()}}
    try:
        settings = Settings(index=options.index, corpus=options.corpus)
        embedder = load_embedder(settings.model)
        questions = load_questions(options.questions, options.queries)
        engine = Engine.load(settings, embedder=embedder, build_if_needed=True)
        results["index"] = {"chunks": len(engine.index.chunks), "documents": len(engine.index.documents),
                            "model": engine.index.model, "dense": engine.index.dense.kind}
        if "build" in options.parts:
            say(f"build: {options.build_runs} runs of qa index and of the bare encoder")
            results["build"] = build_bench(settings, embedder, engine.index, options.build_runs, work)
        if "query" in options.parts:
            say(f"query path: {len(questions)} questions x {options.rounds} rounds")
            results["query"] = query_path(engine, questions, options.rounds, options.warmup, options.threads)
        if "http" in options.parts:
            say(f"http: {options.http_seconds:g} s at concurrency {', '.join(map(str, options.concurrency))}")
            results["http"] = http_bench(options, questions, work)
        if "ingest" in options.parts:
            say(f"ingest: the shipped reports as text PDFs and web pages, {max(options.build_runs, 3)} rounds")
            results["ingest"] = ingest_bench(options.corpus, max(options.build_runs, 3), work)
        if "scale" in options.parts and options.sizes:
            scale_questions = load_questions(options.questions, options.scale_queries)
            results["scale"] = scale_bench(options, embedder, scale_questions, work, say)
        if "robust" in options.parts:
            results["robust"] = robust_bench(options, work, say)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_average"]["end"] = load_average()
    results["seconds"] = time.perf_counter() - started
    results["targets"] = targets(results)
    return results


# ---------------------------------------------------------------------------------------------
# targets, report and chart


def _verdict(value: float | None, target: float, at_most: bool) -> tuple[str, bool | None]:
    if value is None:
        return "not measured", None
    met = value <= target if at_most else value >= target
    if met:
        return "met", True
    by = (value / target - 1) if at_most else (1 - value / target)
    return f"missed by {by:.0%}", False


def _largest(results: dict) -> dict | None:
    rows = results.get("scale", {}).get("sizes", [])
    return max(rows, key=lambda r: r["chunks"]) if rows else None


def targets(results: dict) -> list[dict]:
    """Each target of issue #6 with what was measured and whether it is met."""
    rows = []

    def add(name, target, value, shown, at_most, note=""):
        verdict, met = _verdict(value, target, at_most)
        rows.append({"target": name, "measured": shown, "value": value, "verdict": verdict, "met": met, "note": note})

    q = results.get("query")
    if q:
        others = {s: q["stages"][s]["median"] for s in STAGES if s != "encode"}
        top = sorted(others.items(), key=lambda kv: -kv[1])[:3]
        note = "besides encoding: " + ", ".join(f"{s} {v:.1f} ms" for s, v in top)
        add("/ask in process: median <= 1.3 x bare query encoding", TARGETS["ask_over_encode"], q["ratio"],
            f"{q['ratio']:.2f} x ({q['ask']['median']:.1f} ms / {q['bare_encode']['median']:.1f} ms)", True, note)
    in_process = f"in process /ask median {q['ask']['median']:.1f} ms" if q else ""
    for r in results.get("http", {}).get("runs", []):
        cpu = r.get("server_cpu_ms")
        bound = (f"server CPU {cpu:.1f} + client {r['client_cpu_ms']:.1f} ms per request: at most "
                 f"{2000 / (cpu + r['client_cpu_ms']):.0f} req/s on 2 idle cores" if cpu else "")
        if r["concurrency"] == 1:
            add("HTTP, concurrency 1: median /ask <= 25 ms", TARGETS["http_c1_median_ms"], r["median"],
                f"{_ms(r['median'])} ms (p95 {_ms(r['p95'])}, p99 {_ms(r['p99'])})", True, in_process)
        if r["concurrency"] == 8:
            value = r["rps"] if r["errors"] == 0 else 0.0
            add("HTTP, concurrency 8: >= 60 requests/s, no errors", TARGETS["http_c8_rps"], value,
                f"{r['rps']:.1f} req/s, {r['errors']} errors (median {_ms(r['median'])} ms)", False, bound)
    b = results.get("build")
    if b:
        note = (f"medians: build {np.median(b['build_seconds']):.1f} s, bare encoder on the chunks "
                f"{np.median(b['encode_seconds']):.1f} s")
        add("index build >= 0.9 x raw encoder throughput", TARGETS["build_over_encoder"], b["ratio"],
            f"{b['ratio']:.2f} x ({b['build_chunks_per_s']:.1f} vs {b['encode_chunks_per_s']:.1f} chunks/s)", False,
            note)
    ing = results.get("ingest")
    if ing and not ing.get("error"):
        add("ingest: text PDFs >= 10 pages/s", TARGETS["ingest_pdf_pages_per_s"], ing["pdf_pages_per_s"],
            f"{ing['pdf_pages_per_s']:.1f} pages/s ({ing['pdf_pages']} pages in {ing['pdf_files']} files)", False,
            f"web pages {ing['html_pages_per_s']:.1f}/s")
    big = _largest(results)
    if big:
        size = f"{big['chunks']:,} chunks"
        p = big["probe"]
        stages = ", ".join(f"{s} {_ms(v['p95'])}" for s, v in p["stages"].items())
        add(f"{size}: hybrid query p95 <= 100 ms", TARGETS["scale_p95_ms"], p["search"]["p95"],
            f"{_ms(p['search']['p95'])} ms (median {_ms(p['search']['median'])})", True, f"p95 per stage: {stages}")
        kind = big["dense_kind"]
        recall = big["dense"][kind]["recall@10"]
        uniform = big["dense"].get(f"{kind}_uniform")
        note = (f"{big['vectors']} vectors" + (f"; on uniform random vectors {uniform['recall@10']:.3f}" if uniform
                                               else ""))
        add(f"{size}: recall@10 >= 0.95 against exact", TARGETS["scale_recall"], recall,
            f"{recall:.3f} dense ({kind}); hybrid top 10 {p['hybrid_recall@10']:.3f}", False, note)
        mem = p["memory"]
        rss = mem["rss"] / 2**30
        add(f"{size}: resident memory <= 6 GB", TARGETS["scale_rss_gb"], rss,
            f"{rss:.2f} GB ({mem.get('anon', 0) / 2**30:.2f} anonymous, {mem.get('file', 0) / 2**30:.2f} file-backed)",
            True, f"model and libraries {p['rss_model'] / 2**30:.2f} GB, + index loaded "
                  f"{(p['rss_loaded'] - p['rss_model']) / 2**30:.2f} GB, + pages read by the questions "
                  f"{(mem['rss'] - p['rss_loaded']) / 2**30:.2f} GB")
    r = results.get("robust")
    if r:
        f1 = r["finding_1"]
        add(f"burst of {r['burst']} concurrent /ask: median time to a 503 < 50 ms", TARGETS["robust_503_median_ms"],
            r["refused_median_ms"], f"{_ms(r['refused_median_ms'])} ms (p95 {_ms(r['refused_p95_ms'])})", True,
            f"{r['burst_failures']} accepted requests without their answer or other 5xx, over "
            f"{len(r['bursts'])} bursts; limit {r['max_concurrency']}; the same burst on /health (no work): "
            f"median {_ms(r['health_burst_median_ms'])} ms")
        add("clients hanging up: /health p95 <= 5 x its idle p95", TARGETS["robust_health_ratio"], r["health_ratio"],
            f"{r['health_ratio']:.2f} x ({_ms(r['chaos_p95_ms'])} / {_ms(r['idle_p95_ms'])} ms)"
            if r["health_ratio"] is not None else "-", True, f"{len(r['rounds'])} rounds of {r['chaos_seconds']:g} s")
        bad = (r["deaths"] + r["http_5xx"] + r["no_answer"] + r["burst_failures"] + f1["repeats"] - f1["answered"]
               + len(r["log_problems"]))
        rows.append({"target": "clients hanging up and bursts: no server death, no 5xx but 503, every accepted "
                               "request answered", "value": bad, "met": bad == 0, "verdict": "met" if bad == 0 else
                     "missed", "measured": f"{r['deaths']} deaths, {r['http_5xx']} 5xx under chaos, "
                     f"{r['no_answer']} unanswered, {r['burst_failures']} burst failures, "
                     f"{len(r['log_problems'])} unhandled errors logged",
                     "note": f"finding 1 repeated: answered after {f1['answered']} of {f1['repeats']}"})
    return rows


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def _gb(x: float | None) -> str:
    return "-" if x is None else f"{x / 2**30:.2f}"


def report(results: dict, chart_name: str | None) -> str:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{results['command'] or 'qa bench'}` on {results['started'][:16].replace('T', ' ')} UTC "
        f"in {results['seconds'] / 60:.1f} min. Run the same command to measure again. Times are medians "
        "and percentiles over repeated runs in milliseconds; nothing here is asserted by the tests.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gb', '?')} GB |",
        f"| software | Python {m['python']}, " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + " |",
        f"| platform | {m['platform']} |",
        f"| commit | {m.get('commit', '?')} |",
        f"| load average (1, 5, 15 min) | at start {results['load_average']['start']}, "
        f"at end {results['load_average'].get('end')} (above 0 means other processes shared the cores) |",
        f"| index | {results.get('index', {}).get('chunks')} chunks of {results.get('index', {}).get('documents')} "
        f"reports, {results.get('index', {}).get('model')}, dense {results.get('index', {}).get('dense')} |",
        "",
        "## Targets",
        "",
        "| target | measured | verdict | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['measured']} | **{t['verdict']}** | {t['note']} |" for t in results["targets"]]
    q = results.get("query")
    if q:
        lines += ["", "## 1. Query path, in process", "",
                  f"`Engine.ask` (k = 5, hybrid) on {q['questions']} gold questions, {q['rounds']} rounds after "
                  f"{q['warmup']} warm-up questions, torch threads {q['threads']} (as `qa serve` sets them); after "
                  "each question the bare encoder (`embedder.encode([question])`) on the same question.", "",
                  "| stage | median | p95 | p99 |", "|---|---:|---:|---:|"]
        for s in STAGES:
            st = q["stages"][s]
            lines.append(f"| {s} | {_ms(st['median'])} | {_ms(st['p95'])} | {_ms(st['p99'])} |")
        lines += [f"| **/ask total** | **{_ms(q['ask']['median'])}** | {_ms(q['ask']['p95'])} | {_ms(q['ask']['p99'])} |",
                  f"| bare encoder | {_ms(q['bare_encode']['median'])} | {_ms(q['bare_encode']['p95'])} | "
                  f"{_ms(q['bare_encode']['p99'])} |",
                  f"| ratio of medians | {q['ratio']:.2f} | | |", "",
                  "Medians per round (ask / encoder): " + "; ".join(
                      f"{r['ask']:.1f} / {r['encode']:.1f}" for r in q["per_round"]) + "."]
    h = results.get("http")
    if h:
        lines += ["", "## 2. Over HTTP", "",
                  f"`{h['command']}` in its own process; a closed-loop client (one keep-alive connection per "
                  f"thread, `http.client`) sends {h['endpoint']} with the gold questions in turn, on loopback, "
                  "on the same 2 cores as the server.", "",
                  "| concurrency | seconds | requests | errors | req/s | median | p95 | p99 | server CPU ms/request "
                  "| client CPU ms/request |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in h["runs"]:
            lines.append(f"| {r['concurrency']} | {r['seconds']:.1f} | {r['requests']} | {r['errors']} | "
                         f"{r['rps']:.1f} | {_ms(r['median'])} | {_ms(r['p95'])} | {_ms(r['p99'])} | "
                         f"{_ms(r.get('server_cpu_ms'))} | {_ms(r.get('client_cpu_ms'))} |")
        lines += ["", "Server CPU per request bounds the rate: 2 cores give at most 2000 / (server + client CPU ms) "
                  "requests per second, less what other processes take."]
    b = results.get("build")
    if b:
        lines += ["", "## 3. Index build", "",
                  f"The shipped corpus ({b['chunks']} chunks, {b['sentences']} sentences): `qa index`'s work "
                  "(load, chunk, encode, BM25, FAISS, save) against the bare encoder on the same chunk texts in one call, "
                  f"in rotating order, {b['runs']} runs each, torch threads {b['threads']} (the default, as "
                  "`qa index`).", "",
                  "| | seconds per run | chunks/s (median) |", "|---|---|---:|",
                  f"| build | {', '.join(f'{x:.1f}' for x in b['build_seconds'])} | {b['build_chunks_per_s']:.1f} |",
                  f"| bare encoder, the {b['chunks']} chunk texts | {', '.join(f'{x:.1f}' for x in b['encode_seconds'])} | "
                  f"{b['encode_chunks_per_s']:.1f} |",
                  f"| ratio build / bare encoder | | {b['ratio']:.2f} |", "",
                  "The build encodes every chunk once; the sentence vectors (for the answer reader and the "
                  "sentence-level dense score) are the means of the same pass's token vectors within each "
                  "sentence, so they cost no second pass."]
    ing = results.get("ingest")
    if ing:
        lines += ["", "## 6. Ingest", ""]
        if ing.get("error"):
            lines.append(f"Not measured: {ing['error']}.")
        else:
            lines += [f"`qa.ingest` on the shipped reports rendered by `qa.docgen` as two-column text PDFs "
                      f"({ing['pdf_files']} files, {ing['pdf_pages']} pages: running header and footer, ruled tables) "
                      f"and as web pages ({ing['html_files']} files); {ing['runs']} rounds after a warm-up. "
                      "Extraction only: the index build after it is measured in part 3.", "",
                      "| | seconds per round | pages/s (median) |", "|---|---|---:|",
                      f"| PDF | {', '.join(f'{x:.2f}' for x in ing['pdf_seconds'])} | {ing['pdf_pages_per_s']:.1f} |",
                      f"| HTML (a page = a file) | {', '.join(f'{x:.2f}' for x in ing['html_seconds'])} | "
                      f"{ing['html_pages_per_s']:.1f} |", "",
                      "An unchanged file is not extracted again: its text is cached by the file's sha256 "
                      "(`index/extracted/`)."]
    sc = results.get("scale")
    if sc:
        lines += _scale_report(sc, results.get("build", {}).get("build_chunks_per_s"))
    r = results.get("robust")
    if r:
        lines += _robust_report(r)
    if chart_name:
        lines += ["", "## Chart", "", f"![benchmarks]({chart_name})"]
    return "\n".join(lines) + "\n"


def _scale_report(sc: dict, rate: float | None = None) -> list[str]:
    """``rate``: the build's chunks per second on the shipped corpus, to say how long encoding
    would take where random vectors stand in."""
    rows = sc["sizes"]
    lines = ["", "## 4. Scale", "",
             "Synthetic corpora made from the shipped reports: copy *i* has its digits 1-9 permuted and its "
             "years moved by up to 8 (offsets unchanged); BM25 terms are the source chunk's analyzer terms with "
             "the same change. Chunk vectors: `model` = all-MiniLM-L6-v2 on the synthetic text, `gaussian` = "
             "random unit vectors drawn with the mean and covariance of the model's vectors of the shipped "
             "corpus (no encoding); sentence vectors are always drawn so. Each size is built in one process "
             "and loaded and asked in a fresh one (its resident memory is below, with the model loaded).", "",
             "| chunks | vectors | dense | encoding s | index build s (dense + BM25 + save) | disk GB | load s "
             "| RSS GB (anon + file) | hybrid search median / p95 | ask median / p95 | hybrid top 10 vs exact |",
             "|---:|---|---|---|---|---:|---:|---|---|---|---:|"]
    for r in rows:
        p, kind = r["probe"], r["dense_kind"]
        mem = p["memory"]
        if r["vectors"] == "model":
            encoding = f"{r['vectors_s']:.0f} ({r['encode_chunks_per_s']:.0f} chunks/s; sentences not encoded)"
        elif rate:
            encoding = f"not run: ~{r['chunks'] / rate / 3600:.1f} h at the build's {rate:.1f} chunks/s"
        else:
            encoding = "not run"
        built = r["dense"][kind]["build_s"] + r["sparse_build_s"] + r["save_s"]
        lines.append(
            f"| {r['chunks']:,} | {r['vectors']} | {kind} | {encoding} | {built:.1f} ({r['dense'][kind]['build_s']:.1f} + "
            f"{r['sparse_build_s']:.1f} + {r['save_s']:.1f}) | {r['disk_total_bytes'] / 2**30:.2f} | {p['load_s']:.1f} | "
            f"{_gb(mem.get('rss'))} ({_gb(mem.get('anon'))} + {_gb(mem.get('file'))}) | "
            f"{_ms(p['search']['median'])} / {_ms(p['search']['p95'])} | {_ms(p['ask']['median'])} / "
            f"{_ms(p['ask']['p95'])} | {p['hybrid_recall@10']:.3f} |")
    lines += ["", "Stages of the hybrid search (median ms): " + "; ".join(
        f"{r['chunks']:,}: " + ", ".join(f"{s} {_ms(v['median'])}" for s, v in r["probe"]["stages"].items())
        for r in rows) + ".", "",
        "Dense search alone (k = 100, the fusion depth; the questions encoded by the model): flat (exact), IVF "
        "with float16 vectors (what qa builds from `qa.dense.IVF_MIN_ROWS` chunks on) and, for comparison, an "
        "HNSW graph "
        "(M = 32, efSearch = 256); recall against the flat index. The last columns: the same on uniform "
        "random unit vectors, the worst case for an approximate index.", "",
        "| chunks | flat median / p95 | IVF build s | IVF median / p95 | IVF recall@10 / @100 | HNSW build s "
        "| HNSW median / p95 | HNSW recall@10 / @100 | uniform: IVF recall@10 | uniform: HNSW recall@10 |",
        "|---:|---|---:|---|---|---:|---|---|---:|---:|"]
    for r in rows:
        d = r["dense"]
        cells = [f"{r['chunks']:,}", f"{_ms(d['flat']['search']['median'])} / {_ms(d['flat']['search']['p95'])}"]
        for kind in ("ivf", "hnsw"):
            if kind in d:
                cells += [f"{d[kind]['build_s']:.1f}",
                          f"{_ms(d[kind]['search']['median'])} / {_ms(d[kind]['search']['p95'])}",
                          f"{d[kind]['recall@10']:.3f} / {d[kind]['recall@100']:.3f}"]
            else:
                cells += ["-", "not run", "-"]
        for kind in ("ivf", "hnsw"):
            u = d.get(f"{kind}_uniform")
            cells.append(f"{u['recall@10']:.3f}" if u else "-")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "BM25 scoring of one query over every chunk (the same terms; rank-bm25's `get_scores` is the "
              "reference, timed on 30 questions):", "",
              "| chunks | vocabulary | postings | build s | ours median / p95 | rank-bm25 median / p95 "
              "| rank-bm25 build s | scores identical |", "|---:|---:|---:|---:|---|---|---:|---|"]
    for r in rows:
        bm = r["bm25"]
        theirs = bm.get("rank_bm25")
        lines.append(f"| {r['chunks']:,} | {r['vocabulary']:,} | {r['postings']:,} | {r['sparse_build_s']:.1f} | "
                     f"{_ms(bm['ours']['median'])} / {_ms(bm['ours']['p95'])} | "
                     + (f"{_ms(theirs['median'])} / {_ms(theirs['p95'])} | {bm['rank_bm25_build_s']:.1f} | "
                        f"{'yes' if bm['identical'] else '**no**'} |" if theirs else "not run | - | - |"))
    lines += ["", f"Index kind by size: flat below {sc['ivf_min_rows']:,} chunks, IVF from there "
              "(`qa.dense.IVF_MIN_ROWS`)."]
    return lines


def _robust_report(r: dict) -> list[str]:
    f1 = r["finding_1"]
    lines = ["", "## 5. Robustness", "",
             f"`{r['command']}` in its own process, default limits ({r['max_concurrency']} searches or questions at "
             "a time); the clients of `qa/chaos.py` on loopback, on the same 2 cores.", "",
             f"Issue 18's finding 1 (a request and a garbage one pipelined, closed when the JSON arrives), "
             f"{f1['repeats']} times, each followed by GET /health: answered after **{f1['answered']}**.", "",
             f"Bursts of {r['burst']} concurrent GET /ask, each on its own connection, opened together from one "
             "client thread (non-blocking sockets); times from each connect to the end of its answer. Then the "
             "same burst against GET /health, which does no work: the cost of that many connections at once.", "",
             "| burst | statuses | 503 median / p95 ms | accepted | answered | accepted median ms | failures "
             "| /health burst median / p95 ms |",
             "|---:|---|---|---:|---:|---:|---:|---|"]
    for i, b in enumerate(r["bursts"], 1):
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(b["statuses"].items()))
        lines.append(f"| {i} | {statuses} | {_ms(b['refused_median_ms'])} / {_ms(b['refused_p95_ms'])} | "
                     f"{b['accepted']} | {b['answered']} | {_ms(b['accepted_median_ms'])} | {b['failures']} | "
                     f"{_ms(b['health_median_ms'])} / {_ms(b['health_p95_ms'])} |")
    lines += ["", "A failure: no answer at all, a 5xx other than 503, or a 200 without an answer.", "",
              f"GET /health every 20 ms, idle (100 probes) and then for {r['chaos_seconds']:g} s while 2 steady clients "
              "ask and 4 hang up at random points (mid-request, mid-response, pipelined, 0.1 s timeout, "
              "body never finished, finding 1):", "",
              "| round | idle median / p95 ms | chaos median / p95 ms | probes | statuses | 5xx | unanswered "
              "| alive after |", "|---:|---|---|---:|---|---:|---:|---|"]
    for i, c in enumerate(r["rounds"], 1):
        statuses = ", ".join(f"{k}: {v}" for k, v in c["statuses"].items())
        lines.append(f"| {i} | {_ms(c['idle_median_ms'])} / {_ms(c['idle_p95_ms'])} | {_ms(c['chaos_median_ms'])} / "
                     f"{_ms(c['chaos_p95_ms'])} | {c['health_probes']} | {statuses} | {c['http_5xx']} | "
                     f"{c['no_answer']} | {'yes' if c['alive_after'] else '**no**'} |")
    ratio = f"{r['health_ratio']:.2f}" if r["health_ratio"] is not None else "-"
    lines += ["", f"Medians over the rounds: /health p95 idle {_ms(r['idle_p95_ms'])} ms, under chaos "
              f"{_ms(r['chaos_p95_ms'])} ms, ratio {ratio}; server deaths {r['deaths']}; unhandled errors in the "
              f"server's log: {len(r['log_problems'])}."]
    return lines


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("query", "http", "scale") if results.get(p)]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2))
    axes = np.atleast_1d(axes)
    for ax, panel in zip(axes, panels):
        if panel == "query":
            q = results["query"]
            left = 0.0
            for s in STAGES:
                v = q["stages"][s]["median"]
                ax.barh(["/ask"], [v], left=left, label=s)
                left += v
            ax.barh(["bare encoder"], [q["bare_encode"]["median"]], color="grey")
            ax.axvline(TARGETS["ask_over_encode"] * q["bare_encode"]["median"], color="red", ls="--", lw=1,
                       label="target (1.3 x encoder)")
            ax.set_xlabel("median ms")
            ax.set_xlim(0, 1.6 * q["bare_encode"]["median"])
            ax.set_title("query path in process")
            ax.legend(fontsize=7, loc="upper right", ncol=2)
        elif panel == "http":
            runs = results["http"]["runs"]
            x = np.arange(len(runs))
            for i, key in enumerate(("median", "p95", "p99")):
                ax.bar(x + (i - 1) * 0.25, [r[key] or 0 for r in runs], width=0.25, label=key)
            ax.set_xticks(x, [f"c={r['concurrency']}\n{r['rps']:.0f} req/s" for r in runs])
            ax.axhline(TARGETS["http_c1_median_ms"], color="red", ls="--", lw=1, label="25 ms (c=1 median target)")
            ax.set_ylabel("ms")
            ax.set_title("GET /ask over HTTP")
            ax.legend(fontsize=7)
        else:
            rows = results["scale"]["sizes"]
            n = [r["chunks"] for r in rows]
            ax.loglog(n, [r["probe"]["search"]["p95"] for r in rows], "o-", label="hybrid search p95")
            ax.loglog(n, [r["dense"]["flat"]["search"]["median"] for r in rows], "s--", label="dense flat median")
            ax.loglog(n, [r["dense"]["ivf"]["search"]["median"] for r in rows], "^--", label="dense IVF median")
            ax.loglog(n, [r["bm25"]["ours"]["median"] for r in rows], "d--", label="BM25 median")
            ax.axhline(TARGETS["scale_p95_ms"], color="red", ls="--", lw=1, label="100 ms")
            ax.set_xlabel("chunks")
            ax.set_ylabel("ms")
            ax2 = ax.twinx()
            ax2.plot(n, [r["probe"]["memory"]["rss"] / 2**30 for r in rows], "k:", label="RSS GB")
            ax2.axhline(TARGETS["scale_rss_gb"], color="grey", ls="-.", lw=1, label="6 GB")
            ax2.set_ylabel("resident GB")
            ax.set_title("scale")
            ax.legend(fontsize=7, loc="upper left")
            ax2.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, out: Path) -> tuple[Path, Path]:
    """``out`` (markdown), the chart next to it (``benchmarks.png``) and the raw numbers
    (``benchmarks.json``)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture = out.with_name("benchmarks.png")
    chart(results, picture)
    out.write_text(report(results, picture.name if picture.exists() else None), encoding="utf-8")
    out.with_name("benchmarks.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return out, picture


# ---------------------------------------------------------------------------------------------
# the subprocesses of the scale part: python -m qa.bench build|probe ... --result FILE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qa.bench", description="qa bench's subprocesses")
    sub = parser.add_subparsers(dest="part", required=True)
    b = sub.add_parser("build")
    b.add_argument("--base", type=Path, required=True)
    b.add_argument("--size", type=int, required=True)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--questions", type=Path, required=True)
    b.add_argument("--queries", type=Path, required=True)
    b.add_argument("--real-vectors", type=int, default=0)
    b.add_argument("--rank-bm25-upto", type=int, default=0)
    b.add_argument("--uniform-upto", type=int, default=0)
    b.add_argument("--hnsw-upto", type=int, default=0)
    b.add_argument("--ivf-min-rows", type=int, default=None)
    b.add_argument("--result", type=Path, required=True)
    p = sub.add_parser("probe")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    questions = json.loads(args.questions.read_text())
    if args.part == "build":
        result = scale_build(args.base, args.size, args.out, np.load(args.queries), args.real_vectors,
                             args.rank_bm25_upto, args.uniform_upto, args.hnsw_upto, args.ivf_min_rows,
                             questions["terms"])
    else:
        result = scale_probe(args.index, questions["questions"], args.threads, args.warmup)
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
