"""Small synthetic annual reports drawn with PyMuPDF, with the traps real reports contain (helpers, no tests)."""
from __future__ import annotations

from pathlib import Path

import pymupdf

LABEL_X, NOTE_X = 60, 230
COLUMN_RIGHT = (400, 480, 560)  # right edges of up to three amount columns
ROW_H = 14
FONT = 9


def _text(page, x, y, text):
    cjk = any("\u4e00" <= ch <= "\u9fff" or ch in "：（），、“”－" for ch in text)
    page.insert_text((x, y), text, fontname="china-s" if cjk else "helv", fontsize=FONT)


def _amount(page, column, y, text):
    width = pymupdf.get_text_length(text, fontname="helv", fontsize=FONT)
    page.insert_text((COLUMN_RIGHT[column] - width, y), text, fontname="helv", fontsize=FONT)


class Writer:
    """Writes lines top to bottom, starting a new page when one is full."""

    def __init__(self, doc):
        self.doc = doc
        self.page = None
        self.y = 0
        self.new_page()

    def new_page(self):
        self.page = self.doc.new_page(width=595, height=842)
        self.y = 60
        _text(self.page, 250, 40, "年度报告")

    def line(self, label="", amounts=(), note="", label2=None):
        """One statement row; amounts[i] goes to column i (None leaves the cell empty); label2 wraps the label."""
        if self.y > 780:
            self.new_page()
        if label:
            _text(self.page, LABEL_X, self.y, label)
        if note:
            _text(self.page, NOTE_X, self.y, note)
        for i, a in enumerate(amounts):
            if a is not None:
                _amount(self.page, i, self.y, a)
        self.y += ROW_H
        if label2:
            _text(self.page, LABEL_X - 10, self.y, label2)
            self.y += ROW_H

    def text(self, text, x=LABEL_X):
        if self.y > 780:
            self.new_page()
        _text(self.page, x, self.y, text)
        self.y += ROW_H


