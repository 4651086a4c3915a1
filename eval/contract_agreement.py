"""Agreement with the hand reading of lease_sample_01 (tenant's side): favoured party per clause and every 'high'.

Run from the repository root:
    python eval/contract_agreement.py --no-llm                      # rule layer only
    python eval/contract_agreement.py --provider local --model gemma3-270m
    python eval/contract_agreement.py --provider dashscope --model qwen-plus   # needs DASHSCOPE_API_KEY
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = Path(os.environ.get("SHARED_DATA", ROOT / ".." / "shared" / "data")) / "contracts" / "zh"


def agreement(report, expected: dict) -> dict:
    """Favours agreement, recall and precision of 'high', and missing-clause overlap."""
    want = {c["id"]: c for c in expected["clauses"]}
    got = {c.id: c for c in report.clauses}
    favours_ok = [cid for cid in want if got.get(cid) and got[cid].favours == want[cid]["favours"]]
    want_high = {cid for cid, c in want.items() if c["risk_for_lessee"] == "high"}
    got_high = {cid for cid, c in got.items() if c.risk == "high"}
    risk_ok = [cid for cid in want if got.get(cid) and got[cid].risk == want[cid]["risk_for_lessee"]]
    return {
        "clauses": len(want),
        "favours_agree": len(favours_ok),
        "favours_disagree": {cid: [want[cid]["favours"], got[cid].favours if cid in got else None]
                             for cid in want if cid not in favours_ok},
        "risk_agree": len(risk_ok),
        "high_expected": len(want_high),
        "high_found": len(want_high & got_high),
        "high_missed": sorted(want_high - got_high),
        "high_extra": sorted(got_high - want_high),
        "missing_expected": len(expected["missing_for_lessee"]),
        "missing_reported": report.missing_texts("zh"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-llm", action="store_true")
    parser.add_argument("--provider")
    parser.add_argument("--model")
    parser.add_argument("--base-url")
    parser.add_argument("--replay")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    path = DATA / "lease_sample_01.txt"
    if not path.exists():
        print(f"skipped: {path} is absent (real contracts live in ../shared/data)")
        return 0
    from services.contracts import analyse_text

    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    conn = None
    if not args.no_llm:
        from services.cli import connection_from_args
        args.api_key = None
        conn = connection_from_args(args)
    started = time.perf_counter()
    report = analyse_text(path.read_text(encoding="utf-8"), contract_type="lease", side="b", conn=conn, lang="zh",
                          file=path.name, progress=lambda d, t: print(f"batch {d}/{t}", file=sys.stderr))
    result = {"model": report.model or "rules only", "elapsed_s": round(time.perf_counter() - started, 1),
              **agreement(report, expected), "notes": report.note_texts("zh")}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"{result['model']}: favours {result['favours_agree']}/{result['clauses']}, exact risk "
              f"{result['risk_agree']}/{result['clauses']}, high found {result['high_found']}/{result['high_expected']}"
              f" (missed {result['high_missed']}, extra {result['high_extra']}), {result['elapsed_s']} s")
        print("favours disagreements (expected, got):", json.dumps(result["favours_disagree"], ensure_ascii=False))
        print("missing clauses reported:", "；".join(result["missing_reported"]))
        for note in result["notes"]:
            print("note:", note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
