"""The shared sidebar in a real browser: the language and the model chosen stay chosen across clicks."""
from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures


@pytest.fixture
def vllm_app(tmp_path):
    # Nothing listens on port 9: the app only has to list vLLM, not reach it.
    with running_app(tmp_path, {"VLLM_BASE_URL": "http://127.0.0.1:9/v1"}) as url:
        yield url


def test_model_and_language_choice_survive_clicks(vllm_app, browser_page):
    page = browser_page
    page.goto(vllm_app)
    page.get_by_text("vllm · Qwen/Qwen2.5-7B-Instruct").wait_for()
    page.get_by_role("button", name="新对话").click()
    page.get_by_role("button", name="新对话").click()
    page.get_by_text("vllm · Qwen/Qwen2.5-7B-Instruct").wait_for()
    assert page.get_by_text("local · smollm2-135m-instruct").count() == 0

    page.get_by_role("radiogroup", name="界面语言").get_by_text("English").click()
    page.get_by_role("button", name="New chat").wait_for()
    page.get_by_role("button", name="New chat").click()
    page.get_by_role("button", name="New chat").click()
    page.get_by_text("vllm · Qwen/Qwen2.5-7B-Instruct").wait_for()
    assert page.get_by_role("button", name="新对话").count() == 0


@pytest.fixture
def offline_app(tmp_path):
    # No key, no replay file, no endpoint: the built-in model is all there is.
    with running_app(tmp_path, {}) as url:
        yield url


def test_built_in_model_answers_in_the_browser_with_no_key(offline_app, browser_page):
    page = browser_page
    page.goto(offline_app)
    page.get_by_text("local · smollm2-135m-instruct").wait_for()
    page.get_by_text("内置离线小模型").first.wait_for()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("What is the capital of France?")
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.wait_for(timeout=180_000)
    page.get_by_text("tokens").first.wait_for(timeout=180_000)  # the numbers line appears once the answer is done
    assert len(answer.inner_text().split()) >= 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-local-model.png"), full_page=True)


@pytest.fixture
def agent_app(tmp_path):
    import json
    replies = tmp_path / "agent.jsonl"
    replies.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"content": "", "tool_calls": [{"name": "calculator", "args": {"expression": "(3000+1000-500)*1.2"},
                                        "id": "c1"}]},
        {"content": "计算结果是 4200。"},
    ]) + "\n", encoding="utf-8")
    with running_app(tmp_path, {"ASSISTANT_REPLAY_FILE": str(replies)}) as url:
        yield url


def test_agent_trace_and_answer_in_the_browser(agent_app, browser_page):
    page = browser_page
    page.goto(agent_app)
    page.get_by_text("replay · replay").wait_for()
    page.get_by_text("智能体模式").click()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("3000 加 1000 减 500 再乘 1.2")
    box.press("Enter")
    page.get_by_text("计算结果是 4200。").first.wait_for()
    trace = page.get_by_text("推理与工具调用过程").first
    trace.wait_for()
    trace.click()
    page.get_by_text('"result": "4200"').first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "chat-agent-trace.png"), full_page=True)