def cn_report(path: Path, *, unit="元", company="测试科技股份有限公司", code="600123", short="测试科技", year=2021,
              bank=False, break_balance_after=None, equity_off_by=None, scanned=False, filler_pages=3,
              injection=None, loss=False, plain_notes=False, statements=True, cost_note=True) -> Path:
    """A Chinese annual report: cover, profile, key figures, consolidated and parent statements.

    Figures (in the stated unit): revenue 1,000,000.00, cost 600,000.00 (absent for a bank), net profit
    (120,000.00 attributable 100,000.00), total assets 5,000,000.00, current liabilities 1,500,000.00, total
    liabilities 2,000,000.00, equity 3,000,000.00. The parent company shows different, larger-looking numbers.
    """
    doc = pymupdf.open()
    w = Writer(doc)
    w.text(f"公司代码：{code}                    公司简称：{short}")
    w.y += 100
    w.text(company, x=200)
    w.text(f"{year} 年年度报告", x=220)
    w.new_page()
    w.text("第二节 公司简介和主要财务指标")
    w.text("一、公司信息")
    w.text(f"公司的中文名称 {company}")
    w.text(f"股票代码 {code}")
    if injection:
        w.text(injection)
    w.text("七、近三年主要会计数据和财务指标")
    w.text("主要会计数据")
    w.text(f"单位：{unit} 币种：人民币", x=420)
    w.line("营业收入", ("1,000,000.00", "900,000.00", "800,000.00"))
    w.line("归属于上市公司股东的净利润", ("-100,000.00" if loss else "100,000.00", "90,000.00", "80,000.00"))
    w.line("总资产", ("5,000,000.00", "4,500,000.00", "4,000,000.00"))
    for i in range(filler_pages):
        w.new_page()
        w.text(f"第{i + 3}节 经营情况讨论与分析：营业收入、营业成本、资产总计等均见财务报表。")
        w.text(f"DECOY-PAGE-{i + 3} 本页不应发送给模型")
    cols = lambda a, b, c=None: (a, b, c)  # noqa: E731
    if not statements:
        doc.save(path)
        return path
    if plain_notes:  # a 附注 column of bare numbers, which look like amounts
        original_line = w.line

        counter = iter(range(1, 1000))

        def line_with_plain_note(label="", amounts=(), note="", label2=None):
            note = note.split("、")[-1] if note else (str(next(counter)) if any(amounts) else "")
            original_line(label, amounts, note, label2)
        w.line = line_with_plain_note
    w.new_page()
    w.text("合并资产负债表", x=250)
    w.text(f"{year} 年12 月31 日", x=250)
    w.text(f"单位：{unit} 币种：人民币", x=420)
    w.text(f"项目                     附注            {year}年12月31日    {year - 1}年12月31日")
    w.line("流动资产：")
    w.line("货币资金", cols("800,000.00", "700,000.00"), note="七、1")
    w.line("以公允价值计量且其变动", cols(None, "6,049,569.00"), label2="计入当期损益的金融资产")
    w.line("流动资产合计", cols("2,000,000.00", "1,800,000.00"))
    w.line("资产总计", cols("5,000,000.00", "4,500,000.00"))
    w.line("流动负债：")
    w.line("短期借款", cols("500,000.00", "400,000.00"), note="七、32")
    w.line("流动负债合计", cols("1,500,000.00", "1,300,000.00"))
    if break_balance_after == "current_liabilities":
        w.new_page()
    w.line("非流动负债合计", cols("500,000.00", "450,000.00"))
    w.line("负债合计", cols("2,000,000.00", "1,750,000.00"))
    w.line("所有者权益（或股东权益）：")
    eq = "3,000,000.00" if equity_off_by is None else f"{3_000_000 + equity_off_by:,.2f}"
    w.line("归属于母公司所有者权益", cols(eq, "2,750,000.00"), label2="（或股东权益）合计")
    w.line("所有者权益（或股东权", cols(eq, "2,750,000.00"), label2="益）合计")
    w.line("负债和所有者权益（或", cols("5,000,000.00", "4,500,000.00"), label2="股东权益）总计")
    w.text("法定代表人：张三   主管会计工作负责人：李四")
    w.text("母公司资产负债表", x=250)
    w.text(f"单位：{unit} 币种：人民币", x=420)
    w.line("资产总计", cols("9,999,999.00", "8,888,888.00"))
    w.line("流动负债合计", cols("1,111,111.00", "1,000,000.00"))
    w.line("负债合计", cols("3,333,333.00", "3,000,000.00"))
    w.line("所有者权益（或股东权益）合计", cols("6,666,666.00", "5,888,888.00"))
    w.new_page()
    w.text("合并利润表", x=250)
    w.text(f"单位：{unit} 币种：人民币", x=420)
    w.text(f"项目                     附注            {year}年度    {year - 1}年度    {year - 2}年度")
    if bank:
        w.line("一、营业收入", cols("1,000,000.00", "950,000.00", "900,000.00"))
        w.line("利息净收入", cols("700,000.00", "650,000.00", "600,000.00"))
        w.line("手续费及佣金净收入", cols("300,000.00", "300,000.00", "300,000.00"))
        w.line("二、营业支出", cols("850,000.00", "800,000.00", "760,000.00"))
    else:
        w.line("一、营业总收入", cols("1,000,000.00", "950,000.00", "900,000.00"))
        w.line("其中：营业收入", cols("1,000,000.00", "950,000.00", "900,000.00"), note="七、61")
        w.line("二、营业总成本", cols("850,000.00", "800,000.00", "760,000.00"))
        w.line("其中：营业成本", cols("600,000.00", "580,000.00", "560,000.00"))
        w.line("财务费用", cols("(12,345.67)", "-2,000.00", "1,000.00"), note="七、66")
    net, attributable = ("(120,000.00)", "-100,000.00") if loss else ("120,000.00", "100,000.00")
    w.line("五、净利润（净亏损以“－”号填列）", cols(net, "110,000.00", "100,000.00"))
    w.line("1.持续经营净利润", cols(net, "110,000.00", "100,000.00"))
    w.line("1.归属于母公司股东", cols(attributable, "95,000.00", "90,000.00"), label2="的净利润（净亏损以“-”号填列）")
    w.line("2.少数股东损益", cols("(20,000.00)" if loss else "20,000.00", "15,000.00", "10,000.00"))
    w.text("母公司利润表", x=250)
    w.line("一、营业收入", cols("7,777,777.00", "7,000,000.00"))
    w.line("减：营业成本", cols("5,555,555.00", "5,000,000.00"))
    w.line("四、净利润", cols("444,444.00", "400,000.00"))
    w.new_page()
    w.text("合并现金流量表", x=250)
    w.line("经营活动现金流入小计", cols("1,100,000.00", "1,000,000.00"))
    if cost_note and not bank:
        # The note 营业收入和营业成本 prints revenue and cost again: a second reading of the cost.
        w.new_page()
        w.text("61、营业收入和营业成本")
        w.text(f"单位：{unit}", x=420)
        w.line("合计", ("1,000,000.00", "600,000.00", "950,000.00"))
    if scanned:
        doc = _as_scanned(doc)
    doc.save(path)
    return path


