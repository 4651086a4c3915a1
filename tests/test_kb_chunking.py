"""Chunking and keyword tokens: Chinese sentence ends, headings, pages, tables, greetings."""
from types import SimpleNamespace as NS

import pytest

from services.kb.chunking import chunk_document, heading_level, pack, page_title, split_sentences
from services.kb.glossary import expand
from services.kb.tokens import content_words, tokenize


def doc(*pages, name="报告.pdf"):
    return NS(name=name, pages=[NS(number=i + 1, text=text, tables=[]) for i, text in enumerate(pages)])


def test_chinese_text_splits_at_sentence_ends_not_spaces():
    text = "公司2019年实现营业收入十亿元。净利润同比增长百分之二十！是否分红？董事会建议每股派息一元；详见附注"
    assert split_sentences(text) == ["公司2019年实现营业收入十亿元。", "净利润同比增长百分之二十！", "是否分红？",
                                     "董事会建议每股派息一元；", "详见附注"]


def test_english_sentences_keep_decimals_and_abbreviations_whole():
    pieces = split_sentences("Revenue rose 3.5 percent. Margins fell to 34.6%. See Note 2 of 3M Co. for details")
    assert pieces[0] == "Revenue rose 3.5 percent."
    assert "34.6%" in pieces[1]


@pytest.mark.parametrize("line,level", [
    ("第一章 总则", 1), ("第三节 管理层讨论与分析", 2), ("一、公司基本情况", 3), ("（二）主要会计政策", 4),
    ("## 风险因素", 2), ("1.2 Scope of work", 2), ("PART II", 1), ("Item 7. Management's Discussion", 2),
    ("公司实现营业收入十亿元。", None), ("2018 5,363 4,869", None), ("", None),
])
def test_heading_levels(line, level):
    assert heading_level(line) == level


def test_chunks_keep_file_page_and_heading_path_across_pages():
    long_para = "本公司主要从事冷链设备的研发、生产和销售。" * 30
    chunks = chunk_document(doc("第三节 经营情况\n一、主营业务\n" + long_para, "二、核心竞争力\n公司拥有多项专利。",
                                "（一）研发投入\n研发投入占营业收入的百分之五。"), size=300, overlap=60)
    assert {c.file for c in chunks} == {"报告.pdf"}
    assert all(len(c.text) <= 300 for c in chunks)
    first_page = [c for c in chunks if c.page == 1]
    assert len(first_page) > 2 and all(c.heading == "第三节 经营情况 > 一、主营业务" for c in first_page)
    assert first_page[0].text.startswith("第三节 经营情况\n一、主营业务\n本公司")   # headings stay in the text
    # The heading path carries over to page 2 and 3, replacing siblings and nesting children.
    assert [c.heading for c in chunks if c.page == 2] == ["第三节 经营情况 > 二、核心竞争力"]
    assert [c.heading for c in chunks if c.page == 3] == ["第三节 经营情况 > 二、核心竞争力 > （一）研发投入"]
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_overlap_repeats_the_tail_of_the_previous_chunk():
    sentences = [f"第{i}句话内容在这里。" for i in range(40)]
    out = pack(sentences, size=100, overlap=30)
    assert len(out) > 3
    for before, after in zip(out, out[1:]):
        tail = before.splitlines()[-2:]
        assert after.splitlines()[:2] == tail   # 30 characters of overlap carry two whole sentences
    with pytest.raises(ValueError):
        pack(sentences, size=50, overlap=50)


def test_a_single_huge_sentence_is_cut_to_size():
    out = pack(["字" * 1000], size=300, overlap=50)
    assert all(len(x) <= 300 for x in out) and sum(len(x) for x in out) >= 1000


def test_tables_stay_tables_with_their_header_repeated():
    header = "| 项目 | 2019 | 2018 |\n|---|---|---|"
    rows = "\n".join(f"| 项目{i} | {i * 10} | {i * 9} |" for i in range(60))
    d = NS(name="t.pdf", pages=[NS(number=4, text="合并资产负债表", tables=[header + "\n" + rows])])
    tables = [c for c in chunk_document(d, size=400, overlap=50) if c.kind == "table"]
    assert len(tables) > 1
    assert all(c.text.startswith(header) and c.page == 4 for c in tables)
    body = "\n".join(c.text for c in tables)
    assert all(f"| 项目{i} |" in body for i in range(60))


def test_page_title_skips_furniture():
    assert page_title("Table of Contents\n12\n3M Company and Subsidiaries\nConsolidated Statement of Cash Flows\n"
                      "Years ended", lines=2) == "3M Company and Subsidiaries / Consolidated Statement of Cash Flows"


def test_tokens_chinese_words_numbers_and_split_letters():
    words = tokenize("2019年营业收入为1,234,567元，同比增长")
    assert "营业" in words and "收入" in words and "1234567" in words
    assert "的" not in tokenize("公司的收入")
    # PDF text layers split "Sheet" into "Shee t": glued back so "balance sheet" matches.
    assert "sheet" in tokenize("Consolidated Balance Shee t") and "flow" in tokenize("Cash Flow s")
    assert {"fy2018", "fy", "2018"} <= set(tokenize("FY2018 capex"))


@pytest.mark.parametrize("greeting", ["你好", "您好！", "hello", "Hi, thanks!", "谢谢", "你好，请问一下"])
def test_greetings_have_no_topic_words(greeting):
    assert content_words(greeting) == []


def test_glossary_expands_financial_terms_in_both_languages():
    assert "property" in expand("What is the FY2018 capital expenditure?")
    assert "购建" in expand("2019年资本开支是多少")
    assert expand("公司在哪里注册") == ""
