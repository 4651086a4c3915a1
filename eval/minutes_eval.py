"""Minutes on real meetings (VCSum zh, QMSum en): ROUGE against the reference, action items, language, timing.

    python eval/minutes_eval.py --provider local --split tuning       # the part prompts were tuned on
    python eval/minutes_eval.py --provider local --split heldout      # the part never looked at while tuning
    python eval/minutes_eval.py --provider dashscope --model qwen-plus     # with DASHSCOPE_API_KEY set

ROUGE-1/2/L F1 is on characters for Chinese and on stemmed words for English. A "lead" baseline (the opening of
the transcript cut to the reference's length) is scored beside the model, so the model's number has a floor.
Action items: of the owners the model gave (other than "unassigned"), the share that is the speaker of, or named
in, the line the item cites after the check (the check clears the others and flags them, so the kept ones always
pass); the same for due dates.
Chinese meetings: whether the minutes' text is Chinese.

Split (fixed before any tuning run): TUNING holds the shortest meeting of each corpus (cheapest to run again
and again on a 2-core machine); every other meeting is held out.
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
TUNING = {"vcsum-23", "qmsum-2"}


def split_of(meeting_id: str) -> str:
    """"tuning" or "heldout" (see the module docstring)."""
    return "tuning" if meeting_id in TUNING else "heldout"


class CharTokenizer:
    """rouge-score tokenizer for Chinese: every non-space character is a token."""

    def tokenize(self, text: str) -> list[str]:
        return [ch for ch in text if not ch.isspace() and ch not in "，。、；：？！“”‘’（）《》,.;:?!\"'()"]


def rouge(prediction: str, reference: str, lang: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 (characters for zh, stemmed words for en)."""
    from rouge_score import rouge_scorer
    kinds = ["rouge1", "rouge2", "rougeL"]
    scorer = (rouge_scorer.RougeScorer(kinds, tokenizer=CharTokenizer()) if lang == "zh"
              else rouge_scorer.RougeScorer(kinds, use_stemmer=True))
    scores = scorer.score(reference, prediction)
    return {k: round(scores[k].fmeasure, 4) for k in kinds}


def rouge_l(prediction: str, reference: str, lang: str) -> float:
    """ROUGE-L F1 (characters for zh, stemmed words for en)."""
    return rouge(prediction, reference, lang)["rougeL"]


def action_stats(minutes, transcript) -> dict[str, int]:
    """Counts for the action-item goals, recomputed from the final items and the transcript (not from flags)."""
    from services.minutes.grounding import UNASSIGNED, due_in_line, owner_in_line
    items = minutes.action_items
    named = [a for a in items if a.owner != UNASSIGNED]
    dated = [a for a in items if a.due]
    return {
        "items": len(items),
        "owner_named": len(named),
        "owner_in_line": sum(owner_in_line(a.owner, transcript.line(a.source_line)) for a in named),
        "owner_removed": sum(1 for a in items if {"owner_unknown", "owner_not_in_line"} & set(a.flags)),
        "due_given": len(dated),
        "due_in_line": sum(due_in_line(a.due, transcript.line(a.source_line)) for a in dated),
        "due_removed": sum(1 for a in items if "due_not_in_line" in a.flags),
        "line_flagged": sum(1 for a in items if {"line_missing", "not_in_line"} & set(a.flags)),
        # Before the check: owners and due dates as the model gave them (kept ones plus those the check removed).
        "owner_given": len(named) + sum(1 for a in items if {"owner_unknown", "owner_not_in_line"} & set(a.flags)),
        "due_stated": len(dated) + sum(1 for a in items if "due_not_in_line" in a.flags),
    }


def chinese_share(text: str) -> float:
    """CJK characters among the letters and characters of the text (1.0 = all Chinese)."""
    import re
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    return round(cjk / (cjk + latin_words), 3) if cjk + latin_words else 0.0


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


