"""Speed and prompt size of the extractor, side by side with the alternatives, in one run.

    python bench/financials_bench.py [--runs 5] [--pdfplumber]
    python bench/financials_bench.py --batch [--workers 1 2]   # reports per minute of the batch runner

Per report: median seconds for open + text layer + locate + table parse (no model), the same normalised to a
200-page report, and the tokens the model is sent (located pages only) against the whole document's tokens
(what stuffing the report into the prompt would cost). Synthetic 200- and 500-page reports (drawn with PyMuPDF)
check the 200-page goal directly. --pdfplumber also times pdfplumber's extract_tables() on just the located
statement pages (one run), the usual alternative to PyMuPDF for table parsing. (pdfplumber reading every page's
text took 136 s for the 156-page Chinese report on this loaded machine, so that variant is not offered.)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# ../shared/data beside the project; SHARED_DATA_DIR points elsewhere (e.g. from a git worktree).
DATA = (Path(os.environ.get("SHARED_DATA_DIR") or ROOT / ".." / "shared" / "data") / "reports").resolve()

from services.financials.service import analyze  # noqa: E402


def synthetic(pages: int, folder: Path) -> Path:
    """A Chinese report padded with prose pages to the given length."""
    from tests.test_financials_pdfs import cn_report
    return cn_report(folder / f"synthetic_{pages}p.pdf", filler_pages=pages - 9)


def batch_throughput(workers_list: list[int]) -> None:
    """Reports per minute of `python -m services financials DIR --workers N` (run_batch, fresh folder each time)
    over every shared report, cn/extra included; wall time includes starting the worker processes."""
    from services.financials.batch import run_batch
    files = sorted(DATA.rglob("*.pdf"))
    files = [f for f in files if "more" not in f.parts]
    print(f"{len(files)} reports, {sum(_pages(f) for f in files)} pages")
    for workers in workers_list:
        folder = Path(tempfile.mkdtemp(prefix=f"fin-batch-{workers}-"))
        start = time.perf_counter()
        run_batch(files, folder, workers=workers, lang="zh")
        took = time.perf_counter() - start
        print(f"workers {workers}: {took:6.1f} s  →  {len(files) / took * 60:5.1f} reports/minute", flush=True)


def _pages(pdf: Path) -> int:
    import pymupdf
    with pymupdf.open(pdf) as doc:
        return len(doc)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pdfplumber", action="store_true")
    ap.add_argument("--batch", action="store_true", help="reports per minute of the batch runner")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    if args.batch:
        batch_throughput(args.workers)
        return 0
    files = sorted(DATA.glob("*/*.pdf")) if DATA.is_dir() else []
    tmp = Path(tempfile.mkdtemp(prefix="fin-bench-"))
    files += [synthetic(200, tmp), synthetic(500, tmp)]
    print(f"{'report':40s} {'pages':>5s} {'median s':>9s} {'s/200p':>7s} {'tokens sent':>11s} {'whole doc':>9s} {'ratio':>6s}"
          + (f" {'pdfplumber tables on located pages s':>12s}" if args.pdfplumber else ""))
    ratios, per200 = [], []
    for pdf in files:
        times = []
        for _ in range(args.runs):
            r = analyze(pdf, lang="zh")
            times.append(r.elapsed_s)  # open + text + locate + table parse; not the whole-document token count
        med = statistics.median(times)
        ratio = r.tokens_document / max(r.tokens_sent, 1)
        ratios.append(ratio)
        per200.append(med * 200 / r.pages_total)
        line = (f"{pdf.name:40s} {r.pages_total:5d} {med:9.2f} {med * 200 / r.pages_total:7.2f} "
                f"{r.tokens_sent:11d} {r.tokens_document:9d} {ratio:5.0f}×")
        if args.pdfplumber:
            import pdfplumber
            located = sorted({p for k in ("balance_sheet", "income_statement") for p in r.extraction.located.get(k, [])})
            start = time.perf_counter()
            with pdfplumber.open(pdf) as doc:
                for p in located:
                    doc.pages[p - 1].extract_tables()
            line += f" {time.perf_counter() - start:12.2f}"
        print(line, flush=True)
    print(f"\nmedian seconds per 200 pages: {statistics.median(per200):.2f}; "
          f"median token reduction: {statistics.median(ratios):.0f}× (min {min(ratios):.0f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
