"""ChatBI on the sheets Chinese offices keep: subtotal and total rows left out (with a switch), two-row headers,
units, notes below the table, several tables on a sheet, empty cells; in .xlsx, UTF-8 CSV and GBK CSV."""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.chatbi.assistant import ask
from services.chatbi.charts import ChartSpec, figure
from services.chatbi.display import display_frame
from services.chatbi.engine import DuckSession
from services.chatbi.workspace import Workspace
from services.providers.replay import script_for

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("chatbi_zh_sheets", ROOT / "eval" / "chatbi_zh_sheets.py")
sheets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheets)

SINGLE = [s for s, c in sheets.CASES.items() if "tables" not in c]


@pytest.fixture
def session():
    s = DuckSession()
    yield s
    s.close()


def one(session, sql):
    return session.run(sql).rows[0][0]


@pytest.mark.parametrize("fmt", sheets.FORMATS)
@pytest.mark.parametrize("stem", SINGLE)
def test_detail_rows_only_and_the_sums_a_question_gets(tmp_path, session, stem, fmt):
    case = sheets.CASES[stem]
    [info] = session.add_file(sheets.write_case(stem, fmt, tmp_path))
    t = info.name
    assert one(session, f'SELECT count(*) FROM "{t}"') == case["rows"]
    assert len(info.total_labels) == case["totals"]
    for column, total in case["sum"].items():
        assert one(session, f'SELECT sum("{column}") FROM "{t}"') == total
    for column, unit in case["units"].items():
        assert info.units[column] == unit
    assert all(check.agrees for check in info.checks) and info.checks
    # Nothing from the notes, the title or the total rows is a data row.
    text = " ".join(str(v) for row in session.run(f'SELECT * FROM "{t}"').rows for v in row)
    assert not any(word in text for word in ("注", "来源", "合计", "小计", "单位"))


def test_subtotals_double_count_only_when_the_user_keeps_them(tmp_path):
    ws = Workspace()
    path = sheets.write_case("地区销售", "xlsx", tmp_path)
    [info] = ws.add_upload(path, path.name, path.stat().st_size).tables
    total = f'SELECT sum("销售额") FROM "{info.name}"'
    assert ws.files.run(total).rows == [(520,)] and ws.profiles[info.name].rows == 5
    ws.keep_totals(info.name, True)
    assert ws.files.run(total).rows == [(520 + 310 + 210 + 520,)]
    assert ws.profiles[info.name].rows == 8 and ws.files.tables[info.name].rows == 8
    ws.keep_totals(info.name, False)
    assert ws.files.run(total).rows == [(520,)]


def test_a_total_that_disagrees_with_its_rows_is_reported(tmp_path, session):
    case = copy.deepcopy(sheets.CASES["地区销售"])
    case["grid"][9][2] = 500  # 合计 says 500, the provinces add up to 520
    sheets.CASES["_bad"] = case
    try:
        [info] = session.add_file(sheets.write_case("_bad", "utf-8.csv", tmp_path))
    finally:
        del sheets.CASES["_bad"]
    bad = [c for c in info.checks if not c.agrees]
    assert [(c.label, c.column, c.stated, c.computed) for c in bad] == [("合计", "销售额", 500, 520)]
    assert one(session, f'SELECT sum("销售额") FROM "{info.name}"') == 520


@pytest.mark.parametrize("fmt", sheets.FORMATS)
def test_two_row_merged_header_becomes_one_name_and_empty_cells_stay_empty(tmp_path, session, fmt):
    [info] = session.add_file(sheets.write_case("部门收支", fmt, tmp_path))
    assert [c.name for c in info.columns] == ["部门", "2023年_收入", "2023年_成本", "2024年_收入", "2024年_成本"]
    assert info.units["2024年_收入"] == "万元"
    result = session.run(f'SELECT "部门", "2023年_收入" FROM "{info.name}" ORDER BY "2023年_收入" DESC NULLS LAST')
    assert result.rows[-1] == ("行政部", None)
    shown = display_frame(result.to_frame())
    assert list(shown["2023年_收入"]) == ["800", "300", ""]  # empty, never NaN / None / <NA>


@pytest.mark.parametrize("fmt", sheets.FORMATS)
def test_several_tables_on_one_sheet_are_separate_tables_named_after_their_titles(tmp_path, session, fmt):
    infos = session.add_file(sheets.write_case("人事费用", fmt, tmp_path))
    expected = sheets.CASES["人事费用"]["tables"]
    assert [i.name for i in infos] == list(expected)
    for info in infos:
        want = expected[info.name]
        assert info.rows == want["rows"] and info.units == want["units"]
        for column, total in want["sum"].items():
            assert one(session, f'SELECT sum("{column}") FROM "{info.name}"') == total
    assert infos[0].title == "表1 各部门人数" and infos[1].total_labels == ["总计"]