def part_slice(conn, transcript, lang: str, spec: str):
    """Only some parts of the transcript (as make_minutes would split it), for cheap tuning runs.

    spec "N": the first N parts; "A-B": parts A to B, their lines numbered again from 1.
    """
    from services.minutes.generate import part_budget, split_on_turns, transcript_sample
    from services.minutes.transcript import Line, Transcript
    first, _, last = spec.partition("-")
    first, last = (1, int(first)) if not last else (int(first), int(last))
    split = split_on_turns(transcript, part_budget(conn, lang, "general", transcript_sample(transcript)))
    if first <= 1 and last >= len(split):
        return transcript
    lo, hi = split[first - 1][0].line.number, split[min(last, len(split)) - 1][-1].line.number
    lines = [Line(i, ln.speaker, ln.start, ln.text) for i, ln in enumerate(transcript.lines[lo - 1:hi], 1)]
    return Transcript(name=f"{transcript.name} L{lo}-L{hi}", lines=lines, source_format=transcript.source_format)


class RawReplies:
    """Every structured request's prompt head and the model's raw reply, appended to a JSONL file as they come."""

    def __init__(self, path: Path) -> None:
        self.path, self.meeting, self.pending = path, "", {}
        path.parent.mkdir(parents=True, exist_ok=True)

    def install(self) -> None:
        """Wrap services.llm's prompt check and JSON parse, which structured() calls around each reply."""
        import services.llm as llm
        check, parse = llm.check_prompt, llm.parse_json_loosely

        def checked(conn, messages, system=None):
            self.pending = {"meeting": self.meeting, "started": time.perf_counter(),
                            "system_tail": (system or "")[-300:], "user_head": messages[-1]["content"][:300],
                            "user_tail": messages[-1]["content"][-400:]}
            return check(conn, messages, system)

        def parsed(text):
            entry = dict(self.pending, reply=text)
            entry["seconds"] = round(time.perf_counter() - entry.pop("started", time.perf_counter()), 1)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return parse(text)

        llm.check_prompt, llm.parse_json_loosely = checked, parsed


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
    parser.add_argument("--split", choices=("tuning", "heldout", "all"), default="all")
    parser.add_argument("--summary-only", action="store_true",
                        help="plain-text map-reduce summary with services.llm.complete (no JSON schema)")
    parser.add_argument("--data", default=str(DATA), help="folder with the VCSum and QMSum JSONL files")
    parser.add_argument("--out", default=str(ROOT / "eval" / "out" / "minutes_eval.json"))
    parser.add_argument("--parts", default=None,
                        help="only parts N (the first N) or A-B of each meeting (tuning runs; ROUGE is then not "
                             "comparable with whole meetings)")
    parser.add_argument("--raw", default=None, help="append every raw model reply to this JSONL file")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"meetings not found at {data}", file=sys.stderr)
        return 2

    from services.errors import AppError
    from services.minutes import make_minutes
    from services.minutes.generate import in_language, planned_parts
    from services.minutes.transcript import transcript_from_rows
    from services.providers import get_provider
    conn = get_provider(args.provider).connect(args.model)

    results = []
    meetings = load_meetings(args.limit, data)
    if args.only:
        wanted = set(args.only.split(","))
        meetings = [m for m in meetings if m["id"] in wanted]
    if args.split != "all":
        meetings = [m for m in meetings if split_of(m["id"]) == args.split]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = RawReplies(Path(args.raw)) if args.raw else None
    if raw:
        raw.install()
    for meeting in meetings:
        transcript = transcript_from_rows(meeting["rows"], meeting["id"], "json")
        lang = meeting["lang"]
        if args.parts:
            transcript = part_slice(conn, transcript, lang, args.parts)
        if raw:
            raw.meeting = meeting["id"]
        lead = " ".join(ln.text for ln in transcript.lines)[: len(meeting["reference"])]
        started = time.perf_counter()
        row = {"id": meeting["id"], "split": split_of(meeting["id"]), "lang": lang, "chars": transcript.char_count,
               "first_parts": args.parts,
               "lines": len(transcript.lines), "parts": planned_parts(conn, transcript, lang=lang),
               "lead": rouge(lead, meeting["reference"], lang)}
        if args.summary_only:
            try:
                prediction = summary_only(conn, transcript, lang)
                row.update(status="ok", rouge=rouge(prediction, meeting["reference"], lang), summary=prediction[:400])
            except AppError as exc:
                row.update(status="error", error=exc.message("en"))
        else:
            try:
                minutes = make_minutes(conn, transcript, lang=lang, ui_lang="en",
                                       progress=lambda f, text: print(f"  {meeting['id']} {f:4.0%} {text}",
                                                                      file=sys.stderr))
                prediction = minutes_text(minutes)
                row.update(status="ok", rouge=rouge(prediction, meeting["reference"], lang), summary=prediction,
                           in_language=in_language(minutes, lang), chinese_share=chinese_share(prediction),
                           actions=action_stats(minutes, transcript), decisions=len(minutes.decisions),
                           action_items=[a.model_dump(include={"task", "owner", "due", "source_line", "flags",
                                                               "suggested_owner", "suggested_due"})
                                         for a in minutes.action_items],
                           decision_list=[d.model_dump(include={"text", "source_line", "flags", "suggested_line"})
                                          for d in minutes.decisions],
                           warnings=minutes.warnings)
            except AppError as exc:
                row.update(status="error", error=exc.message("en"))
        row["seconds"] = round(time.perf_counter() - started, 1)
        results.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("summary", "warnings", "action_items",
                                                                    "decision_list")},
                         ensure_ascii=False), flush=True)
        # Written after every meeting: a long run stopped half-way keeps what it measured.
        out.write_text(json.dumps({"provider": conn.provider, "model": conn.model, "results": results},
                                  ensure_ascii=False, indent=2), encoding="utf-8")

    print_table(results)
    return 0


