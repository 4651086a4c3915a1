"""AI column sentiment accuracy and rows per minute on the shared Chinese reviews, with each built-in model.

    python -m eval.sentiment_eval --model qwen2.5-coder-1.5b-instruct --part held --limit 100

Data: ../shared/data/tables/sentiment/chnsenticorp_dev.csv (400 hotel reviews) and online_shopping_dev.csv (300
shopping reviews), labels 正向/负向. Split, fixed in code (TUNE_ROWS): in each file, data rows 0-99 are the tuning
part (the prompt was only ever looked at there), rows 100 and after are held out. --limit N takes the first N rows
of the chosen part of each file, so a short run is still the same deterministic subset.

The run goes through services.ai_column.run_column exactly as the page and `python -m services column` do (the
same prompt as the issue's example, choices 正向,负向 under the model's JSON-schema grammar).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "tables" / "sentiment"
FILES = ("chnsenticorp_dev.csv", "online_shopping_dev.csv")
TUNE_ROWS = 100
PROMPT = "判断这条评论的情感：正向 或 负向"
CHOICES = ["正向", "负向"]
MODELS = ("qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct")


def part_rows(df: pd.DataFrame, part: str, limit: int | None = None) -> pd.DataFrame:
    """The tuning part (rows 0-99), the held-out part (rows 100-) or all rows, optionally the first `limit`."""
    if part == "tune":
        df = df.iloc[:TUNE_ROWS]
    elif part == "held":
        df = df.iloc[TUNE_ROWS:]
    elif part != "all":
        raise ValueError(part)
    return (df.head(limit) if limit else df).reset_index(drop=True)


def measure(conn, file: str, part: str, limit: int | None = None, data: Path = DATA) -> dict:
    """Accuracy, rows per minute and the label counts for one file's part with one connection."""
    from services import ai_column
    df = part_rows(pd.read_csv(data / file, dtype=str, keep_default_na=False), part, limit)
    times: list[float] = []
    last = [time.perf_counter()]

    def tick(p) -> None:
        now = time.perf_counter()
        if p.done:
            times.append(now - last[0])
            if p.done % 10 == 0:
                print(f"  {file}: {p.done}/{p.total} rows", file=sys.stderr, flush=True)
        last[0] = now

    started = time.perf_counter()
    out = ai_column.run_column(df, "review", PROMPT, conn, choices=CHOICES, new_column="AI", progress=tick)
    seconds = time.perf_counter() - started
    right = int((out["AI"] == out["label"]).sum())
    answered = int((out["AI"] != "").sum())
    return {"file": file, "part": part, "rows": len(df), "right": right, "answered": answered,
            "accuracy": right / len(df) if len(df) else 0.0, "seconds": round(seconds, 1),
            "rows_per_minute": round(len(df) / seconds * 60, 1) if seconds else None,
            "median_s_per_row": round(statistics.median(times), 2) if times else None,
            "labels": dict(ai_column.label_counts(out["AI"])),
            "wrong_ids": out.loc[out["AI"] != out["label"], "id"].tolist()}


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally save as JSON) accuracy and speed per file for one built-in model."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=MODELS[0], help="built-in model (default %(default)s)")
    ap.add_argument("--provider", default="local")
    ap.add_argument("--part", choices=["tune", "held", "all"], default="held")
    ap.add_argument("--limit", type=int, help="first N rows of the part in each file")
    ap.add_argument("--files", default=",".join(FILES), help="comma-separated file names")
    ap.add_argument("--out", help="write the results here as JSON")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    from services.providers import get_provider
    conn = get_provider(args.provider).connect(args.model, temperature=0.0)
    results = []
    for file in args.files.split(","):
        r = measure(conn, file, args.part, args.limit)
        r.update(model=args.model, threads=os.environ.get("ASSISTANT_LOCAL_THREADS", "1"))
        results.append(r)
        print(f"{args.model} {file} part={args.part} rows={r['rows']}: accuracy {r['accuracy']:.1%} "
              f"({r['right']}/{r['rows']}), {r['rows_per_minute']} rows/min, median {r['median_s_per_row']} s/row, "
              f"labels {r['labels']}", flush=True)
    total = sum(r["rows"] for r in results)
    right = sum(r["right"] for r in results)
    print(f"{args.model} all files part={args.part}: accuracy {right / total:.1%} ({right}/{total})")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
