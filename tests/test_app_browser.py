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
    assert page.get_by_text("local · qwen2.5-coder-1.5b-instruct").count() == 0

    page.get_by_role("radiogroup", name="界面语言").get_by_text("English").click()
    page.get_by_role("button", name="New chat").wait_for()
    page.get_by_role("button", name="New chat").click()
    page.get_by_role("button", name="New chat").click()
    page.get_by_text("vllm · Qwen/Qwen2.5-7B-Instruct").wait_for()
    assert page.get_by_role("button", name="新对话").count() == 0


@pytest.fixture
def offline_app(tmp_path):
    # No key, no replay file, no endpoint: the built-in model is all there is.
    with running_app(tmp_path, {"ASSISTANT_LOCAL_PREWARM": "1"}) as url:
        yield url


def test_built_in_model_answers_in_the_browser_with_no_key(offline_app, browser_page):
    page = browser_page
    page.goto(offline_app)
    page.get_by_text("local · qwen2.5-coder-1.5b-instruct").wait_for()
    page.get_by_text("内置离线模型").first.wait_for()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("中国的首都是哪里？")
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.wait_for(timeout=300_000)
    page.get_by_text("tokens").first.wait_for(timeout=300_000)  # the numbers line appears once the answer is done
    assert "北京" in answer.inner_text()
    # The sidebar says which built-in model answered, that its server is up, and how fast it is here.
    page.get_by_text("内置模型：qwen2.5-coder-1.5b-instruct · 已就绪").wait_for()