def test_plain_csv_still_loads_with_duckdbs_reader(tmp_path, session):
    path = tmp_path / "plain.csv"
    path.write_text("日期,城市,销售额\n2023-01-05,北京,1200\n2023-02-11,上海,800\n", encoding="utf-8")
    [info] = session.add_file(path)
    assert [c.type for c in info.columns] == ["DATE", "VARCHAR", "BIGINT"] and not info.total_labels


def test_units_and_removed_totals_reach_the_model_and_the_answer(tmp_path, session, replay_conn):
    [info] = session.add_file(sheets.write_case("地区销售", "gbk.csv", tmp_path))
    conn = replay_conn([f'```sql\nSELECT sum("销售额") AS "销售额合计" FROM "{info.name}"\n```'])
    answer = ask(session, conn, "销售额合计是多少？", lang="zh")
    assert answer.result.rows == [(520,)]
    assert answer.units == {"销售额合计": "万元"}
    assert "520万元" in answer.summary and "1,260" not in answer.summary
    system = script_for(conn.replay_path).requests[0][0]["content"]
    assert '"销售额" BIGINT [unit: 万元]' in system
    assert "3 subtotal/total rows (华东小计, 华南小计, 合计) were removed" in system


def test_chart_axes_carry_column_names_and_units():
    import pandas as pd
    frame = pd.DataFrame({"部门": ["销售部", "研发部"], "2024年_收入": [950, 360], "2024年_成本": [560, 480]})
    fig = figure(frame, ChartSpec("bar", x="部门", y=["2024年_收入", "2024年_成本"]), "zh",
                 units={"2024年_收入": "万元", "2024年_成本": "万元"})
    assert fig.layout.xaxis.title.text == "部门"
    assert fig.layout.yaxis.title.text == "2024年_收入 / 2024年_成本（万元）"
    assert fig.layout.legend.title.text == "指标"
    single = figure(frame, ChartSpec("bar", x="部门", y=["2024年_收入"]), "zh", units={"2024年_收入": "万元"})
    assert single.layout.yaxis.title.text == "2024年_收入（万元）"


def test_numbers_are_shown_with_thousands_separators_years_without():
    import pandas as pd
    frame = pd.DataFrame({"年份": [2023, 2024], "销售额": [1234567, 89], "单价": [1899.5, None]})
    shown = display_frame(frame)
    assert list(shown["年份"]) == ["2023", "2024"]
    assert list(shown["销售额"]) == ["1,234,567", "89"]
    assert list(shown["单价"]) == ["1,899.5", ""]


# ---------------------------------------------------------------- command line

def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services", "ask", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LANG": "C.UTF-8"}, timeout=300)


def test_cli_answers_from_detail_rows_and_can_keep_totals(tmp_path):
    path = sheets.write_case("门店月销售", "gbk.csv", tmp_path)
    sql = 'SELECT sum("销售额") AS "销售额" FROM "门店月销售"'
    out = run_cli(str(path), "一季度销售额合计", "--sql", sql, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["rows"] == [[296600]] and data["units"] == {"销售额": "元"}
    assert "已排除 3 行小计/合计：朝阳店 小计, 海淀店 小计, 合计" in out.stderr
    assert "合计 的 销售额 296,600 与保留行之和 296,600 一致" in out.stderr
    kept = run_cli(str(path), "一季度销售额合计", "--sql", sql, "--json", "--keep-totals")
    assert json.loads(kept.stdout)["rows"] == [[296600 * 2 + 161700 + 134900]]
    text = run_cli(str(path), "一季度销售额合计", "--sql", sql, "--lang", "zh")
    assert "296,600" in text.stdout and "单位：销售额 元" in text.stdout


def test_untitled_tables_on_one_sheet_are_numbered_after_the_file(tmp_path, session):
    path = tmp_path / "two.csv"
    path.write_text("城市,销售额\n北京,10\n上海,20\n\n\n产品,数量\n笔,3\n纸,4\n", encoding="gbk")
    infos = session.add_file(path)
    assert [(i.name, [c.name for c in i.columns], i.rows) for i in infos] == [
        ("two_1", ["城市", "销售额"], 2), ("two_2", ["产品", "数量"], 2)]


def test_a_bare_carriage_return_inside_a_field_stays_in_its_cell(tmp_path, session):
    path = tmp_path / "cr.csv"
    path.write_bytes("名称,金额\n甲,1\n乙\r丙,2\n合计,3\n".encode("utf-8"))
    [info] = session.add_file(path)
    assert info.name == "cr" and info.rows >= 3  # one table, the odd row kept (DuckDB's lenient reader)
