"""Chat defects a newcomer met (issue 20), run headless with AppTest: the knowledge-base switch and the language
come back after a reload, and a grounded answer always shows the passages the model was given."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.chat.store import ConversationStore
from tests.test_kb_page import base_with_lease

ROOT = Path(__file__).resolve().parents[1]
ALICE = "c" * 32


@pytest.fixture(autouse=True)
def chat_db(tmp_path, monkeypatch):
    path = tmp_path / "chat.db"
    monkeypatch.setenv("ASSISTANT_CHAT_DB", str(path))
    monkeypatch.delenv("ASSISTANT_CHAT_SHARED", raising=False)
    return path


def chat(replay_conn, replies, **params) -> AppTest:
    conn = replay_conn(list(replies), name=f"r-{uuid.uuid4().hex[:6]}.jsonl")
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = conn.replay_path
    at.query_params["u"] = ALICE
    for key, value in params.items():
        at.query_params[key] = value
    return at


@pytest.fixture
def base(tmp_path):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    return name


def texts(at) -> str:
    return "\n".join(str(el.value) for el in [*at.info, *at.text, *at.caption, *at.markdown])


def test_an_answer_that_cites_nothing_lists_the_passages_it_was_given_and_says_so(replay_conn, base):
    at = chat(replay_conn, ["押金会在七日内退还。"])
    at.session_state["chat.use_kb"] = True
    at.session_state["chat.kb_base"] = base
    at.run()
    at.chat_input[0].set_value("押金什么时候退还？").run()
    assert not at.exception
    answer = at.session_state["chat.messages"][-1]
    given = answer["sources"]["given"]
    assert given and given[0]["file"] == "租赁合同.pdf" and given[0]["page"] >= 1 and given[0]["opening"]
    assert any("没有引用任何段落" in i.value for i in at.info)
    assert any("提供给模型的段落" in e.label for e in at.expander)
    shown = "\n".join(el.value for el in at.text)
    assert all(f"[{p['n']}] 租赁合同.pdf · 第 {p['page']} 页 · {p['opening']}" in shown for p in given)


def test_cited_passages_are_marked_among_those_given(replay_conn, base):
    at = chat(replay_conn, ["押金在租期届满后七日内退还[1]。"])
    at.session_state["chat.use_kb"] = True
    at.session_state["chat.kb_base"] = base
    at.run()
    at.chat_input[0].set_value("押金什么时候退还？").run()
    shown = "\n".join(el.value for el in at.text)
    assert "[1] 租赁合同.pdf" in shown and "（已引用）" in shown
    assert not any("没有引用任何段落" in i.value for i in at.info)


def test_after_a_reload_the_conversation_goes_on_with_its_knowledge_base(replay_conn, base, chat_db):
    at = chat(replay_conn, ["押金七日内退还[1]。"])
    at.session_state["chat.use_kb"] = True
    at.session_state["chat.kb_base"] = base
    at.run()
    at.chat_input[0].set_value("押金什么时候退还？").run()
    assert at.query_params["kb"] in (base, [base])
    conversation = ConversationStore(f"sqlite:///{chat_db}").list("browser:" + ALICE)[0].id

    # A reload: a new session with the same address (u=, c=, kb=).
    again = chat(replay_conn, ["维修由出租方负责[1]。"], c=conversation, kb=base).run()
    assert not again.exception
    assert again.toggle(key="chat.use_kb").value is True
    assert again.selectbox(key="chat.kb_base").value == base
    # Even without kb= in the address, a conversation that used a base reopens with it.
    opened = chat(replay_conn, ["维修由出租方负责[1]。"], c=conversation).run()
    assert opened.toggle(key="chat.use_kb").value is True
    opened.chat_input[0].set_value("谁负责维修？").run()
    assert opened.session_state["chat.messages"][-1]["sources"]["given"], "the next question used the base"


def test_switching_the_knowledge_base_off_also_survives_a_reload(replay_conn, base, chat_db):
    at = chat(replay_conn, ["押金七日内退还[1]。"])
    at.session_state["chat.use_kb"] = True
    at.session_state["chat.kb_base"] = base
    at.run()
    at.chat_input[0].set_value("押金什么时候退还？").run()
    at.toggle(key="chat.use_kb").set_value(False).run()
    assert at.query_params["kb"] in ("-", ["-"])
    conversation = ConversationStore(f"sqlite:///{chat_db}").list("browser:" + ALICE)[0].id
    again = chat(replay_conn, [], c=conversation, kb="-").run()
    assert again.toggle(key="chat.use_kb").value is False


def test_the_interface_language_comes_back_from_the_address():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.sidebar.radio(key="app.lang.widget").set_value("en").run()
    assert at.query_params["lang"] in ("en", ["en"])
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    fresh.query_params["lang"] = "en"
    fresh.run()
    assert not fresh.exception
    assert fresh.sidebar.title[0].value == "Office AI Assistant" and fresh.header[0].value == "Chat"
    back = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    back.query_params["lang"] = "xx"   # anything else: the default
    back.run()
    assert back.sidebar.title[0].value == "办公智能助手"
