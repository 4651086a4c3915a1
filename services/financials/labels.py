"""Statement titles and the line items that carry each key figure, in Chinese and English reports."""
from __future__ import annotations

import re

FIELDS = ("revenue", "operating_cost", "gross_profit", "net_profit", "net_profit_attributable",
          "total_assets", "total_liabilities")

# Statement kinds located in a report; "other" statements only end the section before them.
BALANCE, INCOME, OTHER = "balance", "income", "other"

# Numbering before a title: 1、 / (一) / 一、 / 3. (Shenzhen reports number their statements).
_CN_TITLE_NUMBER = r"(?:[（(]?[一二三四五六七八九十\d]{1,3}[)）]?[、.．]?)?"
_CN_TITLE = re.compile(
    r"^" + _CN_TITLE_NUMBER + r"(?P<scope>合并及公司|合并及母公司|合并及本行|合并|母公司|本公司|公司|本行|银行)?"
    r"(?P<kind>资产负债表|利润表|损益表|利润及利润分配表|现金流量表|所有者权益变动表|股东权益变动表)"
    r"(?:[(（]续[)）])?(?:[（(][^）)]*[）)])?(?:(?:19|20)\d\d年(?:\d{1,2}月\d{1,2}日|度)?)?(?:[(（]续[)）])?$")
_EN_TITLE = re.compile(
    r"^(?:condensed)?(?P<scope>consolidated|combined)?(?:condensed)?"
    r"(?P<kind>balancesheets?|statements?ofincome|statements?of(?:consolidated)?operations|statements?ofearnings"
    r"|statements?ofcomprehensive(?:income|loss|earnings)|statements?ofcashflows?"
    r"|statements?of(?:changesin)?(?:stockholders|shareholders)?[’']?s?[’']?equity"
    r"|statements?of(?:financialposition)|statementsofoperationsandcomprehensive(?:income|loss))"
    r"(?:\(unaudited\)|\(continued\))?$")


def compact(text: str) -> str:
    """Text without any whitespace (PDF text often has stray spaces inside words)."""
    return re.sub(r"\s+", "", text)


PARENT_SCOPES = ("母公司", "本公司", "公司", "本行", "银行")  # the parent company (a bank calls itself 本行)


def statement_title(row_text: str) -> tuple[str, bool] | None:
    """(kind, consolidated?) when a line is the title of a financial statement, else None."""
    text = compact(row_text)
    if not text or len(text) > 70:
        return None
    m = _CN_TITLE.match(text)
    if m:
        kind = {"资产负债表": BALANCE, "利润表": INCOME, "损益表": INCOME, "利润及利润分配表": INCOME}.get(m.group("kind"), OTHER)
        scope = m.group("scope") or ""
        return kind, scope not in PARENT_SCOPES
    m = _EN_TITLE.match(text.lower().replace("’", "'"))
    if m:
        k = m.group("kind")
        if k.startswith("balance") or "financialposition" in k:
            kind = BALANCE
        elif "comprehensive" in k and "operationsand" not in k or "cashflow" in k or "equity" in k:
            kind = OTHER
        else:
            kind = INCOME
        return kind, True
    return None


def title_is_explicit(row_text: str) -> bool:
    """The title names its scope (合并… / Consolidated …), not just 资产负债表."""
    text = compact(row_text)
    m = _CN_TITLE.match(text)
    if m:
        return bool(m.group("scope"))
    return bool(re.match(r"(?:condensed)?(consolidated|combined)", text.lower()))


def is_continuation_title(row_text: str) -> bool:
    """A title repeated on the next page: 合并资产负债表（续） / Consolidated Balance Sheets (continued)."""
    text = compact(row_text).lower()
    return bool(re.search(r"[(（]续[)）]|\(continued\)", text))


def is_parent_only_title(row_text: str) -> bool:
    """The parent-company statement (母公司…表), which must not be read as the consolidated one."""
    m = _CN_TITLE.match(compact(row_text))
    return bool(m) and (m.group("scope") or "") in PARENT_SCOPES


_CN_PREFIX = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、]|[其加减][中]?[:：])+")
_NOTE_REF = re.compile(r"(?:附注)?(?:[一二三四五六七八九十]{1,3}[、.．])(?:[（(]?\d+[)）]?[、.．]?)+$|注\d+$")
_PARENS = re.compile(r"[（(][^（）()]*[)）]")


def normalize_cn(label: str) -> str:
    """Chinese line item without numbering, 其中/加/减 prefixes, parentheticals or spaces."""
    text = compact(label)
    text = _NOTE_REF.sub("", text)  # the 附注 column, e.g. 七、53
    for _ in range(3):
        text = _PARENS.sub("", text)
    text = _CN_PREFIX.sub("", text)
    return text.rstrip(":：")


