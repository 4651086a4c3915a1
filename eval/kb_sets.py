"""The knowledge-base evaluation sets and their fixed tuning / held-out split.

The split was drawn once, before any retrieval change was tuned, with a seeded shuffle (seed 15, the issue
number), and is written out below so that it never moves:

- FinanceBench "more" (16 filings, 48 questions, `reports/en/more/`): split **by filing**, so a held-out
  question's document was never looked at while tuning. `random.Random(15).shuffle(sorted(doc_names))`, the
  first 8 are held out (22 questions), the other 8 are for tuning (26 questions).
- 四方科技 2019 (25 questions, `reports/cn/sifang_603339_2019_kb_questions.jsonl`): one report, so split **by
  question**, stratified by kind (figure, text, paraphrase, english): per kind, sorted ids shuffled with one
  `random.Random(15)` (kinds in sorted order), the first half (rounded up) held out: 14 held out (5 figures,
  4 facts, 3 paraphrases, 2 English), 11 for tuning.

The 8 original FinanceBench dev questions (`reports/en/`) were tuned on by earlier work and count as tuning only.
"""
from __future__ import annotations

import ast
import json
import random
from pathlib import Path

SEED = 15
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "reports"

FINANCEBENCH_HELDOUT = ("ACTIVISIONBLIZZARD_2019_10K", "BESTBUY_2023_10K", "BLOCK_2020_10K", "CVSHEALTH_2022_10K",
                        "JOHNSON_JOHNSON_2022Q4_EARNINGS", "JOHNSON_JOHNSON_2022_10K", "MGMRESORTS_2022Q4_EARNINGS",
                        "ULTABEAUTY_2023Q4_EARNINGS")
FINANCEBENCH_TUNING = ("3M_2022_10K", "AMAZON_2017_10K", "AMERICANEXPRESS_2022_10K", "CORNING_2022_10K",
                       "GENERALMILLS_2020_10K", "JOHNSON_JOHNSON_2023_8K_dated-2023-08-30", "JPMORGAN_2021Q1_10Q",
                       "PEPSICO_2022_10K")
SIFANG_HELDOUT = ("sf19-03", "sf19-04", "sf19-05", "sf19-06", "sf19-08", "sf19-10", "sf19-11", "sf19-13", "sf19-14",
                  "sf19-18", "sf19-21", "sf19-22", "sf19-24", "sf19-25")
SIFANG_PDF = "sifang_603339_2019_annual_report.pdf"


def financebench_split(doc_names) -> tuple[list[str], list[str]]:
    """(tuning, held-out) filings: the seeded shuffle that produced FINANCEBENCH_HELDOUT."""
    docs = sorted(set(doc_names))
    random.Random(SEED).shuffle(docs)
    half = len(docs) // 2
    return sorted(docs[half:]), sorted(docs[:half])


def sifang_split(questions: list[dict]) -> tuple[list[str], list[str]]:
    """(tuning, held-out) question ids, stratified by kind: the seeded draw that produced SIFANG_HELDOUT."""
    kinds: dict[str, list[str]] = {}
    for q in questions:
        kinds.setdefault(q["kind"], []).append(q["id"])
    rng = random.Random(SEED)
    held: list[str] = []
    for kind in sorted(kinds):
        ids = sorted(kinds[kind])
        rng.shuffle(ids)
        held += ids[:(len(ids) + 1) // 2]
    return sorted(set(i for ids in kinds.values() for i in ids) - set(held)), sorted(held)


def financebench_questions(folder: Path) -> list[dict]:
    """FinanceBench questions of a folder's jsonl: document file, question and 1-based evidence pages."""
    out = []
    for line in (folder / "financebench_questions.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        evidence = q["evidence"] if isinstance(q["evidence"], list) else ast.literal_eval(q["evidence"])
        pages = sorted({int(e["evidence_page_num"]) + 1 for e in evidence})
        out.append({"id": q["financebench_id"], "doc": q["doc_name"] + ".pdf", "question": q["question"],
                    "pages": pages, "kind": q.get("question_type", "")})
    return out


def sifang_questions(folder: Path) -> list[dict]:
    """The 25 四方科技 questions in the same shape (doc, question, 1-based pages, kind)."""
    out = []
    for line in (folder / "sifang_603339_2019_kb_questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            out.append({"id": q["id"], "doc": SIFANG_PDF, "question": q["question"],
                        "pages": sorted(q["evidence_pages"]), "kind": q["kind"]})
    return out


def evaluation_set(name: str, part: str, data: Path = DATA) -> tuple[list[Path], list[dict]]:
    """The files to index and the questions of one set ("more" | "cn" | "dev") and part ("tune" | "heldout" | "all").

    For "more", only the filings of the chosen part go into the base (the held-out base never holds a tuning
    filing); "cn" always indexes the one report.
    """
    if part not in ("tune", "heldout", "all"):
        raise ValueError("part must be tune, heldout or all")
    if name == "more":
        folder = data / "en" / "more"
        questions = financebench_questions(folder)
        docs = {"tune": FINANCEBENCH_TUNING, "heldout": FINANCEBENCH_HELDOUT,
                "all": FINANCEBENCH_TUNING + FINANCEBENCH_HELDOUT}[part]
        chosen = [q for q in questions if q["doc"][:-4] in docs]
        return [folder / "pdfs" / f"{d}.pdf" for d in sorted(docs)], chosen
    if name == "cn":
        folder = data / "cn"
        questions = sifang_questions(folder)
        if part != "all":
            chosen = [q for q in questions if (q["id"] in SIFANG_HELDOUT) == (part == "heldout")]
        else:
            chosen = questions
        return [folder / SIFANG_PDF], chosen
    if name == "dev":
        if part == "heldout":
            raise ValueError("the 8 dev questions were tuned on; they have no held-out part")
        folder = data / "en"
        questions = financebench_questions(folder)
        return [folder / d for d in sorted({q["doc"] for q in questions})], questions
    raise ValueError("set must be more, cn or dev")


def evaluation_set_or_say_why(name: str, part: str, data: Path = DATA) -> tuple[list[Path], list[dict]] | None:
    """evaluation_set, or None after saying on stderr why the set cannot be read (the CLIs then exit 2)."""
    import sys
    try:
        return evaluation_set(name, part, data)
    except (OSError, ValueError) as exc:
        print(f"evaluation set not available: {exc}", file=sys.stderr)
        return None
