"""The 8 original FinanceBench dev questions (tuning only; the held-out sets are in eval/kb_sets.py).

    python -m eval.kb_financebench                # = python -m eval.kb_retrieval --set dev --part all

The four PDFs go into one base (so retrieval must also find the right company); a question counts as found
when a retrieved chunk comes from its document and from an evidence page (evidence_page_num is 0-based,
our pages are 1-based).
"""
from __future__ import annotations

import ast
import json
import sys
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


def main(argv=None) -> int:
    """The 8 dev questions (tuned on by earlier work): eval.kb_retrieval --set dev --part all."""
    from eval.kb_retrieval import main as run
    return run(["--set", "dev", "--part", "all", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
