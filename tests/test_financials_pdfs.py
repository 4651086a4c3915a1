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
              injection=None, loss=False, plain_notes=False, statements=True, cost_note=True, unit_line=None,
              numbered=False, restated=False, old_first=False, finance_arm=False) -> Path:
    """A Chinese annual report: cover, profile, key figures, consolidated and parent statements.

    Figures (in the stated unit): revenue 1,000,000.00, cost 600,000.00 (absent for a bank), net profit
    (120,000.00 attributable 100,000.00), total assets 5,000,000.00, current liabilities 1,500,000.00, total
    liabilities 2,000,000.00, equity 3,000,000.00. The parent company shows different, larger-looking numbers.
    """
    unit_line = unit_line or f"单位：{unit} 币种：人民币"
    n = (lambda i: f"{i}、") if numbered else (lambda i: "")  # noqa: E731 - Shenzhen reports number their statements
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
    w.text(unit_line, x=380)
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
    w.text(f"{n(1)}合并资产负债表", x=250)
    w.text(f"{year} 年12 月31 日", x=250)
    w.text(unit_line, x=380)
    if old_first:
        # Columns headed oldest first: the report year is the right-hand column.
        w.text("项目")
        for i, label in enumerate((f"{year - 1}年12月31日", f"{year}年12月31日")):
            _text(w.page, COLUMN_RIGHT[i] - 60, w.y - ROW_H, label)
        cols = lambda a, b, c=None: (b, a, c)  # noqa: E731
    else:
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
    cols = lambda a, b, c=None: (a, b, c)  # noqa: E731
    w.text("法定代表人：张三   主管会计工作负责人：李四")
    w.text(f"{n(2)}母公司资产负债表", x=250)
    w.text(unit_line, x=380)
    w.line("资产总计", cols("9,999,999.00", "8,888,888.00"))
    w.line("流动负债合计", cols("1,111,111.00", "1,000,000.00"))
    w.line("负债合计", cols("3,333,333.00", "3,000,000.00"))
    w.line("所有者权益（或股东权益）合计", cols("6,666,666.00", "5,888,888.00"))
    w.new_page()
    w.text(f"{n(3)}合并利润表", x=250)
    w.text(unit_line, x=380)
    w.text(f"项目                     附注            {year}年度    {year - 1}年度    {year - 2}年度")
    if bank:
        w.line("一、营业收入", cols("1,000,000.00", "950,000.00", "900,000.00"))
        w.line("利息净收入", cols("700,000.00", "650,000.00", "600,000.00"))
        w.line("手续费及佣金净收入", cols("300,000.00", "300,000.00", "300,000.00"))
        w.line("二、营业支出", cols("850,000.00", "800,000.00", "760,000.00"))
    else:
        w.line("一、营业总收入", cols("1,000,000.00", "950,000.00", "900,000.00"))
        if finance_arm:  # a finance subsidiary's interest income is part of 营业总收入 only
            w.line("其中：营业收入", cols("990,000.00", "940,000.00", "890,000.00"), note="七、61")
            w.line("利息收入", cols("10,000.00", "10,000.00", "10,000.00"))
        else:
            w.line("其中：营业收入", cols("1,000,000.00", "950,000.00", "900,000.00"), note="七、61")
        w.line("二、营业总成本", cols("850,000.00", "800,000.00", "760,000.00"))
        w.line("其中：营业成本", cols("600,000.00", "580,000.00", "560,000.00"))
        w.line("财务费用", cols("(12,345.67)", "-2,000.00", "1,000.00"), note="七、66")
    net, attributable = ("(120,000.00)", "-100,000.00") if loss else ("120,000.00", "100,000.00")
    w.line("五、净利润（净亏损以“－”号填列）", cols(net, "110,000.00", "100,000.00"))
    w.line("1.持续经营净利润", cols(net, "110,000.00", "100,000.00"))
    w.line("1.归属于母公司股东", cols(attributable, "95,000.00", "90,000.00"), label2="的净利润（净亏损以“-”号填列）")
    w.line("2.少数股东损益", cols("(20,000.00)" if loss else "20,000.00", "15,000.00", "10,000.00"))
    w.text(f"{n(4)}母公司利润表", x=250)
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
        w.text(unit_line, x=380)
        w.line("合计", ("1,000,000.00", "600,000.00", "950,000.00"))
    if restated:
        # The notes restate the opening balances under a statement-like title (first year of new standards).
        w.new_page()
        w.text("首次执行新金融工具准则调整首次执行当年年初财务报表相关项目情况")
        w.text("合并资产负债表", x=250)
        w.text(unit_line, x=380)
        w.text(f"项目        {year - 1}年12月31日    {year}年01月01日    调整数")
        w.line("资产总计", ("4,500,000.00", "4,480,000.00", "-20,000.00"))
        w.line("负债合计", ("1,750,000.00", "1,730,000.00", "-20,000.00"))
        w.line("所有者权益合计", ("2,750,000.00", "2,750,000.00", None))
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


