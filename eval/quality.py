"""One quality report for every model-backed task with the built-in models: runs each task's evaluation and writes
docs/quality.md (task, data, metric, value, seconds per item, the exact command, which part it was tuned on).

    python -m eval.quality                      # run every task whose result is missing, then write the report
    python -m eval.quality --tasks agent        # (re)run only these tasks, then write the report
    python -m eval.quality --write-only         # write the report from the results already in eval/out/quality/

Each task is one command (below) that saves its result as JSON in eval/out/quality/; the report is built only from
those files, so every figure in it comes with the command that produced it. eval/out/ is git-ignored (a result is
in git only when added with `git add -f`): a task whose result file is not in this checkout keeps its rows (and
the agent traces) from the docs/quality.md already there, so rewriting the report after one task's run leaves the
other rows as they were. Run model tasks one at a time with `nice -n 10` on a shared machine. ChatBI (WTQ) and minutes are measured by their own evaluations and reported in
docs/chatbi.md and docs/minutes.md; their rows here point there.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "eval" / "out" / "quality"
DOC = ROOT / "docs" / "quality.md"
BETTER, FASTER = "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct"
SHORT = {BETTER: "1.5B", FASTER: "0.5B"}
# How many rows of each sentiment file's part are run (the first N; the machine is 2 shared cores and the 1.5B took
# about 20 s a row there, so its held-out run is the smaller one).
TUNE_LIMIT = 20
HELD_LIMIT = {BETTER: 25, FASTER: 50}
AGENT_RUNS = 5  # --agent-runs changes it (the issue asks for 5)


@dataclass
class Task:
    """One evaluation: its name, the command that writes OUT/<name>.json, and how to read that file."""

    name: str
    argv: list[str]
    summarize: object  # (data, task) -> list of report rows

    @property
    def out(self) -> Path:
        """Where the command saves its JSON result."""
        return OUT / f"{self.name}.json"

    @property
    def command(self) -> str:
        """The command as a user types it from the repository root."""
        return "PYTHONPATH=. python " + " ".join(self.argv).replace(str(ROOT) + "/", "")


def _sentiment_rows(data: list[dict], task: Task) -> list[dict]:
    rows = []
    model = SHORT.get(data[0]["model"], data[0]["model"])
    part = data[0]["part"]
    tuned = "nothing tuned: the prompt is the issue's own example; this is the tuning part (rows 0-99)" \
        if part == "tune" else "held out (rows 100+; tuning part is rows 0-99)"
    for r in data:
        rows.append({"task": f"AI column sentiment ({model})",
                     "data": f"sentiment/{r['file']}, {part} part, first {r['rows']} rows",
                     "metric": "label accuracy (choices 正向/负向)",
                     "value": f"{r['accuracy']:.1%} ({r['right']}/{r['rows']}); {r['rows_per_minute']} rows/min",
                     "s_item": r["median_s_per_row"], "tuned": tuned, "command": task.command})
    total, right = sum(r["rows"] for r in data), sum(r["right"] for r in data)
    rows.append({"task": f"AI column sentiment ({model})", "data": f"both files, {part} part",
                 "metric": "label accuracy", "value": f"**{right / total:.1%}** ({right}/{total})",
                 "s_item": f"{sum(r['seconds'] for r in data) / total:.2f} (mean, wall)", "tuned": tuned,
                 "command": task.command})
    return rows


def _agent_rows(data: dict, task: Task) -> list[dict]:
    from eval.agent_eval import SETS
    part = data.get("set", "heldout")
    questions = SETS[part][0]
    tuned = ("held out: the agent's changes were tried on the tuning questions (`--set tune`) only"
             if part == "heldout" else "tuning questions: the agent's changes were tried on these")
    rows = []
    for key, s in data["summary"].items():
        rows.append({"task": f"agent mode ({SHORT.get(data['model'], data['model'])})", "data": questions[key],
                     "metric": "right over runs (rule in eval/agent_eval.py)", "value": f"{s['right']}/{s['runs']}",
                     "s_item": s["median_s"], "tuned": tuned,
                     # the runs actually made, whatever --agent-runs is now
                     "command": task.command.replace(f"--runs {AGENT_RUNS}", f"--runs {s['runs']}")})
    return rows


def agent_traces(data: dict) -> list[str]:
    """The first run of each agent question as Markdown: each tool call with its arguments, its result, the answer."""
    lines = ["", f"## Agent traces (first run of each question, {data['model']})", ""]
    seen = set()
    for run in data["runs"]:
        if run["question"] in seen:
            continue
        seen.add(run["question"])
        lines.append(f"**{run['text']}** — {'right' if run['right'] else 'wrong'} ({run['why']}), {run['seconds']} s")
        lines.append("")
        for e in run["trace"]:
            text = " ".join(str(e.get("text", "")).split())
            if e["kind"] == "tool_call":
                lines.append(f"- call `{e.get('tool')}` `{json.dumps(e.get('args', {}), ensure_ascii=False)[:300]}`")
            elif e["kind"] == "observation":
                lines.append(f"- result{' (error)' if e.get('error') else ''}: `{text[:300]}`")
            elif e["kind"] in ("answer", "notice", "thought"):
                lines.append(f"- {e['kind']}: {text[:400]}")
        lines.append("")
    return lines


def _contract_rows(data: dict, task: Task) -> list[dict]:
    rules_file = OUT / "contracts_rules.json"
    kept = ""
    if rules_file.exists() and task.name == "contracts":
        rules = json.loads(rules_file.read_text(encoding="utf-8"))
        # Highs the rules alone gave that the model run lost: extra highs lost, or expected highs newly missed.
        lost = (set(rules["high_extra"]) - set(data["high_extra"])) | \
            (set(data["high_missed"]) - set(rules["high_missed"]))
        n_rules = rules["high_found"] + len(rules["high_extra"])
        kept = f"; rule highs kept high {n_rules - len(lost)}/{n_rules}"
    return [{"task": f"contracts ({data['model']})", "data": "contracts/zh/lease_sample_01 (tenant's side)",
             "metric": "favoured party agreement with the hand reading; highs found; the rules' highs kept high",
             "value": f"favours {data['favours_agree']}/{data['clauses']}; high {data['high_found']}/"
                      f"{data['high_expected']} (missed {len(data['high_missed'])}){kept}",
             "s_item": round(data["elapsed_s"] / max(data["clauses"], 1), 1),
             "tuned": "the rules were written on this lease (docs/contracts.md); the model was not tuned on it",
             "command": task.command}]


def _financial_rows(data: dict, task: Task) -> list[dict]:
    t = data["totals"]
    secs = sorted(data["seconds"])
    names = ", ".join(r["file"].replace("_annual_report.pdf", "") for r in data["reports"])
    errors = sum(bool(r.get("model_error")) for r in data["reports"])
    return [{"task": f"financials + model cross-check ({SHORT.get(data['model'], data['model'])})",
             "data": f"reports, {data['split']} split of eval/financials_eval.py ({len(data['reports'])} reports: "
                     f"{names})",
             "metric": "fields right (within 0.01 on the expected page); wrong figures marked verified (goal 0)",
             "value": f"{t['right']}/{t['fields']} right; **{t['wrong_verified']} wrong verified** of {t['verified']} "
                      f"verified; {t['conflicts']} conflicts; model alone {t['model_right']}/{t['model_fields']}"
                      + (f"; model errors in {errors} reports" if errors else ""),
             "s_item": f"{statistics.median(secs):.0f} per report" if secs else None,
             "tuned": "held out (the extractor was tuned on sifang, huajin, changchai: TUNING in "
                      "eval/financials_eval.py, fixed before tuning)" if data["split"] == "held-out"
                      else "tuning reports (TUNING in eval/financials_eval.py)",
             "command": task.command}]


def _kb_answer_rows(data: dict, task: Task) -> list[dict]:
    s = data["summary"]
    if data["set"] == "dev":
        what = "reports/en: the 8 FinanceBench dev questions over the 4 PDFs in one base"
        tuned = ("tuning only: the KB glossary and file routing were written looking at these 8 questions' "
                 "retrieval (docs/kb.md); prompt, model and judging rule not tuned on any answer")
    else:
        what = (f"reports/en/more, {data['part']} filings of eval/kb_sets.py ({s['files']} filings, {s['pages']} "
                f"pages, one base)")
        tuned = "held out (filings never looked at while tuning, eval/kb_sets.py)" if data["part"] == "heldout" \
            else "tuning filings"
    kinds = s["by_kind"]
    return [{"task": f"KB answers, BM25 + model ({SHORT.get(data['model'], data['model'])})",
             "data": f"{what}, {s['questions']} questions", "metric": "right by the rule in eval/kb_answers.py "
             "(numeric: a number within 1%, units read; yes/no: the verdict word); open answers not judged",
             "value": f"**{s['right']}/{s['judged']}** judged right (numeric {kinds['numeric']}, yes/no "
                      f"{kinds['yes/no']}; {kinds['open'].split('/')[1]} open not judged); citation attached "
                      f"{s['cited']}/{s['questions']}, an evidence page cited {s['cited_evidence']}/{s['questions']}, "
                      f"evidence page retrieved {s['evidence_retrieved']}/{s['questions']}; not found "
                      f"{s['not_found']}",
             "s_item": s["median_s"], "tuned": tuned, "command": task.command}]


def kb_answer_lines(data: dict) -> list[str]:
    """Each knowledge-base answer as Markdown: kind, verdict, citations and the answer's opening words."""
    lines = ["", f"## KB answers, question by question ({data['set']} {data['part']}, {data['model']}, BM25, "
                 f"k = {data['k']})", ""]
    for r in data["rows"]:
        verdict = "not judged" if r["right"] is None else "right" if r["right"] else "wrong"
        pages = ", ".join(f"{c['file']} p.{c['page']}" for c in r["citations"]) or "none"
        lines.append(f"- `{r['id']}` {r['doc']} ({r['kind']}) — **{verdict}** ({r['why']}); cited: {pages}; "
                     f"evidence p.{', '.join(map(str, r['evidence_pages']))} {'cited' if r['cited_evidence'] else 'not cited'}, "
                     f"{'retrieved' if r['evidence_retrieved'] else 'not retrieved'}; {r['seconds']} s. Reference: "
                     f"{' '.join(r['reference'].split())[:120]} — answer: {' '.join(r['answer'].split())[:240]}")
    return lines


