"""How often the general rules of issue 20 fire on contracts they were not written from (held out: the 15 CUAD
contracts and the Chinese sample lease in ../shared/data), with each hit's clause opening for a person to judge.

    PYTHONPATH=. .venv/bin/python -m bench.contract_general_rules
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path

from services.contracts.roles import party_names
from services.contracts.rules import run_rules
from services.contracts.segment import segment_text

GENERAL = {"penalty_multiple", "penalty_loss_multiple", "deposit_forfeit", "entry_without_notice",
           "termination_without_notice", "unilateral_determination"}
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "contracts"


def main() -> int:
    """Print the hit count per rule and every hit."""
    files = sorted((DATA / "en").glob("*.txt")) + sorted((DATA / "zh").glob("*.txt"))
    if not files:
        print(f"no contracts under {DATA}")
        return 1
    counts: collections.Counter[str] = collections.Counter()
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        kind = "lease" if "lease" in path.name else "other"
        seg = segment_text(text)
        clauses = {c.id: c for c in seg.clauses}
        for f in run_rules(seg.clauses, party_names(seg.text, kind), seg.text, kind):
            if f.kind in GENERAL:
                counts[f.kind] += 1
                opening = " ".join(clauses[f.clause_ids[0]].text.split())[:120]
                print(f"{f.kind:28} {path.name[:40]:40} {f.clause_ids[0]:8} {opening}")
    print(f"{len(files)} contracts; hits per rule: {dict(counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
