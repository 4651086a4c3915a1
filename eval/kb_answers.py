"""Knowledge-base answers with the built-in model on FinanceBench questions, judged by a fixed rule.

    python -m eval.kb_answers --model qwen2.5-coder-1.5b-instruct --set dev --out eval/out/quality/kb_answers.json
    python -m eval.kb_answers --set more --part heldout --out eval/out/quality/kb_answers_heldout.json

The files of the set (eval/kb_sets.py: "dev" = the 4 PDFs of reports/en, 8 questions, tuning only; "more" held-out
= 8 filings, 22 questions) go into one base with the keyword (BM25) embedder. Each question then takes the page's
answer path: services.kb.retrieve (k = 5, mode bm25, the only mode of a BM25 base) → kb.grounded_messages (lang
en) → services.llm.complete with the `local` provider at temperature 0 → kb.postprocess (citations [n] → file
and page, invented numbers removed). No passages means "not found" without calling the model, as on the page.

Judging rule (written before the first run; `judge` below):

- The reference answer decides the kind. **numeric**: the reference is one number, optionally with `$` and/or
  `%` (e.g. "$1577.00", "5.4%", "0.68"). **yes/no**: the reference starts with the word Yes or No. **open**:
  anything else; not judged (its answer is saved and listed, and whether the reference's figures occur in it is
  recorded, but it counts in neither right nor wrong).
- numeric, right when **some number in the answer is within 1% of the reference** (|a - r| <= 0.01 |r|, signs
  and parentheses ignored, since outflows print as "(1,577)"). Citation markers [n] are removed first. Units:
  a percent reference needs a number written with `%` or "percent"; otherwise the reference is read in the unit
  the question asks for ("in USD millions" / "billions" / "thousands", else as written) and an answer number
  with a scale word (thousand, million, billion, mn, bn) is compared in absolute amounts, a bare number either
  in the asked unit or as an absolute amount; a number written with `%` never matches a non-percent reference.
  Any matching number counts, so an answer that lists several figures is judged leniently; that is the rule.
- yes/no, right when the first whole word "yes" or "no" of the answer equals the reference's; an answer with
  neither word is wrong ("no verdict"), even when its figures imply the right verdict.
- A "not found" answer, or a model error, is wrong for every kind.
- Also recorded, not part of "right": a citation attached (a valid [n] kept by postprocess), a cited page that
  is an evidence page of the right document, an evidence page among the retrieved passages, invented citations,
  and for non-numeric kinds how many of the reference's figures (years left out) occur in the answer within 1%.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eval.kb_sets import DATA, evaluation_set_or_say_why

_MARKER = re.compile(r"[\[【]\s*\d+(?:\s*[,，、;；]\s*\d+)*\s*[\]】]")
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])[-−]?\(?\$?\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\)?"
    r"(?:\s*(%|percent\b|per cent\b|thousands?\b|millions?\b|billions?\b|mn\b|bn\b))?", re.IGNORECASE)
_SCALE = {"thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "mn": 1e6,
          "billion": 1e9, "billions": 1e9, "bn": 1e9}
_ASKED_UNIT = re.compile(r"\bin\s+(?:USD\s+|US\$\s*|\$\s*)?(thousands|millions|billions)\b", re.IGNORECASE)
_SINGLE_NUMBER = re.compile(r"^\s*[-−]?\$?\s?[\d,]+(?:\.\d+)?\s*%?\s*$")
_POLARITY = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
TOLERANCE = 0.01


def numbers(text: str) -> list[tuple[float, str]]:
    """Every number of a text with its unit: "%" for percentages, a scale word (million …) or "" for a bare one."""
    out = []
    for m in _NUMBER.finditer(_MARKER.sub(" ", text or "")):
        unit = (m.group(2) or "").lower()
        if unit.startswith("per"):
            unit = "%"
        out.append((float(m.group(1).replace(",", "")), unit))
    return out


def kind_of(reference: str) -> str:
    """numeric (one number), yes/no (starts with Yes or No) or open: the rule's three kinds."""
    if _SINGLE_NUMBER.match(reference or ""):
        return "numeric"
    return "yes/no" if re.match(r"\s*(yes|no)\b", reference or "", re.IGNORECASE) else "open"