def _contract_argv(model: str) -> list[str]:
    # contract_agreement prints its JSON to stdout; the wrapper below saves it.
    return ["eval/contract_agreement.py", "--provider", "local", "--model", model, "--json"]


def tasks() -> list[Task]:
    """Every task of the report, in the order of the report."""
    out = []
    for model in (BETTER, FASTER):
        for part, limit in (("tune", TUNE_LIMIT), ("held", HELD_LIMIT[model])):
            name = f"sentiment_{part}_{SHORT[model]}"
            out.append(Task(name, ["-m", "eval.sentiment_eval", "--model", model, "--part", part, "--limit",
                                   str(limit), "--out", str(OUT / f"{name}.json")], _sentiment_rows))
    out.append(Task("agent_tune", ["-m", "eval.agent_eval", "--set", "tune", "--model", BETTER, "--runs", "1",
                                   "--out", str(OUT / "agent_tune.json")], _agent_rows))
    out.append(Task("agent", ["-m", "eval.agent_eval", "--model", BETTER, "--runs", str(AGENT_RUNS), "--out",
                              str(OUT / "agent.json")], _agent_rows))
    out.append(Task("contracts_rules", ["eval/contract_agreement.py", "--no-llm", "--json"], _contract_rows))
    out.append(Task("contracts", _contract_argv(BETTER), _contract_rows))
    out.append(Task("financials", ["-m", "eval.financials_crosscheck", "--model", BETTER, "--split", "held-out",
                                   "--out", str(OUT / "financials.json")], _financial_rows))
    out.append(Task("kb_answers", ["-m", "eval.kb_answers", "--model", BETTER, "--set", "dev", "--out",
                                   str(OUT / "kb_answers.json")], _kb_answer_rows))
    out.append(Task("kb_answers_heldout", ["-m", "eval.kb_answers", "--model", BETTER, "--set", "more", "--part",
                                           "heldout", "--out", str(OUT / "kb_answers_heldout.json")],
                    _kb_answer_rows))
    return out