def normalize_en(label: str) -> str:
    """English line item lower-cased, without currency signs, note references or trailing colons."""
    text = label.lower().replace("’", "'").replace("$", " ")
    text = re.sub(r"\(note \d+\)", "", text)
    text = re.sub(r"\s+", " ", text).strip(" :")
    return text


def normalize(label: str) -> str:
    """Normalized label in either language."""
    return normalize_cn(label) if re.search(r"[\u4e00-\u9fff]", label) else normalize_en(label)


# For each field, the statement it is read from and the accepted normalized labels, best first.
LINE_ITEMS: dict[str, tuple[str, list[str]]] = {
    "revenue": (INCOME, [
        "营业收入", "营业总收入", "营业收入合计",
        "total revenue", "total revenues", "total net revenue", "total net revenues", "revenue", "revenues",
        "net revenue", "net revenues", "total net sales", "net sales", "sales", "total sales",
    ]),
    "operating_cost": (INCOME, [
        "营业成本",
        "total cost of revenue", "total cost of revenues", "cost of revenue", "cost of revenues",
        "total cost of sales", "cost of sales", "cost of goods sold", "cost of products sold",
        "cost of sales, excluding depreciation and amortization",
    ]),
    "net_profit": (INCOME, [
        "净利润", "净亏损",
        "net income including noncontrolling interest", "net income including noncontrolling interests",
        "net earnings including noncontrolling interests", "net income", "net earnings", "net income (loss)",
        "net (loss) income", "net loss", "net earnings (loss)",
    ]),
    "net_profit_attributable": (INCOME, [
        "归属于母公司股东的净利润", "归属于母公司所有者的净利润", "归属于母公司普通股股东的净利润",
        "归属于本行股东的净利润", "归属于本公司股东的净利润", "归属于母公司的净利润", "归属于上市公司股东的净利润",
    ]),
    "total_assets": (BALANCE, ["资产总计", "资产合计", "总资产", "total assets"]),
    "total_liabilities": (BALANCE, ["负债合计", "负债总计", "总负债", "total liabilities"]),
    "total_equity": (BALANCE, [
        "所有者权益合计", "股东权益合计", "所有者权益总计", "股东权益总计",
        "total equity", "total stockholders' equity", "total shareholders' equity", "total stockholders' equity (deficit)",
    ]),
    "liabilities_and_equity": (BALANCE, [
        "负债和所有者权益总计", "负债和股东权益总计", "负债及所有者权益总计", "负债及股东权益总计", "负债和所有者权益合计",
        "total liabilities and equity", "total liabilities and stockholders' equity",
        "total liabilities and shareholders' equity", "total liabilities, redeemable noncontrolling interest and equity",
    ]),
    "minority_net_profit": (INCOME, [
        "少数股东损益", "net income attributable to noncontrolling interest",
        "net income attributable to noncontrolling interests", "less: net income attributable to noncontrolling interest",
        "less: net income attributable to noncontrolling interests",
    ]),
}

_EN_ATTRIBUTABLE = re.compile(r"^(?:net (?:income|earnings)(?: \(loss\))? attributable to (?!noncontrolling|non-controlling)"
                              r"(?!.*noncontrolling).+)$")


# 归属于母公司股东 / 所有者 / 本行股东 / 本公司普通股股东 … 的净利润, in any of the formats' wordings.
_CN_ATTRIBUTABLE = re.compile(r"^(?:其中)?归属于(?!少数)(?:母公司|本行|本公司|上市公司|本集团|公司)[^，,]{0,12}的净(?:利润|亏损)$")


def match_rank(field: str, normalized: str) -> int | None:
    """Position of the label in the field's accepted list (lower is better), None when it is not that line item."""
    _, labels = LINE_ITEMS[field]
    if normalized in labels:
        return labels.index(normalized)
    if field == "net_profit_attributable" and (_EN_ATTRIBUTABLE.match(normalized) or _CN_ATTRIBUTABLE.match(normalized)):
        return len(labels)
    return None


# Lines that only exist in the statements of financial institutions (the MoF formats for banks, insurers and
# securities firms), each needing a figure to count: a general enterprise's format lists some of them empty.
INDUSTRY_MARKERS = {
    "bank": ("吸收存款", "发放贷款和垫款", "吸收存款及同业存放", "客户存款", "net interest income"),
    "insurer": ("已赚保费", "保险业务收入", "赔付支出", "提取保险责任准备金", "保险合同准备金", "premiums earned"),
    "securities": ("代理买卖证券款", "经纪业务手续费净收入", "融出资金", "结算备付金"),
}
FINANCIAL_INCOME = ("利息净收入", "手续费及佣金净收入", "已赚保费", "net interest income", "premiums earned")
