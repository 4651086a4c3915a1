"""The ChatBI page with office sheets and several tables: totals left out with a switch, units, the tables a
question is about, SQL written by the user shown at once, thousands separators, and progress with a stop button."""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.chatbi.assistant import ask
from services.chatbi.engine import DuckSession
from services.providers.replay import script_for

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("chatbi_zh_sheets", ROOT / "eval" / "chatbi_zh_sheets.py")
sheets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheets)
MEDALS = "国家,金牌,银牌,铜牌\n中国,38,32,18\n美国,39,41,33\n日本,27,14,17\n"


def page(replay_conn, *replies) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "chatbi.py"), default_timeout=60)
    conn = replay_conn(list(replies), name="page.jsonl")
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = conn.replay_path
    return at


def load(at: AppTest, path: Path) -> list:
    report = at.session_state["bi.workspace"].add_upload(path, path.name, path.stat().st_size)
    assert report.error is None
    return report.tables


def three_tables(at: AppTest, tmp_path) -> None:
    load(at, sheets.write_case("地区销售", "utf-8.csv", tmp_path))
    load(at, sheets.write_case("产品库存", "gbk.csv", tmp_path))
    medals = tmp_path / "medals.csv"
    medals.write_text(MEDALS, encoding="utf-8")
    load(at, medals)


def test_page_says_which_totals_were_left_out_checks_them_and_can_keep_them(tmp_path, replay_conn):
    at = page(replay_conn).run()
    [info] = load(at, sheets.write_case("地区销售", "xlsx", tmp_path))
    at.run()
    assert not at.exception
    assert any("已排除 3 行小计/合计" in i.value and "华东小计" in i.value for i in at.info)
    assert any("已排除 3 行小计/合计" in e.label for e in at.expander)  # on the table's line, not only inside
    assert any("合计 的 销售额 520 与保留行之和 520 一致" in c.value for c in at.caption)
    profile = at.dataframe[0].value
    assert dict(zip(profile["列名"], profile["单位"]))["销售额"] == "万元"
    at.toggle(key=f"bi.keep_totals.{info.name}").set_value(True).run()
    ws = at.session_state["bi.workspace"]
    assert ws.files.run(f'SELECT count(*) FROM "{info.name}"').rows == [(8,)]
    assert any("重复计算" in w.value for w in at.warning)


def test_a_question_goes_to_the_table_it_is_about_and_the_user_can_pick(tmp_path, replay_conn):
    at = page(replay_conn, '```sql\nSELECT "区域", sum("销售额") AS "销售额" FROM "地区销售" GROUP BY 1 ORDER BY 1\n```',
              "华东 310，华南 210。", '```sql\nSELECT count(*) AS n FROM "medals"\n```', "三个国家。")
    at.run()
    three_tables(at, tmp_path)
    at.run()
    assert at.multiselect(key="bi.pick_tables").options == ["地区销售", "产品库存", "medals"]
    at.chat_input(key="bi.chat_input").set_value("各区域销售额合计").run()
    assert not at.exception and not at.error
    requests = script_for(at.session_state["app.replay_path"]).requests
    system = requests[0][0]["content"]
    assert 'TABLE "地区销售"' in system and "medals" not in system and "产品库存" not in system
    assert any(c.value == "使用的表：地区销售" for c in at.caption)
    at.multiselect(key="bi.pick_tables").set_value(["medals"]).run()
    at.chat_input(key="bi.chat_input").set_value("一共几行？").run()
    system = script_for(at.session_state["app.replay_path"]).requests[2][0]["content"]
    assert 'TABLE "medals"' in system and "地区销售" not in system


def test_a_follow_up_without_column_names_stays_with_the_previous_tables(tmp_path, replay_conn):
    from services.chatbi.workspace import Workspace
    ws = Workspace()
    for path in (sheets.write_case("地区销售", "utf-8.csv", tmp_path), sheets.write_case("产品库存", "gbk.csv", tmp_path)):
        ws.add_upload(path, path.name, path.stat().st_size)
    assert ws.tables_for("只看华东呢？") == ["地区销售", "产品库存"]  # nothing asked before: every table
    conn = replay_conn(['```sql\nSELECT sum("销售额") AS s FROM "地区销售"\n```', "520。",
                        '```sql\nSELECT sum("销售额") AS s FROM "地区销售" WHERE "区域" = \'华东\'\n```', "310。"])
    assert ws.ask(conn, "销售额合计？", "zh").tables == ["地区销售"]
    follow_up = ws.ask(conn, "只看华东呢？", "zh")
    assert follow_up.tables == ["地区销售"] and follow_up.result.rows == [(310,)]
    assert "产品库存" not in script_for(conn.replay_path).requests[2][0]["content"]
    assert ws.tables_for("库存数量最多的产品") == ["产品库存"]


