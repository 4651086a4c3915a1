"""Data safety (issue 9, item 6): the server or the command is killed (SIGKILL) in the middle of a chat answer, a
knowledge-base indexing run and a financial-extraction batch. After a restart nothing stored is corrupt and the
user sees what finished."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pymupdf
import pytest
from tests.browser import ARTIFACTS, ROOT, browser_page  # noqa: F401 - fixture
from tests.servers import free_port, stop, wait_for_http
from tests.test_chat_browser import SlowOpenAIHandler
from tests.test_financials_pdfs import cn_report


def _start_app(tmp: Path, env: dict, log_name: str) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port, its data in tmp (same folders on every restart)."""
    port = free_port()
    full_env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp / "data"), "ASSISTANT_CHAT_DB": str(tmp / "chat.db"), **env}
    log = (tmp / log_name).open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/_stcore/health", proc, lambda: (tmp / log_name).read_text(errors="replace"), 120)
    return proc, url


def _sigkill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture
def slow_model():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowOpenAIHandler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------------------------------------------------------
# (a) chat: the server dies while an answer streams
# ---------------------------------------------------------------------------------------------------------------
def test_server_killed_mid_answer_keeps_the_question_and_the_partial_answer_marked(tmp_path, slow_model,
                                                                                  browser_page):
    page = browser_page
    env = {"VLLM_BASE_URL": slow_model, "ASSISTANT_CHAT_PROVIDER": "vllm"}
    proc, url = _start_app(tmp_path, env, "streamlit-1.log")
    try:
        page.goto(url)
        page.get_by_text("vllm · ", exact=False).first.wait_for()
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("写一篇很长的文章")
        box.press("Enter")
        page.get_by_text("第8段。", exact=False).first.wait_for()  # ~2 s of answer: at least one draft kept
        browser_id = re.search(r"[?&]u=([0-9a-f]{32})", page.url).group(1)
    finally:
        _sigkill(proc)

    db = tmp_path / "chat.db"
    assert _integrity(db) == "ok"
    with sqlite3.connect(db) as con:
        drafts = con.execute("SELECT content FROM chat_drafts").fetchall()
        questions = con.execute("SELECT content FROM chat_messages WHERE role='user'").fetchall()
    assert questions == [("写一篇很长的文章",)]
    assert len(drafts) == 1 and "第1段。" in drafts[0][0] and "第240段。" not in drafts[0][0]

    proc, url = _start_app(tmp_path, env, "streamlit-2.log")
    try:
        page.goto(f"{url}/?u={browser_id}")
        page.get_by_test_id("stSidebar").get_by_role("button", name="写一篇很长的文章").click()
        page.get_by_text("回答未完成", exact=False).first.wait_for()
        messages = page.get_by_test_id("stChatMessage")
        assert "写一篇很长的文章" in messages.nth(0).inner_text()
        answer = messages.nth(1).inner_text()
        assert "第1段。" in answer and "第240段。" not in answer
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kill-chat-after-restart.png"), full_page=True)
        assert page.get_by_test_id("stException").count() == 0
    finally:
        stop(proc, grace_s=20)
    assert _integrity(db) == "ok"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM chat_drafts").fetchone()[0] == 0
        rows = con.execute("SELECT role, status FROM chat_messages ORDER BY id").fetchall()
    assert rows == [("user", "ok"), ("assistant", "interrupted")]


