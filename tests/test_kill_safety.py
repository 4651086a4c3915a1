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


class SlowJSONModel(BaseHTTPRequestHandler):
    """An OpenAI-compatible model that takes 1 s per answer (and answers with prose, so the table parse stands)."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(1)
        body = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_server_killed_during_a_page_batch_shows_the_finished_reports_after_restart(tmp_path, browser_page):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowJSONModel)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {"VLLM_BASE_URL": f"http://127.0.0.1:{httpd.server_address[1]}/v1", "ASSISTANT_CHAT_PROVIDER": "vllm"}
    reports = [cn_report(tmp_path / f"r{i}.pdf", company=f"测试{i}股份有限公司", code=f"60012{i}", year=2020 + i)
               for i in range(1, 4)]
    page = browser_page
    kept = tmp_path / "data" / "sessions"
    proc, url = _start_app(tmp_path, env, "streamlit-1.log")
    try:
        page.goto(url + "/financials")
        page.get_by_text("上传财报 PDF").wait_for()
        browser_id = re.search(r"[?&]u=([0-9a-f]{32})", page.url).group(1)
        page.locator("input[type=file]").first.set_input_files([str(p) for p in reports])
        page.get_by_text("r3.pdf").first.wait_for()
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
    assert files == ["r1.pdf", "r2.pdf"]

    proc, url = _start_app(tmp_path, env, "streamlit-2.log")
    try:
        page.goto(f"{url}/financials?u={browser_id}")
        page.get_by_text("已恢复此前完成的", exact=False).wait_for()
        details = page.get_by_test_id("stExpander")
        details.filter(has_text="r1.pdf").first.wait_for()
        titles = " ".join(details.all_inner_texts())
        assert "r1.pdf" in titles and "r2.pdf" in titles and "r3.pdf" not in titles
        assert page.get_by_test_id("stException").count() == 0
        page.wait_for_timeout(1500)
        details.filter(has_text="r2.pdf").first.wait_for()
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