def _close(a: float, r: float) -> bool:
    return abs(abs(a) - abs(r)) <= TOLERANCE * abs(r)


def numeric_right(answer: str, reference: str, question: str = "") -> bool:
    """Whether some number of the answer is within 1% of the one number of the reference, units considered."""
    found = numbers(reference)
    if not found:
        return False
    ref, ref_unit = found[0]
    if ref_unit == "%":
        return any(unit == "%" and _close(value, ref) for value, unit in numbers(answer))
    asked = _ASKED_UNIT.search(question or "")
    scale = _SCALE[asked.group(1).lower()] if asked else 1.0
    for value, unit in numbers(answer):
        if unit == "%":
            continue
        if unit:
            if _close(value * _SCALE[unit], ref * scale):
                return True
        elif _close(value, ref) or _close(value, ref * scale):
            return True
    return False


def polarity(text: str) -> str | None:
    """The first whole word yes or no of a text, lower-cased; None when it has neither."""
    m = _POLARITY.search(text or "")
    return m.group(1).lower() if m else None


def figures_found(answer: str, reference: str) -> tuple[int, int]:
    """(found, total): the reference's figures, years left out, that occur in the answer within 1% (same % or not)."""
    def is_year(value: float, unit: str) -> bool:
        return not unit and value.is_integer() and 1900 <= value <= 2100
    wanted = [(v, u == "%") for v, u in numbers(reference) if not is_year(v, u)]
    have = [(v, u == "%") for v, u in numbers(answer)]
    hits = sum(any(pct == hp and _close(hv, v) for hv, hp in have) for v, pct in wanted)
    return hits, len(wanted)


def judge(answer: str, reference: str, question: str = "", not_found: bool = False) -> dict:
    """The rule of the module docstring: kind, right (None for open), and why."""
    kind = kind_of(reference)
    if kind == "open":
        hits, total = figures_found(answer, reference)
        return {"kind": kind, "right": None, "why": f"open answer, not judged; reference figures {hits}/{total}"}
    if not_found:
        return {"kind": kind, "right": False, "why": "not found"}
    if kind == "numeric":
        ok = numeric_right(answer, reference, question)
        return {"kind": kind, "right": ok, "why": "a number within 1%" if ok else "no number within 1%"}
    want, got = polarity(reference), polarity(answer)
    hits, total = figures_found(answer, reference)
    return {"kind": kind, "right": got == want,
            "why": f"verdict {got or 'none'} (reference {want}); reference figures {hits}/{total}"}


