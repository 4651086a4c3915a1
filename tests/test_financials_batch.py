"""`python -m services financials DIR --workers N`: parallel processes, progress with time left, one summary with
a status column, and a run killed half-way resumes without redoing finished reports."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.test_financials_pdfs import cn_institution_report, cn_report

ROOT = Path(__file__).resolve().parents[1]


def _folder(tmp_path: Path, n: int = 4) -> Path:
    reports = tmp_path / "reports"
    reports.mkdir()
    for i in range(n - 1):
        cn_report(reports / f"r{i + 1}.pdf", code=f"60012{i + 1}", filler_pages=40)
    cn_institution_report(reports / f"r{n}.pdf", statement_unit=False, unit_line="单位：人民币百万元")
    return reports


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}


def test_folder_in_parallel_with_progress_and_summary(tmp_path):
    reports = _folder(tmp_path)
    save = tmp_path / "batch"
    run = subprocess.run([sys.executable, "-m", "services", "financials", str(reports), "--no-llm", "--workers", "2",
                          "--lang", "en", "--save-dir", str(save), "--summary", str(tmp_path / "s.csv")],
                         cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("Done and saved:") == 4 and "(4/4), about" in run.stderr and "left" in run.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text("utf-8-sig"))))
    assert [r["File"] for r in rows] == ["r1.pdf", "r2.pdf", "r3.pdf", "r4.pdf"]
    assert [r["Overall status"] for r in rows] == ["verified", "verified", "verified", "conflict"]
    assert rows[3]["Revenue · Status"] == "conflict"
    assert (save / "summary.csv").is_file() and (save / "summary.xlsx").is_file()


def test_killed_batch_resumes_without_redoing_finished_reports(tmp_path):
    reports = _folder(tmp_path, n=6)
    save = tmp_path / "batch"
    args = [sys.executable, "-m", "services", "financials", str(reports), "--no-llm", "--workers", "1", "--lang", "en",
            "--save-dir", str(save)]
    proc = subprocess.Popen(args, cwd=ROOT, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    seen = ""
    deadline = time.time() + 240
    while time.time() < deadline:
        line = proc.stderr.readline()
        seen += line
        if "Done and saved: r2.pdf" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert "Done and saved: r2.pdf" in seen and "(6/6)" not in seen
    again = subprocess.run(args, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "r1.pdf finished earlier" in again.stderr and "r2.pdf finished earlier" in again.stderr
    assert "Done and saved: r1.pdf" not in again.stderr and "(6/6)" in again.stderr
    rows = list(csv.DictReader(io.StringIO((save / "summary.csv").read_text("utf-8-sig"))))
    assert [r["File"] for r in rows] == [f"r{i}.pdf" for i in range(1, 7)]
