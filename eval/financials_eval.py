"""Field accuracy of the extractor on the real reports in ../shared/data/reports, with and without a model.

    python eval/financials_eval.py                       # table parse only (--no-llm)
    python eval/financials_eval.py --provider local      # also the model's own answers, read from the located pages
    python eval/financials_eval.py --json out.json

A field is right when its value is within 0.01 of the expected value (currency units) and its page matches.
The Chinese expectations come with the data (…expected.json); the English ones are in
eval/financials_expected_en.json. FinanceBench evidence: for every FinanceBench question whose evidence page is a
statement page the extractor located, each figure cited on that page must occur in the evidence text.
"""
from __future__ import annotations

import argparse
import os
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# ../shared/data beside the project; SHARED_DATA_DIR points elsewhere (e.g. from a git worktree).
DATA = (Path(os.environ.get("SHARED_DATA_DIR") or ROOT / ".." / "shared" / "data") / "reports").resolve()

from services.financials import labels as L  # noqa: E402
from services.financials.service import analyze  # noqa: E402


# Written down before tuning (docs/financials.md): the extractor was changed looking at these only.
TUNING = {"sifang_603339_2019_annual_report", "000059_huajin_2019_annual_report", "000570_changchai_2019_annual_report"}
HELD_OUT = {"002099_haixiang_2019_annual_report", "002888_huiwei_2019_annual_report"}


def _extra_expected(raw: dict) -> dict:
    """The extra reports' expected.json (fields: value, pages: page) in the shape of the others."""
    fields = {k: {"value": v, "page": raw["pages"][k]} for k, v in raw["fields"].items()}
    return {**raw, "fields": fields}


def split_of(pdf: Path) -> str:
    """tuning / held-out / en (the English filings, tuned on earlier)."""
    return "tuning" if pdf.stem in TUNING else "held-out" if pdf.stem in HELD_OUT else "en"


def cases() -> list[tuple[Path, dict]]:
    out = []
    cn = DATA / "cn" / "sifang_603339_2019_annual_report.pdf"
    out.append((cn, json.loads(cn.with_name(cn.stem + ".expected.json").read_text("utf-8"))))
    for pdf in sorted((DATA / "cn" / "extra").glob("*.pdf")):
        out.append((pdf, _extra_expected(json.loads(pdf.with_name(pdf.stem + ".expected.json").read_text("utf-8")))))
    en = json.loads((ROOT / "eval" / "financials_expected_en.json").read_text("utf-8"))
    for stem, exp in en.items():
        if not stem.startswith("_"):
            out.append((DATA / "en" / f"{stem}.pdf", exp))
    return out


