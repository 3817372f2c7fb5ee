"""``qa``: the command line, a thin layer over ``qa.engine``.

Library errors become one line on stderr with the fix, and a non-zero exit code:
0 success, 1 error, 2 bad usage, 3 partial success (some documents could not be indexed).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

from qa.data import KINDS, MODES, Filters
from qa.errors import QAError
from qa.settings import Settings

EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 1, 2, 3


def _settings(**overrides) -> Settings:
    try:
        base = Settings()
    except Exception as exc:  # a bad QA_* environment variable
        raise click.UsageError(f"bad QA_* environment variable: {exc}") from None
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def handle_errors(func: Callable) -> Callable:
    """Print library errors on one line with the fix; never a traceback (unless QA_DEBUG=1)."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except QAError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except OSError as exc:  # one line naming the file and the fix, not "please report it"
            from qa.files import os_error_message

            if os.environ.get("QA_DEBUG") == "1" or exc.filename is None:
                raise
            click.echo(f"error: {os_error_message(exc.filename, exc)}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if os.environ.get("QA_DEBUG") == "1":
                raise
            click.echo(f"error: unexpected {exc.__class__.__name__}: {exc} (rerun with QA_DEBUG=1 "
                       "for the traceback, and please report it)", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


index_option = click.option(
    "--index", "index", type=click.Path(path_type=Path), default=None,
    help="Index directory [default: index/, or $QA_INDEX].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's shape).")


def filter_options(func: Callable) -> Callable:
    for option in reversed([
        click.option("--year", type=click.IntRange(1900, 2100), help="Only passages about this year."),
        click.option("--doc", help="Only this document (id or file name)."),
        click.option("--section", help="Only sections whose path contains this text."),
        click.option("--kind", type=click.Choice(KINDS), help="Only this kind of publisher."),
    ]):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa")
def main() -> None:
    """Question answering over reports on human trafficking in Peru: cited passages and
    extractive answers."""
    # `qa search ... | head` ends quietly, as other command-line tools do; not `qa serve`: there a
    # client hanging up is one connection's broken pipe (an OSError uvicorn handles), not an exit
    if hasattr(signal, "SIGPIPE") and click.get_current_context().invoked_subcommand != "serve":
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.getLogger("qa").setLevel(logging.INFO)
    for noisy in ("sentence_transformers", "transformers", "httpx", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _engine(settings: Settings, build_if_needed: bool = False):
    from qa.engine import Engine

    return Engine.load(settings, build_if_needed=build_if_needed, progress=sys.stderr.isatty())


@main.command("index")
@click.option("--corpus", type=click.Path(path_type=Path), default=None, help="Corpus directory [default: corpus/].")
@index_option
@click.option("--model", default=None, help="Embedding model name or path [default: all-MiniLM-L6-v2, packaged].")
@handle_errors
def index_cmd(corpus: Path | None, index: Path | None, model: str | None) -> None:
    """Build the index from the corpus (with a progress bar) and publish it atomically."""
    settings = _settings(corpus=corpus, index=index, model=model)
    with _held_back("qa.corpus") as held:
        try:
            # the corpus before the model: a manifest or file that is refused is said in a fraction
            # of a second, not after the seconds that loading torch and the model take
            from qa.corpus import load_corpus

            from qa.engine import extraction_cache

            loaded = load_corpus(settings.corpus, settings.max_document_bytes, extraction_cache(settings))
            from qa.embed import load_embedder
            from qa.engine import build

            built, loaded = build(settings, load_embedder(settings.model), corpus=loaded, progress=True)
        except Exception:  # say what the corpus held (why no file could be indexed), then the error
            for record in held:
                click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)
            raise
    manifest = built.manifest
    click.echo(
        f"indexed {len(built.documents)} documents, {len(built.chunks)} chunks in "
        f"{manifest['build_seconds']:.1f} s -> {built.path}"
    )
    for problem in loaded.problems:
        if not problem.skipped:
            click.echo(f"warning: {problem.message}", err=True)
    if loaded.skipped:
        click.echo(f"partial: {len(loaded.skipped)} file(s) skipped, not indexed:", err=True)
        for problem in loaded.skipped:
            click.echo(f"  {problem.message}", err=True)
        sys.exit(EXIT_PARTIAL)


def _period(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–:,]\s*(\d{4}))?\s*", text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a year or a range of years such as 2015-2016", param_hint="--period")
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if first > last:
        raise click.BadParameter(f"{text!r}: the first year comes first", param_hint="--period")
    return first, last


