"""Knowledge bases on a real chromadb: embedded PersistentClient and a real `chroma run` server on 127.0.0.1."""
from __future__ import annotations

import pytest

from services.errors import InputError
from services.kb import embeddings
from services.kb.indexing import add_files, delete_base, delete_file, rebuild
from services.kb.retrieval import retrieve
from services.kb.store import KBStore, chroma_client
from tests.test_kb_helpers import (COLD_CHAIN, ENGLISH, LEASE, ChromaServer, EmbeddingsStub, clean, make_docx,
                                   make_encrypted_pdf, make_pdf, make_scanned_blank_pdf)

BM25 = embeddings.KeywordOnly()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path, monkeypatch):
    """The same tests run against an embedded store and against a Chroma server chosen by CHROMA_HOST."""
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
        monkeypatch.setenv("CHROMA_PORT", str(server.port))
        client = chroma_client()
        assert type(client).__name__ == "Client" and client.heartbeat() > 0
        for name in [c.name for c in client.list_collections()]:   # each test starts from an empty server
            client.delete_collection(name)
    else:
        client = chroma_client(tmp_path / "chroma")
    return KBStore(client)


@pytest.fixture
def docs(tmp_path):
    """A small mixed upload: Chinese PDF (2 pages), Chinese TXT, English DOCX."""
    folder = tmp_path / "docs"
    folder.mkdir()
    return {
        "lease": make_pdf(folder / "租赁合同.pdf", [LEASE, "第三章 维修\n房屋维修由出租方负责。"]),
        "cold": folder / "冷链年报.txt",
        "english": make_docx(folder / "adobe_review.docx", "Results", [ENGLISH]),
    }


@pytest.fixture(autouse=True)
def _texts(docs):
    docs["cold"].write_text(COLD_CHAIN, encoding="utf-8")


def add(store, name, paths, embedder=BM25):
    return add_files(name, [(p, p.name) for p in paths], store=store, embedder=embedder)


def test_bases_files_and_chunks_round_trip(store, docs):
    store.create_base("合同库", embedder=BM25.id, chunk_size=300, overlap=50)
    with pytest.raises(InputError) as exc:
        store.create_base("合同库", embedder=BM25.id)
    assert exc.value.key == "kb.error.base_exists"
    outcomes = add(store, "合同库", list(docs.values()))
    assert [o.status for o in outcomes] == ["added", "added", "added"]
    records = {r.file: r for r in store.files("合同库")}
    assert set(records) == {"租赁合同.pdf", "冷链年报.txt", "adobe_review.docx"}
    assert records["租赁合同.pdf"].pages == 2
    chunks = store.chunks("合同库", sha256=records["租赁合同.pdf"].sha256)
    assert {c.page for c in chunks} == {1, 2}
    assert any("押金" in c.text and "第二章 押金" in c.heading for c in chunks)
    assert [b.name for b in store.bases()] == ["合同库"]


