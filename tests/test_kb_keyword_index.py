"""The keyword index: BM25 scores as rank_bm25 computes them, its words stored with the base and read back by
any process instead of tokenizing the text again."""
from __future__ import annotations

import math

import pytest

from services.kb import embeddings
from services.kb.indexing import add_files, delete_file
from services.kb.retrieval import _KeywordIndex, index_text, keyword_index, retrieve
from services.kb.store import KBStore, StoredChunk, chroma_client
from services.kb.tokens import tokenize
from tests.test_kb_helpers import COLD_CHAIN, LEASE, make_pdf

BM25 = embeddings.KeywordOnly()
TEXTS = ["net sales rose net sales", "cost of sales fell", "押金 七日内 退还", "net income and sales tax",
         "dividends paid per share", "sales"]


def chunks(texts):
    return [StoredChunk(id=f"s:{i}", text=t, file=f"f{i % 2}.pdf", page=1, heading="", index=i, kind="text",
                        sha256="s") for i, t in enumerate(texts)]


def test_scores_match_rank_bm25_with_lucene_idf():
    from rank_bm25 import BM25Okapi
    cs = chunks(TEXTS)
    corpus = [tokenize(index_text(c)) for c in cs]

    class Lucene(BM25Okapi):
        def _calc_idf(self, nd):
            self.idf = {w: math.log(1 + (self.corpus_size - f + 0.5) / (f + 0.5)) for w, f in nd.items()}

    oracle = Lucene(corpus)
    index = _KeywordIndex(cs)
    for query in (["net", "sale"], ["押金", "退还"], ["sale", "sale", "tax"], ["missing"]):
        assert list(index.scores(query)) == pytest.approx(list(oracle.get_scores(query)), rel=1e-5, abs=1e-6)
    hits = index.search(["net", "sale"], 3, {"f0.pdf"})
    assert [c.file for c, _ in hits] == ["f0.pdf"] * len(hits) and hits[0][0].text == "net sales rose net sales"


def test_words_are_stored_with_the_base_and_a_new_process_does_not_tokenize_again(tmp_path, monkeypatch):
    folder = tmp_path / "chroma"
    store = KBStore(chroma_client(folder))
    store.create_base("kb", embedder=BM25.id, chunk_size=200, overlap=30)
    lease = make_pdf(tmp_path / "lease.pdf", [LEASE])
    cold = tmp_path / "cold.txt"
    cold.write_text(COLD_CHAIN, encoding="utf-8")
    outcomes = add_files("kb", [(lease, lease.name), (cold, cold.name)], store=store, embedder=BM25)
    assert all(o.ok for o in outcomes)
    stored = store.chunk_terms("kb")
    all_chunks = store.chunks("kb")
    assert set(stored) == {c.id for c in all_chunks}
    assert all(stored[c.id] == tokenize(index_text(c)) for c in all_chunks)

    # Another client on the same data (as another app process would be): the index comes from stored words.
    other = KBStore(chroma_client(folder))
    import services.kb.retrieval as retrieval
    monkeypatch.setattr(retrieval, "tokenize", lambda text: pytest.fail("the chunk text was tokenized again"))
    index = keyword_index(other, "kb")
    assert len(index.chunks) == len(all_chunks)
    hits = index.search(tokenize("押金什么时候退还"), 5)
    assert hits and "押金" in hits[0][0].text
    monkeypatch.undo()
    assert retrieve("kb", "研发投入", 3, store=other, embedder=BM25)[0].file == "cold.txt"

    delete_file("kb", outcomes[0].record.sha256, store=store)
    assert {c.id for c in store.chunks("kb")} == set(store.chunk_terms("kb"))
    assert all(not cid.startswith(outcomes[0].record.sha256) for cid in store.chunk_terms("kb"))
