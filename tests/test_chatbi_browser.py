"""ChatBI in a real browser with an office sheet: what the page shows — totals left out, numbers with thousands
separators, chart axes named after the columns with their units, SQL typed by the user answered at once."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.browser import browser_page  # noqa: F401 - fixture
from tests.test_e2e_journeys import T, app, finish, grid_rows, main, open_page, page, settle, upload  # noqa: F401

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("chatbi_zh_sheets", ROOT / "eval" / "chatbi_zh_sheets.py")
sheets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheets)


def test_office_sheet_in_the_browser(app, page, tmp_path):  # noqa: F811 - fixtures from the journeys
    seen = app.script("chatbi-office", ["朝阳店一季度 161,700 元，海淀店 134,900 元。"])
    path = sheets.write_case("门店月销售", "gbk.csv", tmp_path)
    open_page(page, app, "chatbi")
    body = main(page)
    upload(body, path)
    # Seen without opening anything: the table's line says how many subtotal/total rows were left out.
    body.get_by_test_id("stExpander").filter(has_text="门店月销售").locator("summary").filter(
        has_text="已排除 3 行小计/合计").wait_for()
    # SQL typed into the box from the start: the table and chart come first, the model only writes the summary.
    body.get_by_test_id("stExpander").filter(has_text=T("bi.own_sql")).locator("summary").click()
    box = body.get_by_test_id("stTextArea").filter(has_text=T("bi.own_sql_box")).locator("textarea")
    box.fill('SELECT "门店", sum("销售额") AS "销售额" FROM "门店月销售" GROUP BY 1 ORDER BY 1')
    box.press("Control+Enter")
    settle(page)
    body.get_by_role("button", name=T("bi.own_sql_run")).click()
    body.get_by_text("朝阳店一季度 161,700 元，海淀店 134,900 元。").wait_for()
    stores = ("门店", "朝阳店", "海淀店")
    rows = [r for r in grid_rows(body, until=lambda rows: any(r and r[0] == "海淀店" for r in rows))
            if r and r[0] in stores]
    assert rows[-3:] == [["门店", "销售额"], ["朝阳店", "161,700"], ["海淀店", "134,900"]], rows
    titles = body.locator(".js-plotly-plot .g-ytitle, .js-plotly-plot .g-xtitle")
    titles.first.wait_for(state="attached")  # plotly draws the chart after the summary's text is on the page
    axes = titles.all_text_contents()
    assert "销售额（元）" in axes and "门店" in axes, axes
    assert not {"value", "variable"} & set(axes)
    sent = app.requests()[seen:]
    assert len(sent) == 1  # the summary; no request for SQL
    finish(page, "chatbi-office")
