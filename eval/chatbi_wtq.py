"""Table QA on WikiTableQuestions: questions over real tables, answered through the ChatBI pipeline.

Replay mode (default) feeds the hand-written SQL in eval/chatbi_wtq_sql.jsonl to the chain as the model's
replies, so every question goes through prompt building, SQL extraction, the guard, DuckDB and the answer; the
executed answers are compared with WTQ's targetValue. With --provider/--model a real model writes the SQL.

    python eval/chatbi_wtq.py                         # replay the hand-written SQL
    python eval/chatbi_wtq.py --provider local        # the built-in offline model
    python eval/chatbi_wtq.py --provider local --part tune   # only the 20 tuning questions

The 60 questions are split, before any tuning, into a "tune" part (ids nt-N with N divisible by 3: 20 questions)
and a "heldout" part (the other 40), see part_of().
    python eval/chatbi_wtq.py --provider dashscope --model qwen-plus --out eval/out/wtq_qwen.jsonl
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# ../shared/data next to the repository (a git worktree one level deeper also finds it).
DATA = next((p for p in (ROOT / ".." / "shared" / "data" / "tables", ROOT / ".." / ".." / "shared" / "data" / "tables")
             if p.is_dir()), ROOT / ".." / "shared" / "data" / "tables")
SQL_FILE = ROOT / "eval" / "chatbi_wtq_sql.jsonl"


def part_of(qid: str) -> str:
    """The fixed part of a question: "tune" for nt-N with N divisible by 3, else "heldout"."""
    number = int(re.sub(r"\D", "", qid) or 0)
    return "tune" if number % 3 == 0 else "heldout"


def load_questions(data: Path = DATA) -> list[dict]:
    """The WTQ questions: id, utterance, context (CSV path relative to data) and targetValue."""
    with open(data / "wtq_questions.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def load_sql(path: Path = SQL_FILE) -> dict[str, dict]:
    """Hand-written SQL per question id (with a note where the gold answer cannot come from the table)."""
    with open(path, encoding="utf-8") as fh:
        return {row["id"]: row for row in map(json.loads, filter(str.strip, fh))}


def normalize(value: object) -> str:
    """A value as comparable text: numbers without thousands separators or trailing .0, words lower-cased."""
    text = re.sub(r"\s+", " ", str(value)).strip().lower()
    plain = text.replace(",", "")
    try:
        number = float(plain)
        return f"{number:g}" if not number.is_integer() else str(int(number))
    except ValueError:
        return text


def answers_match(columns: list[str], rows: list[tuple], target: str) -> bool:
    """Whether the result's answer values (first column, every row) equal the target values (split on |)."""
    expected = sorted(normalize(v) for v in target.split("|"))
    if not rows:
        return False
    got = sorted(normalize(r[0]) for r in rows)
    if got == expected:
        return True
    # A single-row answer may carry its value in another column (e.g. a label next to the count).
    return len(rows) == 1 and len(expected) == 1 and expected[0] in {normalize(v) for v in rows[0]}


def run(questions: list[dict], conn_for, *, data: Path = DATA, lang: str = "en", limit: int | None = None,
        progress=print) -> list[dict]:
    """Ask each question over its own freshly loaded table; conn_for(question) gives the model connection."""
    from services.chatbi.assistant import ask
    from services.chatbi.engine import DuckSession
    results = []
    for q in questions[:limit]:
        session = DuckSession()
        start = time.perf_counter()
        try:
            session.add_file(data / q["context"])
            answer = ask(session, conn_for(q), q["utterance"], lang=lang, summarize=False)
            ok = answer.ok and answers_match(answer.result.columns, answer.result.rows, q["targetValue"])
            got = [r[0] for r in answer.result.rows[:5]] if answer.ok else None
            error = answer.error.message("en") if answer.error else None
            sql, attempts = answer.sql, len(answer.attempts)
        except Exception as exc:  # one bad question must not stop the evaluation
            ok, got, error, sql, attempts = False, None, f"{type(exc).__name__}: {exc}", None, 0
        finally:
            session.close()
        results.append({"id": q["id"], "part": part_of(q["id"]), "question": q["utterance"],
                        "target": q["targetValue"], "ok": ok,
                        "got": [str(g) for g in got] if got is not None else None, "error": error, "sql": sql,
                        "attempts": attempts, "seconds": round(time.perf_counter() - start, 3)})
        progress(f"{'OK  ' if ok else 'MISS'} {q['id']:6} target={q['targetValue']!r} got={got!r} {error or ''}")
    return results


def replay_connections(questions: list[dict], sql: dict[str, dict], folder: Path):
    """A replay connection per question whose one reply is the hand-written SQL in a ```sql block."""
    from services.providers import Connection

    def conn_for(q: dict):
        path = folder / f"{q['id']}.jsonl"
        reply = f"```sql\n{sql[q['id']]['sql']}\n```"
        path.write_text(json.dumps({"content": reply}, ensure_ascii=False) + "\n", encoding="utf-8")
        return Connection(provider="replay", model="replay", replay_path=str(path))
    return conn_for


def summary_lines(results: list[dict], label: str) -> list[str]:
    """Accuracy per part, median seconds per question and mean attempts, as printed lines."""
    lines = []
    for part in ("all", "tune", "heldout"):
        rows = [r for r in results if part == "all" or r["part"] == part]
        if not rows:
            continue
        right = sum(r["ok"] for r in rows)
        secs = sorted(r["seconds"] for r in rows)
        median = statistics.median(secs)
        attempts = sum(r["attempts"] for r in rows) / len(rows)
        lines.append(f"{label} [{part}]: {right}/{len(rows)} answers match targetValue "
                     f"({100 * right / len(rows):.1f}%), median {median:.1f} s per question, "
                     f"mean attempts {attempts:.2f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", help="use a real model from this provider instead of the replayed SQL")
    parser.add_argument("--model", help="model name (default: the provider's first model)")
    parser.add_argument("--part", choices=("tune", "heldout", "all"), default="all",
                        help="only the tuning or the held-out questions (see part_of)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--out", help="write per-question results as JSONL here")
    args = parser.parse_args(argv)
    if not (DATA / "wtq_questions.tsv").is_file():
        print(f"WTQ data not found at {DATA.resolve()}", file=sys.stderr)
        return 2
    questions = [q for q in load_questions() if args.part == "all" or part_of(q["id"]) == args.part]
    with tempfile.TemporaryDirectory() as tmp:
        if args.provider:
            from services.providers import get_provider
            provider = get_provider(args.provider)
            model = args.model or provider.models()[0].name
            conn = provider.connect(model)
            conn_for = lambda q: conn  # noqa: E731
            label = f"{args.provider}/{model}"
        else:
            conn_for = replay_connections(questions, load_sql(), Path(tmp))
            label = "replay of eval/chatbi_wtq_sql.jsonl"
        results = run(questions, conn_for, limit=args.limit)
    print()
    print("\n".join(summary_lines(results, label)))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