def right(value, page, exp) -> bool:
    return value is not None and abs(value - exp["value"]) <= 0.01 and page == exp["page"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", help="also ask this provider's model (e.g. local, dashscope)")
    ap.add_argument("--model")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"real data not found at {DATA}", file=sys.stderr)
        return 2
    conn = None
    if args.provider:
        from services.providers import get_provider
        conn = get_provider(args.provider).connect(args.model)
    rows, totals = [], {"table": [0, 0], "final": [0, 0], "model": [0, 0]}
    for pdf, exp in cases():
        r = analyze(pdf, conn=conn, use_model=conn is not None, lang="zh" if "cn" in pdf.parts else "en")
        statuses = {k: r.extraction.fields[k].status for k in L.FIELDS}
        ext = r.extraction
        per = {}
        for key in L.FIELDS:
            e = exp["fields"].get(key)
            if e is None:  # the extra reports list no gross profit
                continue
            f = ext.fields[key]
            table_ok = right(f.table_value if f.model_status is not None else f.value, f.page, e) \
                if f.model_status is None or f.note != "fin.note.from_model" else False
            final_ok = right(f.value, f.page, e)
            per[key] = {"expected": e["value"], "value": f.value, "page": f.page, "status": f.status,
                        "table_ok": table_ok, "final_ok": final_ok}
            split = totals.setdefault(split_of(pdf), [0, 0, 0, 0])
            split[3] += f.status == "verified"
            split[0] += final_ok
            split[1] += 1
            split[2] += f.status == "verified" and not final_ok  # a wrong number marked verified
            totals["table"][0] += table_ok
            totals["table"][1] += 1
            totals["final"][0] += final_ok
            totals["final"][1] += 1
            if conn is not None and key != "gross_profit":
                model_ok = right(f.model_value, f.model_page, e)
                per[key].update(model_value=f.model_value, model_page=f.model_page, model_ok=model_ok,
                                conflict=f.conflict)
                totals["model"][0] += model_ok
                totals["model"][1] += 1
        meta_ok = {"company_name": ext.company_name == exp["company_name"], "fiscal_year": ext.fiscal_year == exp["fiscal_year"]}
        rows.append({"file": pdf.name, "fields": per, "meta": meta_ok, "elapsed_s": round(r.elapsed_s, 3),
                     "model_elapsed_s": r.model_elapsed_s, "model_error": r.model_error.message("en") if r.model_error else None,
                     "tokens_sent": r.tokens_sent, "tokens_document": r.tokens_document,
                     "checks_ok": all(c.ok for c in ext.checks)})
        ok = sum(v["final_ok"] for v in per.values())
        print(f"[{split_of(pdf)}] {pdf.name:45s} fields {ok}/{len(per)}  meta {sum(meta_ok.values())}/2  "
              f"{r.elapsed_s:5.2f}s  tokens {r.tokens_sent}/{r.tokens_document} "
              f"(×{r.tokens_document / max(r.tokens_sent, 1):.0f} fewer)"
              + (f"  model {sum(v.get('model_ok', False) for v in per.values())}/6 in {r.model_elapsed_s:.0f}s"
                 if conn is not None else "")
              + (f"  model error: {rows[-1]['model_error']}" if rows[-1]["model_error"] else ""))
        for key, v in per.items():
            if not v["final_ok"]:
                print(f"    ✗ {key}: got {v['value']} p.{v['page']} [{v['status']}] expected {v['expected']}")
    fb = financebench_evidence(rows)
    for split in ("tuning", "held-out", "en"):
        if split in totals:
            right_n, n, wrong_verified, verified = totals[split]
            print(f"{split:9s}: {right_n}/{n} fields right, {verified} verified (two readings agree), "
                  f"{wrong_verified} wrong figures marked verified")
    print(f"\ntable parse (no model): {totals['table'][0]}/{totals['table'][1]} fields right")
    if conn is not None:
        print(f"model alone:            {totals['model'][0]}/{totals['model'][1]} fields right (gross profit excluded)")
        print(f"final (table first):    {totals['final'][0]}/{totals['final'][1]}")
    print(f"FinanceBench evidence pages located: {fb['located']}/{fb['statement_evidence']}; "
          f"figures on them found in the evidence text: {fb['figures_found']}/{fb['figures_checked']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "totals": totals, "financebench": fb}, ensure_ascii=False,
                                              indent=2), "utf-8")
    return 0


def financebench_evidence(rows) -> dict:
    """Cross-check with FinanceBench: its evidence pages that are statements we located must hold our figures."""
    questions = [json.loads(line) for line in (DATA / "en" / "financebench_questions.jsonl").read_text("utf-8").splitlines() if line]
    stats = {"statement_evidence": 0, "located": 0, "figures_checked": 0, "figures_found": 0}
    for q in questions:
        pdf = DATA / "en" / f"{q['doc_name']}.pdf"
        r = analyze(pdf, lang="en")
        located = {p for k in ("balance_sheet", "income_statement") for p in r.extraction.located.get(k, [])}
        for ev in q["evidence"]:
            page = ev["evidence_page_num"] + 1
            text = ev["evidence_text"]
            if not re.search(r"balancesheet|statements?of(income|operations|earnings)", re.sub(r"\s+", "", text).lower()):
                continue
            stats["statement_evidence"] += 1
            if page in located:
                stats["located"] += 1
            flat = re.sub(r"\s+", " ", text)
            for f in r.extraction.fields.values():
                if f.page == page and f.raw and f.status in ("verified", "unverified"):
                    stats["figures_checked"] += 1
                    found = bool(re.search(r"(?<![\d,])" + re.escape(f.raw) + r"(?![\d])", flat))
                    stats["figures_found"] += found
                    if not found:
                        stats.setdefault("not_found", []).append(f"{q['doc_name']} p.{page} {f.raw}")
    return stats


if __name__ == "__main__":
    sys.exit(main())
