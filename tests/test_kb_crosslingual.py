"""A question in the other language than the base's is also searched as translated by the chosen model; a question
in the base's own language costs no model call; a failed translation still searches the question as asked."""
from __future__ import annotations

import pytest

from services.kb import crosslingual, embeddings
from services.kb.indexing import add_files
from services.kb.retrieval import keyword_index, retrieve
from services.kb.store import KBStore, chroma_client

BM25 = embeddings.KeywordOnly()
REPORT = {
    "股东.txt": "截至报告期末普通股股东总数为12,345户，前十名股东持股情况如下。",
    "审计.txt": "公司聘请的会计师事务所为立信会计师事务所（特殊普通合伙），签字会计师为张三、李四。",
    "产品.txt": "公司主要产品为速冻设备和冷藏集装箱，2019年罐式集装箱销量同比增长。",
}
FILINGS = {
    "holders.txt": "As of the end of the year there were 2,100 holders of record of our common stock.",
    "auditor.txt": "Our independent registered public accounting firm is Deloitte & Touche LLP.",
}


def base(tmp_path, docs: dict[str, str], name: str) -> KBStore:
    folder = tmp_path / name
    folder.mkdir()
    files = []
    for file, text in docs.items():
        (folder / file).write_text(text, encoding="utf-8")
        files.append((folder / file, file))
    store = KBStore(chroma_client(tmp_path / "chroma"))
    store.create_base(name, embedder=BM25.id)
    assert all(o.ok for o in add_files(name, files, store=store, embedder=BM25))
    return store


@pytest.fixture(autouse=True)
def fresh_translations():
    crosslingual._cache.clear()
    yield
    crosslingual._cache.clear()


def test_languages_of_questions_and_of_bases(tmp_path):
    assert crosslingual.text_language("How many shareholders did the company have?") == "en"
    assert crosslingual.text_language("公司有多少名股东？") == "zh"
    assert crosslingual.text_language("公司2019年的ROE是多少？") == "zh"
    assert crosslingual.text_language("What is 营业收入 in English?") == "en"
    store = base(tmp_path, REPORT, "年报")
    assert keyword_index(store, "年报").language == "zh"
    store = base(tmp_path, FILINGS, "filings")
    assert keyword_index(store, "filings").language == "en"


def test_an_english_question_finds_a_chinese_passage_through_the_model_translation(tmp_path, replay_conn):
    from services.providers.replay import script_for
    store = base(tmp_path, REPORT, "年报")
    question = "How many ordinary shareholders did the company have?"
    # Without a model, the English words meet nothing in a Chinese base.
    assert retrieve("年报", question, 3, mode="bm25", store=store, embedder=BM25) == []
    conn = replay_conn(["截至报告期末，公司普通股股东总数是多少？"])
    found = retrieve("年报", question, 3, mode="bm25", store=store, embedder=BM25, conn=conn)
    assert found and found[0].file == "股东.txt"
    sent = script_for(conn.replay_path).requests
    assert len(sent) == 1 and question in sent[0][-1]["content"] and "中文" in sent[0][-1]["content"]
    # The same question again is not translated again.
    again = retrieve("年报", question, 3, mode="bm25", store=store, embedder=BM25, conn=conn)
    assert [p.chunk_id for p in again] == [p.chunk_id for p in found] and len(script_for(conn.replay_path).requests) == 1
    # Turned off, the question is searched as asked only.
    assert retrieve("年报", question, 3, mode="bm25", store=store, embedder=BM25, conn=conn, translate=False) == []


def test_a_chinese_question_over_english_filings_is_translated_into_english(tmp_path, replay_conn):
    store = base(tmp_path, FILINGS, "filings")
    conn = replay_conn(["Who is the company's independent auditor?"])
    found = retrieve("filings", "公司的审计机构是哪家？", 2, mode="bm25", store=store, embedder=BM25, conn=conn)
    assert found and found[0].file == "auditor.txt"


def test_a_question_in_the_bases_own_language_asks_no_model(tmp_path, replay_conn):
    from services.providers.replay import script_for
    store = base(tmp_path, REPORT, "年报")
    conn = replay_conn(["should not be used"])
    found = retrieve("年报", "普通股股东总数是多少？", 3, store=store, embedder=BM25, conn=conn)
    assert found[0].file == "股东.txt" and script_for(conn.replay_path).requests == []


@pytest.mark.parametrize("reply", ["As of the end of the period, how many shareholders?",   # still English
                                   "截至期末股东总数，" * 60])                                   # an essay, not a question
def test_a_reply_that_is_no_translation_is_not_searched(tmp_path, replay_conn, reply):
    store = base(tmp_path, REPORT, "年报")
    conn = replay_conn([reply])
    assert crosslingual.translated(conn, "How many shareholders?", "zh") is None
    assert retrieve("年报", "How many shareholders?", 3, mode="bm25", store=store, embedder=BM25, conn=conn) == []


def test_a_failed_translation_still_searches_the_question_as_asked(tmp_path, replay_conn):
    store = base(tmp_path, FILINGS, "filings")
    conn = replay_conn([{"error": 401}])
    found = retrieve("filings", "Deloitte 审计机构", 2, mode="bm25", store=store, embedder=BM25, conn=conn)
    assert found and found[0].file == "auditor.txt"
