"""Agent mode in the chat page: the steps are drawn, the answer and its trace are kept with the conversation."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.providers.replay import script_for

ROOT = Path(__file__).resolve().parents[1]


def test_agent_mode_shows_the_trace_and_the_exact_answer(replay_conn):
    conn = replay_conn([
        {"content": "", "tool_calls": [{"name": "calculator", "args": {"expression": "(2000+1000-500)*1.2"}, "id": "c1"}]},
        {"content": "结果是 3000.0。"},
    ])
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = conn.replay_path
    at.session_state["chat.agent"] = True
    at.run()
    at.chat_input[0].set_value("2000 加 1000 减 500 再乘 1.2 是多少？").run()
    assert not at.exception
    answer = at.session_state["chat.messages"][-1]
    assert answer["content"] == "结果是 3000.0。" and answer["status"] == "ok"
    kinds = [step["kind"] for step in answer["sources"]["trace"]]
    assert "tool_call" in kinds and "observation" in kinds
    observation = next(s for s in answer["sources"]["trace"] if s["kind"] == "observation")
    assert "\"result\": \"3000\"" in observation["text"]
    # The tool's exact result went back to the model as a tool message.
    second = script_for(conn.replay_path).requests[1]
    assert any(m["role"] == "tool" and "3000" in str(m["content"]) for m in second)
    assert any("步" in e.label for e in at.expander)


def test_agent_mode_with_the_built_in_model_calls_a_tool_and_shows_the_trace():
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=600)
    at.session_state["app.provider"] = "local"
    at.session_state["chat.agent"] = True
    at.run()
    at.chat_input[0].set_value("用计算器算一下 1+1 等于几？").run()
    assert not at.exception
    last = at.session_state["chat.messages"][-1]
    trace = last["sources"]["trace"]
    assert any(step["kind"] == "tool_call" and step.get("tool") == "calculator" for step in trace), trace
    assert "2" in last["content"]


def test_agent_in_chat_reads_the_report_processed_on_the_financials_page(replay_conn, tmp_path):
    from tests.test_financials_pdfs import cn_report
    pdf = cn_report(tmp_path / "report.pdf")
    conn = replay_conn([
        {"content": "", "tool_calls": [{"name": "financial_figures",
                                        "args": {"company": "测试科技", "year": 2021, "figures": ["revenue"]}, "id": "f1"}]},
        {"content": "测试科技 2021 年营业收入 1,000,000 元（第 7 页）。"},
    ])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = conn.replay_path
    at.run()
    at.switch_page("pages/financials.py")
    at.session_state["fin.queue"] = [("report.pdf", pdf.read_bytes())]
    at.run()
    at.button(key="fin.run").click().run()
    assert not at.exception and "report.pdf" in at.session_state["fin.results"]

    at.switch_page("pages/chat.py")
    at.session_state["chat.agent"] = True
    at.run()
    at.chat_input[0].set_value("测试科技 2021 年营业收入是多少？").run()
    assert not at.exception
    answer = at.session_state["chat.messages"][-1]
    assert answer["status"] == "ok" and "1,000,000" in answer["content"]
    observation = next(s for s in answer["sources"]["trace"] if s["kind"] == "observation")
    assert not observation.get("error")
    sent = json.loads(next(m["content"] for m in script_for(conn.replay_path).requests[1] if m["role"] == "tool"))
    revenue = sent["reports"][0]["figures"]["revenue"]
    assert (revenue["value"], revenue["page"], revenue["status"]) == (1_000_000.0, 7, "verified")
