"""`ftadvisor rag index|search|ask|stats`: the RAG baseline over a Chroma store (a folder, or a
`chroma run` server given with --url)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common.text import one_line


def _add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="DIR", help="Chroma store folder (default: FTADVISOR_HOME/stores/default)")
    parser.add_argument(
        "--url",
        metavar="URL",
        help="a Chroma server (chroma run) instead of a folder, e.g. http://127.0.0.1:8000; "
        "it takes precedence over --store",
    )
    parser.add_argument(
        "--collection", metavar="NAME", default="documents", help="collection name (default: documents)"
    )


def _store(args: argparse.Namespace):
    from common.settings import load_settings
    from rag_baseline.schemas import StoreConfig

    if args.url:  # the server holds the data; a --store given as well is not used
        if args.store:
            print(f"ftadvisor rag: note: using the server at {args.url}; --store {args.store} is ignored",
                  file=sys.stderr)
        return StoreConfig(url=args.url, collection=args.collection)
    path = Path(args.store) if args.store else load_settings().stores_dir / "default"
    return StoreConfig(path=path, collection=args.collection)


def register(subparsers) -> None:
    from common.vocabulary import ENGINES
    from rag_baseline.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
    from rag_baseline.retrieve import DEFAULT_K

    rag = subparsers.add_parser("rag", help="index documents in Chroma, search them, answer with sources",
                                description=__doc__.split("\n\n")[0])
    sub = rag.add_subparsers(dest="rag_command", required=True, metavar="ACTION")

    index = sub.add_parser("index", help="index (or re-index) documents; unchanged files are skipped",
                           description="Read .txt .md .csv .json .jsonl .sql .html .pdf files (folders recursively), "
                           "chunk them and embed them offline into the store. Changed files replace their chunks; "
                           "deleted files' chunks go; unreadable files are skipped and listed.")
    index.add_argument("--docs", nargs="+", required=True, metavar="PATH", help="files or folders")
    _add_store_arguments(index)
    index.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="N",
                       help=f"characters per chunk (default: {DEFAULT_CHUNK_SIZE})")
    index.add_argument("--chunk-overlap", type=int, default=DEFAULT_CHUNK_OVERLAP, metavar="N",
                       help=f"characters shared by consecutive chunks (default: {DEFAULT_CHUNK_OVERLAP})")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    index.set_defaults(func=_index)

    search = sub.add_parser("search", help="retrieve the top-k chunks for one or many questions (no generation)")
    search.add_argument("question", nargs="?", help="the question (or use --queries-file)")
    search.add_argument("--queries-file", metavar="FILE", help="one question per line, all answered in one process")
    _add_store_arguments(search)
    search.add_argument("--k", type=int, default=DEFAULT_K, help=f"chunks per question (default: {DEFAULT_K})")
    search.add_argument("--mmr", action="store_true", help="diversify with maximal marginal relevance")
    search.add_argument("--min-score", type=float, metavar="S", help="drop chunks below this cosine similarity")
    search.add_argument("--json", action="store_true",
                        help="a JSON list, one entry per question: {question, hits: [{source, score, text, ...}]}")
    search.set_defaults(func=_search)

    ask = sub.add_parser("ask", help="answer a question from the store, citing the passages")
    ask.add_argument("question")
    _add_store_arguments(ask)
    ask.add_argument("--model", metavar="M", help="hub id or local model folder that writes the answer "
                     "(without it: the retrieved passages only)")
    ask.add_argument("--k", type=int, default=DEFAULT_K, help=f"passages in the prompt (default: {DEFAULT_K})")
    ask.add_argument("--min-score", type=float, default=None, metavar="S",
                     help="below this cosine similarity a passage does not count (default: 0.2)")
    ask.add_argument("--max-new-tokens", type=int, default=128, metavar="N", help="answer length cap (default: 128)")
    ask.add_argument("--mmr", action="store_true", help="diversify with maximal marginal relevance")
    ask.add_argument("--engine", choices=ENGINES, default="auto",
                     help="what runs the model: transformers, or OpenVINO on a CPU (a converted copy, float32); auto: "
                     "OpenVINO on a CPU when the model converts, else transformers (default: auto)")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.set_defaults(func=_ask)

    stats = sub.add_parser("stats", help="chunks per source file in the collection")
    _add_store_arguments(stats)
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=_stats)


class IndexProgress:
    """`on_progress(done, total)` of the embedding, on `stream`: a bar redrawn in place on a
    terminal, else a plain line at every 5% step or after 10 s without one (for logs and CI,
    where a 20 MB file used to index for 16 minutes in silence)."""

    STEP_PERCENT, EVERY_S, BAR = 5, 10.0, 20

    def __init__(self, stream=None, clock=time.monotonic) -> None:
        self.stream, self.clock = stream or sys.stderr, clock
        self.tty = self.stream.isatty()
        self.started: float | None = None
        self.last_s, self.last_step = 0.0, 0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if not total:
            return
        if self.started is None:
            self.started = self.last_s = now
            if not self.tty:
                self._write(f"embedding {total:,} new chunks\n")
        elapsed, percent = now - self.started, 100 * done // total
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", about {_clock(int((total - done) / rate))} left" if rate and done < total else ""
        if self.tty:
            bar = "#" * (self.BAR * done // total)
            self._write(f"\r[{bar:-<{self.BAR}}] {done:,}/{total:,} chunks {percent}% {rate:.1f}/s{left}"
                        + ("\n" if done == total else ""))
        elif done == total:
            self._write(f"{done:,}/{total:,} chunks (100%) in {_clock(int(elapsed))}\n")
        elif done and (percent // self.STEP_PERCENT > self.last_step or now - self.last_s >= self.EVERY_S):
            self.last_step, self.last_s = percent // self.STEP_PERCENT, now
            self._write(f"{done:,}/{total:,} chunks ({percent}%), {rate:.1f} chunks/s{left}\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _clock(seconds: int) -> str:
    """0:38, 3:19, 1:02:03."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _index(args: argparse.Namespace) -> int:
    from rag_baseline.index import index_documents

    report = index_documents(args.docs, _store(args), chunk_size=args.chunk_size,
                             chunk_overlap=args.chunk_overlap, on_progress=IndexProgress())
    print(report.model_dump_json(indent=2) if args.json else report.summary())
    return 0


