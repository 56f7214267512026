"""RAG baseline figures on this machine (2 CPU threads):
- embedding + indexing throughput (chunks/s), fp32 vs bf16 embedding;
- query latency p50/p95 (embed the question + Chroma top-k) on a collection of >= 10,000
  synthesised chunks, embedded and indexed for real;
- recall@k on sql-eval: is the right database's schema among the top-k chunks, over all 210
  questions (and over the 190 whose database dump is in the set);
- one large file (20 MB of prose, and 20 MB of SQL) at the default chunk size: reading and
  chunking the whole file, embedding throughput on a sample of its chunks (256, at batch sizes 16
  and 32), and writing all its chunks to Chroma (with the sample's vectors, slightly perturbed:
  embedding them all would take ~20 minutes), hence the whole file's indexing time.

`python -m bench rag` (about 12 minutes: embedding 10,000 chunks is most of it);
FTADVISOR_BENCH_CHUNKS=N changes the collection size, FTADVISOR_BENCH_BIG_MB the large file's.
"""
from __future__ import annotations

import csv
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench import sql_eval_dir

THREADS = 2
N_CHUNKS = int(os.environ.get("FTADVISOR_BENCH_CHUNKS", "10000"))
CHUNK_CHARS = 220  # a short paragraph; indexed with chunk_size=BENCH_CHUNK_SIZE: one chunk each
BENCH_CHUNK_SIZE = 400
N_QUERIES = 200
BIG_MB = float(os.environ.get("FTADVISOR_BENCH_BIG_MB", "20"))
BIG_SAMPLE = 256
SQL_EVAL = sql_eval_dir()

_WORDS = ("invoice refund order customer shipping warehouse delivery policy account payment card bank "
          "transfer model training dataset evaluation metric gpu memory batch token latency cost server "
          "database table column index query schema report contract clause term renewal notice period "
          "employee manager holiday leave salary tax office meeting project deadline budget risk audit").split()


