"""Questions in the other language than the documents': six key figures asked in English (and, as a control, in
Chinese) of the four extra A-share reports, which no knowledge-base change was ever tuned on.

    python -m eval.kb_crosslingual --embedder bm25 --translate-model qwen2.5-coder-1.5b-instruct
    python -m eval.kb_crosslingual --embedder e5 --translate-model qwen2.5-coder-1.5b-instruct --store /tmp/kb_xl

The questions below were written once, before any run, from the field names alone. Each report goes into a base
of its own (the questions say "the company"). A question counts as found when a passage in the top k holds the
hand-read figure itself (`reports/cn/extra/*.expected.json`, in yuan with two decimals, thousands separators
ignored): on the statement page or any other page that prints it, such as the summary of key figures.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from eval.kb_retrieval import _options, embedder_named
from eval.kb_sets import DATA

QUESTIONS = {
    "revenue": ("What was the company's total operating revenue in 2019?", "2019年公司的营业总收入是多少？"),
    "operating_cost": ("What was the company's operating cost in 2019?", "2019年公司的营业成本是多少？"),
    "net_profit": ("What was the company's net profit in 2019?", "2019年公司的净利润是多少？"),
    "net_profit_attributable": ("What was the net profit attributable to the parent company's shareholders in 2019?",
                                "2019年归属于母公司所有者的净利润是多少？"),
    "total_assets": ("What were the company's total assets at the end of 2019?", "2019年末公司的资产总计是多少？"),
    "total_liabilities": ("What were the company's total liabilities at the end of 2019?",
                          "2019年末公司的负债合计是多少？"),
}


def holds(text: str, value: float) -> bool:
    """Whether text prints the figure (thousands separators and spaces ignored)."""
    return f"{value:.2f}" in re.sub(r"[,\s]", "", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--embedder", default="e5", choices=("e5", "bm25", "minilm"))
    parser.add_argument("--modes", default="bm25,bm25-notrans,dense,dense-notrans,hybrid,hybrid-notrans")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--store", type=Path, help="keep the indexes in this folder and reuse them")
    parser.add_argument("--translate-model", default="", help="built-in model that translates the questions")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    folder = args.data / "cn" / "extra"
    reports = sorted(folder.glob("*.expected.json"))
    if not reports:
        print(f"no reports under {folder} (the shared data is not beside the project)", file=sys.stderr)
        return 2

    from services import storage
    from services.kb.indexing import add_files
    from services.kb.retrieval import retrieve
    from services.kb.store import KBStore, chroma_client
    emb = embedder_named(args.embedder)
    conn = None
    if args.translate_model:
        from services.providers import get_provider
        conn = get_provider("local").connect(args.translate_model, temperature=0.0)
    modes = [m for m in args.modes.split(",") if emb.dense or m.startswith("bm25")]
    found = {(mode, lang): [] for mode in modes for lang in ("en", "zh")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.store or Path(tmp)
        store = KBStore(chroma_client(root / "chroma"))
        storage.DATA_DIR = root
        t0 = time.perf_counter()
        for report in reports:
            expected = json.loads(report.read_text(encoding="utf-8"))
            pdf = folder / report.name.replace(".expected.json", ".pdf")
            name = f"xl-{expected['stock_code']}-{emb.id}"[:60]
            if name not in [b.name for b in store.bases()]:
                store.create_base(name, embedder=emb.id)
                outcome = add_files(name, [(pdf, pdf.name)], store=store, embedder=emb)[0]
                if not outcome.ok:
                    print(outcome.message("en"), file=sys.stderr)
                    return 1
            for field, (english, chinese) in QUESTIONS.items():
                value = expected["fields"][field]
                for lang, question in (("en", english), ("zh", chinese)):
                    for mode in modes:
                        base, options = _options(mode)
                        passages = retrieve(name, question, args.k, mode=base, store=store, embedder=emb,
                                            conn=conn, **options)
                        rank = next((i for i, p in enumerate(passages, 1) if holds(p.text, value)), None)
                        found[(mode, lang)].append(rank)
                        rows.append({"report": pdf.name, "field": field, "lang": lang, "mode": mode, "rank": rank})
        seconds = time.perf_counter() - t0
    print(f"{len(reports)} reports, {len(QUESTIONS)} figures each, embedder {emb.id}, translation "
          f"{args.translate_model or 'off'}, {seconds:.0f} s")
    print(f"{'mode':16} {'asked in':9} recall@{args.k}  MRR")
    summary = {}
    for (mode, lang), ranks in found.items():
        recall = sum(1 for r in ranks if r) / len(ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        summary[f"{mode} {lang}"] = {"recall_at_k": round(recall, 3), "mrr": round(mrr, 3), "n": len(ranks)}
        print(f"{mode:16} {lang:9} {recall:<9.3f} {mrr:.3f}   {ranks}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "rows": rows, "embedder": emb.id,
                                         "translate_model": args.translate_model, "k": args.k}, indent=2,
                                        ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