def _as_scanned(doc):
    """The same pages as images only (no text layer), like a scanned report."""
    out = pymupdf.open()
    for page in doc:
        pix = page.get_pixmap(dpi=150)
        new = out.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, pixmap=pix)
    return out


def en_10k(path: Path) -> Path:
    """A small 10-K: cover, income statement in millions with three years, balance sheet without total liabilities."""
    doc = pymupdf.open()
    w = Writer(doc)
    w.text("FORM 10-K")
    w.text("For the fiscal year ended December 31, 2022")
    w.text("Commission File Number: 1-1234")
    w.text("EXAMPLE WIDGETS INC.")
    w.text("(Exact name of registrant as specified in its charter)")
    w.text("Trading Symbol")
    w.text("EXW")
    w.new_page()
    w.text("EXAMPLE WIDGETS INC.")
    w.text("CONSOLIDATED STATEMENTS OF OPERATIONS")
    w.text("(In millions, except per share data)")
    w.line("", ("2022", "2021", "2020"))
    w.line("Net sales", ("$ 12,000", "$ 11,000", "$ 10,000"))
    w.line("Cost of sales", ("7,000", "6,500", "6,000"))
    w.line("Gross profit", ("5,000", "4,500", "4,000"))
    w.line("Interest expense", ("(150)", "(140)", "—"))
    w.line("Net income", ("$ 1,200", "$ 1,100", "$ 900"))
    w.new_page()
    w.text("CONSOLIDATED BALANCE SHEETS")
    w.text("(In millions)")
    w.line("", ("2022", "2021"))
    w.line("Total assets", ("$ 20,000", "$ 18,000"))
    w.line("Total current liabilities", ("4,000", "3,800"))
    w.line("Total equity", ("8,000", "7,500"))
    w.line("Total liabilities and equity", ("$ 20,000", "$ 18,000"))
    doc.save(path)
    return path


def text_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF that is not a financial report."""
    doc = pymupdf.open()
    w = Writer(doc)
    for ln in lines:
        w.text(ln)
    doc.save(path)
    return path


def cn_scanned_mini(path: Path, text_cover: bool = False) -> Path:
    """A two-page scanned report (images only): a cover, then both consolidated statements on one page.
    With text_cover the cover keeps its text layer and only the statement page is an image."""
    doc = pymupdf.open()
    w = Writer(doc)
    w.text("公司代码：600123    公司简称：测试科技")
    w.text("测试科技股份有限公司")
    w.text("2021 年年度报告")
    w.new_page()
    w.text("合并资产负债表", x=250)
    w.text("单位：元 币种：人民币", x=420)
    w.line("资产总计", ("5,000,000.00", "4,500,000.00"))
    w.line("流动负债合计", ("1,500,000.00", "1,300,000.00"))
    w.line("负债合计", ("2,000,000.00", "1,750,000.00"))
    w.line("所有者权益合计", ("3,000,000.00", "2,750,000.00"))
    w.text("合并利润表", x=250)
    w.text("单位：元 币种：人民币", x=420)
    w.line("营业收入", ("1,000,000.00", "950,000.00"))
    w.line("营业成本", ("600,000.00", "580,000.00"))
    w.line("净利润", ("(120,000.00)", "110,000.00"))
    scanned = _as_scanned(doc)
    if text_cover:
        scanned.delete_page(0)
        doc.delete_page(1)
        doc.insert_pdf(scanned)
        scanned = doc
    scanned.save(path)
    return path
