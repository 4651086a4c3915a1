"""Units in every spelling, banks and insurers, statements over three pages, and "verified" only when two
independent readings agree (synthetic reports drawn with PyMuPDF)."""
from __future__ import annotations

import pytest

from services.financials.service import analyze
from services.financials.units import report_convention, unit_in_text
from tests.test_financials_pdfs import cn_institution_report, cn_report

SPELLINGS = [
    ("单位：元 币种：人民币", 1.0),
    ("单位:人民币千元", 1e3),
    ("单位 万元", 1e4),
    ("单位：人民币 百万元", 1e6),
    ("金额单位：人民币百万元", 1e6),
    ("（金额单位均为人民币亿元）", 1e8),
    ("(除特别注明外，金额单位为人民币千元)", 1e3),
    ("货币单位：人民币元", 1.0),
    ("以人民币万元列示", 1e4),
    ("人民币百万元", 1e6),
    ("（in thousands of RMB）", 1e3),
    ("RMB'000", 1e3),
    ("In RMB millions", 1e6),
]


@pytest.mark.parametrize("line,multiplier", SPELLINGS)
def test_every_unit_spelling_is_applied_to_the_figures(tmp_path, line, multiplier):
    r = analyze(cn_report(tmp_path / "u.pdf", unit_line=line))
    ext = r.extraction
    assert ext.unit_multiplier == multiplier and ext.unit_known
    f = ext.fields
    assert f["revenue"].value == pytest.approx(1_000_000.0 * multiplier)
    assert f["total_assets"].value == pytest.approx(5_000_000.0 * multiplier)
    # Statement and summary print the same unit: both readings agree, magnitude included.
    assert f["revenue"].status == "verified" and f["total_assets"].status == "verified"
    assert not any("未找到单位" in w for w in r.warnings("zh"))


def test_unit_text_forms_and_non_units():
    assert unit_in_text("单位：人民币百万元") == (1e6, "百万元")
    assert unit_in_text("单位：万元　币种：人民币") == (1e4, "万元")  # full-width space
    assert unit_in_text("编制单位：测试科技股份有限公司 单位：元") == (1.0, "元")
    assert unit_in_text("(In millions, except per share data)") == (1e6, "millions")
    assert unit_in_text("营业收入较上年增加 5,000 万元") is None  # an amount in a sentence is not a unit
    assert unit_in_text("单位成本下降") is None
    assert report_convention(["第十节 财务报告\n除特别注明外，本报告所有金额单位均为人民币百万元\n"]) == (1e6, "百万元", 1)


@pytest.mark.parametrize("industry", ["bank", "insurer", "securities"])
def test_bank_and_insurer_in_millions_over_three_pages(tmp_path, industry):
    r = analyze(cn_institution_report(tmp_path / f"{industry}.pdf", industry=industry))
    ext = r.extraction
    assert ext.industry == industry and ext.unit_multiplier == 1e6
    f = ext.fields
    assert f["revenue"].value == 150_000e6 and f["net_profit"].value == 52_000e6
    assert f["net_profit_attributable"].value == 50_000e6
    assert f["total_assets"].value == 8_000_000e6 and f["total_assets"].page == 4
    # 负债合计 stands on the statement's second page, under a 合并资产负债表（续） title without a unit line.
    assert f["total_liabilities"].value == 7_300_000e6 and f["total_liabilities"].page == 5
    assert ext.located["balance_sheet"] == [4, 5, 6]
    assert all(f[k].status == "verified" for k in ("revenue", "net_profit", "net_profit_attributable",
                                                   "total_assets", "total_liabilities"))
    for key in ("operating_cost", "gross_profit"):
        assert f[key].status == "not_applicable" and f[key].value is None
    assert "营业成本" in f["gross_profit"].note_text("zh") and "gross profit" in f["gross_profit"].note_text("en")
    assert {"bank": "银行", "insurer": "保险公司", "securities": "证券公司"}[industry] in f["operating_cost"].note_text("zh")
    assert not any("未找到单位" in w for w in r.warnings("zh"))


def test_a_general_enterprise_listing_empty_bank_lines_is_not_a_bank(tmp_path):
    ext = analyze(cn_report(tmp_path / "a.pdf")).extraction
    assert ext.industry == "general" and ext.fields["operating_cost"].status == "verified"