def _references(folder: Path) -> dict[str, str]:
    out = {}
    for line in (folder / "financebench_questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            out[q["financebench_id"]] = q["answer"]
    return out


def answer_one(name: str, question: str, conn, store, embedder, k: int, lang: str = "en") -> dict:
    """One question through the page's path (retrieve → grounded prompt → model → postprocess), timed."""
    from services import kb, llm
    started = time.perf_counter()
    passages = kb.retrieve(name, question, k, mode="bm25", store=store, embedder=embedder)
    raw, status, error, tokens = "", "no passages", None, None
    if passages:
        result = llm.complete(conn, kb.grounded_messages(question, passages, lang))
        raw, status, tokens = result.text, result.status, [result.input_tokens, result.output_tokens]
        error = result.error.message("en") if result.error else None
    answer = kb.postprocess(raw, passages, lang)
    return {"answer": answer, "raw": raw, "status": status, "error": error, "tokens": tokens,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    """Index the set's files with BM25, answer every question with the model, judge, print and save."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    ap.add_argument("--set", dest="set_name", choices=("dev", "more"), default="dev")
    ap.add_argument("--part", choices=("all", "tune", "heldout"), default="all")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--store", type=Path, help="keep the index here and reuse it on the next run")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    loaded = evaluation_set_or_say_why(args.set_name, args.part, args.data)
    if loaded is None:
        return 2
    files, questions = loaded
    if not all(f.exists() for f in files):
        print(f"documents not found under {args.data}", file=sys.stderr)
        return 2
    folder_of_set = args.data / "en" / ("more" if args.set_name == "more" else "")
    references = _references(folder_of_set)

    from services import storage
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    from services.providers import get_provider
    emb = embeddings.KeywordOnly()
    conn = get_provider("local").connect(args.model, temperature=0.0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store or Path(tmp)
        store = KBStore(chroma_client(folder / "chroma"))
        storage.DATA_DIR = folder   # kept originals go there, not into the app's data
        name = f"answers-{args.set_name}-{args.part}-{emb.id}"
        t0 = time.perf_counter()
        if name not in [b.name for b in store.bases()]:
            store.create_base(name, embedder=emb.id)
            outcomes = add_files(name, [(f, f.name) for f in files], store=store, embedder=emb)
            bad = [o.message("en") for o in outcomes if not o.ok]
            if bad:
                store.delete_base(name)
                print("\n".join(bad), file=sys.stderr)
                return 1
        index_s = time.perf_counter() - t0
        records = store.files(name)
        for q in questions:
            done = answer_one(name, q["question"], conn, store, emb, args.k)
            a = done["answer"]
            reference = references[q["id"]]
            verdict = judge(a.text, reference, q["question"], a.not_found or bool(done["error"] and not done["raw"]))
            evidence = [c for c in a.citations if c.file == q["doc"] and c.page in q["pages"]]
            rows.append({
                "id": q["id"], "doc": q["doc"], "question": q["question"], "reference": reference,
                "evidence_pages": q["pages"], **verdict, "answer": a.text, "raw": done["raw"],
                "not_found": a.not_found, "status": done["status"], "error": done["error"],
                "tokens": done["tokens"], "seconds": done["seconds"],
                "citations": [c.__dict__ for c in a.citations], "invented_citations": a.invented,
                "cited": bool(a.citations), "cited_evidence": bool(evidence),
                "retrieved": [{"n": p.n, "file": p.file, "page": p.page, "score": round(p.score, 4)}
                              for p in a.passages],
                "evidence_retrieved": any(p.file == q["doc"] and p.page in q["pages"] for p in a.passages)})
            r = rows[-1]
            print(f"{q['id']} [{r['kind']}] right={r['right']} cited={r['cited']} evidence_cited="
                  f"{r['cited_evidence']} {r['seconds']} s: {' '.join(a.text.split())[:160]!r}", flush=True)
    judged = [r for r in rows if r["right"] is not None]
    summary = {"questions": len(rows), "judged": len(judged), "right": sum(r["right"] for r in judged),
               "by_kind": {kind: f"{sum(bool(r['right']) for r in rows if r['kind'] == kind)}/"
                                 f"{sum(r['kind'] == kind for r in rows)}"
                           for kind in ("numeric", "yes/no", "open")},
               "cited": sum(r["cited"] for r in rows), "cited_evidence": sum(r["cited_evidence"] for r in rows),
               "evidence_retrieved": sum(r["evidence_retrieved"] for r in rows),
               "not_found": sum(r["not_found"] for r in rows),
               "invented": sum(bool(r["invented_citations"]) for r in rows),
               "median_s": statistics.median(r["seconds"] for r in rows) if rows else None,
               "files": len(records), "pages": sum(x.pages for x in records),
               "chunks": sum(x.chunks for x in records), "index_seconds": round(index_s, 1)}
    print(json.dumps(summary, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"model": args.model, "set": args.set_name, "part": args.part, "k": args.k,
                                        "embedder": emb.id, "lang": "en", "summary": summary, "rows": rows},
                                       ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