def synthetic_docs(folder: Path, n_chunks: int, seed: int = 0) -> Path:
    """Markdown files of paragraphs of CHUNK_CHARS-CHUNK_CHARS+15 characters, one heading per
    20 paragraphs; two paragraphs never fit in BENCH_CHUNK_SIZE, so each is one chunk."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = 100
    for f in range(0, n_chunks, per_file):
        parts = []
        for p in range(per_file):
            if p % 20 == 0:
                parts.append(f"# Section {f + p} on {rng.choice(_WORDS)} {rng.choice(_WORDS)}")
            words = []
            while len(" ".join(words)) < CHUNK_CHARS:
                words.append(rng.choice(_WORDS))
            parts.append(" ".join(words).capitalize() + ".")
        (folder / f"doc{f // per_file:04d}.md").write_text("\n\n".join(parts) + "\n")
    return folder


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def embed_throughput(texts: list[str]) -> dict[str, float]:
    from lm.embeddings import embed, load_embedder

    out = {}
    for dtype in ("float32", "bfloat16"):
        load_embedder(dtype)
        embed(texts[:16], dtype=dtype)  # warm-up
        started = time.perf_counter()
        embed(texts, dtype=dtype)
        out[dtype] = len(texts) / (time.perf_counter() - started)
    return out


def index_and_query(root: Path) -> dict:
    from lm.embeddings import default_dtype, embed
    from rag_baseline.index import index_documents
    from rag_baseline.retrieve import search
    from rag_baseline.schemas import StoreConfig
    from rag_baseline.store import open_collection

    docs = synthetic_docs(root / "docs", N_CHUNKS)
    store = StoreConfig(path=root / "store")
    cpu0, started = time.process_time(), time.perf_counter()
    report = index_documents([docs], store, chunk_size=BENCH_CHUNK_SIZE, chunk_overlap=0)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    rng = random.Random(1)
    questions = [f"What is the {rng.choice(_WORDS)} {rng.choice(_WORDS)} for {rng.choice(_WORDS)}?"
                 for _ in range(N_QUERIES)]
    search(questions[:5], store, k=4)  # warm-up
    totals, embeds, chroma = [], [], []
    collection = open_collection(store)
    for q in questions:
        t0 = time.perf_counter()
        search([q], store, k=4)
        totals.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        vector = embed([q])
        t1 = time.perf_counter()
        collection.query(query_embeddings=vector, n_results=4)
        embeds.append(t1 - t0)
        chroma.append(time.perf_counter() - t1)
    return {
        "dtype": default_dtype(), "chunks": report.chunks_total, "files": len(report.files_indexed),
        "index_s": wall, "index_cpu_s": cpu, "embed_s": report.embed_seconds,
        "chunks_per_s": report.chunks_added / wall,
        "chunks_per_cpu_s": report.chunks_added / cpu,
        "p50_ms": 1000 * _pct(totals, 50), "p95_ms": 1000 * _pct(totals, 95),
        "embed_p50_ms": 1000 * _pct(embeds, 50), "chroma_p50_ms": 1000 * _pct(chroma, 50),
        "chroma_p95_ms": 1000 * _pct(chroma, 95),
    }


def sql_eval_recall(root: Path) -> dict | None:
    from rag_baseline.index import index_documents
    from rag_baseline.retrieve import search
    from rag_baseline.schemas import StoreConfig

    if not (SQL_EVAL / "schemas").is_dir():
        return None
    store = StoreConfig(path=root / "sql-eval-store")
    started = time.perf_counter()
    report = index_documents([SQL_EVAL / "schemas"], store)
    index_s = time.perf_counter() - started
    rows = list(csv.DictReader(open(SQL_EVAL / "questions_gen_postgres.csv", encoding="utf-8")))
    present = {p.stem for p in (SQL_EVAL / "schemas").glob("*.sql")}
    results = search([r["question"] for r in rows], store, k=5)
    out = {"chunks": report.chunks_total, "index_s": index_s, "questions": len(rows),
           "with_schema": sum(r["db_name"] in present for r in rows)}
    for k in (1, 3, 5):
        hits = [
            any(Path(h.source).stem == r["db_name"] for h in found[:k]) for r, found in zip(rows, results, strict=True)
        ]
        out[f"hit@{k}"] = sum(hits)
        out[f"hit@{k}_present"] = sum(h for h, r in zip(hits, rows, strict=True) if r["db_name"] in present)
    return out


def big_prose(path: Path, n_bytes: int, seed: int = 3) -> Path:
    """Sentences in paragraphs (a blank line after ~1 in 10 sentences, a line break after ~1 in
    10 more) and a heading every ~200 sentences: a long report or book as plain text."""
    rng = random.Random(seed)
    parts, size = [], 0
    while size < n_bytes:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 24))).capitalize() + ". "
        r = rng.random()
        sentence += "\n\n" if r < 0.1 else "\n" if r < 0.2 else ""
        if rng.random() < 0.005:
            sentence += f"\n# Part {size} on {rng.choice(_WORDS)}\n\n"
        parts.append(sentence)
        size += len(sentence)
    path.write_text("".join(parts))
    return path


def big_sql(path: Path, n_bytes: int) -> Path | None:
    """The sql-eval dumps repeated, with a $$-quoted function after each copy (pg_dump style)."""
    dumps = sorted((SQL_EVAL / "schemas").glob("*.sql")) if (SQL_EVAL / "schemas").is_dir() else []
    if not dumps:
        return None
    function = ("CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
                "  NEW.updated_at := now(); RETURN NEW;\nEND;\n$$;\n\n")
    unit = "".join(p.read_text() + function for p in dumps)
    path.write_text(unit * max(1, n_bytes // len(unit)))
    return path


def large_file(root: Path) -> dict:
    from lm.embeddings import embed, load_embedder
    from rag_baseline.chunking import chunk_document
    from rag_baseline.ingest import read_document

    out: dict = {}
    for name, path in (("prose", big_prose(root / "big.txt", int(BIG_MB * 2**20))),
                       ("sql", big_sql(root / "big.sql", int(BIG_MB * 2**20)))):
        if path is None:
            continue
        started = time.perf_counter()
        chunks = chunk_document(read_document(path))
        out[name] = {"mb": path.stat().st_size / 2**20, "chunks": len(chunks), "chunk_s": time.perf_counter() - started,
                     "mean_chars": sum(len(c.text) for c in chunks) / len(chunks)}
        if name == "prose":
            prose_chunks = chunks
    sample = [c.text for c in random.Random(4).sample(prose_chunks, BIG_SAMPLE)]
    load_embedder("float32")
    embed(sample[:16])  # warm-up
    rates = {}
    for batch_size in (16, 32):
        started = time.perf_counter()
        vectors = embed(sample, batch_size=batch_size)
        rates[batch_size] = BIG_SAMPLE / (time.perf_counter() - started)
    out["embed_per_s"] = rates
    out["write_per_s"] = _write_rate(root / "big-store", prose_chunks, vectors)
    return out


def _write_rate(store_dir: Path, chunks: list, sample_vectors: list) -> float:
    """Chunks/s of Chroma writes for all of `chunks`, in the index's batches (vectors: the
    sample's, each with a little noise so that no two are equal)."""
    import numpy as np

    from rag_baseline.index import ADD_BATCH, chunk_metadata
    from rag_baseline.schemas import StoreConfig
    from rag_baseline.store import open_collection

    rng = np.random.default_rng(5)
    base = np.asarray(sample_vectors, dtype=np.float32)
    collection = open_collection(StoreConfig(path=store_dir), create=True)
    started = time.perf_counter()
    for start in range(0, len(chunks), ADD_BATCH):
        batch = chunks[start:start + ADD_BATCH]
        vectors = base[rng.integers(0, len(base), len(batch))] + rng.normal(0, 0.02, (len(batch), base.shape[1]))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        collection.add(ids=[c.id for c in batch], documents=[c.text for c in batch],
                       metadatas=[chunk_metadata(c) for c in batch], embeddings=vectors.astype(np.float32))
    return len(chunks) / (time.perf_counter() - started)


