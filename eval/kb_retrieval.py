"""Retrieval quality on real documents: evidence page in the top k, recall@k and MRR per mode, on a fixed
tuning / held-out split (eval/kb_sets.py).

    python -m eval.kb_retrieval --set more --part heldout --store /tmp/kb_eval   # 8 held-out filings, 22 questions
    python -m eval.kb_retrieval --set cn --part heldout --store /tmp/kb_eval     # 四方科技, 14 held-out questions
    python -m eval.kb_retrieval --set more --part tune --embedder bm25           # keyword only, no model

It does what `kb add` then `kb search --json` do (services.kb.add_files, services.kb.retrieve): the files of
the chosen part go into one base, so retrieval must also find the right document. A question counts as found
when a retrieved passage comes from its document and one of its evidence pages (1-based). Modes: bm25, dense,
hybrid; a suffix "-plain" turns off file-name routing and the finance glossary, "-nogloss" only the glossary,
"-notrans" the translation of a question in the other language (on only with --translate-model, which names the
built-in model that translates, as the page's chosen model would).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from eval.kb_sets import DATA, evaluation_set_or_say_why


def first_hit(passages, question: dict) -> int | None:
    """1-based rank of the first passage from an evidence page of the right document."""
    for rank, p in enumerate(passages, start=1):
        if p.file == question["doc"] and p.page in question["pages"]:
            return rank
    return None


def _options(mode: str) -> tuple[str, dict]:
    base, _, variant = mode.partition("-")
    if variant == "plain":
        return base, {"route_by_name": False, "expand_terms": False}
    if variant == "nogloss":
        return base, {"expand_terms": False}
    if variant == "noroute":
        return base, {"route_by_name": False}
    if variant == "notrans":
        return base, {"translate": False}
    return base, {}


def evaluate(kb_name: str, questions: list[dict], modes, k: int, store, embedder, depth: int = 10,
             conn=None, **extra) -> dict:
    """recall@k and MRR@depth per mode, with each question's rank (None = not in the top depth)."""
    from services.kb.retrieval import retrieve
    results = {}
    for mode in modes:
        base, options = _options(mode)
        ranks = []
        for q in questions:
            passages = retrieve(kb_name, q["question"], depth, mode=base, store=store, embedder=embedder,
                                conn=conn, **options, **extra)
            ranks.append(first_hit(passages, q))
        recall = sum(1 for r in ranks if r is not None and r <= k) / max(1, len(ranks))
        mrr = sum(1.0 / r for r in ranks if r is not None) / max(1, len(ranks))
        by_kind: dict[str, list] = {}
        for q, r in zip(questions, ranks):
            by_kind.setdefault(q.get("kind") or "-", []).append(r is not None and r <= k)
        results[mode] = {"recall_at_k": round(recall, 3), "mrr": round(mrr, 3), "ranks": ranks,
                         "by_kind": {kind: f"{sum(v)}/{len(v)}" for kind, v in sorted(by_kind.items())}}
    return results


def embedder_named(name: str):
    """The embedder an evaluation runs with: e5 (offline multilingual-e5-small), bm25, or minilm."""
    from services.kb import embeddings
    return {"e5": embeddings.LocalE5, "bm25": embeddings.KeywordOnly, "minilm": embeddings.LocalMiniLM}[name]()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_name", choices=("more", "cn", "dev"), default="more")
    parser.add_argument("--part", choices=("tune", "heldout", "all"), default="heldout")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--embedder", default="e5", choices=("e5", "bm25", "minilm"))
    parser.add_argument("--modes", default="bm25,dense,hybrid")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--chunk-size", type=int, default=800)
    parser.add_argument("--overlap", type=int, default=120)
    parser.add_argument("--dense-weight", type=float, default=None, help="weight of the dense list in the fusion")
    parser.add_argument("--store", type=Path, help="keep the index in this folder and reuse it on the next run")
    parser.add_argument("--only", default="", help="comma-separated file stems: index and ask only these files of "
                                                   "the part (to bound the time dense embedding takes)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--translate-model", default="",
                        help="built-in model that translates questions asked in the other language than the base's")
    args = parser.parse_args(argv)
    loaded = evaluation_set_or_say_why(args.set_name, args.part, args.data)
    if loaded is None:
        return 2
    files, questions = loaded
    if args.only:
        keep = set(args.only.split(","))
        files = [f for f in files if f.stem in keep]
        questions = [q for q in questions if q["doc"][:-4] in keep]
    if not all(f.exists() for f in files):
        print(f"documents not found under {args.data}", file=sys.stderr)
        return 2

    from services import storage
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    emb = embedder_named(args.embedder)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store or Path(tmp)
        store = KBStore(chroma_client(folder / "chroma"))
        storage.DATA_DIR = folder   # kept originals go there too, not into the app's data
        # The Chinese set's parts share one report, so they share one index too.
        part = "all" if args.set_name == "cn" else args.part
        subset = "-" + "+".join(sorted(f.stem[:6] for f in files)) if args.only else ""
        name = f"{args.set_name}-{part}{subset}-{emb.id}-{args.chunk_size}-{args.overlap}"[:80]
        t0, cpu0 = time.perf_counter(), time.process_time()
        if name not in [b.name for b in store.bases()]:
            store.create_base(name, embedder=emb.id, chunk_size=args.chunk_size, overlap=args.overlap)
            outcomes = add_files(name, [(f, f.name) for f in files], store=store, embedder=emb)
            bad = [o.message("en") for o in outcomes if not o.ok]
            if bad:
                store.delete_base(name)
                print("\n".join(bad), file=sys.stderr)
                return 1
        index_s, index_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        records = store.files(name)
        pages = sum(r.pages for r in records)
        chunks = sum(r.chunks for r in records)
        modes = [m for m in args.modes.split(",") if emb.dense or m.startswith("bm25")]
        extra = {"dense_weight": args.dense_weight} if args.dense_weight is not None else {}
        conn = None
        if args.translate_model:
            from services.providers import get_provider
            conn = get_provider("local").connect(args.translate_model, temperature=0.0)
        t1 = time.perf_counter()
        results = evaluate(name, questions, modes, args.k, store, emb, conn=conn, **extra)
        query_s = time.perf_counter() - t1
    report = {"set": args.set_name, "part": args.part, "only": args.only, "embedder": emb.id, "k": args.k,
              "questions": len(questions), "files": len(files), "pages": pages, "chunks": chunks,
              "index_seconds": round(index_s, 1), "index_cpu_seconds": round(index_cpu, 1),
              "query_seconds": round(query_s, 1), "translate_model": args.translate_model, "modes": results, "ids": [q["id"] for q in questions]}
    print(f"set {args.set_name} part {args.part}: {len(questions)} questions, {len(files)} files, {pages} pages, "
          f"{chunks} chunks, embedder {emb.id}, indexed in {index_s:.1f}s ({index_cpu:.1f} CPU-s)")
    print(f"{'mode':14} recall@{args.k}  MRR    by kind / ranks")
    for mode, r in results.items():
        print(f"{mode:14} {r['recall_at_k']:<9} {r['mrr']:<6} {r['by_kind']} {r['ranks']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
