"""Agent mode with the built-in model: the issue's five questions, each asked --runs times, right/wrong by a stated rule.

    python -m eval.agent_eval --runs 5 --out eval/out/agent_runs.json

The session holds what a user would have loaded: a small sales table (ChatBI), the 四方科技 2019 annual report
processed on the financials page, and the same report in a knowledge base (keyword index). The rules (fixed before
any run; nothing was tuned on these questions, so every figure is held out):

- calc: "把 2000, 3000, 4000 分别加 1000、减 500、再乘 1.2": the calculator was called and 3000, 4200 and 5400 all
  appear in the answer.
- date: "今天几号，距离本季度末还有几天": the answer names today's day of the month and the exact number of days to
  the quarter's end (both from the session clock).
- kb: "2019年经营活动产生的现金流量净额是多少？请注明页码。" (sifang kb question sf19-02): the knowledge base was
  searched, the answer has the figure 369,100,908.49 within 1% (元, 万元 or 亿元) and cites one of its evidence pages.
- table: "按地区汇总销售额，画个图": a query over the table ran, its rows are the exact per-region sums, and it has a
  chart.
- report: "四方科技2019年的营业收入是多少？": the answer has 1,175,301,034.32 元 within 1%.

Tuning set (`--set tune`, written before any change to the agent and the only questions looked at while changing
it; the issue's five above are `--set heldout`, the default): one question of each kind with other numbers, other
wording and other data of the same session — "把 150、260、370 分别乘 2 再加 15" (315, 535, 755), "今天星期几？距离
今年年底还有多少天？" (the weekday and the days to 31 December), sf19-07 货币资金 905,402,299.44 (a tuning question
of the KB split, evidence pages 14, 59, 91), "各产品的销售额合计是多少？画个图" (A 180, B 210, with a chart), and
四方科技's 2019 净利润 129,465,020.68.

Every run's trace (each tool call with its arguments, each result, the answer) is saved with --out.
"""
from __future__ import annotations

import argparse
import calendar
import json
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / ".." / "shared" / "data" / "reports" / "cn" / "sifang_603339_2019_annual_report.pdf"
SALES = "地区,产品,销售额\n华东,A,120\n华东,B,80\n华北,A,60\n华南,B,90\n华北,B,40\n"
SALES_SUMS = {"华东": 200.0, "华北": 100.0, "华南": 90.0}
KB_QUESTION = ("2019年经营活动产生的现金流量净额是多少？请注明页码。", 369_100_908.49, [5, 11, 14, 68, 130])
REVENUE = 1_175_301_034.32
QUESTIONS = {
    "calc": "把 2000, 3000, 4000 分别加 1000、减 500、再乘 1.2",
    "date": "今天几号，距离本季度末还有几天",
    "kb": KB_QUESTION[0],
    "table": "按地区汇总销售额，画个图",
    "report": "四方科技2019年的营业收入是多少？",
}
# What each held-out question must produce (the rules in the docstring).
EXPECTED = {
    "calc": {"3000", "4200", "5400"},
    "date": "quarter",
    "kb": KB_QUESTION[1:],
    "table": SALES_SUMS,
    "report": REVENUE,
}
TUNE_QUESTIONS = {
    "calc": "把 150、260、370 分别乘 2 再加 15",
    "date": "今天星期几？距离今年年底还有多少天？",
    "kb": "2019年末公司货币资金余额是多少？请注明页码。",
    "table": "各产品的销售额合计是多少？画个图",
    "report": "四方科技2019年的净利润是多少？",
}
TUNE_EXPECTED = {
    "calc": {"315", "535", "755"},
    "date": "year",
    "kb": (905_402_299.44, [14, 59, 91]),
    "table": {"A": 180.0, "B": 210.0},
    "report": 129_465_020.68,
}
SETS = {"heldout": (QUESTIONS, EXPECTED), "tune": (TUNE_QUESTIONS, TUNE_EXPECTED)}
_WEEKDAY_NAMES = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]
_UNITS = {"亿": 1e8, "万": 1e4, "千": 1e3}