def run(task: Task) -> int:
    """Run one task's command from the repository root; its JSON lands in task.out."""
    OUT.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, *task.argv]
    if task.name.startswith("contracts"):
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode == 0:
            task.out.write_text(done.stdout, encoding="utf-8")
        sys.stderr.write(done.stderr[-2000:])
        return done.returncode
    return subprocess.run(cmd, cwd=ROOT).returncode


POINTERS = [
    {"task": "ChatBI (text to SQL)", "data": "tables/wtq_questions.tsv (60 WTQ questions), split in eval/chatbi_wtq.py",
     "metric": "execution accuracy", "value": "measured in docs/chatbi.md", "s_item": "see there",
     "tuned": "see docs/chatbi.md", "command": ""},
    {"task": "minutes", "data": "meetings/vcsum_zh_meetings.jsonl, qmsum_en_meetings.jsonl",
     "metric": "see the minutes issue", "value": "measured in docs/minutes.md", "s_item": "see there",
     "tuned": "see docs/minutes.md", "command": ""},
]


def _row_line(r: dict) -> str:
    cells = [r["task"], r["data"], r["metric"], r["value"], "" if r["s_item"] is None else str(r["s_item"]),
             r["tuned"], f"`{r['command']}`" if r["command"] else ""]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def kept_rows(old: str, task: Task) -> list[str]:
    """The table lines an earlier report has for a task: its command cell names the task's result file (or is
    the task's command, for a task printing to stdout)."""
    out = []
    out_file = task.argv[task.argv.index("--out") + 1].replace(str(ROOT) + "/", "") if "--out" in task.argv else None
    for line in old.splitlines():
        if not line.startswith("| ") or line.count("|") < 8:
            continue
        cell = line.rstrip().rstrip("|").rsplit("|", 1)[-1].strip().strip("`")
        if ("--out" in task.argv and out_file in cell) or cell == task.command:
            out.append(line)
    return out


