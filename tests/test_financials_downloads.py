"""What the comparison table, the charts and the downloads show: each value's status, Chinese notes in the
Chinese UI, no "None" cells, whole page numbers, amounts in 亿元 / 万元."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from services.financials import charts, export
from services.financials.service import analyze
from tests.test_financials_pdfs import cn_institution_report, cn_report


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fin")
    good = analyze(cn_report(tmp / "good.pdf", unit="万元")).to_dict("zh")
    bank = analyze(cn_institution_report(tmp / "bank.pdf")).to_dict("zh")
    # The statements' unit is missing: revenue and total assets are conflicts (summary says 百万元).
    odd = analyze(cn_institution_report(tmp / "odd.pdf", statement_unit=False, unit_line="单位：人民币百万元")).to_dict("zh")
    return [good, bank, odd]


def test_csv_has_no_none_and_whole_page_numbers(reports):
    text = export.to_csv(reports, "zh").decode("utf-8-sig")
    assert "None" not in text and "nan" not in text.lower()
    rows = list(csv.DictReader(io.StringIO(text)))
    pages = [r["页码"] for r in rows if r["页码"]]
    assert pages and all(p.isdigit() for p in pages)  # "8", never "8.0"
    bank_cost = next(r for r in rows if r["文件"] == "bank.pdf" and r["项目"] == "营业成本")
    assert bank_cost["状态"] == "不适用" and bank_cost["页码"] == "" and bank_cost["数值"] == ""


def test_page_detail_cells_are_never_none(reports):
    for d in reports:
        for row in export.detail_rows(d, "zh", for_display=True):
            assert all(v is not None and v != "None" for v in row.values()), row


def test_notes_follow_the_interface_language(reports, tmp_path):
    good, bank, _ = reports
    assert good["fields"]["gross_profit"]["note"] == "营业收入 − 营业成本"
    assert "营业成本" in bank["fields"]["operating_cost"]["note"]
    for d in reports:
        for f in d["fields"].values():
            assert not any(word in (f.get("note") or "") for word in ("revenue", "operating", "from the", "line"))
    assert [c["name"] for c in good["checks"]] == ["资产总计 = 负债合计 + 所有者权益合计", "资产总计 = 负债和所有者权益总计"]
    broken = analyze(cn_report(tmp_path / "eq.pdf", equity_off_by=1000))
    assert any("资产总计 = 负债合计 + 所有者权益合计" in w for w in broken.warnings("zh"))
    assert not any("liabilities" in w for w in broken.warnings("zh"))
    en = analyze(cn_institution_report(tmp_path / "b.pdf")).to_dict("en")
    assert "gross profit" in en["fields"]["gross_profit"]["note"]


def test_comparison_view_is_narrow_and_marks_each_status(reports):
    view = export.comparison_view(reports, "zh")
    assert len(view.columns) == 1 + len(reports)  # one column per report: fits the page
    cells = view.set_index("项目")
    odd = cells.columns[2]
    assert "冲突" in cells.loc["营业收入", odd] and "⚠" in cells.loc["营业收入", odd]
    assert cells.loc["营业收入", cells.columns[1]].startswith("1,500.00 亿元") and "✓" in cells.loc["营业收入", cells.columns[1]]
    assert cells.loc["营业成本", cells.columns[1]] == "不适用"
    assert cells.loc["营业收入", cells.columns[0]] == "100.00 亿元 ✓"  # 1,000,000.00 万元


def test_downloads_carry_a_status_for_every_value(reports):
    frame = export.comparison_frame(reports, "zh")
    assert list(frame["整体状态"]) == ["已核验", "已核验", "冲突"]
    assert frame.loc[2, "营业收入 · 状态"] == "冲突" and frame.loc[1, "营业成本 · 状态"] == "不适用"
    wb = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(reports, "zh")))
    header = [c.value for c in next(wb["comparison"].iter_rows())]
    assert "整体状态" in header and "营业收入 · 状态" in header
    detail_header = [c.value for c in next(wb["detail"].iter_rows())]
    assert "另一处读数" in detail_header


def test_chart_axis_in_yi_yuan_and_unverified_bars_marked(reports):
    fig = charts.revenue_profit_chart(reports, "zh")
    assert "亿元" in fig.layout.yaxis.title.text and fig.layout.yaxis.tickformat != "~s"
    revenue = fig.data[0]
    assert revenue.y[1] == pytest.approx(1500.0)  # 150,000 百万元 = 1,500 亿元
    assert list(revenue.marker.pattern.shape) == ["", "", "x"]  # the conflict is crossed out
    assert "冲突" in revenue.text[2]
    small = charts.revenue_profit_chart([reports[0] | {"fields": {
        "revenue": {"value": 3_000_000.0, "status": "verified"}, "net_profit": {"value": 500_000.0, "status": "verified"}}}], "zh")
    assert "万元" in small.layout.yaxis.title.text and small.data[0].y[0] == pytest.approx(300.0)
    en = charts.revenue_profit_chart(reports[:2], "en")
    assert "billions" in en.layout.yaxis.title.text
