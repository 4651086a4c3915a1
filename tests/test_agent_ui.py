"""The trace drawn in a page (AppTest): steps inside a status box, chart for table results, answer below."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def _app(replay_path: str, csv_path: str, lang: str) -> None:
    import streamlit as st

    from services.agent import AgentContext, builtin_tools, run_agent
    from services.chatbi.engine import DuckSession
    from services.providers import get_provider
    from ui.agent_trace import show_run

    session = DuckSession()
    session.add_file(csv_path)
    conn = get_provider("replay").connect(replay_path=replay_path)
    events = run_agent(conn, "按地区汇总销售额，画个图", builtin_tools(AgentContext(chatbi=session, lang=lang)), lang=lang)
    answer = show_run(events, lang)
    st.markdown(answer.text)


def test_trace_shows_tool_calls_results_chart_and_answer(tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("region,amount\n华东,100\n华北,50\n华东,25\n", encoding="utf-8")
    replay = tmp_path / "r.jsonl"
    sql = "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"
    lines = [{"content": "先汇总", "tool_calls": [{"name": "query_tables", "args": {"sql": sql}, "id": "q1"}]},
             {"content": "", "tool_calls": [{"name": "query_tables", "args": {"sql": "DROP TABLE sales"}, "id": "q2"}]},
             {"content": "华东 125，华北 50。<script>alert(1)</script>"}]
    replay.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    at = AppTest.from_function(_app, args=(str(replay), str(csv), "zh"), default_timeout=60)
    at.run()
    assert not at.exception
    status = next((c for c in at.main.children.values() if getattr(c, "type", None) == "status"), None)
    markdown = [m.value for m in at.markdown]
    assert "**调用工具 · query_tables**" in markdown and "**结果 · query_tables**" in markdown
    assert any('"total"' in c.value for c in at.code)
    assert len(at.get("plotly_chart")) == 1
    assert any("工具出错 · query_tables" in w.value for w in at.warning)
    assert markdown[-1].startswith("华东 125")   # plain markdown: Streamlit does not render the script tag
    assert status is not None and status.label == "推理与工具调用过程（2 步）"  # collapsed, answer below it