@main.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--id", "doc_id", help="Readable slug for citations [default: inferred, e.g. tip-2023-peru].")
@click.option("--title", help="Title [default: from the file's metadata or first line].")
@click.option("--publisher", help="Publisher [default: inferred from the text].")
@click.option("--kind", type=click.Choice(KINDS), help="Kind of publisher [default: inferred from the publisher].")
@click.option("--year", type=click.IntRange(1900, 2100), help="Year the report was published [default: from the text].")
@click.option("--period", help="Years whose figures it reports, e.g. 2022 or 2015-2016 [default: year-1 for a TIP report].")
@click.option("--section", help="Section of a headerless excerpt.")
@click.option("--corpus", type=click.Path(path_type=Path), default=None, help="Corpus directory [default: corpus/].")
@index_option
@handle_errors
def add(files, doc_id, title, publisher, kind, year, period, section, corpus, index) -> None:
    """Add report FILE(s) (.txt, .md, .html, .pdf) to the corpus: copy it in, infer its metadata
    (title, publisher, year, period) where the text says it, write its manifest entry and rebuild
    the index. Adding an unchanged file again changes nothing."""
    from qa.adding import add_files
    from qa.engine import extraction_cache

    settings = _settings(corpus=corpus, index=index)
    given = {"id": doc_id, "title": title, "publisher": publisher, "kind": kind, "report_year": year,
             "period": _period(period), "section": section}
    if year is not None and period is None:
        given["period"] = None  # inferred from the year given
    with _held_back("qa.corpus"):
        added = add_files(settings.corpus, list(files), given, extraction_cache(settings), settings.max_document_bytes)
    for item in added:
        e = item.entry
        click.echo(f"{item.status}: {e.file} as {e.id!r} — {e.title}; {e.publisher} ({e.kind}), "
                   f"{e.report_year}, figures for {e.period[0]}" + (f"-{e.period[1]}" if e.period[1] != e.period[0] else ""))
    if all(item.status == "unchanged" for item in added):
        from qa.corpus import load_corpus
        from qa.errors import IndexMismatch, IndexNotFound
        from qa.index import read_manifest

        try:
            built = read_manifest(settings.index)["corpus"]["checksum"]
        except (IndexNotFound, IndexMismatch, KeyError):
            built = None
        with _held_back("qa.corpus"):
            current = load_corpus(settings.corpus, settings.max_document_bytes, extraction_cache(settings)).checksum()
        if built == current:
            click.echo(f"the index is up to date ({settings.index})")
            return
    index_cmd.callback(corpus=settings.corpus, index=settings.index, model=None)


@contextmanager
def _held_back(logger_name: str) -> Iterator[list[logging.LogRecord]]:
    """A logger's records, collected instead of printed (``qa index`` prints each problem once,
    with the outcome, after the progress bars)."""
    logger = logging.getLogger(logger_name)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _print_passages(passages, width: int = 100) -> None:
    for p in passages:
        click.echo(f"{p.rank:>2}. [{p.score:.4f}] {p.title} — {p.section}  ({p.source} {p.char_start}:{p.char_end}"
                   f"{_pages(p.pages)})")
        body = " ".join(p.text.split())
        click.echo(textwrap.indent(textwrap.fill(body[:600] + ("…" if len(body) > 600 else ""), width - 4), "    "))


def _pages(pages: list[int] | None) -> str:
    """", page 3" or ", pages 3-4" for a citation into a PDF; "" for a report without pages."""
    if not pages:
        return ""
    return f", page {pages[0]}" if len(pages) == 1 else f", pages {pages[0]}-{pages[-1]}"


def _filters(year, doc, section, kind) -> Filters:
    return Filters(year=year, doc=doc, section=section, kind=kind)


@main.command()
@click.argument("query")
@click.option("-k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Passages to return.")
@filter_options
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@index_option
@json_option
@handle_errors
def search(query, k, year, doc, section, kind, mode, index, as_json) -> None:
    """Rank passages for QUERY, each cited (report, section, offsets)."""
    from qa.schema import search_response

    engine = _engine(_settings(index=index))
    result = engine.search(query, k, _filters(year, doc, section, kind), mode)
    response = search_response(result, engine.index)
    if as_json:
        click.echo(response.model_dump_json(indent=2))
    else:
        _print_passages(response.hits)


