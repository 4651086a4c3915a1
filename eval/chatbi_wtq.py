"""Table QA on WikiTableQuestions: questions over real tables, answered through the ChatBI pipeline.

Replay mode (default) feeds the hand-written SQL in eval/chatbi_wtq_sql.jsonl to the chain as the model's
replies, so every question goes through prompt building, SQL extraction, the guard, DuckDB and the answer; the
executed answers are compared with WTQ's targetValue. With --provider/--model a real model writes the SQL.

    python eval/chatbi_wtq.py                         # replay the hand-written SQL
    python eval/chatbi_wtq.py --provider local        # the built-in offline model
    python eval/chatbi_wtq.py --provider dashscope --model qwen-plus --out eval/out/wtq_qwen.jsonl
"""
from __future__ import annotations

import argparse
import csv
import json
import re
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
            sql = answer.sql
        except Exception as exc:  # one bad question must not stop the evaluation
            ok, got, error, sql = False, None, f"{type(exc).__name__}: {exc}", None
        finally:
            session.close()
        results.append({"id": q["id"], "question": q["utterance"], "target": q["targetValue"], "ok": ok,
                        "got": [str(g) for g in got] if got is not None else None, "error": error, "sql": sql,
                        "seconds": round(time.perf_counter() - start, 3)})
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", help="use a real model from this provider instead of the replayed SQL")
    parser.add_argument("--model", help="model name (default: the provider's first model)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--out", help="write per-question results as JSONL here")
    args = parser.parse_args(argv)
    if not (DATA / "wtq_questions.tsv").is_file():
        print(f"WTQ data not found at {DATA.resolve()}", file=sys.stderr)
        return 2
    questions = load_questions()
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
    correct = sum(r["ok"] for r in results)
    print(f"\n{label}: {correct}/{len(results)} answers match targetValue ({100 * correct / len(results):.1f}%)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
