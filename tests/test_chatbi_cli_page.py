"""ChatBI from the outside: the `ask` command line and the Streamlit page."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SALES = "日期,城市,销售额\n2023-01-05,北京,\"1,200\"\n2023-02-11,上海,800\n2023-03-02,北京,300\n"


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services", "ask", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LANG": "C.UTF-8"}, timeout=300)


def replay_file(tmp_path, *replies, name="replies.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r if isinstance(r, dict) else {"content": r}, ensure_ascii=False) + "\n"
                            for r in replies), encoding="utf-8")
    from services.providers.replay import forget
    forget(path)
    return path


@pytest.fixture
def sales_file(tmp_path) -> Path:
    path = tmp_path / "销售.csv"
    path.write_bytes(SALES.encode("gbk"))
    return path


def test_cli_prints_sql_table_and_summary(tmp_path, sales_file):
    replies = replay_file(tmp_path, '```sql\nSELECT "城市", sum("销售额") AS total FROM "销售" GROUP BY 1 '
                                    'ORDER BY 2 DESC\n```', "北京最高，合计 1,500。")
    out = run_cli(str(sales_file), "各城市销售额", "--replay", str(replies))
    assert out.returncode == 0, out.stderr
    assert 'SELECT "城市", SUM("销售额") AS total FROM "销售"' in out.stdout
    assert "北京" in out.stdout and "1,500" in out.stdout and "北京最高，合计 1,500。" in out.stdout


def test_cli_json_output(tmp_path, sales_file):
    replies = replay_file(tmp_path, '{"sql": "SELECT \\"日期\\", \\"销售额\\" FROM \\"销售\\" ORDER BY 1"}', "up")
    out = run_cli(str(sales_file), "trend", "--replay", str(replies), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["columns"] == ["日期", "销售额"]
    assert data["rows"][0] == ["2023-01-05", 1200]
    assert data["chart"]["kind"] == "line" and data["summary"] == "up"
    assert set(data) >= {"sql", "columns", "rows", "chart", "summary"}


def test_cli_refused_query_exits_non_zero_with_the_reason(tmp_path, sales_file):
    replies = replay_file(tmp_path, "```sql\nCOPY \"销售\" TO '/tmp/x.csv'\n```")
    out = run_cli(str(sales_file), "export it", "--replay", str(replies), "--lang", "en")
    assert out.returncode == 1
    assert "refused" in out.stderr and "COPY" in out.stderr and "Traceback" not in out.stderr
    direct = run_cli(str(sales_file), "q", "--sql", "SELECT * FROM read_csv('/etc/passwd')", "--json")
    assert direct.returncode == 1 and "read_csv" in json.loads(direct.stdout)["error"]


def test_cli_bad_file_is_one_line_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out = run_cli(str(empty), "q", "--sql", "SELECT 1", "--lang", "en")
    assert out.returncode == 1 and "empty" in out.stderr and len(out.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- page

def page(tmp_path, *replies) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "chatbi.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = str(replay_file(tmp_path, *replies, name="page.jsonl"))
    return at


def load(at: AppTest, path: Path) -> None:
    """What the uploader does with a file: the workspace loads it (AppTest cannot drive file_uploader)."""
    ws = at.session_state["bi.workspace"]
    report = ws.add_upload(path, path.name, path.stat().st_size)
    assert report.error is None


def test_page_without_data_asks_for_files(tmp_path):
    at = page(tmp_path).run()
    assert not at.exception
    assert at.header[0].value == "数据问答 ChatBI"
    assert any("上传文件" in i.value for i in at.info)


def test_page_shows_profile_suggestions_and_answers(tmp_path, sales_file):
    at = page(tmp_path, '```sql\nSELECT "城市", sum("销售额") AS total FROM "销售" GROUP BY 1 ORDER BY 2 DESC\n```',
              "北京销售额最高。")
    at.run()
    load(at, sales_file)
    at.run()
    assert not at.exception
    assert any("销售" in e.label for e in at.expander)
    profile = at.dataframe[0].value
    assert list(profile["列名"]) == ["日期", "城市", "销售额"] and "300 – 1200" in list(profile["范围"])
    suggestions = [b.label for b in at.button if b.key and b.key.startswith("bi.suggestion.")]
    assert len(suggestions) == 3 and "销售额" in suggestions[0]
    at.chat_input(key="bi.chat_input").set_value("各城市销售额合计").run()
    assert not at.exception and not at.error
    result = at.dataframe[1].value
    assert list(result.iloc[0]) == ["北京", "1,500"]  # thousands separators on the page
    assert at.selectbox(key="bi.kind.0").value == "bar"
    assert any(m.value == "北京销售额最高。" for m in at.markdown)
    assert 'FROM "销售"' in at.text_area(key="bi.sql.0").value
    assert len(at.get("download_button")) == 2
    # Switch the chart type; the answer stays.
    at.selectbox(key="bi.kind.0").set_value("pie").run()
    assert not at.exception and at.selectbox(key="bi.kind.0").value == "pie"


def test_page_edited_sql_reruns_and_refusals_are_messages(tmp_path, sales_file):
    at = page(tmp_path, '```sql\nSELECT count(*) AS n FROM "销售"\n```', "三行。")
    at.run()
    load(at, sales_file)
    at.run()
    at.chat_input(key="bi.chat_input").set_value("几行？").run()
    assert at.dataframe[1].value.iloc[0, 0] == "3"
    at.text_area(key="bi.sql.0").set_value('DELETE FROM "销售"')
    at.button(key="bi.rerun.0").click().run()
    assert not at.exception
    assert any("已拒绝" in e.value for e in at.error)
    ws = at.session_state["bi.workspace"]
    assert ws.files.run('SELECT count(*) FROM "销售"').rows == [(3,)]
    at.text_area(key="bi.sql.0").set_value('SELECT "城市" FROM "销售" ORDER BY 1')
    at.button(key="bi.rerun.0").click().run()
    assert not at.exception
    assert list(at.dataframe[1].value["城市"]) == ["上海", "北京", "北京"]


def test_page_in_english_and_failed_model_keeps_the_conversation(tmp_path, sales_file):
    at = page(tmp_path, "```sql\nSELECT 1 AS one\n```", "fine", {"error": {"status": 400}})
    at.session_state["app.lang"] = "en"
    at.run()
    load(at, sales_file)
    at.run()
    assert at.header[0].value == "ChatBI: ask your data"
    at.chat_input(key="bi.chat_input").set_value("first").run()
    at.chat_input(key="bi.chat_input").set_value("second").run()
    assert not at.exception
    ws = at.session_state["bi.workspace"]
    assert [a.question for a in ws.conversation] == ["first", "second"]
    assert ws.conversation[0].ok and not ws.conversation[1].ok
    assert at.error  # the failed question shows a message
    assert ws.files.table_names() == ["销售"]


def test_workspace_keeps_everything_when_a_file_fails(tmp_path, sales_file):
    from services.chatbi.workspace import Workspace
    ws = Workspace()
    assert ws.add_upload(sales_file, sales_file.name, sales_file.stat().st_size).tables[0].name == "销售"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    report = ws.add_upload(empty, "empty.csv", 0)
    assert report.error.key == "bi.error.empty" and ws.load_errors[("empty.csv", 0)] is report.error
    assert ws.add_upload(empty, "empty.csv", 0) is None  # a rerun does not load (or fail) twice
    assert ws.files.table_names() == ["销售"] and set(ws.profiles) == {"销售"}
    assert len(ws.suggestions("zh")) == 3
