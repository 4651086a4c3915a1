"""The minutes page in a headless Streamlit run with the replay provider."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "minutes.py")
MEETING = ("张三 (00:00:05)：今天讨论发布计划。\n李四 (00:00:20)：我周五前完成登录模块的测试。\n"
           "张三 (00:01:30)：那我们决定下周三发布新版本。\n")
REPLY = {"title": "发布计划会", "attendees": ["张三", "李四"], "summary": "决定下周三发布。",
         "topics": [{"title": "发布", "summary": "时间已定"}],
         "decisions": [{"text": "下周三发布新版本", "source_line": 3}],
         "action_items": [{"task": "完成登录模块的测试", "owner": "李四", "due": "周五", "priority": "high",
                           "source_line": 2},
                          {"task": "=cmd|' /C calc'!A0", "owner": "Mallory", "due": "", "priority": "low",
                           "source_line": 9}],
         "open_questions": []}


def page(tmp_path, replies, lang="zh"):
    path = tmp_path / "page.jsonl"
    path.write_text("\n".join(json.dumps({"content": r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)},
                                         ensure_ascii=False) for r in replies) + "\n", encoding="utf-8")
    from services.providers.replay import forget
    forget(path)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = str(path)
    at.session_state["app.lang"] = lang
    return at, path


def texts(at):
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
                     + [s.value for s in at.subheader])


def test_pasted_transcript_to_minutes_with_editor_and_downloads(tmp_path):
    at, path = page(tmp_path, [REPLY])
    at.run()
    assert not at.exception
    assert at.title[0].value == "会议纪要"
    at.text_area(key="minutes.paste").input(MEETING)
    at.selectbox(key="minutes.template").select("standup")
    at.button(key="minutes.go").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    shown = texts(at)
    assert "发布计划会" in shown and "L3 · 张三 · 00:01:30" in shown
    assert any("1 条需要人工核对" in w.value for w in at.warning)
    editor = at.get("data_editor")[0] if at.get("data_editor") else None
    assert editor is not None
    from services.providers.replay import script_for
    assert "站会" in script_for(path).requests[0][0]["content"]
    # the minutes survive a rerun (e.g. after editing), and the jump-to-line box offers the cited lines
    at.run()
    assert "发布计划会" in texts(at)
    assert at.selectbox(key="minutes.jump").options[:2] == ["L2 · 李四 · 00:00:20", "L3 · 张三 · 00:01:30"]


def test_empty_input_and_bad_input_show_messages_and_keep_earlier_minutes(tmp_path):
    at, _ = page(tmp_path, [REPLY, "not json at all", "still not json"])
    at.run()
    at.button(key="minutes.go").click()
    at.run()
    assert not at.exception
    assert "请先上传文件或粘贴文字稿" in at.error[0].value

    at.text_area(key="minutes.paste").input(MEETING)
    at.button(key="minutes.go").click()
    at.run()
    assert "发布计划会" in texts(at)

    at.button(key="minutes.go").click()  # the model now answers nonsense: a message, earlier minutes kept
    at.run()
    assert not at.exception
    assert at.error and "格式" in at.error[0].value
    assert "发布计划会" in texts(at)


def test_english_page(tmp_path):
    at, _ = page(tmp_path, [REPLY], lang="en")
    at.run()
    assert at.title[0].value == "Meeting minutes"
    at.text_area(key="minutes.paste").input("   ")
    at.button(key="minutes.go").click()
    at.run()
    assert "Upload a file or paste a transcript first." in at.error[0].value


def test_missing_key_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    at, _ = page(tmp_path, [REPLY], lang="en")
    at.session_state["app.provider"] = "dashscope"
    at.run()
    assert not at.exception
    at.text_area(key="minutes.paste").input(MEETING)
    at.button(key="minutes.go").click()
    at.run()
    assert not at.exception
    assert at.error and "DASHSCOPE_API_KEY" in at.error[0].value