def _large_file_rows(big: dict) -> list[str]:
    prose, rates = big["prose"], big["embed_per_s"]
    best = max(rates.values())
    whole_s = prose["chunk_s"] + prose["chunks"] / best + prose["chunks"] / big["write_per_s"]
    rows = [
        f"| one {prose['mb']:.0f} MB text file, default chunks (800 chars): read + chunk | {prose['chunk_s']:.1f} s "
        f"({prose['chunks']:,} chunks, mean {prose['mean_chars']:.0f} characters) |",
        f"| embedding a sample of {BIG_SAMPLE} of its chunks, fp32, batch 16 / 32 | "
        f"{rates[16]:.1f} / {rates[32]:.1f} chunks/s |",
        f"| writing all {prose['chunks']:,} chunks to Chroma (index batches of 256) "
        f"| {big['write_per_s']:.0f} chunks/s |",
        f"| whole file: chunk + embed + write (from the rates above) | {whole_s / 60:.1f} min "
        f"({prose['chunks'] / whole_s:.1f} chunks/s, {prose['mb'] * 60 / whole_s:.2f} MB/min) |",
    ]
    if "sql" in big:
        sql = big["sql"]
        rows.append(f"| one {sql['mb']:.0f} MB SQL file (sql-eval dumps + $$ functions): read + chunk | "
                    f"{sql['chunk_s']:.1f} s ({sql['chunks']:,} chunks) |")
    return rows


def main() -> str:
    # Set before torch starts OpenMP: idle threads sleep instead of spinning, which on a busy
    # 2-core machine made every batch many times slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(THREADS)
    load_before = os.getloadavg()[0]
    rng = random.Random(2)
    sample = [" ".join(rng.choice(_WORDS) for _ in range(60))[:500] for _ in range(256)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        throughput = embed_throughput(sample)
        big = index_and_query(root)
        recall = sql_eval_recall(root)
        large = large_file(root)
    load_after = os.getloadavg()[0]
    lines = [
        "## RAG baseline benchmark",
        "",
        f"CPU: {os.cpu_count()} cores, torch threads {THREADS}; load average {load_before:.1f} before, "
        f"{load_after:.1f} after (other work on the machine slows every figure).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| embedding only, 256 x 500-char chunks, fp32 | {throughput['float32']:.1f} chunks/s |",
        f"| embedding only, 256 x 500-char chunks, bf16 | {throughput['bfloat16']:.1f} chunks/s |",
        f"| index {big['chunks']:,} chunks of ~{CHUNK_CHARS} characters ({big['files']} files; read + chunk + "
        f"embed ({big['dtype']}) + write) "
        f"| {big['chunks_per_s']:.1f} chunks/s ({big['index_s']:.0f} s; embedding {big['embed_s']:.0f} s) |",
        f"| same, per CPU-second of this process | {big['chunks_per_cpu_s']:.1f} chunks/CPU-s |",
        f"| query latency on {big['chunks']:,} chunks, k=4 (embed + Chroma) | p50 {big['p50_ms']:.1f} ms, "
        f"p95 {big['p95_ms']:.1f} ms |",
        f"| of which: embedding the question / Chroma top-k | p50 {big['embed_p50_ms']:.1f} ms / "
        f"p50 {big['chroma_p50_ms']:.1f} ms (p95 {big['chroma_p95_ms']:.1f} ms) |",
    ]
    if recall:
        n, m = recall["questions"], recall["with_schema"]
        for k in (1, 3, 5):
            lines.append(f"| sql-eval recall@{k} (right schema file in top {k} chunks) | "
                         f"{recall[f'hit@{k}'] / n:.3f} of all {n} ({recall[f'hit@{k}']}); "
                         f"{recall[f'hit@{k}_present'] / m:.3f} of the {m} whose dump is in the set |")
        lines.append(f"| sql-eval index ({recall['chunks']} chunks, 7 dumps) | {recall['index_s']:.1f} s |")
    else:
        lines.append(f"| sql-eval | not found at {SQL_EVAL} |")
    lines += _large_file_rows(large)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
