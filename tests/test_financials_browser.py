"""The financial-report page in a real browser: reports uploaded, the comparison table fits the page (nothing cut
off at the right), the chart's axis is in 亿元, statuses are on the page."""
from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures
from tests.test_financials_pdfs import cn_institution_report, cn_report


@pytest.fixture
def app(tmp_path):
    with running_app(tmp_path, {}) as url:
        yield url


def test_comparison_fits_and_chart_axis_in_yi_yuan(app, browser_page, tmp_path):
    page = browser_page
    files = [cn_report(tmp_path / "a.pdf", unit="万元"), cn_report(tmp_path / "b.pdf", code="600124", unit="万元"),
             cn_institution_report(tmp_path / "bank.pdf"),
             cn_institution_report(tmp_path / "odd.pdf", statement_unit=False, unit_line="单位：人民币百万元")]
    page.goto(f"{app}/financials")
    page.get_by_role("heading", name="财报关键数据提取").wait_for()
    page.locator("input[type=file]").set_input_files([str(f) for f in files])
    page.get_by_text("odd.pdf").first.wait_for()
    page.get_by_role("button", name="开始提取").click()
    page.get_by_text("对比表").wait_for(timeout=240_000)
    page.get_by_text("⚠ 冲突").first.wait_for()  # the status legend under the comparison table
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    try:
        scroller = grid.locator(".dvn-scroller").first
        widths = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1] + 2, widths  # no horizontal scrolling: every column is visible
        axis = page.locator(".js-plotly-plot .g-ytitle").first.text_content()
        assert "亿元" in axis
        ticks = page.locator(".js-plotly-plot .ytick text").all_text_contents()
        assert ticks and not any(t.endswith(("G", "M", "k")) for t in ticks), ticks
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "financials_page.png"), full_page=True)