@main.command()
@click.argument("question")
@click.option("-k", type=click.IntRange(1, 1000), default=5, show_default=True, help="Passages to return.")
@filter_options
@index_option
@json_option
@handle_errors
def ask(question, k, year, doc, section, kind, index, as_json) -> None:
    """Answer QUESTION from the reports: the figure or sentence, cited, or why not."""
    from qa.schema import ask_response

    engine = _engine(_settings(index=index))
    result = engine.ask(question, k, _filters(year, doc, section, kind))
    response = ask_response(result, engine.index)
    if as_json:
        click.echo(response.model_dump_json(indent=2))
        return
    answer = response.answer
    if answer is None:
        click.echo(f"The reports do not say: {response.reason}")
    else:
        shown = answer.text if not answer.unit or answer.unit in answer.text else f"{answer.text} {answer.unit}"
        click.echo(f"Answer: {shown}  (confidence {answer.confidence:.2f})")
        click.echo(f"  from {answer.title} — {answer.section} ({answer.source} {answer.char_start}:{answer.char_end}"
                   f"{_pages(answer.pages)})")
        click.echo(textwrap.indent(textwrap.fill(" ".join(answer.sentence.split()), 96), "  > "))
        for alt in answer.alternatives:
            click.echo(f"  other source: {alt.text} — {alt.title}, {alt.section} ({alt.source} {alt.char_start}:{alt.char_end})")
    click.echo("\nPassages:")
    _print_passages(response.passages)


@main.command("eval")
@click.option("--questions", type=click.Path(path_type=Path), default=Path("eval/questions.jsonl"),
              show_default=True, help="Gold questions (JSONL, the format in DESIGN.md).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("eval/runs/latest"), show_default=True,
              help="Directory for metrics.json, run.jsonl, report.md and chart.png.")
@click.option("-k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages per ask.")
@click.option("--write-baseline", type=click.Path(path_type=Path), default=None,
              help="Also write the gated numbers to this file (eval/baseline.json).")
@index_option
@json_option
@handle_errors
def eval_cmd(questions: Path, out: Path, k: int, write_baseline: Path | None, index: Path | None, as_json: bool) -> None:
    """Score retrieval (bm25, dense, hybrid) and answers on a gold question file."""
    from qa.evaluate import baseline_of, evaluate, load_gold, write_outputs

    gold = load_gold(questions)
    engine = _engine(_settings(index=index))
    evaluation = evaluate(engine, gold, k=k, progress=sys.stderr.isatty())
    paths = write_outputs(evaluation, out, questions)
    if write_baseline:
        write_baseline.write_text(json.dumps({"questions": str(questions), **baseline_of(evaluation.metrics)}, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(evaluation.metrics, indent=2))
        return
    answers = evaluation.metrics["answers"]
    for mode, row in evaluation.metrics["retrieval"].items():
        click.echo(f"{mode:>7}: hit@1 {row['hit@1']:.3f}  hit@5 {row['hit@5']:.3f}  hit@10 {row['hit@10']:.3f}  "
                   f"MRR@10 {row['mrr@10']:.3f}  nDCG@10 {row['ndcg@10']:.3f}")
    click.echo(f"answers: strict {answers['strict']}  lenient F1 {answers['lenient_f1']}  "
               f"abstention {answers['abstention']}  false abstention {answers['false_abstention']}")
    click.echo(f"report: {paths['report']}")


@main.command()
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1, or $QA_HOST].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [default: 8000, or $QA_PORT].")
@index_option
@click.option("--corpus", type=click.Path(path_type=Path), default=None, help="Corpus directory [default: corpus/].")
@handle_errors
def serve(host: str | None, port: int | None, index: Path | None, corpus: Path | None) -> None:
    """Serve the HTTP API and the analysts' web page; builds the index first if it is missing
    or was built from another corpus."""
    settings = _settings(host=host, port=port, index=index, corpus=corpus)
    # a bad index or corpus fails here, before the server starts (and before torch is imported)
    engine = _engine(settings, build_if_needed=True)
    import torch
    import uvicorn

    from qa.api import create_app

    # requests run in parallel threads; torch's own threads on top of them (or beside another busy
    # process) make one query's encoding ~50x slower on this 2-core machine (measured: 480 ms vs 9 ms)
    torch.set_num_threads(1)
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    click.echo(f"serving on http://{shown}:{settings.port}/ - open it in a browser (the API is described at /docs)")
    uvicorn.run(create_app(settings, engine=engine), host=settings.host, port=settings.port, http="httptools")


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x.replace("_", "")) for x in text.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of whole numbers, e.g. 1,8") from None
    if any(v < 1 for v in values):
        raise click.BadParameter(f"{text!r}: every number must be at least 1")
    return values


