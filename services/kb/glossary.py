"""Financial terms people ask with versus the line items reports print, for keyword-search query expansion.

Analysts ask for "capex" or "资本开支"; a cash-flow statement prints "Purchases of property, plant and
equipment" or "购建固定资产、无形资产和其他长期资产支付的现金". BM25 cannot bridge that gap by itself, so a
question mentioning a term also searches the words its statement line uses. Only the keyword side is expanded.
"""
from __future__ import annotations

import re

# (pattern in the question, words added to the keyword query)
FINANCE_TERMS: list[tuple[str, str]] = [
    (r"capital expenditure|capex|资本开支|资本性支出",
     "purchases property plant equipment cash flow investing 购建 固定资产 无形资产 长期资产 支付 现金"),
    (r"\bpp&?n?e\b|ppne|property,? plant",
     "property plant equipment net balance sheet 固定资产 净额"),
    (r"free cash ?flow|fcf|自由现金流",
     "net cash provided operating activities purchases property equipment 经营活动 现金流量 净额 购建 固定资产"),
    (r"operating margin|营业利润率|经营利润率",
     "operating income total revenue statements income 营业利润 营业收入 利润表"),
    (r"gross margin|毛利率", "gross profit total revenue cost revenue 营业成本 营业收入 毛利"),
    (r"net margin|净利率|net profit margin", "net income total revenue 净利润 营业收入"),
    (r"ebitda", "operating income depreciation amortization statements operations cash flow 折旧 摊销 营业利润"),
    (r"cash flow statement|statement of cash flows|现金流量表",
     "consolidated statement cash flow operating investing financing activities 现金流量表 经营活动 投资活动 筹资活动"),
    (r"balance sheet|资产负债表|statement of financial position",
     "consolidated balance sheet total assets liabilities equity 资产负债表 资产总计 负债合计"),
    (r"income statement|statement of income|statement of operations|profit and loss|p&l|利润表|损益表",
     "consolidated statement income operations revenue net income 利润表 营业收入 净利润"),
    (r"cash (?:and|&) cash equivalents|现金及现金等价物|货币资金",
     "cash equivalents balance sheet 货币资金 现金及现金等价物"),
    (r"working capital|营运资金|营运资本", "current assets current liabilities 流动资产 流动负债"),
    (r"dividend|股利|分红", "dividends paid per share 股利 分红 派息"),
    (r"revenue|营收|营业收入|销售额|top ?line", "revenue revenues net sales 营业收入 营业总收入"),
    (r"store count|number of stores|门店数", "stores store count 门店"),
]
_COMPILED = [(re.compile(p, re.I), words) for p, words in FINANCE_TERMS]


def expand(question: str) -> str:
    """Extra keyword-search words for the financial terms in a question ("" when there are none)."""
    return " ".join(words for pattern, words in _COMPILED if pattern.search(question))