def test_sql_typed_by_the_user_runs_before_any_model_call(tmp_path, replay_conn):
    from services.chatbi.workspace import Workspace
    ws = Workspace()
    path = sheets.write_case("地区销售", "gbk.csv", tmp_path)
    ws.add_upload(path, path.name, path.stat().st_size)
    conn = replay_conn(["合计 520 万元。"])
    answer = ws.ask(conn, 'SELECT sum("销售额") AS "销售额" FROM "地区销售"', "zh")
    assert answer.result.rows == [(520,)] and answer.summary_pending
    assert script_for(conn.replay_path).requests == []  # the result is ready before the model is asked anything
    ws.summarize(0, conn, "zh")
    assert answer.summary == "合计 520 万元。" and not answer.summary_pending


def test_write_sql_yourself_is_offered_from_the_start_with_readable_numbers(tmp_path, replay_conn):
    at = page(replay_conn, "门店合计 296,600 元。").run()
    load(at, sheets.write_case("门店月销售", "utf-8.csv", tmp_path))
    at.run()
    box = at.text_area(key="bi.own_sql")  # before any question was asked
    box.set_value('SELECT "门店", sum("销售额") AS "销售额" FROM "门店月销售" GROUP BY 1 ORDER BY 1')
    at.button(key="bi.own_sql_run").click().run()
    assert not at.exception and not at.error
    result = at.dataframe[-1].value
    assert list(result["销售额"]) == ["161,700", "134,900"]
    assert any("单位：销售额 元" in c.value for c in at.caption)
    assert any(m.value == "门店合计 296,600 元。" for m in at.markdown)
    sent = script_for(at.session_state["app.replay_path"]).requests
    assert len(sent) == 1 and sent[0][0]["content"].startswith("You explain query results")


def test_attempts_report_step_and_stop_before_the_next_model_call(tmp_path, replay_conn):
    session = DuckSession()
    try:
        path = tmp_path / "medals.csv"
        path.write_text(MEDALS, encoding="utf-8")
        session.add_file(path)
        conn = replay_conn(["```sql\nSELECT nope FROM medals\n```",
                            "```sql\nSELECT count(*) AS n FROM medals\n```", "三个。"])
        steps = []
        answer = ask(session, conn, "几个国家？", lang="zh", progress=lambda *s: steps.append(s))
        assert answer.result.rows == [(3,)]
        assert steps == [("sql", 1, 3), ("run", 1, 3), ("sql", 2, 3), ("run", 2, 3), ("summary", 2, 3)]
        stop = threading.Event()
        conn2 = replay_conn(["```sql\nSELECT nope FROM medals\n```", "never asked"], name="stop.jsonl")

        def stop_after_first(step, n, total):
            if step == "run":
                stop.set()  # the user pressed Stop while the first query ran
        stopped = ask(session, conn2, "几个国家？", lang="zh", progress=stop_after_first, stop=stop)
        assert stopped.error is not None and stopped.error.key == "bi.error.stopped"
        assert len(script_for(conn2.replay_path).requests) == 1
    finally:
        session.close()


def test_page_question_runs_as_a_job_and_lands_in_the_conversation(tmp_path, replay_conn):
    at = page(replay_conn, '```sql\nSELECT count(*) AS n FROM "medals"\n```', "三个国家。").run()
    medals = tmp_path / "medals.csv"
    medals.write_text(MEDALS, encoding="utf-8")
    load(at, medals)
    at.run()
    at.chat_input(key="bi.chat_input").set_value("几个国家？").run()
    assert not at.exception
    # The last run drew the answer; the job that produced it is gone and the answer is in the conversation.
    ws = at.session_state["bi.workspace"]
    assert ws.conversation[0].result.rows == [(3,)] and "bi.job" not in at.session_state


def test_a_question_nobody_follows_any_more_stops_at_its_next_step(tmp_path, replay_conn):
    from ui.chatbi_job import ABANDONED_S, QuestionJob
    session = DuckSession()
    try:
        path = tmp_path / "medals.csv"
        path.write_text(MEDALS, encoding="utf-8")
        session.add_file(path)
        conn = replay_conn(["```sql\nSELECT nope FROM medals\n```", "never asked"])
        release = threading.Event()

        def work(job):
            release.wait(10)
            return ask(session, conn, "几个国家？", lang="zh", progress=job.progress, stop=job.stop)

        job = QuestionJob(work)
        assert job.running and not job.stop.is_set()
        job.seen -= ABANDONED_S + 1  # the browser tab was closed: no page polls the job any more
        release.set()
        job.wait(10)
        assert job.answer.error.key == "bi.error.stopped" and job.step == ("start", 0, 0)
        assert script_for(conn.replay_path).requests == []
    finally:
        session.close()
