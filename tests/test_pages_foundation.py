"""The app shell, the chat page and the settings page, run headless with Streamlit's AppTest."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def replay(tmp_path, *replies) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r if isinstance(r, dict) else {"content": r}, ensure_ascii=False) + "\n"
                            for r in replies), encoding="utf-8")
    from services.providers.replay import forget
    forget(path)
    return str(path)


def chat_page(tmp_path, *replies) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = replay(tmp_path, *replies)
    return at


def test_app_shell_speaks_chinese_by_default_and_english_on_request():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.sidebar.title[0].value == "办公智能助手"
    assert at.sidebar.selectbox(key="app.provider.widget").value == "local"
    assert any("内置离线" in info.value for info in at.sidebar.info)
    assert at.header[0].value == "对话"
    at.sidebar.radio(key="app.lang.widget").set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "Chat"
    # AppTest drops the entrypoint's sidebar on reruns under st.navigation, so check it on a fresh run in English.
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    fresh.session_state["app.lang"] = "en"
    fresh.run()
    assert fresh.sidebar.title[0].value == "Office AI Assistant"
    assert any("built-in offline" in info.value for info in fresh.sidebar.info)


def test_chat_streams_the_answer_and_keeps_the_conversation(tmp_path):
    at = chat_page(tmp_path, "第一个回答", "第二个回答").run()
    at.chat_input[0].set_value("你好").run()
    assert not at.exception
    at.chat_input[0].set_value("再说一次").run()
    messages = at.session_state["chat.messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[3]["content"] == "第二个回答"
    shown = [md.value for md in at.markdown]
    assert "第一个回答" in shown and "第二个回答" in shown
    assert any("tokens" in c.value for c in at.caption)


def test_chat_sends_the_system_prompt(tmp_path):
    from services.providers.replay import script_for
    at = chat_page(tmp_path, "好的")
    at.session_state["chat.system"] = "你是财务助手"
    at.run()
    at.chat_input[0].set_value("利润是多少").run()
    sent = script_for(at.session_state["app.replay_path"]).requests[0]
    assert sent[0] == {"role": "system", "content": "你是财务助手"}


def test_chat_error_shows_a_message_and_keeps_history(tmp_path):
    at = chat_page(tmp_path, "第一个回答", {"error": {"status": 401}}).run()
    at.chat_input[0].set_value("你好").run()
    at.chat_input[0].set_value("第二个问题").run()
    assert not at.exception
    assert any("密钥" in e.value for e in at.error)
    messages = at.session_state["chat.messages"]
    assert messages[1]["content"] == "第一个回答" and messages[2]["content"] == "第二个问题"


def test_chat_cut_answer_is_kept_and_marked(tmp_path):
    at = chat_page(tmp_path, {"content": "这是一个会被切断的回答内容", "cut_after": 8}).run()
    at.chat_input[0].set_value("写点东西").run()
    assert not at.exception
    last = at.session_state["chat.messages"][-1]
    assert last["status"] == "cut" and last["content"] == "这是一个会被切断"
    assert any("中断" in w.value for w in at.warning)


def test_chat_refuses_an_over_long_message_without_losing_the_conversation(tmp_path):
    at = chat_page(tmp_path, "短回答")
    at.session_state["app.provider"] = "local"
    at.run()
    at.chat_input[0].set_value("长" * 50_000).run()
    assert not at.exception
    assert any("过长" in e.value for e in at.error)
    assert at.session_state["chat.messages"] == []


def test_settings_keeps_the_key_in_the_session_and_shows_it_masked():
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60).run()
    assert not at.exception
    secret = "sk-very-secret-key-5678"
    at.text_input[0].set_value(secret)
    at.button[0].click().run()  # save and use
    assert not at.exception
    assert at.session_state["settings.keys"]["dashscope"] == secret
    assert at.session_state["app.pending_choice"][0] == "dashscope"
    at.run()
    page_text = " ".join(str(el.value) for el in [*at.caption, *at.markdown, *at.success, *at.info])
    assert secret not in page_text and "…5678" in page_text


def test_settings_rejects_a_bad_base_url_in_the_ui_language():
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60).run()
    at.text_input[1].set_value("ftp://example")
    at.button[0].click().run()
    assert not at.exception
    assert any("http://" in e.value for e in at.error)


def test_settings_test_button_reports_an_unreachable_endpoint():
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60)
    at.session_state["settings.provider"] = "ollama"
    at.run()
    at.text_input[1].set_value("http://127.0.0.1:9/v1")
    at.text_input[2].set_value("qwen2.5:7b")
    at.button[1].click().run()
    assert not at.exception
    assert any("127.0.0.1:9" in e.value for e in at.error)