def _questions(args: argparse.Namespace) -> list[str]:
    if bool(args.question) == bool(args.queries_file):
        raise ValueError("give one question, or --queries-file FILE (one question per line)")
    if args.question:
        return [args.question]
    try:
        lines = Path(args.queries_file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read --queries-file {args.queries_file}: {exc}") from None
    questions = [line.strip() for line in lines if line.strip()]
    if not questions:
        raise ValueError(f"--queries-file {args.queries_file} holds no questions")
    return questions


def _search(args: argparse.Namespace) -> int:
    from rag_baseline.retrieve import search

    questions = _questions(args)
    results = search(questions, _store(args), k=args.k, mmr=args.mmr, min_score=args.min_score)
    if args.json:
        print(json.dumps([{"question": q, "hits": [h.model_dump() for h in hits]}
                          for q, hits in zip(questions, results, strict=True)], indent=2))
        return 0
    for question, hits in zip(questions, results, strict=True):
        print(f"? {question}")
        for hit in hits:
            snippet = " ".join(hit.text.split())[:160]
            print(f"  {hit.rank}. {hit.score:.3f}  {one_line(hit.source)}  {one_line(snippet)}")
        if not hits:
            print("  (no chunk reached the threshold)")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from rag_baseline.answer import DEFAULT_MIN_SCORE, answer

    result = answer(args.question, _store(args), args.model, k=args.k, mmr=args.mmr,
                    min_score=DEFAULT_MIN_SCORE if args.min_score is None else args.min_score,
                    max_new_tokens=args.max_new_tokens, engine=args.engine)
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0
    if args.model:
        print(result.answer or "(empty answer)")
    elif not result.covered:
        print(result.answer)
    t = result.timings
    for n, hit in enumerate(result.hits, start=1):
        print(f"[{n}] {hit.score:.3f}  {one_line(hit.source)}  {one_line(' '.join(hit.text.split())[:160])}")
    timing = f"retrieve {t.retrieve_s * 1000:.0f} ms"
    if args.model and result.covered:
        timing += f", generate {t.generate_s:.2f} s, {t.prompt_tokens} prompt + {t.new_tokens} new tokens"
    print(timing, file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from rag_baseline.store import store_stats

    stats = store_stats(_store(args))
    if args.json:
        print(stats.model_dump_json(indent=2))
        return 0
    print(f"{stats.store} [{stats.collection}]: {stats.chunks} chunks from {len(stats.sources)} file(s); "
          f"{stats.embedding_model} ({stats.embedding_dim} dims, {stats.space})")
    for source in stats.sources:
        print(f"  {source.chunks:6d}  {one_line(source.source)}")
    return 0
