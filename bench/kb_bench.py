"""Knowledge-base speed: indexing pages/s next to plain PyMuPDF text extraction, and query latency at scale.

    python -m bench.kb_bench speed --files BESTBUY_2023_10K.pdf,ULTABEAUTY_2023Q4_EARNINGS.pdf --embedders bm25,e5
    python -m bench.kb_bench scale --pages 10000          # BM25 + dense latency on a 10,000-page base

`speed` times, per file, plain `page.get_text("text")` over every page (the parser's own speed), then what
indexing does (read as visual lines, chunk, tokenize, embed, write to Chroma), in CPU seconds of this process
(the machine is shared, so wall time says more about the neighbours than about the code) and wall seconds.

`scale` builds a base of about --pages pages by repeating the FinanceBench filings (each copy a distinct file),
with 384-dimension vectors that are random for the copies' chunks (the latency of Chroma's HNSW search does not
depend on what the vectors mean; embedding 10,000 pages with e5 here would take hours), then measures
retrieve() end to end from a fresh process state: the first query (loading the stored keyword words) apart,
then p50/p95 over the FinanceBench questions, for bm25 and hybrid (the query embedded by e5 for real).
Memory: peak RSS of the process, and the keyword index's arrays.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "reports" / "en" / "more" / "pdfs"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _clock():
    return time.perf_counter(), time.process_time()


def plain_extraction(pdf: Path) -> dict:
    """PyMuPDF text of every page, nothing else: the ceiling for indexing speed."""
    import pymupdf
    t, c = _clock()
    with pymupdf.open(pdf) as doc:
        pages = sum(1 for page in doc if page.get_text("text") is not None)
    return {"pages": pages, "wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c}


def index_speed(pdf: Path, embedder_name: str, folder: Path) -> dict:
    """Index one file with add_files into a fresh base; wall and CPU seconds per phase-independent total."""
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    emb = embeddings.LocalE5() if embedder_name == "e5" else embeddings.KeywordOnly()
    store = KBStore(chroma_client(folder / f"chroma-{embedder_name}-{pdf.stem}"))
    name = f"bench-{embedder_name}"
    store.create_base(name, embedder=emb.id)
    if emb.dense:
        emb.embed_query("warm up")   # the model loads once per process; reported apart
    from services.kb.tokens import tokenize
    tokenize("预热 warm up")          # jieba's dictionary loads once per process
    t, c = _clock()
    outcome = add_files(name, [(pdf, pdf.name)], store=store, embedder=emb)[0]
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if not outcome.ok:
        raise SystemExit(outcome.message("en"))
    return {"pages": outcome.record.pages, "chunks": outcome.record.chunks, "wall_s": wall, "cpu_s": cpu}


def run_speed(args) -> list[dict]:
    pdfs = [args.data / f for f in args.files.split(",") if f] or sorted(args.data.glob("*.pdf"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pdf in pdfs:
            row = {"file": pdf.name, "plain": plain_extraction(pdf)}
            for name in args.embedders.split(","):
                row[name] = index_speed(pdf, name, Path(tmp))
            rows.append(row)
    print(f"{'file':40} {'pages':>5} {'plain p/cpu-s':>13} " +
          " ".join(f"{n + ' p/cpu-s':>13} {n + ' p/wall-s':>13}" for n in args.embedders.split(",")))
    for row in rows:
        plain = row["plain"]
        cells = [f"{row['file'][:40]:40} {plain['pages']:>5} {plain['pages'] / max(plain['cpu_s'], 1e-9):>13.0f}"]
        for name in args.embedders.split(","):
            r = row[name]
            cells.append(f"{r['pages'] / max(r['cpu_s'], 1e-9):>13.1f} {r['pages'] / max(r['wall_s'], 1e-9):>13.1f}")
        print(" ".join(cells))
    total_pages = sum(r["plain"]["pages"] for r in rows)
    for name in ["plain"] + args.embedders.split(","):
        cpu = sum(r[name]["cpu_s"] for r in rows)
        wall = sum(r[name]["wall_s"] for r in rows)
        print(f"all files, {name}: {total_pages} pages, {total_pages / max(cpu, 1e-9):.1f} pages/CPU-s, "
              f"{total_pages / max(wall, 1e-9):.1f} pages/s wall")
    return rows


def run_scale(args) -> dict:
    import random

    from eval.kb_sets import FINANCEBENCH_HELDOUT, FINANCEBENCH_TUNING, financebench_questions
    from services.kb import embeddings
    from services.kb.chunking import chunk_document
    from services.kb.reading import read_for_index
    from services.kb.retrieval import index_text, keyword_index, retrieve
    from services.kb.store import FileRecord, KBStore, chroma_client, file_sha256
    from services.kb.tokens import tokenize
    pdfs = [args.data / f"{d}.pdf" for d in sorted(FINANCEBENCH_TUNING + FINANCEBENCH_HELDOUT)]
    parsed = []
    for pdf in pdfs:
        doc = read_for_index(pdf)
        chunks = chunk_document(doc)
        parsed.append((pdf, len(doc.pages), chunks, [tokenize(index_text(c)) for c in chunks]))
    per_round = sum(p[1] for p in parsed)
    rounds = max(1, -(-args.pages // per_round))
    rng = random.Random(0)
    e5 = embeddings.LocalE5()
    folder = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="kb-scale-"))
    store = KBStore(chroma_client(folder / "chroma"))
    name = f"scale-{args.pages}"
    t0 = time.perf_counter()
    if name not in [b.name for b in store.bases()]:
        info = store.create_base(name, embedder=e5.id)
        import numpy as np
        for r in range(rounds):
            for pdf, pages, chunks, terms in parsed:
                file = pdf.name if r == 0 else f"{pdf.stem}_copy{r}.pdf"
                shifted = [dataclasses.replace(c, file=file) for c in chunks]
                vectors = rng_vectors(np, rng, len(chunks))
                record = FileRecord(file=file, sha256=f"{file_sha256(pdf)[:48]}{r:016d}", pages=pages,
                                    chunks=len(chunks), size=pdf.stat().st_size, added_at=time.time())
                store.add_file(info.collection, record, shifted, vectors, terms)
    build_s = time.perf_counter() - t0
    records = store.files(name)
    pages = sum(r.pages for r in records)
    chunks_total = sum(r.chunks for r in records)
    questions = [q["question"] for q in financebench_questions(args.data.parent)]
    t, c = _clock()
    index = keyword_index(store, name)
    load = {"wall_s": round(time.perf_counter() - t, 2), "cpu_s": round(time.process_time() - c, 2)}
    arrays_mb = sum(a.nbytes for a in (index.post_doc, index.post_weight, index.ptr, index.idf, index.doc_len)) / 2**20
    e5.embed_query("warm up")
    latency = {}
    for mode in ("bm25", "hybrid"):
        samples = []
        for _ in range(args.repeat):
            for q in questions:
                t = time.perf_counter()
                retrieve(name, q, 5, mode=mode, store=store, embedder=e5)
                samples.append((time.perf_counter() - t) * 1000)
        latency[mode] = {"p50_ms": round(statistics.median(samples), 1),
                         "p95_ms": round(percentile(samples, 0.95), 1), "n": len(samples)}
    report = {"pages": pages, "chunks": chunks_total, "files": len(records), "build_s": round(build_s, 1),
              "keyword_index_load": load, "keyword_arrays_mb": round(arrays_mb, 1),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "latency": latency}
    print(json.dumps(report, indent=2))
    return report


def rng_vectors(np, rng, n: int, dim: int = 384) -> list[list[float]]:
    """n random unit vectors (stand-ins for embeddings whose meaning a latency bench does not need)."""
    v = np.random.default_rng(rng.randrange(1 << 30)).standard_normal((n, dim)).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    speed = sub.add_parser("speed")
    speed.add_argument("--data", type=Path, default=DATA)
    speed.add_argument("--files", default="", help="comma-separated PDF names (default: all in --data)")
    speed.add_argument("--embedders", default="bm25")
    scale = sub.add_parser("scale")
    scale.add_argument("--data", type=Path, default=DATA)
    scale.add_argument("--pages", type=int, default=10000)
    scale.add_argument("--repeat", type=int, default=2)
    scale.add_argument("--store", help="keep the base here and reuse it")
    for p in (speed, scale):
        p.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"PDFs not found under {args.data}", file=sys.stderr)
        return 2
    result = run_speed(args) if args.what == "speed" else run_scale(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