def cn_institution_report(path: Path, *, industry="bank", unit_line="（除特别注明外，金额单位均为人民币百万元）",
                          statement_unit=True, summary_unit=True, year=2021) -> Path:
    """A bank's or an insurer's annual report: figures in 百万元 (or as unit_line says), no 营业成本, the
    consolidated balance sheet over three pages (资产总计 on the first, 负债合计 on the second, equity on the
    third, continuation titles 合并资产负债表（续） without a unit line), then the parent's (本行 / 公司) statements.

    Figures (in the stated unit): revenue 150,000 (bank: 利息净收入 100,000 + 手续费及佣金净收入 40,000; insurer:
    已赚保费 120,000), net profit 52,000, attributable 50,000, total assets 8,000,000, total liabilities 7,300,000,
    equity 700,000."""
    bank = industry in ("bank", "securities")  # a securities firm's income statement is laid out like a bank's
    name = {"bank": "测试商业银行股份有限公司", "insurer": "测试人寿保险股份有限公司",
            "securities": "测试证券股份有限公司"}[industry]
    own = "本行" if bank else "公司"
    doc = pymupdf.open()
    w = Writer(doc)
    w.text(f"{name}", x=200)
    w.text(f"{year} 年年度报告", x=220)
    w.text("股票代码：601999    股票简称：测试银行" if bank else "股票代码：601998    股票简称：测试人寿")
    w.new_page()
    w.text("第二节 公司简介和主要财务指标")
    w.text(f"公司的中文名称 {name}")
    w.text("会计数据和财务指标摘要")  # a bank's / insurer's name for the 主要会计数据 table
    if summary_unit:
        w.text(unit_line, x=300)
    w.line("营业收入", ("150,000", "140,000", "130,000"))
    w.line("归属于本行股东的净利润" if bank else "归属于母公司股东的净利润", ("50,000", "45,000", "40,000"))
    w.line("资产总额", ("8,000,000", "7,500,000", "7,000,000"))
    w.line("负债总额", ("7,300,000", "6,850,000", "6,400,000"))
    w.new_page()
    w.text("第十节 财务报告")
    w.new_page()
    w.text("合并资产负债表", x=250)
    w.text(f"{year}年12月31日", x=250)
    if statement_unit:
        w.text(unit_line, x=300)
    w.text(f"项目                     附注            {year}年12月31日    {year - 1}年12月31日")
    w.line("资产：")
    if industry == "securities":
        w.line("货币资金", ("600,000", "580,000"), note="七、1")
        w.line("融出资金", ("4,400,000", "4,100,000"), note="七、3")
    elif bank:
        w.line("现金及存放中央银行款项", ("600,000", "580,000"), note="五、1")
        w.line("发放贷款和垫款", ("4,400,000", "4,100,000"), note="五、6")
    else:
        w.line("货币资金", ("600,000", "580,000"), note="七、1")
        w.line("保户质押贷款", ("4,400,000", "4,100,000"))
    w.line("其他资产", ("3,000,000", "2,820,000"))
    w.line("资产总计", ("8,000,000", "7,500,000"))
    w.new_page()
    w.text("合并资产负债表（续）", x=250)
    w.line("负债：")
    if industry == "securities":
        w.line("代理买卖证券款", ("6,000,000", "5,600,000"), note="七、30")
    elif bank:
        w.line("吸收存款", ("6,000,000", "5,600,000"), note="五、20")
    else:
        w.line("保险合同准备金", ("6,000,000", "5,600,000"))
    w.line("应付债券", ("1,000,000", "950,000"))
    w.line("其他负债", ("300,000", "300,000"))
    w.line("负债合计", ("7,300,000", "6,850,000"))
    w.new_page()
    w.text("合并资产负债表（续）", x=250)
    w.line("股东权益：")
    w.line("股本", ("100,000", "100,000"))
    w.line("归属于本行股东权益合计" if bank else "归属于母公司股东权益合计", ("680,000", "635,000"))
    w.line("少数股东权益", ("20,000", "15,000"))
    w.line("股东权益合计", ("700,000", "650,000"))
    w.line("负债及股东权益总计", ("8,000,000", "7,500,000"))
    w.new_page()
    w.text(f"{own}资产负债表", x=250)
    if statement_unit:
        w.text(unit_line, x=300)
    w.line("资产总计", ("7,900,000", "7,400,000"))
    w.line("负债合计", ("7,250,000", "6,800,000"))
    w.line("股东权益合计", ("650,000", "600,000"))
    w.new_page()
    w.text("合并利润表", x=250)
    if statement_unit:
        w.text(unit_line, x=300)
    w.text(f"项目                     附注            {year}年度    {year - 1}年度")
    w.line("一、营业收入", ("150,000", "140,000"))
    if bank:
        w.line("利息净收入", ("100,000", "95,000"), note="五、30")
        w.line("其中：利息收入", ("180,000", "170,000"))
        w.line("手续费及佣金净收入", ("40,000", "36,000"))
    else:
        w.line("已赚保费", ("120,000", "110,000"))
        w.line("其中：保险业务收入", ("130,000", "120,000"))
        w.line("投资收益", ("30,000", "30,000"))
    w.line("二、营业支出", ("(85,000)", "(80,000)"))
    if not bank:
        w.line("赔付支出", ("(50,000)", "(48,000)"))
    w.line("三、营业利润", ("65,000", "60,000"))
    w.line("四、利润总额", ("64,000", "59,000"))
    w.line("五、净利润", ("52,000", "47,000"))
    w.line("归属于本行股东的净利润" if bank else "归属于母公司股东的净利润", ("50,000", "45,000"))
    w.line("少数股东损益", ("2,000", "2,000"))
    w.new_page()
    w.text(f"{own}利润表", x=250)
    w.line("一、营业收入", ("140,000", "130,000"))
    w.line("五、净利润", ("49,000", "44,000"))
    w.new_page()
    w.text("合并现金流量表", x=250)
    w.line("经营活动现金流入小计", ("900,000", "800,000"))
    doc.save(path)
    return path
