"""Minutes on real meetings (VCSum zh, QMSum en): ROUGE-L of the summary against the reference, and timing.

    python eval/minutes_eval.py --provider local --model smollm2-135m-instruct
    python eval/minutes_eval.py --provider dashscope --model qwen-plus     # with DASHSCOPE_API_KEY set

ROUGE-L is on characters for Chinese and on stemmed words for English. A "lead" baseline (the opening of the
transcript cut to the reference's length) is scored beside the model, so the model's number has a floor to beat.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = (ROOT / ".." / "shared" / "data" / "meetings").resolve()


class CharTokenizer:
    """rouge-score tokenizer for Chinese: every non-space character is a token."""

    def tokenize(self, text: str) -> list[str]:
        return [ch for ch in text if not ch.isspace() and ch not in "，。、；：？！“”‘’（）《》,.;:?!\"'()"]


def rouge_l(prediction: str, reference: str, lang: str) -> float:
    """ROUGE-L F1 (characters for zh, stemmed words for en)."""
    from rouge_score import rouge_scorer
    scorer = (rouge_scorer.RougeScorer(["rougeL"], tokenizer=CharTokenizer()) if lang == "zh"
              else rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True))
    return scorer.score(reference, prediction)["rougeL"].fmeasure


def load_meetings(limit: int | None = None, data: Path = DATA) -> list[dict]:
    """The meetings as (id, lang, rows, reference)."""
    meetings = []
    for line in (data / "vcsum_zh_meetings.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        rows = [(f"发言人{spk}", None, para) for seg in d["segments"]
                for spk, para in zip(seg["speakers"], seg["paragraphs"])]
        meetings.append({"id": f"vcsum-{d['id']}", "lang": "zh", "rows": rows, "reference": d["overall_summary"]})
    for i, line in enumerate((data / "qmsum_en_meetings.jsonl").read_text(encoding="utf-8").splitlines()):
        d = json.loads(line)
        rows = [(t["speaker"], None, t["content"]) for t in d["meeting_transcripts"]]
        meetings.append({"id": f"qmsum-{i}", "lang": "en", "rows": rows,
                         "reference": d["general_query_list"][0]["answer"]})
    return meetings[:limit] if limit else meetings


def minutes_text(minutes) -> str:
    """What is compared with the reference: the summary followed by the topic summaries."""
    return " ".join([minutes.summary] + [f"{t.title} {t.summary}" for t in minutes.topics])


def summary_only(conn, transcript, lang: str) -> str:
    """Map-reduce summary in plain text over the same speaker-turn parts the minutes use."""
    from services.llm import complete
    from services.minutes.generate import part_budget, split_on_turns
    ask = ("用三句话总结这部分会议内容：" if lang == "zh" else "Summarise this part of the meeting in three sentences:")
    notes = []
    for pieces in split_on_turns(transcript, part_budget(conn, lang)):
        body = "\n".join(p.render() for p in pieces)
        notes.append(complete(conn, [{"role": "user", "content": f"{ask}\n{body}"}]).text.strip())
    if len(notes) == 1:
        return notes[0]
    merge = ("把下面各部分的摘要合并成整场会议的摘要：" if lang == "zh" else
             "Merge these part summaries into one summary of the whole meeting:")
    return complete(conn, [{"role": "user", "content": merge + "\n" + "\n".join(notes)}]).text.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", default="local")
    parser.add_argument("--model", default=None)
    parser.add_argument("--limit", type=int, default=None, help="first N meetings only")
    parser.add_argument("--only", default=None, help="comma-separated meeting ids")
    parser.add_argument("--summary-only", action="store_true",
                        help="plain-text map-reduce summary with services.llm.complete (no JSON schema): for the "
                             "built-in model, whose grammar-constrained JSON is too slow for whole meetings")
    parser.add_argument("--data", default=str(DATA), help="folder with the VCSum and QMSum JSONL files")
    parser.add_argument("--out", default=str(ROOT / "eval" / "out" / "minutes_eval.json"))
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"meetings not found at {data}", file=sys.stderr)
        return 2

    from services.errors import AppError
    from services.minutes import make_minutes
    from services.minutes.generate import planned_parts
    from services.minutes.transcript import transcript_from_rows
    from services.providers import get_provider
    conn = get_provider(args.provider).connect(args.model)

    results = []
    meetings = load_meetings(args.limit, data)
    if args.only:
        wanted = set(args.only.split(","))
        meetings = [m for m in meetings if m["id"] in wanted]
    for meeting in meetings:
        transcript = transcript_from_rows(meeting["rows"], meeting["id"], "json")
        lead = " ".join(ln.text for ln in transcript.lines)[: len(meeting["reference"])]
        parts = planned_parts(conn, transcript)
        started = time.perf_counter()
        row = {"id": meeting["id"], "lang": meeting["lang"], "chars": transcript.char_count,
               "lines": len(transcript.lines), "parts": parts,
               "rougeL_lead": round(rouge_l(lead, meeting["reference"], meeting["lang"]), 4)}
        if args.summary_only:
            try:
                prediction = summary_only(conn, transcript, meeting["lang"])
                row.update(status="ok", rougeL=round(rouge_l(prediction, meeting["reference"], meeting["lang"]), 4),
                           summary=prediction[:400])
            except AppError as exc:
                row.update(status="error", rougeL=0.0, error=exc.message("en"))
            row["seconds"] = round(time.perf_counter() - started, 1)
            results.append(row)
            print(json.dumps(row, ensure_ascii=False))
            continue
        try:
            minutes = make_minutes(conn, transcript, lang=meeting["lang"], ui_lang="en",
                                   progress=lambda f, text: print(f"  {meeting['id']} {f:4.0%} {text}",
                                                                  file=sys.stderr))
            prediction = minutes_text(minutes)
            flagged = sum(1 for a in minutes.action_items if a.flags) + sum(1 for d in minutes.decisions if d.flags)
            row.update(status="ok", rougeL=round(rouge_l(prediction, meeting["reference"], meeting["lang"]), 4),
                       summary=prediction[:400], action_items=len(minutes.action_items),
                       decisions=len(minutes.decisions), flagged=flagged,
                       warnings=minutes.warnings)
        except AppError as exc:
            row.update(status="error", rougeL=0.0, error=exc.message("en"))
        row["seconds"] = round(time.perf_counter() - started, 1)
        results.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("summary", "warnings")}, ensure_ascii=False))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"provider": conn.provider, "model": conn.model, "results": results},
                              ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\n| meeting | lang | chars | parts | ROUGE-L model | ROUGE-L lead | seconds | status |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['id']} | {r['lang']} | {r['chars']} | {r['parts']} | {r['rougeL']:.3f} | {r['rougeL_lead']:.3f} "
              f"| {r['seconds']} | {r['status']} |")
    for lang in ("zh", "en"):
        scores = [r["rougeL"] for r in results if r["lang"] == lang]
        leads = [r["rougeL_lead"] for r in results if r["lang"] == lang]
        if scores:
            print(f"{lang}: median ROUGE-L model {statistics.median(scores):.3f}, lead {statistics.median(leads):.3f}")
    longest = max(results, key=lambda r: r["chars"])
    print(f"longest meeting {longest['id']} ({longest['chars']} chars, {longest['parts']} parts): "
          f"{longest['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