def amounts(text: str) -> list[float]:
    """Every number in a text as a float, 亿/万 units applied and thousands separators dropped."""
    out = []
    for raw, unit in re.findall(r"(\d[\d,，]*(?:\.\d+)?)\s*(亿|万|千)?", text):
        try:
            value = float(raw.replace(",", "").replace("，", ""))
        except ValueError:
            continue
        out.append(value * _UNITS.get(unit, 1.0))
    return out


def near(text: str, target: float, rel: float = 0.01) -> bool:
    """Whether some number in the text is within rel of target."""
    return any(abs(v - target) <= rel * abs(target) for v in amounts(text))


def cited_pages(text: str) -> set[int]:
    """Pages an answer names: 第 12 页, 第12、14页, p. 12, page 12."""
    pages = set()
    for group in re.findall(r"第\s*([\d、,，\s和及]+)\s*页", text):
        pages |= {int(n) for n in re.findall(r"\d+", group)}
    pages |= {int(n) for n in re.findall(r"(?:p\.|page|页码[:：]?)\s*(\d+)", text, flags=re.I)}
    return pages


def judge(key: str, events: list, ctx, expected: dict | None = None) -> tuple[bool, str]:
    """Right or wrong by the rule in the module docstring, and why."""
    want = (expected or EXPECTED)[key]
    from services.agent import answer_of
    answer = answer_of(events)
    text = answer.text if answer else ""
    calls = [e for e in events if e.kind == "tool_call"]
    tools = {e.tool for e in calls}
    if key == "calc":
        got = {f"{v:g}" for v in amounts(text)}
        ok = "calculator" in tools and want <= got
        return ok, f"tools={sorted(tools)} numbers={sorted(got)[:8]}"
    if key == "date":
        now = ctx.current_time()
        nums = {int(v) for v in amounts(text) if float(v).is_integer()}
        if want == "year":
            days = (now.date().replace(month=12, day=31) - now.date()).days
            weekday = _WEEKDAY_NAMES[now.weekday()]
            ok = days in nums and weekday.replace("星期", "") in text.replace("星期天", "星期日").replace("周", "星期")
            return ok, f"expected {weekday} and {days} days; numbers={sorted(nums)[:10]}"
        end_month = 3 * ((now.month - 1) // 3) + 3
        end = now.date().replace(month=end_month, day=calendar.monthrange(now.year, end_month)[1])
        days = (end - now.date()).days
        written = {now.date().isoformat(), f"{now.month}月{now.day}日", f"{now.month}月{now.day}号",
                   f"{now.year}年{now.month}月{now.day}"}
        ok = days in nums and any(w in text.replace(" ", "") for w in written)
        return ok, f"expected {now.date()} and {days} days; numbers={sorted(nums)[:10]}"
    if key == "kb":
        pages = cited_pages(text)
        ok = "kb_search" in tools and near(text, want[0]) and bool(pages & set(want[1]))
        return ok, f"tools={sorted(tools)} pages={sorted(pages)}"
    if key == "table":
        for e in events:
            if e.kind == "observation" and not e.error and isinstance(e.data, dict) and e.data.get("rows"):
                rows = e.data["rows"]
                try:
                    got = {str(r[0]): float(r[-1]) for r in rows}
                except (TypeError, ValueError):
                    continue
                if got == want and e.data.get("chart"):
                    return True, "rows and chart right"
        return False, f"tools={sorted(tools)}"
    if key == "report":
        return near(text, want), f"tools={sorted(tools)}"
    raise KeyError(key)


def session(workdir: Path, lang: str = "zh"):
    """The agent's context: the sales table, the processed report and a knowledge base over the report."""
    from services.agent import AgentContext, kb_searcher
    from services.chatbi import Workspace
    from services.financials.service import analyze
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    ws = Workspace()
    sales = workdir / "销售.csv"
    sales.write_text(SALES, encoding="utf-8")
    ws.add_upload(sales, sales.name, sales.stat().st_size)
    report = analyze(REPORT, lang=lang)
    bm25 = embeddings.KeywordOnly()
    store = KBStore(chroma_client(workdir / "chroma"))
    store.create_base("年报", embedder=bm25.id, chunk_size=600, overlap=80)
    add_files("年报", [(REPORT, REPORT.name)], store=store, embedder=bm25)
    return AgentContext(lang=lang, chatbi=ws, reports=[report], kb_search=kb_searcher("年报", store=store, embedder=bm25))


def main(argv: list[str] | None = None) -> int:
    """Ask each question --runs times and print how often it was right, with the median seconds."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="comma-separated question keys: " + ",".join(QUESTIONS))
    ap.add_argument("--set", choices=sorted(SETS), default="heldout",
                    help="heldout: the issue's five questions (default); tune: the questions changes were tried on")
    ap.add_argument("--out", help="save every run's trace and verdict as JSON")
    ap.add_argument("--rejudge", action="store_true", help="judge the traces saved in --out again, asking nothing")
    args = ap.parse_args(argv)
    if args.rejudge:
        return rejudge(args)
    if not REPORT.exists():
        print(f"no data at {REPORT}", file=sys.stderr)
        return 2
    from services.agent import builtin_tools, run_agent
    from services.providers import get_provider
    conn = get_provider("local").connect(args.model, temperature=0.0, max_tokens=400)
    questions, expected = SETS[args.set]
    keys = args.only.split(",") if args.only else list(questions)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = session(Path(tmp))
        ctx.conn = conn  # as the chat page does: table questions go to ChatBI's chain with the same model
        tools = builtin_tools(ctx)
        records = []
        for run in range(args.runs):  # round by round, so a stopped evaluation has every question
            for key in keys:
                started = time.perf_counter()
                events = list(run_agent(conn, questions[key], tools, lang="zh", time_limit_s=600))
                seconds = time.perf_counter() - started
                ok, why = judge(key, events, ctx, expected)
                records.append({"question": key, "text": questions[key], "run": run + 1, "right": ok, "why": why,
                                "seconds": round(seconds, 1), "trace": [e.to_dict() for e in events]})
                print(f"{key} run {run + 1}: {'right' if ok else 'wrong'} ({why}) {seconds:.0f} s", flush=True)
                save(args, keys, records)  # after every run, so a stopped evaluation keeps what it measured
    save(args, keys, records, show=True)
    return 0


def rejudge(args) -> int:
    """Apply the rules again to the saved traces (the clock is each run's own, read from its date_info result)."""
    from datetime import datetime as dt

    from services.agent import AgentContext, AgentEvent
    data = json.loads(Path(args.out).read_text(encoding="utf-8"))
    keys = []
    for r in data["runs"]:
        events = [AgentEvent(**{k: v for k, v in e.items() if k in AgentEvent.__dataclass_fields__})
                  for e in r["trace"]]
        stamps = [e.data["now"] for e in events if e.tool == "date_info" and isinstance(e.data, dict) and "now" in e.data]
        ctx = AgentContext(now=(lambda t=dt.fromisoformat(stamps[0]): t)) if stamps else AgentContext()
        r["right"], r["why"] = judge(r["question"], events, ctx, SETS[data.get("set", "heldout")][1])
        if r["question"] not in keys:
            keys.append(r["question"])
    args.model, args.set = data["model"], data.get("set", "heldout")
    save(args, keys, data["runs"], show=True)
    return 0


def save(args, keys: list[str], records: list[dict], show: bool = False) -> None:
    """Summarize the runs so far per question and write them (with traces) to --out."""
    summary = {}
    for key in keys:
        mine = [r for r in records if r["question"] == key]
        if not mine:
            continue
        secs = sorted(r["seconds"] for r in mine)
        summary[key] = {"right": sum(r["right"] for r in mine), "runs": len(mine), "median_s": secs[len(secs) // 2]}
        if show:
            print(f"{key}: {summary[key]['right']}/{summary[key]['runs']} right, median {summary[key]['median_s']} s")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"model": args.model, "set": args.set, "summary": summary,
                                             "runs": records},
                                             ensure_ascii=False, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
