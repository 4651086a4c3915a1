"""Financial figures with the built-in model's cross-check: how many are right, and never a wrong "verified".

    python -m eval.financials_crosscheck --model qwen2.5-coder-1.5b-instruct --split held-out --out OUT.json

The same reports and rule as eval/financials_eval.py (a field is right within 0.01 of the expected value on the
expected page); its split (TUNING / HELD_OUT, fixed there before tuning) picks the reports. A field marked
"verified" whose value is wrong counts as a wrong verified; the goal is zero.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Analyse the split's reports with the model asked, print and save the counts."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    ap.add_argument("--split", choices=["tuning", "held-out"], default="held-out")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    from eval.financials_eval import DATA, cases, right, split_of
    from services.financials import labels as L
    from services.financials.service import analyze
    from services.providers import get_provider
    if not DATA.is_dir():
        print(f"real data not found at {DATA}", file=sys.stderr)
        return 2
    conn = get_provider("local").connect(args.model, temperature=0.0)
    totals = {"fields": 0, "right": 0, "verified": 0, "wrong_verified": 0, "model_right": 0, "model_fields": 0,
              "conflicts": 0}
    reports, seconds = [], []
    for pdf, exp in cases():
        if split_of(pdf) != args.split:
            continue
        started = time.perf_counter()
        r = analyze(pdf, conn=conn, use_model=True, lang="zh" if "cn" in pdf.parts else "en")
        seconds.append(time.perf_counter() - started)
        per = {}
        for key in L.FIELDS:
            e = exp["fields"].get(key)
            if e is None:
                continue
            f = r.extraction.fields[key]
            ok = right(f.value, f.page, e)
            totals["fields"] += 1
            totals["right"] += ok
            totals["verified"] += f.status == "verified"
            totals["wrong_verified"] += f.status == "verified" and not ok
            totals["conflicts"] += bool(f.conflict)
            if key != "gross_profit":
                totals["model_fields"] += 1
                totals["model_right"] += right(f.model_value, f.model_page, e)
            per[key] = {"value": f.value, "page": f.page, "status": f.status, "right": ok,
                        "model_value": f.model_value, "model_page": f.model_page, "expected": e["value"]}
        reports.append({"file": pdf.name, "seconds": round(seconds[-1], 1), "fields": per,
                        "model_error": r.model_error.message("en") if r.model_error else None})
        print(f"{pdf.name}: {sum(v['right'] for v in per.values())}/{len(per)} right, "
              f"{sum(v['status'] == 'verified' and not v['right'] for v in per.values())} wrong verified, "
              f"{seconds[-1]:.0f} s" + (f", model error {reports[-1]['model_error']}" if r.model_error else ""),
              flush=True)
    print(json.dumps(totals))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"model": args.model, "split": args.split, "totals": totals,
                                             "seconds": [round(s, 1) for s in seconds], "reports": reports},
                                            ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
