"""What reading a CSV cell by cell for office layouts (titles, units, totals, notes) costs on plain files.

Loads the same plain CSV (just under the 1 MB full-read size, and a 5 MB one where only the first and last lines
are looked at) with and without the layout pass; prints medians of 5 and the ratio.

    python bench/chatbi_layout_speed.py
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def plain_csv(path: Path, mb: float) -> Path:
    """A plain sales CSV of about mb megabytes."""
    lines = ["日期,城市,产品,销售额,数量"]
    i = 0
    while sum(len(s.encode()) + 1 for s in lines[-1:]) * len(lines) < mb * 1024 * 1024:
        lines.append(f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d},城市{i % 30},产品{i % 50},{(i * 37) % 10000},{i % 9}")
        i += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def median_load(path: Path, layout: bool, runs: int = 5) -> float:
    """Median seconds to load the file into a fresh DuckSession."""
    from services.chatbi import loading
    from services.chatbi.engine import DuckSession
    saved = loading.GRID_MAX_MB
    times = []
    try:
        loading.GRID_MAX_MB = saved if layout else 0
        for _ in range(runs):
            session = DuckSession()
            start = time.perf_counter()
            session.add_file(path)
            times.append(time.perf_counter() - start)
            session.close()
    finally:
        loading.GRID_MAX_MB = saved
    return statistics.median(times)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (0.9, 5):
            path = plain_csv(Path(tmp) / f"plain_{mb}.csv", mb)
            with_layout = median_load(path, True)
            without = median_load(path, False)
            print(f"{mb} MB plain CSV: with layout pass {with_layout:.3f} s, DuckDB reader only {without:.3f} s, "
                  f"ratio {with_layout / without:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