def test_bad_files_get_one_clear_message_each_and_the_rest_is_indexed(store, docs, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    encrypted = make_encrypted_pdf(bad / "locked.pdf")
    corrupt = bad / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    empty = bad / "empty.txt"
    empty.write_bytes(b"")
    unsupported = bad / "slides.pptx"
    unsupported.write_bytes(b"PK\x03\x04 not supported")
    scanned = make_scanned_blank_pdf(bad / "scan.pdf")
    copy = bad / "合同副本.pdf"
    copy.write_bytes(docs["lease"].read_bytes())
    store.create_base("kb", embedder=BM25.id)
    files = [encrypted, docs["lease"], corrupt, empty, unsupported, scanned, copy, docs["cold"]]
    outcomes = {o.file: o for o in add(store, "kb", files)}
    assert outcomes["租赁合同.pdf"].status == "added" and outcomes["冷链年报.txt"].status == "added"
    assert outcomes["locked.pdf"].error.key == "doc.error.encrypted"
    assert outcomes["broken.pdf"].error.key == "doc.error.corrupt"
    assert outcomes["empty.txt"].error.key == "doc.error.empty"
    assert outcomes["slides.pptx"].error.key == "doc.error.unsupported"
    assert outcomes["scan.pdf"].error.key == "doc.error.no_text"
    assert outcomes["合同副本.pdf"].status == "duplicate" and outcomes["合同副本.pdf"].duplicate_of == "租赁合同.pdf"
    # Messages name the file, in the user's language.
    assert "locked.pdf" in outcomes["locked.pdf"].message("zh") and "加密" in outcomes["locked.pdf"].message("zh")
    assert "encrypted" in outcomes["locked.pdf"].message("en")
    assert "租赁合同.pdf" in outcomes["合同副本.pdf"].message("zh")
    assert sorted(r.file for r in store.files("kb")) == ["冷链年报.txt", "租赁合同.pdf"]
    # Uploading the same content again later is also caught.
    again = add(store, "kb", [docs["cold"]])
    assert again[0].status == "duplicate"


def test_a_file_that_fails_half_way_leaves_nothing_behind(store, docs, monkeypatch):
    import services.kb.store as store_module
    store.create_base("kb", embedder=BM25.id, chunk_size=200, overlap=20)
    add(store, "kb", [docs["cold"]])
    before = store.collection("kb").count()
    monkeypatch.setattr(store_module, "_BATCH", 2)   # several writes per file, so a failure can fall between them
    calls = {"n": 0}
    real_get = store.client.get_collection

    class FailingCollection:
        def __init__(self, col):
            self.col = col

        def add(self, **kw):
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError("disk full")
            return self.col.add(**kw)

        def __getattr__(self, name):
            return getattr(self.col, name)

    monkeypatch.setattr(store.client, "get_collection",
                        lambda *a, **k: FailingCollection(real_get(*a, **k)))
    outcomes = add(store, "kb", [docs["lease"]])
    monkeypatch.undo()
    assert outcomes[0].status == "error" and "disk full" in outcomes[0].message("en")
    assert calls["n"] == 3
    assert store.collection("kb").count() == before
    assert [r.file for r in store.files("kb")] == ["冷链年报.txt"]
    # The same file goes in cleanly afterwards.
    assert add(store, "kb", [docs["lease"]])[0].status == "added"


def test_chunks_of_an_interrupted_add_are_invisible_and_cleaned_up(store, docs):
    store.create_base("kb", embedder=BM25.id)
    add(store, "kb", [docs["cold"]])
    col = store.collection("kb")
    col.add(ids=["deadbeef:0"], embeddings=[[1.0]], documents=["押金 押金 押金 孤儿片段"],
            metadatas=[{"kind": "chunk", "file": "crashed.pdf", "page": 1, "heading": "", "index": 0,
                        "sha256": "deadbeef", "chunk_kind": "text", "title": ""}])
    assert all(c.file != "crashed.pdf" for c in store.chunks("kb"))
    assert all(p.file != "crashed.pdf" for p in retrieve("kb", "押金", 5, store=store, embedder=BM25))
    assert store.remove_orphans("kb") == 1
    assert "deadbeef:0" not in col.get(ids=["deadbeef:0"])["ids"]


def test_hybrid_keyword_search_in_chinese_and_greetings_find_nothing(store, docs):
    store.create_base("kb", embedder=BM25.id, chunk_size=200, overlap=20)
    add(store, "kb", list(docs.values()))
    hits = retrieve("kb", "押金什么时候退还？", 3, store=store, embedder=BM25)
    assert hits and hits[0].file == "租赁合同.pdf" and hits[0].page == 1
    assert "七日内退还" in clean(hits[0].text)
    assert [p.n for p in hits] == list(range(1, len(hits) + 1))
    assert retrieve("kb", "研发投入占比", 3, store=store, embedder=BM25)[0].file == "冷链年报.txt"
    assert retrieve("kb", "operating margin", 3, store=store, embedder=BM25)[0].file == "adobe_review.docx"
    for greeting in ("你好", "您好！", "hello", "谢谢"):
        assert retrieve("kb", greeting, 5, store=store, embedder=BM25) == []
    assert retrieve("kb", "今天天气怎么样", 5, store=store, embedder=BM25) == []


def test_delete_file_delete_base_and_rebuild_with_other_chunking(store, docs, tmp_path):
    store.create_base("kb", embedder=BM25.id, chunk_size=800, overlap=100)
    add(store, "kb", list(docs.values()))
    records = {r.file: r for r in store.files("kb")}
    delete_file("kb", records["冷链年报.txt"].sha256, store=store)
    assert "冷链年报.txt" not in {r.file for r in store.files("kb")}
    assert all(p.file != "冷链年报.txt" for p in retrieve("kb", "冷链设备", 5, store=store, embedder=BM25))
    old = store.base("kb")
    before = len(store.chunks("kb"))
    outcomes = rebuild("kb", store=store, embedder=BM25, chunk_size=120, overlap=20)
    assert sorted(o.file for o in outcomes) == ["adobe_review.docx", "租赁合同.pdf"]
    new = store.base("kb")
    assert new.collection != old.collection and new.chunk_size == 120
    assert len(store.chunks("kb")) > before
    assert [b.name for b in store.bases()] == ["kb"]
    assert retrieve("kb", "押金", 3, store=store, embedder=BM25)[0].file == "租赁合同.pdf"
    delete_base("kb", store=store)
    assert store.bases() == []
    with pytest.raises(InputError):
        store.base("kb")


def test_failed_rebuild_keeps_the_old_base(store, docs):
    store.create_base("kb", embedder=BM25.id)
    add(store, "kb", [docs["lease"], docs["cold"]])
    record = next(r for r in store.files("kb") if r.file == "冷链年报.txt")
    from pathlib import Path
    Path(record.original).unlink()
    with pytest.raises(InputError) as exc:
        rebuild("kb", store=store, embedder=BM25)
    assert exc.value.key == "kb.error.original_missing"
    assert len(store.files("kb")) == 2 and len(store.bases()) == 1
    assert len([c for c in store.client.list_collections()]) == 1


def test_provider_embeddings_dense_search_and_refusal_to_mix(store, docs):
    from services.providers import get_provider
    stub = EmbeddingsStub()
    try:
        conn = get_provider("openai-compatible").connect("bow-embed", base_url=stub.base_url)
        dense = embeddings.provider_embedder(conn)
        assert dense.id == "openai-compatible:bow-embed"
        store.create_base("dense", embedder=dense.id, chunk_size=200, overlap=20)
        add(store, "dense", list(docs.values()), embedder=dense)
        assert any("押金" in t for t in stub.inputs)
        # Dense alone finds the passage sharing the most words; hybrid agrees.
        hits = retrieve("dense", "承租方 押金 退还", 3, mode="dense", store=store, conn=conn)
        assert hits and hits[0].file == "租赁合同.pdf" and hits[0].similarity is not None
        hybrid = retrieve("dense", "承租方 押金 退还", 3, store=store, conn=conn)
        assert hybrid[0].file == "租赁合同.pdf" and hybrid[0].bm25_rank and hybrid[0].dense_rank
        assert retrieve("dense", "你好", 3, store=store, conn=conn) == []
        # A base built by one model refuses files embedded by another, and vice versa.
        with pytest.raises(InputError) as exc:
            add_files("dense", [(docs["cold"], "x.txt")], store=store, embedder=BM25)
        assert exc.value.key == "kb.error.embedding_mismatch"
        store.create_base("kw", embedder=BM25.id)
        with pytest.raises(InputError):
            add_files("kw", [(docs["cold"], "x.txt")], store=store, embedder=dense)
        other = get_provider("openai-compatible").connect("other-embed", base_url=stub.base_url)
        with pytest.raises(InputError) as exc:
            retrieve("dense", "押金", 3, store=store, conn=other)   # the recorded model is resolved, not mixed
        assert exc.value.key == "kb.error.embedding_mismatch"
    finally:
        stub.close()


def test_a_question_naming_a_file_searches_that_file(store, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    a = folder / "ADOBE_2022_10K.txt"
    a.write_text("Operating income rose. Total revenue was 17,606 million.", encoding="utf-8")
    b = folder / "NETFLIX_2015_10K.txt"
    b.write_text("Operating income and total revenue, operating income again, revenue revenue.", encoding="utf-8")
    store.create_base("reports", embedder=BM25.id)
    add(store, "reports", [a, b])
    assert {p.file for p in retrieve("reports", "Adobe operating income revenue", 5, store=store,
                                     embedder=BM25)} == {"ADOBE_2022_10K.txt"}
    both = retrieve("reports", "operating income revenue", 5, store=store, embedder=BM25, route_by_name=False)
    assert {p.file for p in both} == {"ADOBE_2022_10K.txt", "NETFLIX_2015_10K.txt"}


def test_a_300_page_pdf_is_indexed_with_every_page(tmp_path):
    store = KBStore(chroma_client(tmp_path / "chroma"))
    pdf = make_pdf(tmp_path / "long.pdf", [f"第{i}页 冷链设备年度报告 编号{i:04d}。本页讨论第{i}号项目。" for i in range(1, 301)])
    store.create_base("long", embedder=BM25.id)
    seen = []
    outcomes = add_files("long", [(pdf, "long.pdf")], store=store, embedder=BM25,
                         progress=lambda f, name: seen.append(f))
    assert outcomes[0].status == "added" and outcomes[0].record.pages == 300
    assert {c.page for c in store.chunks("long")} == set(range(1, 301))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10
    hit = retrieve("long", "编号0217", 1, store=store, embedder=BM25)
    assert hit[0].page == 217
