"""The chat page run headless with AppTest: lasting conversations, each message action, presets, reasoning,
stats, export, compare, attachments, database faults."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.chat.store import ConversationStore
from services.providers.replay import forget, script_for

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = "a" * 32, "b" * 32


@pytest.fixture(autouse=True)
def chat_db(tmp_path, monkeypatch):
    """Each test has its own conversation database."""
    path = tmp_path / "chat.db"
    monkeypatch.setenv("ASSISTANT_CHAT_DB", str(path))
    monkeypatch.delenv("ASSISTANT_CHAT_SHARED", raising=False)
    return path


def replies_file(tmp_path, replies, name="replies.jsonl") -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r if isinstance(r, dict) else {"content": r}, ensure_ascii=False) + "\n"
                            for r in replies), encoding="utf-8")
    forget(path)
    return str(path)


def page(tmp_path, replies=(), *, user=ALICE, conversation=None, name="replies.jsonl") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = replies_file(tmp_path, replies, name)
    at.query_params["u"] = user
    if conversation:
        at.query_params["c"] = conversation
    return at


def ask(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def sent(at: AppTest) -> list[list[dict]]:
    return script_for(at.session_state["app.replay_path"]).requests


def stored(chat_db, user=ALICE):
    store = ConversationStore(f"sqlite:///{chat_db}")
    convs = store.list("browser:" + user)
    return store, convs


def button(at: AppTest, key: str):
    return next(b for b in [*at.button, *at.sidebar.button] if b.key == key)


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.code])


# -- conversations that last ---------------------------------------------------------------------------------------
def test_a_conversation_is_saved_and_reopens_in_a_new_session(tmp_path, chat_db):
    at = page(tmp_path, ["巴黎是法国首都。"]).run()
    ask(at, "法国首都是哪里？")
    cid = at.session_state["chat.save"]["id"]
    assert at.query_params["c"] == cid and at.query_params["u"] == ALICE
    store, convs = stored(chat_db)
    assert [c.title for c in convs] == ["法国首都是哪里？"]
    assert [(m.role, m.content) for m in store.messages("browser:" + ALICE, cid)] == [
        ("user", "法国首都是哪里？"), ("assistant", "巴黎是法国首都。")]

    reloaded = page(tmp_path, user=ALICE, conversation=cid, name="none.jsonl").run()  # as after a browser reload
    assert not reloaded.exception
    assert [m["content"] for m in reloaded.session_state["chat.messages"]] == ["法国首都是哪里？", "巴黎是法国首都。"]
    assert "巴黎是法国首都。" in [md.value for md in reloaded.markdown]

    fresh = page(tmp_path, user=ALICE, name="none.jsonl").run()  # the same browser, no conversation in the address
    assert fresh.session_state["chat.messages"] == []
    button(fresh, f"chat.open.{cid}").click().run()
    assert [m["content"] for m in fresh.session_state["chat.messages"]][1] == "巴黎是法国首都。"


def test_the_conversation_continues_with_its_history(tmp_path):
    at = page(tmp_path, ["你好小明", "你叫小明"]).run()
    ask(at, "我叫小明")
    ask(at, "我叫什么？")
    assert sent(at)[1][-3:] == [{"role": "user", "content": "我叫小明"}, {"role": "assistant", "content": "你好小明"},
                                {"role": "user", "content": "我叫什么？"}]


def test_another_user_cannot_see_or_open_my_conversation(tmp_path, chat_db):
    at = page(tmp_path, ["机密回答"]).run()
    ask(at, "我的工资是多少")
    cid = at.session_state["chat.save"]["id"]

    other = page(tmp_path, user=BOB, conversation=cid, name="none.jsonl").run()
    assert not other.exception
    assert other.session_state["chat.messages"] == [] and other.session_state["chat.save"]["id"] is None
    assert "机密回答" not in texts(other) and "我的工资是多少" not in [b.label for b in other.sidebar.button]
    assert any("找不到这个对话" in s.value for s in other.error)
    other.sidebar.text_input(key="chat.search").set_value("工资").run()
    assert not [b for b in other.sidebar.button if b.key.startswith("chat.open.")]

    stranger = page(tmp_path, user="not-a-valid-id", name="none.jsonl").run()  # a made-up id gets a fresh one
    assert len(stranger.query_params["u"]) == 32 and stranger.query_params["u"] not in (ALICE, "not-a-valid-id")
    assert stranger.session_state["chat.messages"] == []


def test_new_rename_search_and_delete(tmp_path, chat_db):
    at = page(tmp_path, ["西湖在杭州", "外滩在上海"]).run()
    ask(at, "西湖在哪？")
    first = at.session_state["chat.save"]["id"]
    button(at, "chat.new").click().run()
    assert at.session_state["chat.messages"] == [] and at.session_state["chat.save"]["id"] is None
    ask(at, "外滩在哪？")
    second = at.session_state["chat.save"]["id"]
    assert second != first
    assert {b.key for b in at.sidebar.button if b.key.startswith("chat.open.")} == {f"chat.open.{first}",
                                                                                    f"chat.open.{second}"}
    at.sidebar.text_input(key="chat.search").set_value("杭州").run()  # found in the answer text
    assert [b.key for b in at.sidebar.button if b.key.startswith("chat.open.")] == [f"chat.open.{first}"]
    at.sidebar.text_input(key="chat.search").set_value("").run()

    at.sidebar.text_input(key=f"chat.title_input.{second}").set_value("上海景点").run()
    button(at, "chat.rename").click().run()
    store, convs = stored(chat_db)
    assert {c.id: c.title for c in convs}[second] == "上海景点"
    assert any(b.label == "上海景点" for b in at.sidebar.button)

    at.sidebar.checkbox(key="chat.delete_confirm").check().run()
    button(at, "chat.delete").click().run()
    assert not at.exception
    assert [c.id for c in stored(chat_db)[1]] == [first]
    assert at.session_state["chat.save"]["id"] is None and any("已删除" in s.value for s in at.success)


# -- message actions -----------------------------------------------------------------------------------------------
def test_stop_keeps_the_part_already_written_and_saves_it_as_stopped(tmp_path, chat_db, monkeypatch):
    import streamlit as st
    from services.providers.replay import ReplayChatModel
    real_stream = ReplayChatModel._stream

    def press_stop_after_first_piece(self, *args, **kwargs):
        for i, chunk in enumerate(real_stream(self, *args, **kwargs)):
            yield chunk
            if i == 1:
                button_callback = st.session_state["chat.stop_events"]  # what the Stop button's callback sets
                for event in button_callback:
                    event.set()

    monkeypatch.setattr(ReplayChatModel, "_stream", press_stop_after_first_piece)
    at = page(tmp_path, ["第一段内容。第二段内容。第三段内容。第四段内容。"]).run()
    ask(at, "写一段长文")
    last = at.session_state["chat.messages"][-1]
    assert last["status"] == "stopped" and last["content"] == "第一段内容。第二段内容。第三段内"
    assert any("已停止生成" in i.value for i in at.info)
    store, convs = stored(chat_db)
    saved = store.messages("browser:" + ALICE, convs[0].id)[-1]
    assert (saved.status, saved.content) == ("stopped", "第一段内容。第二段内容。第三段内")


def test_an_interrupted_page_run_still_saves_the_partial_answer_as_stopped(tmp_path, chat_db, monkeypatch):
    import streamlit as st
    from services.providers.replay import ReplayChatModel
    real_stream = ReplayChatModel._stream

    def page_stopped_mid_answer(self, *args, **kwargs):
        for i, chunk in enumerate(real_stream(self, *args, **kwargs)):
            yield chunk
            if i == 0:
                st.stop()  # what Streamlit does to the running script when the user clicks Stop or leaves

    monkeypatch.setattr(ReplayChatModel, "_stream", page_stopped_mid_answer)
    at = page(tmp_path, ["一二三四五六七八九十甲乙丙丁"]).run()
    at.chat_input[0].set_value("数数").run()
    store, convs = stored(chat_db)
    saved = store.messages("browser:" + ALICE, convs[0].id)
    assert [(m.role, m.status) for m in saved] == [("user", "ok"), ("assistant", "stopped")]
    assert saved[1].content == "一二三四五六七八"


def test_a_failed_answer_is_saved_as_failed_and_can_be_regenerated(tmp_path, chat_db):
    at = page(tmp_path, [{"error": {"status": 401}}, "第二次成功"]).run()
    ask(at, "你好")
    assert any("密钥" in e.value for e in at.error)
    store, convs = stored(chat_db)
    failed = store.messages("browser:" + ALICE, convs[0].id)[-1]
    assert failed.status == "error" and "密钥" in failed.error
    button(at, "chat.regenerate").click().run()
    assert not at.exception
    messages = at.session_state["chat.messages"]
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [("user", "你好", "ok"),
                                                                          ("assistant", "第二次成功", "ok")]
    assert sent(at)[1] == sent(at)[0]  # the same question was asked again
    assert [m.content for m in store.messages("browser:" + ALICE, convs[0].id)] == ["你好", "第二次成功"]


def test_regenerate_replaces_the_last_answer(tmp_path, chat_db):
    at = page(tmp_path, ["答案一", "答案二"]).run()
    ask(at, "随便说点什么")
    button(at, "chat.regenerate").click().run()
    assert [m["content"] for m in at.session_state["chat.messages"]] == ["随便说点什么", "答案二"]
    store, convs = stored(chat_db)
    assert [m.content for m in store.messages("browser:" + ALICE, convs[0].id)] == ["随便说点什么", "答案二"]


def test_edit_the_last_question_and_resend(tmp_path, chat_db):
    at = page(tmp_path, ["北京", "上海"]).run()
    ask(at, "中国首都？")
    edit = next(ta for ta in at.text_area if ta.key.startswith("chat.edit."))
    assert edit.value == "中国首都？"
    edit.set_value("中国最大的城市？").run()
    button(at, "chat.resend").click().run()
    assert not at.exception
    assert [m["content"] for m in at.session_state["chat.messages"]] == ["中国最大的城市？", "上海"]
    assert sent(at)[1][-1] == {"role": "user", "content": "中国最大的城市？"}
    store, convs = stored(chat_db)
    assert [m.content for m in store.messages("browser:" + ALICE, convs[0].id)] == ["中国最大的城市？", "上海"]


def test_each_answer_has_a_copy_box_with_its_text(tmp_path):
    at = page(tmp_path, ["| 列 | 值 |\n|---|---|\n| 收入 | 10 |"]).run()
    ask(at, "做个表")
    assert "| 收入 | 10 |" in at.code[0].value


def test_an_empty_resend_says_so_and_keeps_the_conversation(tmp_path):
    at = page(tmp_path, ["好"]).run()
    ask(at, "第一句")
    next(ta for ta in at.text_area if ta.key.startswith("chat.edit.")).set_value("   ").run()
    button(at, "chat.resend").click().run()
    assert not at.exception
    assert any("请输入内容" in e.value for e in at.error)


def test_an_over_long_question_is_refused_and_offered_back_for_editing(tmp_path):
    at = page(tmp_path, ["x"])
    at.session_state["app.provider"] = "local"
    at.run()
    long_text = "长" * 50_000
    ask(at, long_text)
    assert any("过长" in e.value and "知识库" in e.value for e in at.error)
    draft = next(ta for ta in at.text_area if ta.key.startswith("chat.draft."))
    assert draft.value == long_text
    assert at.session_state["chat.messages"] == []


def test_an_answer_cut_off_mid_stream_is_saved_as_cut_with_the_part_received(tmp_path, chat_db):
    at = page(tmp_path, [{"content": "营业收入同比增长百分之十二，主要来自海外市场", "cut_after": 8}]).run()
    ask(at, "收入怎么样？")
    assert any("中断" in w.value for w in at.warning)
    store, convs = stored(chat_db)
    saved = store.messages("browser:" + ALICE, convs[0].id)[-1]
    assert (saved.status, saved.content) == ("cut", "营业收入同比增长")
    assert "中断" in saved.error


def test_with_st_login_conversations_follow_the_account_not_the_browser(tmp_path, chat_db):
    at = page(tmp_path, ["账号下的回答"], user=ALICE)
    at.user = {"is_logged_in": True, "email": "li@example.com"}
    at.run()
    ask(at, "登录后提问")
    cid = at.session_state["chat.save"]["id"]
    store = ConversationStore(f"sqlite:///{chat_db}")
    assert [c.id for c in store.list("user:li@example.com")] == [cid] and store.list("browser:" + ALICE) == []
    assert any("li@example.com" in c.value for c in at.sidebar.caption)

    laptop = page(tmp_path, user=BOB, conversation=cid, name="none.jsonl")  # same account, another browser
    laptop.user = {"is_logged_in": True, "email": "li@example.com"}
    laptop.run()
    assert [m["content"] for m in laptop.session_state["chat.messages"]] == ["登录后提问", "账号下的回答"]

    someone_else = page(tmp_path, user=ALICE, conversation=cid, name="none.jsonl")  # same browser id, other account
    someone_else.user = {"is_logged_in": True, "email": "wang@example.com"}
    someone_else.run()
    assert someone_else.session_state["chat.messages"] == []
    assert not [b for b in someone_else.sidebar.button if b.key.startswith("chat.open.")]
