"""Indexing speed (pages/s) and query latency (p50/p95): BM25-only versus offline MiniLM hybrid, one run.

    python -m bench.kb_bench                                  # every FinanceBench PDF, both embedders
    python -m bench.kb_bench --files NETFLIX_2015_10K.pdf --embedders bm25,local --repeat 5

Indexing is timed per phase (parse with PyMuPDF + table finder, chunk, embed, write to Chroma) so the cost
of dense vectors is visible next to the rest. Latency covers retrieve() end to end (BM25 index cached, the
query embedded, Chroma queried, fused), over the FinanceBench questions plus a few Chinese and greeting queries.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "reports" / "en"
EXTRA_QUERIES = ["你好", "营业收入是多少", "What were total revenues?", "资本开支", "net income 2015"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def bench_embedder(embedder_name: str, pdfs: list[Path], questions: list[str], repeat: int, folder: Path) -> dict:
    from services.documents import read_document
    from services.kb import embeddings
    from services.kb.chunking import chunk_document
    from services.kb.indexing import embed_text
    from services.kb.retrieval import retrieve
    from services.kb.store import FileRecord, KBStore, chroma_client, file_sha256
    emb = embeddings.LocalMiniLM() if embedder_name == "local" else embeddings.KeywordOnly()
    store = KBStore(chroma_client(folder / f"chroma-{embedder_name}"))
    info = store.create_base(f"bench-{embedder_name}", embedder=emb.id)
    if emb.dense:
        emb.embed_query("warm up")   # model load is a one-off cost, reported apart
    phases = {"parse": 0.0, "chunk": 0.0, "embed": 0.0, "store": 0.0}
    cpu_start = time.process_time()
    pages = chunks_total = 0
    for pdf in pdfs:
        t = time.perf_counter()
        doc = read_document(pdf)
        phases["parse"] += time.perf_counter() - t
        t = time.perf_counter()
        chunks = chunk_document(doc, size=info.chunk_size, overlap=info.overlap)
        phases["chunk"] += time.perf_counter() - t
        t = time.perf_counter()
        vectors = emb.embed_documents([embed_text(c) for c in chunks])
        phases["embed"] += time.perf_counter() - t
        t = time.perf_counter()
        record = FileRecord(file=pdf.name, sha256=file_sha256(pdf), pages=len(doc.pages), chunks=len(chunks),
                            size=pdf.stat().st_size, added_at=time.time())
        store.add_file(info.collection, record, chunks, vectors)
        phases["store"] += time.perf_counter() - t
        pages += len(doc.pages)
        chunks_total += len(chunks)
    total = sum(phases.values())
    cpu = time.process_time() - cpu_start
    modes = ["bm25", "hybrid"] if emb.dense else ["bm25"]
    latency = {}
    for mode in modes:
        retrieve(info.name, "warm up the keyword index", 5, mode=mode, store=store, embedder=emb)
        samples = []
        for _ in range(repeat):
            for q in questions:
                t = time.perf_counter()
                retrieve(info.name, q, 5, mode=mode, store=store, embedder=emb)
                samples.append((time.perf_counter() - t) * 1000)
        latency[mode] = {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(percentile(samples, 0.95), 1),
                         "n": len(samples)}
    return {"embedder": emb.id, "pages": pages, "chunks": chunks_total,
            "phases_s": {k: round(v, 2) for k, v in phases.items()}, "total_s": round(total, 1),
            "pages_per_s": round(pages / total, 2), "cpu_s": round(cpu, 1),
            "pages_per_cpu_s": round(pages / cpu, 2), "latency": latency}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--files", default="", help="comma-separated PDF names (default: all in --data)")
    parser.add_argument("--embedders", default="bm25,local")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    pdfs = [args.data / f for f in args.files.split(",") if f] or sorted(args.data.glob("*.pdf"))
    if not pdfs or not all(p.exists() for p in pdfs):
        print(f"PDFs not found under {args.data}", file=sys.stderr)
        return 2
    from eval.kb_financebench import load_questions
    questions = [q["question"] for q in load_questions(args.data)] + EXTRA_QUERIES
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.embedders.split(","):
            results.append(bench_embedder(name, pdfs, questions, args.repeat, Path(tmp)))
    print(f"{'embedder':26} {'pages':>5} {'chunks':>6} {'parse':>7} {'embed':>7} {'store':>6} {'pages/s':>8} "
          f"{'pages/cpu-s':>11}  latency")
    for r in results:
        ph = r["phases_s"]
        lat = "; ".join(f"{m} p50 {v['p50_ms']} ms p95 {v['p95_ms']} ms" for m, v in r["latency"].items())
        print(f"{r['embedder']:26} {r['pages']:>5} {r['chunks']:>6} {ph['parse']:>7} {ph['embed']:>7} "
              f"{ph['store']:>6} {r['pages_per_s']:>8} {r['pages_per_cpu_s']:>11}  {lat}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
