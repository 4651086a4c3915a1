"""ChatBI speed on this machine, side by side with pandas in one run: load a 1,000,000-row CSV, then group by.

    python bench/chatbi_speed.py                 # 1,000,000 rows, 5 repetitions, medians
    python bench/chatbi_speed.py --rows 200000 --repeat 3

Goals (issue 7): load under 3 s, group-by under 0.2 s. "ChatBI" is the full app path: encoding and layout
sniffing, DuckDB's CSV reader in a private connection, the thousands-separator pass, hand-over to the locked
session connection, and for the query the guard plus the row-limited run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GROUP_SQL = ('SELECT region, product, sum(amount) AS total, avg(quantity) AS avg_qty, count(*) AS n '
             'FROM sales GROUP BY region, product ORDER BY total DESC')


def make_csv(path: Path, rows: int) -> None:
    """A realistic sales CSV: dates, two text dimensions, a decimal amount and an integer quantity."""
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT DATE '2020-01-01' + CAST(i % 1461 AS INTEGER) AS order_date,
                     'region_' || CAST(i % 17 AS VARCHAR) AS region,
                     'product_' || CAST((i * 7) % 101 AS VARCHAR) AS product,
                     round(((i * 7919) % 100000) / 100.0, 2) AS amount,
                     CAST(1 + i % 9 AS INTEGER) AS quantity
              FROM range({rows}) AS t(i)) TO '{path}' (HEADER, DELIMITER ',')""").fetchall()
    con.close()


def timed(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "chatbi_speed.json"))
    args = parser.parse_args(argv)

    import pandas as pd

    from services.chatbi.engine import DuckSession

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sales.csv"
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6

        def chatbi_load():
            session = DuckSession()
            session.add_file(path)
            return session

        load_chatbi, session = timed(chatbi_load, args.repeat)
        load_pandas, frame = timed(lambda: pd.read_csv(path, parse_dates=["order_date"]), args.repeat)
        rows = session.tables["sales"].rows
        assert rows == len(frame) == args.rows

        group_chatbi, result = timed(lambda: session.run(GROUP_SQL), args.repeat)
        # The same query straight to DuckDB, without the guard and row cap, to show what they cost.
        group_raw, _ = timed(lambda: session.internal_query(GROUP_SQL), args.repeat)
        group_pandas, pandas_result = timed(
            lambda: frame.groupby(["region", "product"], sort=False)
            .agg(total=("amount", "sum"), avg_qty=("quantity", "mean"), n=("amount", "size"))
            .sort_values("total", ascending=False), args.repeat)
        assert len(result.rows) == len(pandas_result)
        assert abs(float(result.rows[0][2]) - float(pandas_result["total"].iloc[0])) < 1e-3
        session.close()

    report = {
        "rows": args.rows, "csv_mb": round(size_mb, 1), "repeat": args.repeat,
        "load_s": {"chatbi_duckdb": round(load_chatbi, 3), "pandas_read_csv": round(load_pandas, 3),
                   "ratio_pandas_over_chatbi": round(load_pandas / load_chatbi, 2), "goal_s": 3.0,
                   "goal_met": load_chatbi < 3.0},
        "group_by_s": {"chatbi_duckdb": round(group_chatbi, 4), "duckdb_without_guard": round(group_raw, 4),
                       "pandas_groupby": round(group_pandas, 4),
                       "ratio_pandas_over_chatbi": round(group_pandas / group_chatbi, 2), "goal_s": 0.2,
                       "goal_met": group_chatbi < 0.2},
    }
    print(f"{args.rows:,} rows, {size_mb:.1f} MB CSV, median of {args.repeat}")
    print(f"{'':12}{'ChatBI (DuckDB)':>18}{'pandas':>12}{'pandas/ChatBI':>15}{'goal':>8}")
    for label, key, other in (("load", "load_s", "pandas_read_csv"), ("group by", "group_by_s", "pandas_groupby")):
        r = report[key]
        print(f"{label:12}{r['chatbi_duckdb']:>16.3f} s{r[other]:>10.3f} s{r['ratio_pandas_over_chatbi']:>14.2f}x"
              f"{'< ' + str(r['goal_s']) + ' s':>8} {'met' if r['goal_met'] else 'MISSED'}")
    print(f"(group by straight to DuckDB, no guard or row cap: {group_raw:.3f} s)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
