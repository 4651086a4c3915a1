"""The AI column through the ChatBI page (Streamlit AppTest) with a real built-in model on the first rows of a shared
review file: the column lands in the table and agrees with the labels this often.

    python -m eval.ai_column_page_check --rows 6 --model qwen2.5-coder-0.5b-instruct
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "tables" / "sentiment" / "chnsenticorp_dev.csv"


def main(argv: list[str] | None = None) -> int:
    """Load the first --rows reviews on the page, run the AI column, print the label/answer counts and seconds."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=6)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    args = ap.parse_args(argv)
    from streamlit.testing.v1 import AppTest
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"reviews{args.rows}.csv"
        pd.read_csv(DATA, dtype=str).head(args.rows).to_csv(path, index=False)
        at = AppTest.from_file(str(ROOT / "pages" / "chatbi.py"), default_timeout=1800)
        at.session_state["app.provider"] = "local"
        at.session_state["app.model"] = args.model
        at.run()
        ws = at.session_state["bi.workspace"]
        ws.add_upload(path, path.name, path.stat().st_size)
        at.run()
        at.selectbox(key="bi.col.column").set_value("review")
        started = time.perf_counter()
        at.button(key="bi.col.run").click().run()
        seconds = time.perf_counter() - started
        if at.exception:
            print(at.exception, file=sys.stderr)
            return 1
        table = ws.files.table_names()[0]
        rows = ws.files.run(f'SELECT label, "AI", count(*) FROM "{table}" GROUP BY 1, 2 ORDER BY 1, 2').rows
        right = sum(n for label, ai, n in rows if label == ai)
        print(f"{args.model}: {right}/{args.rows} agree with the labels; (label, AI, rows) = {rows}; "
              f"{seconds:.1f} s; page says: {[s.value for s in at.success]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