def kept_section(old: str, heading: str) -> list[str]:
    """An earlier report's section starting with heading, up to the next section or the not-run line."""
    lines = old.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("## ") or lines[i].startswith("Not run yet")), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return [""] + lines[start:end] + [""]


def write_report(path: Path = DOC) -> str:
    """docs/quality.md from the saved results; a task without a result keeps its rows from the report already
    there (eval/out/ is local to one checkout), and one with neither is listed as not run."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    lines, missing = [], []
    for task in tasks():
        if task.out.exists():
            lines += [_row_line(r) for r in task.summarize(json.loads(task.out.read_text(encoding="utf-8")), task)]
        elif kept_rows(old, task):
            lines += kept_rows(old, task)
        else:
            missing.append(task)
    lines += [_row_line(r) for r in POINTERS]
    lines = [
        "# Quality of the model-backed tasks",
        "",
        "Written by `PYTHONPATH=. python -m eval.quality` from the results in `eval/out/quality/` (each row's command "
        "wrote them). Built-in models through the `local` provider (llama.cpp server on 127.0.0.1), temperature 0, "
        "`ASSISTANT_LOCAL_THREADS=1`, on a 2-core machine shared with three other model jobs, so seconds are slow "
        "and noisy: medians per item. The CI smoke (`tests/test_quality_smoke.py`) checks behaviour only.",
        "",
        "| task | data | metric | value | s/item (median) | tuned on | command |",
        "|---|---|---|---|---|---|---|",
    ] + lines
    agent = OUT / "agent.json"
    if agent.exists():
        lines += agent_traces(json.loads(agent.read_text(encoding="utf-8")))
    else:
        lines += kept_section(old, "## Agent traces")
    for name in ("kb_answers", "kb_answers_heldout"):
        result = OUT / f"{name}.json"
        if result.exists():
            lines += kb_answer_lines(json.loads(result.read_text(encoding="utf-8")))
    if missing:
        lines += ["", "Not run yet (no result file): " + ", ".join(f"`{t.name}` (`{t.command}`)" for t in missing)]
    text = "\n".join(lines) + "\n"
    extra = path.with_name("quality_notes.md")
    if extra.exists():  # hand-written notes: the splits, the rules, what is not done
        text += "\n" + extra.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the missing (or the named) tasks, then write docs/quality.md."""
    global AGENT_RUNS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", help="comma-separated names to (re)run: " + ",".join(t.name for t in tasks()))
    ap.add_argument("--write-only", action="store_true")
    ap.add_argument("--agent-runs", type=int, default=AGENT_RUNS, help="runs per agent question (default 5)")
    args = ap.parse_args(argv)
    AGENT_RUNS = args.agent_runs
    if not args.write_only:
        wanted = set(args.tasks.split(",")) if args.tasks else None
        for task in tasks():
            if (wanted is None and not task.out.exists()) or (wanted and task.name in wanted):
                print(f"== {task.name}: {task.command}", flush=True)
                if run(task) != 0:
                    print(f"   {task.name} failed", file=sys.stderr)
    write_report()
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