def test_unit_missing_on_the_statements_is_never_verified(tmp_path):
    """The bank that came out a million times too small: the statements' unit is not found, the summary says
    百万元. The two readings disagree in magnitude: conflict, with both values, never verified."""
    r = analyze(cn_institution_report(tmp_path / "b.pdf", statement_unit=False, unit_line="单位：人民币百万元"))
    f = r.extraction.fields
    assert not any(x.status == "verified" for x in f.values())
    rev = f["revenue"]
    assert rev.status == "conflict" and rev.value == 150_000.0 and rev.second_value == 150_000e6
    assert rev.second_page == 2 and rev.page == 8
    assert f["total_assets"].status == "conflict"
    assert any("未找到单位" in w for w in r.warnings("zh"))
    d = r.to_dict("zh")["fields"]["revenue"]
    assert d["status"] == "conflict" and d["second_value"] == 150_000e6 and "第 2 页" in d["note"]


def test_report_wide_unit_convention_applies_to_statements_without_a_unit_line(tmp_path):
    # 「除特别注明外，金额单位均为人民币百万元」 printed once, before the statements.
    r = analyze(cn_institution_report(tmp_path / "conv.pdf", statement_unit=False))
    ext = r.extraction
    assert ext.unit_multiplier == 1e6 and ext.fields["revenue"].value == 150_000e6
    assert ext.fields["revenue"].status == "verified"


def test_no_unit_anywhere_leaves_every_figure_unverified(tmp_path):
    r = analyze(cn_institution_report(tmp_path / "c.pdf", statement_unit=False, summary_unit=False))
    f = r.extraction.fields
    assert not any(x.status == "verified" for x in f.values())
    assert f["revenue"].status == "unverified" and "单位" in f["revenue"].note_text("zh")


def test_numbered_titles_and_restated_opening_balances_in_the_notes(tmp_path):
    """Shenzhen layout: 1、合并资产负债表; the notes restate the opening balances (2020年12月31日 / 2021年01月01日 /
    调整数) under a plain 合并资产负债表 title, which must not be read as the statement."""
    r = analyze(cn_report(tmp_path / "sz.pdf", numbered=True, restated=True))
    f = r.extraction.fields
    assert f["total_assets"].value == 5_000_000.0 and f["total_assets"].page == 6
    assert f["total_liabilities"].value == 2_000_000.0
    assert f["revenue"].value == 1_000_000.0 and f["net_profit"].value == 120_000.0
    assert f["net_profit_attributable"].value == 100_000.0
    assert all(f[k].status == "verified" for k in ("revenue", "total_assets", "total_liabilities", "net_profit"))


def test_current_period_column_chosen_by_header_date(tmp_path):
    r = analyze(cn_report(tmp_path / "old_first.pdf", old_first=True))
    f = r.extraction.fields
    assert f["total_assets"].value == 5_000_000.0  # the 2021年12月31日 column, printed on the right
    assert f["total_liabilities"].value == 2_000_000.0


def test_wrong_summary_is_a_conflict_not_a_silent_pick(tmp_path):
    r = analyze(cn_report(tmp_path / "eq.pdf", equity_off_by=1000))
    liab = r.extraction.fields["total_liabilities"]
    # 资产总计 = 负债合计 + 所有者权益合计 fails: liabilities has two readings that disagree.
    assert liab.status == "conflict" and liab.value == 2_000_000.0 and liab.second_value == 1_999_000.0


def test_model_reading_with_its_own_unit_is_the_second_reading(tmp_path, replay_conn):
    """A 10-K has no 主要会计数据: the table parse alone is unverified; the model reading the located pages, unit
    named, and finding the same number makes it verified; a different number makes it a conflict."""
    import json

    from tests.test_financials_pdfs import en_10k
    reply = {"unit": "millions", "revenue": {"value": 12000, "page": 2, "source_text": "Net sales 12,000"},
             "total_assets": {"value": 21000, "page": 3, "source_text": "Total assets 21,000"}}
    alone = analyze(en_10k(tmp_path / "k.pdf"), lang="en").extraction.fields
    assert alone["revenue"].status == "unverified"
    r = analyze(en_10k(tmp_path / "k.pdf"), conn=replay_conn([json.dumps(reply)]), use_model=True, lang="en")
    f = r.extraction.fields
    assert f["revenue"].status == "verified" and f["revenue"].second_page == 2
    assert f["total_assets"].status == "conflict" and f["total_assets"].value == 20_000e6
    assert f["total_assets"].model_value == 21_000e6


def test_revenue_is_the_line_the_summary_confirms(tmp_path):
    """A group with a finance arm: 营业总收入 1,000,000.00 includes 利息收入; 其中：营业收入 is 990,000.00. The
    summary's 营业收入 is 1,000,000.00, so the total is the revenue both readings agree on (not a conflict)."""
    r = analyze(cn_report(tmp_path / "g.pdf", finance_arm=True))
    rev = r.extraction.fields["revenue"]
    assert rev.value == 1_000_000.0 and rev.status == "verified" and rev.source_text.startswith("一、营业总收入")
