"""Clause segmentation follows the contract's own numbering, deterministically."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from services.contracts.segment import paragraphs, roman_number, segment_text, zh_number

# ../shared/data beside the project; SHARED_DATA overrides it (e.g. when the checkout is a git worktree).
DATA = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))


@pytest.fixture
def contracts_data() -> Path:
    """The real contracts folder; the test skips, saying why, when it is absent."""
    folder = DATA / "contracts"
    if not folder.is_dir():
        pytest.skip(f"real contracts not present at {folder} (../shared/data beside the project, or $SHARED_DATA)")
    return folder


def ids(seg):
    return [c.id for c in seg.clauses]


def test_chinese_numerals():
    assert [zh_number(x) for x in ("一", "十", "十七", "二十", "二十三", "一百零二", "两")] == [1, 10, 17, 20, 23, 102, 2]
    assert roman_number("XIV") == 14 and roman_number("IX") == 9 and roman_number("ABC") is None


def test_zh_articles_with_chapters_and_cross_references():
    text = (
        "劳动合同\n\n甲方：某公司\n乙方：张三\n\n第一章 总则\n第一条 合同期限\n本合同期限三年。依照本合同第三条约定执行。\n"
        "第二条 工作内容\n乙方担任会计。\n第二章 报酬\n第三条 劳动报酬\n月工资8000元。\n第四条 社会保险\n甲方依法缴纳社会保险。\n\n"
        "甲方（盖章）：某公司\n乙方（签字）：张三\n"
    )
    seg = segment_text(text)
    assert seg.method == "numbered" and seg.scheme == "zh_article"
    assert ids(seg) == ["第一条", "第二条", "第三条", "第四条"]
    assert [c.title for c in seg.clauses] == ["合同期限", "工作内容", "劳动报酬", "社会保险"]
    # The chapter heading is context for the next clause, not text of the previous one.
    assert "第二章" not in seg.clauses[1].text
    assert seg.clauses[2].part == "第二章 报酬"
    # A cross-reference inside a sentence does not start a clause.
    assert "依照本合同第三条约定执行" in seg.clauses[0].text
    assert seg.tail.startswith("甲方（盖章）")
    assert "甲方（盖章）" not in seg.clauses[-1].text


def test_zh_enumeration_with_parenthesised_sub_items():
    text = ("采购合同\n一、标的\n（一）货物名称：办公桌。\n（二）数量：10张。\n二、价款\n总价人民币一万元。\n"
            "三、交付\n卖方于5月1日前交货。\n")
    seg = segment_text(text)
    assert seg.scheme == "zh_enum"
    assert ids(seg) == ["一", "一（一）", "一（二）", "二", "三"]
    assert seg.clauses[3].title == "价款"


def test_dotted_numbers_with_sub_clauses():
    text = ("SERVICES AGREEMENT\n\n1. Definitions\n1.1 \"Services\" means the work.\n1.2 \"Fees\" means money.\n"
            "2. Payment\n2.1 Client shall pay within 30 days.\n2.2 Late payments bear interest as set out in Section 2.1 "
            "above.\n3. Term\nThis Agreement lasts one year.\n")
    seg = segment_text(text)
    assert ids(seg) == ["1", "1.1", "1.2", "2", "2.1", "2.2", "3"]
    assert seg.clauses[0].title == "Definitions" and seg.clauses[-1].title == "Term"
    assert "Section 2.1 above" in seg.clauses[5].text


def test_articles_and_sections():
    text = ("AGREEMENT\n\nARTICLE I  [Term]\n\n   Section 1.01. Term. The term is three years.\n\n"
            "ARTICLE II  [Payment]\n\n   Section 2.01 [Fees]. Fees. Buyer pays fees per Section 1.01(a) hereof.\n"
            "   Section 2.02 Taxes. Each party pays its own taxes.\n\nIN WITNESS WHEREOF the parties sign.\n")
    seg = segment_text(text)
    assert ids(seg) == ["Section 1.01", "Section 2.01", "Section 2.02"]
    assert seg.clauses[0].title == "Term"
    assert seg.clauses[1].part.startswith("ARTICLE II")
    assert "ARTICLE II" not in seg.clauses[0].text
    assert seg.tail.startswith("IN WITNESS WHEREOF")


def test_articles_alone():
    text = "LEASE\nArticle 1 Premises\nThe flat at 1 Main St.\nArticle 2 Rent\nRent is $900.\nArticle 3 Term\nOne year.\n"
    seg = segment_text(text)
    assert ids(seg) == ["Article 1", "Article 2", "Article 3"]
    assert seg.scheme == "article"


def test_flattened_pdf_text_numbering_inline():
    text = ("DISTRIBUTOR AGREEMENT The parties agree as follows: 1. APPOINTMENT. Company appoints Distributor. "
            "2. ORDERS. Distributor orders with 30 days notice; see 1. above for scope. 3. PRICE. Prices are in "
            "Exhibit A at $2.50 each.   4. TERM. One year.")
    seg = segment_text(text)
    assert ids(seg) == ["1", "2", "3", "4"]
    assert seg.clauses[2].title == "PRICE"
    assert "$2.50" in seg.clauses[2].text


def test_no_numbering_falls_back_to_paragraphs_and_says_so():
    text = "Memo\n\nThe tenant pays rent monthly.\n\nThe landlord repairs the roof.\n\nBoth may end with notice."
    seg = segment_text(text)
    assert seg.method == "paragraphs" and "no_numbering" in seg.notes
    assert ids(seg) == ["P1", "P2", "P3"]
    assert seg.clauses[0].text.startswith("Memo")  # a heading line joins the paragraph after it


def test_detached_numbers_are_not_trusted():
    text = "1.\n2.\n2.1\n2.2\nTerm.\nThe term is one year.\n\nGrant of Rights.\nRights are granted.\n3.\n3.1\n"
    seg = segment_text(text)
    assert seg.method == "paragraphs" and "numbering_detached" in seg.notes


def test_duplicate_numbers_keep_unique_ids():
    seg = segment_text("第一条 甲\n内容一。\n第二条 乙\n内容二。\n")
    assert len(set(ids(seg))) == len(ids(seg))


def test_offsets_point_at_the_clause_text():
    text = "Intro.\r\n\r\n1. First\r\nAlpha.\r\n2. Second\r\nBeta.\r\n"
    seg = segment_text(text)
    for c in seg.clauses:
        assert seg.text[c.start:c.end] == c.text


def test_paragraphs_of_empty_text():
    assert paragraphs("").clauses == []


@pytest.fixture
def lease_text(contracts_data):
    path = contracts_data / "zh" / "lease_sample_01.txt"
    return path.read_text(encoding="utf-8"), json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


def test_lease_sample_segmented_exactly(lease_text):
    text, expected = lease_text
    seg = segment_text(text)
    assert [(c.id, c.title) for c in seg.clauses] == [(c["id"], c["topic"]) for c in expected["clauses"]]
    # Clause text = its heading line through the line before the next heading; nothing lost, nothing added.
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    assert squash(seg.preamble + "".join(c.text for c in seg.clauses) + seg.tail) == squash(text)
    assert seg.clauses[2].text == ("第三条 租金及支付方式\n月租金为人民币6500元，按季度支付，乙方应于每季度首月的1日前支付当季租金。"
                                   "乙方逾期支付租金的，每逾期一日，应按当季租金的5%向甲方支付滞纳金。")
    assert seg.preamble.startswith("房屋租赁合同") and seg.tail.startswith("甲方（盖章）")


def test_cuad_contracts_segmented_by_their_numbering(contracts_data):
    folder = contracts_data / "en"
    path = next(folder.glob("Deltathree*.txt"))
    seg = segment_text(path.read_text(encoding="utf-8"))
    assert seg.method == "numbered"
    assert ids(seg)[:4] == ["Section 1.01", "Section 2.01", "Section 2.02", "Section 2.03"]
    assert seg.clauses[0].title == "Term"
    path = next(folder.glob("Euromedia*.txt"))
    seg = segment_text(path.read_text(encoding="utf-8"))
    assert ids(seg) == [str(n) for n in range(1, 30)]
    assert seg.clauses[24].title == "FORCE MAJEURE"
