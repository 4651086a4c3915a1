"""Model faults seen in a real browser: `streamlit run app.py`, headless Chromium, the chat page on a loopback
OpenAI-protocol stub that first fails with a 500 (retried: the user only sees the answer) and then cuts a stream
mid-answer (the part received stays on screen, marked, and survives a reload)."""
from __future__ import annotations

import re

from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures
from tests.stubs import Reply, openai_stub

FIRST = "押金在租期届满后七日内退还。"
SECOND = "违约金按日万分之五计算，超过部分无效，且出租方须提前通知才可进入房屋。"


def shown(page, text: str):
    """The text as drawn in the conversation: the collapsed copy box under each answer holds it a second time."""
    return page.get_by_test_id("stChatMessage").get_by_test_id("stMarkdownContainer").get_by_text(text)


def chat_calls(stub) -> int:
    return sum(1 for r in stub.requests if r["path"].endswith("/chat/completions"))


def test_chat_in_a_browser_retries_a_500_and_keeps_a_cut_answer_marked(tmp_path, browser_page):
    page = browser_page
    with openai_stub() as stub:
        stub.default = Reply(status=500, text="unscripted")
        stub.replies = [Reply(status=500), Reply(text=FIRST)]
        env = {"ASSISTANT_CHAT_PROVIDER": "vllm", "VLLM_BASE_URL": f"http://127.0.0.1:{stub.port}/v1",
               "VLLM_API_KEY": stub.api_key}
        with running_app(tmp_path, env) as url:
            page.goto(url)
            page.get_by_text("vllm · Qwen/Qwen2.5-7B-Instruct").wait_for()
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("押金什么时候退？")
            box.press("Enter")
            shown(page, FIRST).wait_for()
            assert chat_calls(stub) == 2, "the 500 was retried once, then answered"
            assert page.get_by_test_id("stAlertContentError").count() == 0

            stub.replies = [Reply(text=SECOND, cut_after=3)]  # 3 pieces of 4 characters, then the server hangs up
            box.fill("违约金呢？")
            box.press("Enter")
            page.get_by_text("回答未完成（已中断），以上为已收到的部分。").wait_for()
            page.wait_for_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
            messages = page.get_by_test_id("stChatMessage")
            cut = messages.nth(3).inner_text()
            assert SECOND[:12] in cut and SECOND not in cut
            assert chat_calls(stub) == 3, "an answer already on screen is not asked for again"
            assert "断开了连接" in cut and "dropped the connection" not in cut  # the cause in the user's language
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "faults-chat.png"), full_page=True)

            # The conversation, cut answer included, is stored: a reload shows it again, still marked.
            page.reload()
            shown(page, FIRST).wait_for()
            page.get_by_text("回答未完成（已中断），以上为已收到的部分。").wait_for()
            assert SECOND[:12] in page.get_by_test_id("stChatMessage").nth(3).inner_text()

            # And the next question works.
            stub.replies = [Reply(text="好的，已记录。")]
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("谢谢")
            box.press("Enter")
            shown(page, "好的，已记录。").wait_for()
            assert page.get_by_test_id("stChatMessage").count() == 6
