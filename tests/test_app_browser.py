"""The shared sidebar in a real browser: the language and the model chosen stay chosen across clicks."""
from __future__ import annotations

import pytest

from tests.test_chat_browser import browser_page, running_app  # noqa: F401 - fixtures


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
