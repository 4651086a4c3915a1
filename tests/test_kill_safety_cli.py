"""Data safety (issue 9, item 6), command-line half: `python -m services kb add` and `python -m services financials`
are killed (SIGKILL) mid-run; afterwards nothing stored is corrupt, only complete files are listed, the finished
reports are kept, and running the command again completes the work."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pymupdf
from tests.browser import ROOT
from tests.test_financials_pdfs import cn_report
from tests.test_kill_safety import SlowJSONModel, _integrity, _sigkill


# ---------------------------------------------------------------------------------------------------------------
# (b) knowledge base: the indexing command dies in the middle of a big file
# ---------------------------------------------------------------------------------------------------------------
def _text_pdf(path: Path, pages: int, topic: str) -> Path:
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page()
        lines = [f"{topic} chapter {i + 1}"] + [f"Line {j} of page {i + 1}: {topic} figures grew while costs "
                                                f"stayed flat across every region." for j in range(40)]
        page.insert_textbox(pymupdf.Rect(40, 40, 560, 820), "\n".join(lines), fontsize=8)
    doc.save(path)
    return path


def _cli(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _kill_when(proc: subprocess.Popen, stream, marker: str, after_s: float, timeout_s: float = 180) -> str:
    """Read the process's output until marker appears, wait after_s, then SIGKILL it; returns what was read."""
    seen = ""
    found = threading.Event()

    def read():
        nonlocal seen
        while True:
            ch = stream.read(1)
            if not ch:
                return
            seen += ch
            if marker in seen:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout_s), f"never saw {marker!r}: {seen[-2000:]}"
    time.sleep(after_s)
    assert proc.poll() is None, f"finished before it could be killed: {seen[-2000:]}"
    _sigkill(proc)
    return seen


def test_indexing_killed_mid_file_lists_only_complete_files(tmp_path):
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    small = [_text_pdf(tmp_path / f"small{i}.pdf", 3, f"topic{i}") for i in (1, 2)]
    big = _text_pdf(tmp_path / "big.pdf", 120, "bigtopic")
    last = _text_pdf(tmp_path / "small3.pdf", 3, "topic3")
    proc = subprocess.Popen([sys.executable, "-m", "services", "kb", "add", "--kb", "kill-test", "--embedder", "bm25",
                             *map(str, small), str(big), str(last)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _kill_when(proc, proc.stderr, "big.pdf", after_s=0.5)

    chroma_db = tmp_path / "data" / "kb" / "chroma.sqlite3"
    assert _integrity(chroma_db) == "ok"
    listed = _cli(["kb", "list", "--kb", "kill-test"], env)
    assert listed.returncode == 0, listed.stderr
    assert "small1.pdf" in listed.stdout and "small2.pdf" in listed.stdout
    assert "big.pdf" not in listed.stdout and "small3.pdf" not in listed.stdout
    # The same store, opened in this process: search sees only the complete files; the interrupted files can
    # simply be added again (the half-written chunks are removed first), and nothing is doubled.
    from services.kb import KBStore, add_files, retrieve
    from services.kb.embeddings import KeywordOnly
    from services.kb.store import chroma_client
    store = KBStore(chroma_client(tmp_path / "data" / "kb"))
    hits = retrieve("kill-test", "bigtopic figures", 5, mode="bm25", store=store)
    assert hits and {h.file for h in hits} <= {"small1.pdf", "small2.pdf"}
    again = add_files("kill-test", [(big, "big.pdf"), (last, "small3.pdf")], store=store, embedder=KeywordOnly())
    assert [o.status for o in again] == ["added", "added"]
    files = {r.file: r for r in store.files("kill-test")}
    assert set(files) == {"small1.pdf", "small2.pdf", "big.pdf", "small3.pdf"}
    chunks = store.chunks("kill-test")
    assert len(chunks) == sum(r.chunks for r in files.values())
    assert len({c.id for c in chunks}) == len(chunks)
    assert _integrity(chroma_db) == "ok"


# ---------------------------------------------------------------------------------------------------------------
# (c) financial extraction: the batch command dies between reports
# ---------------------------------------------------------------------------------------------------------------
def test_extraction_batch_killed_keeps_every_finished_report(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowJSONModel)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
           "VLLM_BASE_URL": f"http://127.0.0.1:{httpd.server_address[1]}/v1"}
    reports = [cn_report(tmp_path / f"r{i}.pdf", company=f"测试{i}股份有限公司", code=f"60012{i}", year=2020 + i)
               for i in range(1, 5)]
    batch = tmp_path / "batch"
    out_csv = tmp_path / "out.csv"
    args = ["financials", *map(str, reports), "--provider", "vllm", "--lang", "en", "--save-dir", str(batch),
            "--csv", str(out_csv), "--json"]
    try:
        proc = subprocess.Popen([sys.executable, "-m", "services", *args], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = _kill_when(proc, proc.stderr, "Done and saved: r2.pdf", after_s=0.5)
        assert "r4.pdf (4/4)" not in seen

        # Only complete, valid result files; the unfinished reports are simply absent; no half-written export.
        files = sorted(p.name for p in batch.iterdir())
        assert not [f for f in files if f.endswith(".part")], files
        from services.financials.batch import saved_results
        done = saved_results(batch)
        assert [d["file"] for d in done][:2] == ["r1.pdf", "r2.pdf"] and len(done) in (2, 3)
        for path in batch.glob("*.json"):
            json.loads(path.read_text(encoding="utf-8"))
        assert done[0]["fields"]["total_assets"]["value"] == 5000000.0 and done[0]["stock_code"] == "600121"
        assert not out_csv.exists()

        # Run again with the same folder: finished reports are reused, the rest done; the export is complete.
        finished = _cli(args, env)
        assert finished.returncode == 0, finished.stderr
        assert "r1.pdf finished earlier" in finished.stderr and "r2.pdf finished earlier" in finished.stderr
        assert "Done and saved: r4.pdf (4/4)" in finished.stderr
        data = json.loads(finished.stdout)
        assert [d["file"] for d in data] == ["r1.pdf", "r2.pdf", "r3.pdf", "r4.pdf"]
        assert [d["stock_code"] for d in data] == ["600121", "600122", "600123", "600124"]
        from services.financials import export
        assert out_csv.read_bytes() == export.to_csv(data, "en")  # complete: every report, written at once
    finally:
        httpd.shutdown()
        httpd.server_close()


