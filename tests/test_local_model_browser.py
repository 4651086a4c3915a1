"""The built-in model's server killed in the middle of a streamed answer, seen in a real browser: the app stays up,
the part received stays on screen marked as cut with the cause in Chinese, and the next question is answered by a
new server process."""
from __future__ import annotations

import os
import signal
import time
import urllib.request
from urllib.parse import urlparse

import psutil

from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures


def model_server_of(app_port: int, timeout_s: float = 300) -> psutil.Process:
    """The built-in model server started by the app listening on app_port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for proc in psutil.process_iter(["cmdline"]):
            cmd = " ".join(proc.info["cmdline"] or [])
            if "services.local_model.server" not in cmd:
                continue
            try:
                parent = " ".join(proc.parent().cmdline())
            except (psutil.Error, AttributeError):
                continue
            if "streamlit" in parent and str(app_port) in parent:
                return proc
        time.sleep(0.5)
    raise AssertionError("the app started no model server")


def test_killing_the_model_server_mid_answer_keeps_the_app_and_the_conversation(tmp_path, browser_page):
    page = browser_page
    with running_app(tmp_path, {"ASSISTANT_LOCAL_MAX_TOKENS": "400", "ASSISTANT_LOCAL_PREWARM": "1"}) as url:
        port = urlparse(url).port
        page.goto(url)
        page.get_by_text("local · qwen2.5-coder-1.5b-instruct").wait_for()
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("请详细介绍一下中国的四大发明，每一项写一段。")
        box.press("Enter")
        answer = page.get_by_test_id("stChatMessage").nth(1)
        answer.wait_for(timeout=300_000)
        server = model_server_of(port)
        # Kill once the answer itself is streaming (the bubble first shows the step and the seconds waited).
        words = ("造纸", "指南针", "火药", "印刷")
        deadline = time.monotonic() + 300
        while not any(w in answer.inner_text() for w in words) and time.monotonic() < deadline:
            time.sleep(0.2)
        text = answer.inner_text()
        assert any(w in text for w in words), "the answer never started streaming"
        os.kill(server.pid, signal.SIGKILL)
        word = next(w for w in words if w in text)
        partial = text[text.index(word):text.index(word) + len(word)]

        page.get_by_text("回答未完成（已中断），以上为已收到的部分。").wait_for(timeout=120_000)
        cut = page.get_by_test_id("stChatMessage").nth(1).inner_text()
        assert partial in cut, "the part received stays on screen"
        assert "意外停止" in cut and "SIGKILL" in cut and "重启" in cut  # the cause, in the user's language
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "local-model-killed.png"), full_page=True)
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as health:
            assert health.status == 200, "the app itself stays up"

        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("中国的首都是哪座城市？请只回答城市名。")
        box.press("Enter")
        nxt = page.get_by_test_id("stChatMessage").nth(3)
        nxt.wait_for(timeout=300_000)
        page.get_by_text("北京").first.wait_for(timeout=300_000)
        assert "北京" in nxt.inner_text()
        assert model_server_of(port).pid != server.pid, "a new server process answered"
        # The first question and its cut answer are still in the conversation.
        assert partial in page.get_by_test_id("stChatMessage").nth(1).inner_text()