@main.command()
@index_option
@click.option("--corpus", type=click.Path(path_type=Path), default=None, help="Corpus directory [default: corpus/].")
@click.option("--out", type=click.Path(path_type=Path), default=Path("eval/BENCHMARKS.md"), show_default=True,
              help="The report; benchmarks.png (chart) and benchmarks.json (raw numbers) go next to it.")
@click.option("--parts", default="build,query,http,scale,robust,ingest", show_default=True,
              help="Which parts to run, comma-separated: build, query, http, scale, robust, ingest.")
@click.option("--queries", type=click.IntRange(1), default=200, show_default=True,
              help="Gold questions per round (eval/questions.jsonl then eval/heldout.jsonl, cycled).")
@click.option("--rounds", type=click.IntRange(1), default=3, show_default=True,
              help="Rounds of the query path; bursts and chaos rounds of the robust part.")
@click.option("--warmup", type=click.IntRange(0), default=20, show_default=True, help="Warm-up questions.")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
              help="Torch threads for the query path and the scale probes (qa serve uses 1).")
@click.option("--http-seconds", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help="Seconds of load at each concurrency.")
@click.option("--concurrency", default="1,8", show_default=True, help="HTTP client concurrencies, comma-separated.")
@click.option("--build-runs", type=click.IntRange(1), default=3, show_default=True,
              help="Runs of the index build and of the bare encoder.")
@click.option("--sizes", default="10000,100000,1000000", show_default=True,
              help="Synthetic corpus sizes in chunks, comma-separated.")
@click.option("--real-vectors", type=click.IntRange(0), default=10_000, show_default=True,
              help="Encode synthetic chunks with the model up to this many chunks (random vectors above).")
@click.option("--scale-queries", type=click.IntRange(1), default=200, show_default=True,
              help="Questions asked of each synthetic corpus.")
@click.option("--burst", type=click.IntRange(1), default=200, show_default=True,
              help="Concurrent /ask in each burst of the robust part.")
@click.option("--chaos-seconds", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Seconds of clients hanging up in each round of the robust part.")
@click.option("--repeats", type=click.IntRange(1), default=100, show_default=True,
              help="Repeats of issue 18's hang-up reproduction in the robust part.")
@json_option
@handle_errors
def bench(index, corpus, out, parts, queries, rounds, warmup, threads, http_seconds, concurrency, build_runs, sizes,
          real_vectors, scale_queries, burst, chaos_seconds, repeats, as_json) -> None:
    """Measure speed and scale (query path, HTTP, index build, synthetic corpora up to a million
    chunks, qa serve against clients that hang up or arrive in bursts) and write eval/BENCHMARKS.md
    with its chart. The full run takes about half an hour."""
    from qa.bench import Options, run, write

    chosen = tuple(p.strip() for p in parts.split(",") if p.strip())
    unknown = set(chosen) - {"build", "query", "http", "scale", "robust", "ingest"}
    if unknown or not chosen:
        raise click.BadParameter(f"unknown part(s) {', '.join(sorted(unknown)) or '(none)'}; "
                                 "allowed: build, query, http, scale, robust, ingest", param_hint="--parts")
    settings = _settings(index=index, corpus=corpus)
    options = Options(index=settings.index, corpus=settings.corpus, out=out, parts=chosen, queries=queries,
                      rounds=rounds, warmup=warmup, threads=threads, http_seconds=http_seconds,
                      concurrency=_ints(concurrency), build_runs=build_runs, sizes=_ints(sizes),
                      real_vectors=real_vectors, scale_queries=scale_queries, burst=burst,
                      chaos_seconds=chaos_seconds, repeats=repeats,
                      command="qa " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else "qa bench")
    results = run(options, progress=lambda message: click.echo(message, err=True))
    report, picture = write(results, out)
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for t in results["targets"]:
        click.echo(f"{t['verdict']:>16}  {t['target']}: {t['measured']}")
    click.echo(f"report: {report} (chart {picture.name})")