# ---------------------------------------------------------------------------------------------------------------
# (b) knowledge base: the indexing command dies in the middle of a big file
# ---------------------------------------------------------------------------------------------------------------
def _text_pdf(path: Path, pages: int, topic: str) -> Path:
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page()
        page.insert_text((50, 60), f"{topic} chapter {i + 1}", fontsize=14)
        for j in range(40):
            page.insert_text((50, 90 + 17 * j), f"Line {j} of page {i + 1}: {topic} figures grew while costs "
                                                f"stayed flat across every region.", fontsize=8)
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
    big = _text_pdf(tmp_path / "big.pdf", 300, "bigtopic")
    last = _text_pdf(tmp_path / "small3.pdf", 3, "topic3")
    proc = subprocess.Popen([sys.executable, "-m", "services", "kb", "add", "--kb", "kill-test", "--embedder", "bm25",
                             *map(str, small), str(big), str(last)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _kill_when(proc, proc.stderr, "big.pdf", after_s=1.5)

    chroma_db = tmp_path / "data" / "kb" / "chroma.sqlite3"
    assert _integrity(chroma_db) == "ok"
    listed = _cli(["kb", "list", "--kb", "kill-test"], env)
    assert listed.returncode == 0, listed.stderr
    assert "small1.pdf" in listed.stdout and "small2.pdf" in listed.stdout
    assert "big.pdf" not in listed.stdout and "small3.pdf" not in listed.stdout
    found = _cli(["kb", "search", "--kb", "kill-test", "bigtopic figures", "--mode", "bm25", "--json"], env)
    assert found.returncode == 0, found.stderr
    assert {hit["file"] for hit in json.loads(found.stdout)} <= {"small1.pdf", "small2.pdf"}

    # The interrupted files can simply be added again; the half-written chunks were removed, nothing doubled.
    again = _cli(["kb", "add", "--kb", "kill-test", str(big), str(last), "--json"], env)
    assert again.returncode == 0, again.stderr
    assert [o["status"] for o in json.loads(again.stdout)] == ["added", "added"]
    from services.kb import KBStore
    from services.kb.store import chroma_client
    store = KBStore(chroma_client(tmp_path / "data" / "kb"))
    files = {r.file: r for r in store.files("kill-test")}
    assert set(files) == {"small1.pdf", "small2.pdf", "big.pdf", "small3.pdf"}
    chunks = store.chunks("kill-test")
    assert len(chunks) == sum(r.chunks for r in files.values())
    assert _integrity(chroma_db) == "ok"


# ---------------------------------------------------------------------------------------------------------------
# (c) financial extraction: the batch command dies between reports
# ---------------------------------------------------------------------------------------------------------------
class SlowJSONModel(BaseHTTPRequestHandler):
    """An OpenAI-compatible model that takes 2 s per answer (and answers with prose, so the table parse stands)."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(2)
        body = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


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


def test_server_killed_during_a_page_batch_shows_the_finished_reports_after_restart(tmp_path, browser_page):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowJSONModel)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {"VLLM_BASE_URL": f"http://127.0.0.1:{httpd.server_address[1]}/v1", "ASSISTANT_CHAT_PROVIDER": "vllm"}
    reports = [cn_report(tmp_path / f"r{i}.pdf", company=f"测试{i}股份有限公司", code=f"60012{i}", year=2020 + i)
               for i in range(1, 5)]
    page = browser_page
    kept = tmp_path / "data" / "sessions"
    proc, url = _start_app(tmp_path, env, "streamlit-1.log")
    try:
        page.goto(url + "/financials")
        page.get_by_text("上传财报 PDF").wait_for()
        browser_id = re.search(r"[?&]u=([0-9a-f]{32})", page.url).group(1)
        page.locator("input[type=file]").first.set_input_files([str(p) for p in reports])
        page.get_by_text("r4.pdf").first.wait_for()
        page.get_by_text("同时让模型读取定位页并交叉核对").click()
        page.get_by_role("button", name="开始提取").click()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(kept.glob("*/financials/*.json"))) < 2:
            time.sleep(0.2)
        assert len(list(kept.glob("*/financials/*.json"))) == 2
    finally:
        _sigkill(proc)

    saved = list(kept.glob("*/financials/*"))
    assert saved and all(p.suffix == ".json" for p in saved)  # no half-written (.part) file
    files = sorted(json.loads(p.read_text(encoding="utf-8"))["result"]["file"] for p in saved)
    assert files[:2] == ["r1.pdf", "r2.pdf"] and "r4.pdf" not in files

    proc, url = _start_app(tmp_path, env, "streamlit-2.log")
    try:
        page.goto(f"{url}/financials?u={browser_id}")
        page.get_by_text("已恢复此前完成的", exact=False).wait_for()
        details = page.get_by_test_id("stExpander")
        details.filter(has_text="r1.pdf").first.wait_for()
        titles = " ".join(details.all_inner_texts())
        assert "r1.pdf" in titles and "r2.pdf" in titles and "r4.pdf" not in titles
        assert page.get_by_test_id("stException").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kill-financials-after-restart.png"), full_page=True)
        # Another browser does not get these results.
        other = page.context.browser.new_context(locale="zh-CN").new_page()
        other.goto(url + "/financials")
        other.get_by_text("上传财报 PDF").wait_for()
        assert "已恢复此前完成的" not in other.content() and "r1.pdf" not in other.content()
    finally:
        stop(proc, grace_s=20)
        httpd.shutdown()
        httpd.server_close()