def _share(num: int, den: int) -> str:
    return f"{num}/{den}" + (f" ({num / den:.0%})" if den else "")


def print_table(results: list[dict]) -> None:
    """The Markdown table for docs/minutes.md, and per-split totals."""
    print("\n| meeting | split | lang | chars | parts | R-1 | R-2 | R-L | R-L lead | in language | items | decisions | "
          "items line-flagged | model's owners in linked line | model's due dates in linked line | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if r["status"] != "ok":
            print(f"| {r['id']} | {r['split']} | {r['lang']} | {r['chars']} | {r['parts']} | error: "
                  f"{r.get('error', '')[:80]} | | | {r['lead']['rougeL']:.3f} | | | | | | | {r['seconds']} |")
            continue
        sc, a = r["rouge"], r.get("actions")
        flagged = (f" ({sum(1 for d in r['decision_list'] if d['flags'])} flagged)" if "decision_list" in r else "")
        acts = (f"{a['items']} | {r['decisions']}{flagged} | {a['line_flagged']} | "
                f"{_share(a['owner_in_line'], a.get('owner_given', a['owner_named']))} | "
                f"{_share(a['due_in_line'], a.get('due_stated', a['due_given']))}") if a else "| | | |"
        lang_ok = "" if "in_language" not in r else ("yes" if r["in_language"] else "no") + \
            (f" ({r['chinese_share']:.2f} CJK)" if r["lang"] == "zh" else "")
        print(f"| {r['id']} | {r['split']} | {r['lang']} | {r['chars']} | {r['parts']} | {sc['rouge1']:.3f} | "
              f"{sc['rouge2']:.3f} | {sc['rougeL']:.3f} | {r['lead']['rougeL']:.3f} | {lang_ok} | {acts} | "
              f"{r['seconds']} |")
    for split in ("tuning", "heldout"):
        for lang in ("zh", "en"):
            rows = [r for r in results if r["split"] == split and r["lang"] == lang and r["status"] == "ok"]
            if not rows:
                continue
            med = statistics.median(r["rouge"]["rougeL"] for r in rows)
            lead = statistics.median(r["lead"]["rougeL"] for r in rows)
            secs = statistics.median(r["seconds"] for r in rows)
            print(f"{split} {lang}: {len(rows)} meetings, median ROUGE-L {med:.3f} (lead {lead:.3f}), "
                  f"median {secs:.0f} s per meeting")


if __name__ == "__main__":
    raise SystemExit(main())
