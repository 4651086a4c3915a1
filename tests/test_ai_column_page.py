"""The AI column on the ChatBI page: run over a loaded table, the new column queryable at once, label chart and
downloads, failed rows redone by a resume that keeps finished rows, and a cost estimate before a paid run."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from services import ai_column
from services.providers import get_provider
from services.providers.replay import script_for

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = "id,评论\n1,房间很干净，服务很好。\n2,空调坏了没人修，太差了。\n3,早餐丰富，位置方便。\n4,隔音很差，一夜没睡好。\n"


def label(value: str) -> dict:
    return {"content": json.dumps({"label": value}, ensure_ascii=False)}


def page(replay_conn, tmp_path, replies, name="page.jsonl") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "chatbi.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = replay_conn(replies, name=name).replay_path
    at.run()
    path = tmp_path / "reviews.csv"
    path.write_text(REVIEWS, encoding="utf-8")
    report = at.session_state["bi.workspace"].add_upload(path, path.name, path.stat().st_size)
    assert report.error is None
    at.run()
    assert not [s for s in at.selectbox if s.key == "bi.col.column"]  # nothing of the form runs until asked for
    at.toggle(key="bi.col.open").set_value(True).run()
    return at


def run_button(at: AppTest):
    return at.button(key="bi.col.run")


def test_the_column_joins_the_table_and_chatbi_can_ask_about_it_at_once(replay_conn, tmp_path):
    replies = [label("正向"), label("负向"), label("正向"), label("负向"),
               '```sql\nSELECT "AI", count(*) AS n FROM "reviews" GROUP BY 1 ORDER BY 1\n```', "正向 2 条，负向 2 条。"]
    at = page(replay_conn, tmp_path, replies)
    at.selectbox(key="bi.col.column").set_value("评论")
    assert run_button(at).label == "运行 AI 列（4 行）"
    run_button(at).click().run()
    assert not at.exception
    ws = at.session_state["bi.workspace"]
    table = ws.files.table_names()[0]
    assert [c.name for c in ws.files.tables[table].columns] == ["id", "评论", "AI"]
    assert ws.files.run(f'SELECT "AI" FROM "{table}" ORDER BY id').rows == [("正向",), ("负向",), ("正向",), ("负向",)]
    assert any("AI" in s.value and "可以直接提问" in s.value for s in at.success)
    assert len(at.get("vega_lite_chart")) == 1  # the label counts
    assert len(at.get("download_button")) >= 2
    sent = script_for(at.session_state["app.replay_path"]).requests
    assert [m[-1]["content"] for m in sent] == ["房间很干净，服务很好。", "空调坏了没人修，太差了。", "早餐丰富，位置方便。",
                                              "隔音很差，一夜没睡好。"]
    # The very next question is answered over the new column.
    at.chat_input(key="bi.chat_input").set_value("正向和负向各多少条？").run()
    assert not at.exception
    answer = ws.conversation[-1]
    assert answer.result is not None and answer.result.rows == [("正向", 2), ("负向", 2)]
    sql_prompt = json.dumps(script_for(at.session_state["app.replay_path"]).requests[4], ensure_ascii=False)
    assert "AI" in sql_prompt and "评论" in sql_prompt  # the model was shown the table with its new column


def test_failed_rows_are_redone_by_a_resume_that_keeps_the_finished_ones(replay_conn, tmp_path):
    # The first run gets answers for two rows only; the other two fail and stay empty.
    at = page(replay_conn, tmp_path, [label("正向"), label("负向")], name="first.jsonl")
    at.selectbox(key="bi.col.column").set_value("评论")
    run_button(at).click().run()
    assert not at.exception
    assert any("2 行失败" in w.value for w in at.warning)
    second = replay_conn([label("正向"), label("负向")], name="second.jsonl")
    at.session_state["app.replay_path"] = second.replay_path
    at.run()
    assert run_button(at).label == "继续（已完成 2/4 行）"
    run_button(at).click().run()
    assert not at.exception
    ws = at.session_state["bi.workspace"]
    table = ws.files.table_names()[0]
    assert ws.files.run(f'SELECT "AI" FROM "{table}" ORDER BY id').rows == [("正向",), ("负向",), ("正向",), ("负向",)]
    assert [c.name for c in ws.files.tables[table].columns] == ["id", "评论", "AI"]  # replaced, not AI_2
    asked = [m[-1]["content"] for m in script_for(second.replay_path).requests]
    assert asked == ["早餐丰富，位置方便。", "隔音很差，一夜没睡好。"], "finished rows are not asked again"


def test_stop_ends_the_job_after_the_row_under_way_and_keeps_finished_rows(replay_conn, tmp_path, monkeypatch):
    from ui.ai_column_panel import ColumnJob
    df = pd.DataFrame({"评论": ["好", "差", "还行", "不错"]})
    conn = replay_conn([label("正向")] * 4)
    holder, ready, real = {}, threading.Event(), ai_column.answer_one

    def answer(conn, prompt, value, choices, lang):
        ready.wait(10)
        out = real(conn, prompt, value, choices, lang)
        if value == "差":
            holder["job"].stop.set()  # Stop pressed while the second row was being answered
        return out

    monkeypatch.setattr(ai_column, "answer_one", answer)
    checkpoint = tmp_path / "c.jsonl"
    holder["job"] = job = ColumnJob(df, "t", "评论", "判断情感", ["正向", "负向"], "AI", conn, checkpoint, "zh")
    ready.set()
    job.wait(10)
    assert not job.running and job.stopped and job.progress.done == 2
    assert ai_column.checkpoint_rows(checkpoint, "评论", "判断情感", ["正向", "负向"], conn, df["评论"].tolist()) == 2
    assert len(script_for(conn.replay_path).requests) == 2


def test_a_paid_provider_shows_tokens_and_cost_before_a_large_run():
    conn = get_provider("dashscope").connect("qwen-plus", api_key="sk-test")
    values = ["这家酒店的早餐很丰富，服务也很周到。"] * 200
    est = ai_column.estimate(conn, values, "判断这条评论的情感：正向 或 负向", ["正向", "负向"], "zh")
    assert est.priced and est.rows == 200 and est.currency == "CNY"
    assert est.input_tokens > 200 * 20 and est.output_tokens == 200 * 10
    assert abs(est.cost - (est.input_tokens * 0.8 + est.output_tokens * 2.0) / 1e6) < 1e-6
    assert "200" in est.text("zh") and "CNY" in est.text("en")
    assert ai_column.estimate(conn, values, "判断", ["正向", "负向"], "zh", done=150).rows == 50
    local = get_provider("local").connect("qwen2.5-coder-1.5b-instruct")
    assert not ai_column.estimate(local, values, "判断", None, "zh").priced  # the built-in model costs nothing
