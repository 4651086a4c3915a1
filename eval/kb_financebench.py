"""Retrieval quality on real SEC filings: FinanceBench questions, evidence-page recall@k and MRR per mode.

    python -m eval.kb_financebench                # BM25, dense (offline MiniLM) and hybrid, k=5
    python -m eval.kb_financebench --json out.json

The four PDFs go into one base (so retrieval must also find the right company); a question counts as found
when a retrieved chunk comes from its document and from an evidence page (evidence_page_num is 0-based,
our pages are 1-based).
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "reports" / "en"


def load_questions(data: Path = DATA) -> list[dict]:
    """FinanceBench questions with their document and 1-based evidence pages."""
    out = []
    for line in (data / "financebench_questions.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        evidence = q["evidence"] if isinstance(q["evidence"], list) else ast.literal_eval(q["evidence"])
        pages = sorted({int(e["evidence_page_num"]) + 1 for e in evidence})
        out.append({"id": q["financebench_id"], "doc": q["doc_name"] + ".pdf", "question": q["question"],
                    "pages": pages})
    return out


def first_hit(passages, question: dict) -> int | None:
    """1-based rank of the first passage from an evidence page of the right document."""
    for rank, p in enumerate(passages, start=1):
        if p.file == question["doc"] and p.page in question["pages"]:
            return rank
    return None


def evaluate(kb_name: str, questions: list[dict], modes, k: int, store, embedder, depth: int = 10,
             dense_weight: float = 1.0) -> dict:
    """recall@k and MRR@depth per retrieval mode, with the rank found for each question.

    "bm25-plain" is BM25 without file-name routing and glossary expansion, to show what those add.
    """
    from services.kb.retrieval import retrieve
    results = {}
    for mode in modes:
        ranks = []
        for q in questions:
            options = {"route_by_name": False, "expand_terms": False} if mode.endswith("-plain") else {}
            passages = retrieve(kb_name, q["question"], depth, mode=mode.removesuffix("-plain"), store=store,
                                embedder=embedder, dense_weight=dense_weight, **options)
            ranks.append(first_hit(passages, q))
        recall = sum(1 for r in ranks if r is not None and r <= k) / len(ranks)
        mrr = sum(1.0 / r for r in ranks if r is not None) / len(ranks)
        results[mode] = {"recall_at_k": round(recall, 3), "mrr": round(mrr, 3), "ranks": ranks}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--embedder", default="local", help="local (MiniLM) | bm25")
    parser.add_argument("--modes", default="bm25-plain,dense-plain,hybrid-plain,bm25,dense,hybrid")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--chunk-size", type=int, default=800)
    parser.add_argument("--overlap", type=int, default=120)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--dense-weight", type=float, default=1.0, help="weight of the dense list in the fusion")
    parser.add_argument("--store", type=Path, help="keep the index in this folder and reuse it on the next run "
                                                   "(default: a throwaway folder)")
    args = parser.parse_args(argv)
    if not (args.data / "financebench_questions.jsonl").exists():
        print(f"FinanceBench data not found under {args.data}", file=sys.stderr)
        return 2

    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    emb = embeddings.LocalMiniLM() if args.embedder == "local" else embeddings.KeywordOnly()
    questions = load_questions(args.data)
    pdfs = sorted({q["doc"] for q in questions})
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store or Path(tmp)
        store = KBStore(chroma_client(folder / "chroma"))
        from services import storage
        storage.DATA_DIR = folder   # kept originals go there too, not into the app's data
        name = f"financebench-{emb.id}-{args.chunk_size}-{args.overlap}"
        t0 = time.perf_counter()
        if name not in [b.name for b in store.bases()]:
            store.create_base(name, embedder=emb.id, chunk_size=args.chunk_size, overlap=args.overlap)
            outcomes = add_files(name, [(args.data / f, f) for f in pdfs], store=store, embedder=emb)
            bad = [o.message("en") for o in outcomes if not o.ok]
            if bad:
                store.delete_base(name)
                print("\n".join(bad), file=sys.stderr)
                return 1
        index_s = time.perf_counter() - t0
        records = store.files(name)
        pages = sum(r.pages for r in records)
        chunks = sum(r.chunks for r in records)
        modes = [m for m in args.modes.split(",") if emb.dense or m.startswith("bm25")]
        results = evaluate(name, questions, modes, args.k, store, emb, dense_weight=args.dense_weight)
    report = {"embedder": emb.id, "k": args.k, "dense_weight": args.dense_weight, "questions": len(questions), "pages": pages, "chunks": chunks,
              "chunk_size": args.chunk_size, "overlap": args.overlap, "index_seconds": round(index_s, 1),
              "modes": results, "ids": [q["id"] for q in questions]}
    print(f"{len(questions)} questions, {pages} pages, {chunks} chunks, embedder {emb.id}, "
          f"indexed in {index_s:.1f}s")
    print(f"{'mode':13} recall@{args.k}  MRR    ranks")
    for mode, r in results.items():
        print(f"{mode:13} {r['recall_at_k']:<9} {r['mrr']:<6} {r['ranks']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
