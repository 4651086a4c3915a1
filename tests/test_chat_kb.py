"""Chat with "use knowledge base" on: passages go to the model, citations are checked and shown with file and page."""
from __future__ import annotations

import uuid
from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.providers.replay import script_for
from tests.test_kb_page import base_with_lease

ROOT = Path(__file__).resolve().parents[1]


def chat(tmp_path, replay_conn, *replies) -> AppTest:
    conn = replay_conn(list(replies))
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = conn.replay_path
    return at


def test_chat_answers_from_the_knowledge_base_with_page_citations(tmp_path, replay_conn):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = chat(tmp_path, replay_conn, "押金在租期届满后七日内退还[1]。另见[9]。")
    at.session_state["chat.use_kb"] = True
    at.session_state["chat.kb_base"] = name
    at.run()
    assert not at.exception
    at.chat_input[0].set_value("押金什么时候退还？").run()
    assert not at.exception

    sent = script_for(at.session_state["app.replay_path"]).requests[0]
    assert "押金" in sent[-1]["content"] and "<passage n=\"1\"" in sent[-1]["content"]  # the passages went to the model
    answer = at.session_state["chat.messages"][-1]
    assert "[9]" not in answer["content"]  # the invented citation is dropped …
    assert any("[9]" in w for w in answer["sources"]["warnings"])  # … and flagged
    cited = answer["sources"]["citations"]
    assert cited and cited[0]["file"] == "租赁合同.pdf" and cited[0]["page"] == 1
    assert any("租赁合同.pdf" in e.label for e in at.expander)


def test_greeting_with_the_knowledge_base_on_answers_not_found(tmp_path, replay_conn):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = chat(tmp_path, replay_conn, "你好！有什么可以帮你？")
    at.session_state["chat.use_kb"] = True
    at.session_state["chat.kb_base"] = name
    at.run()
    at.chat_input[0].set_value("你好").run()
    assert not at.exception
    answer = at.session_state["chat.messages"][-1]
    assert answer["sources"]["not_found"] and "没有找到" in answer["content"]
