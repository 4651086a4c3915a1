"""A real browser (Debian's headless Chromium driven by Playwright) against `streamlit run app.py`: a conversation
survives a page reload."""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures


@pytest.fixture
def app_server(tmp_path):
    """The app answering from a replay file (the documented test hook)."""
    replies = tmp_path / "replies.jsonl"
    replies.write_text(json.dumps({"content": "巴黎是法国的首都。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    with running_app(tmp_path, {"ASSISTANT_REPLAY_FILE": str(replies)}) as url:
        yield url


class SlowOpenAIHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible /chat/completions that streams one short piece every 0.25 s for a minute."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for n in range(1, 241):
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": {"content": f"第{n}段。"}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.25)
            self.wfile.write(b"data: [DONE]\n\n")
        except OSError:
            pass  # the app closed the stream: Stop was pressed


@pytest.fixture
def slow_app_server(tmp_path):
    """The app on the vLLM provider, pointed at a loopback server that writes slowly."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowOpenAIHandler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with running_app(tmp_path, {"VLLM_BASE_URL": f"http://127.0.0.1:{httpd.server_address[1]}/v1",
                                    "ASSISTANT_CHAT_PROVIDER": "vllm"}) as url:
            yield url
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_conversation_survives_a_page_reload(app_server, browser_page):
    page = browser_page
    page.goto(app_server)
    sidebar = page.get_by_test_id("stSidebar")
    # With ASSISTANT_REPLAY_FILE set the page starts on the replay provider (the documented test hook).
    page.get_by_text("replay · replay").wait_for()

    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("法国的首都是哪里？")
    box.press("Enter")
    page.get_by_text("巴黎是法国的首都。").wait_for()
    page.wait_for_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
    assert re.search(r"[?&]u=[0-9a-f]{32}", page.url)
    before = page.url

    page.reload()
    page.get_by_text("巴黎是法国的首都。").wait_for()
    page.get_by_test_id("stChatMessage").filter(has_text="法国的首都是哪里？").wait_for()
    assert page.url == before
    conversation_button = sidebar.get_by_role("button", name="法国的首都是哪里？")
    conversation_button.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-after-reload.png"), full_page=True)

    # Another browser (no cookies, no link) gets its own empty list, not this conversation.
    other = page.context.browser.new_context().new_page()
    other.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    other.goto(app_server)
    other.get_by_text("还没有保存的对话。").wait_for()
    assert other.get_by_text("巴黎是法国的首都。").count() == 0
    assert re.search(r"[?&]u=[0-9a-f]{32}", other.url) and other.url.split("u=")[1][:32] != before.split("u=")[1][:32]


def test_stop_in_the_browser_keeps_the_partial_answer_marked_stopped(slow_app_server, browser_page):
    page = browser_page
    page.goto(slow_app_server)
    page.get_by_text("vllm · Qwen/Qwen2.5-7B-Instruct").wait_for()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("写一篇很长的文章")
    box.press("Enter")
    page.get_by_text("第3段。", exact=False).first.wait_for()
    page.get_by_role("button", name="停止生成").click()
    try:
        page.get_by_text("已停止生成。").wait_for()
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "chat-stop-failed.png"), full_page=True)
        raise
    page.wait_for_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
    answer = page.get_by_test_id("stChatMessage").nth(1).inner_text()
    assert "第1段。" in answer and "第240段。" not in answer

    page.reload()
    page.get_by_text("已停止生成。").wait_for()
    assert "第1段。" in page.get_by_test_id("stChatMessage").nth(1).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-stopped.png"), full_page=True)
