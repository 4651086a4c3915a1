"""The knowledge-base page, run headless: create a base, see files and chunks, ask with cited sources."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.kb import embeddings
from services.kb.indexing import add_files
from services.kb.store import KBStore, chroma_client
from tests.test_kb_helpers import LEASE, make_pdf

ROOT = Path(__file__).resolve().parents[1]
BM25 = embeddings.KeywordOnly()


def page(tmp_path, *replies, lang="zh") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "knowledge_base.py"), default_timeout=180)
    path = tmp_path / f"replies-{uuid.uuid4().hex}.jsonl"
    path.write_text("".join(json.dumps({"content": r}, ensure_ascii=False) + "\n" for r in replies), encoding="utf-8")
    from services.providers.replay import forget
    forget(path)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = str(path)
    at.session_state["app.lang"] = lang
    return at


def base_with_lease(tmp_path, name: str) -> KBStore:
    store = KBStore(chroma_client())   # the app's own data folder (a throwaway one under test)
    store.create_base(name, embedder=BM25.id, chunk_size=300, overlap=40)
    pdf = make_pdf(tmp_path / "租赁合同.pdf", [LEASE, "第三章 维修\n房屋维修由出租方负责。"])
    add_files(name, [(pdf, pdf.name)], store=store, embedder=BM25)
    return store


def test_create_a_base_from_the_page(tmp_path):
    at = page(tmp_path).run()
    assert not at.exception
    assert at.header[0].value == "知识库"
    name = f"新库-{uuid.uuid4().hex[:6]}"
    at.text_input[0].set_value(name)
    at.selectbox[0].set_value(embeddings.BM25_ONLY)
    at.button[0].click().run()
    assert not at.exception
    assert name in [b.name for b in KBStore(chroma_client()).bases()]
    assert at.session_state["kb.selected"] == name
    # The next step is adding files: the page lands on the files view, with the upload section open.
    assert at.session_state["kb.view"] == "files"
    assert "上传文件" in [h.value for h in at.subheader]
    # The same name twice is refused with a message, not a traceback.
    at.text_input[0].set_value(name)
    at.button[0].click().run()
    assert not at.exception and any("已经有名为" in e.value for e in at.error)


def test_ask_shows_the_answer_with_expandable_sources(tmp_path):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = page(tmp_path, "押金在租期届满后七日内退还[1]。另见[4]。")
    at.session_state["kb.selected"] = name
    at.run()
    at.text_area[0].set_value("押金什么时候退还？")
    at.button(key="FormSubmitter:kb.ask_form-提问").click().run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "押金在租期届满后七日内退还[1]" in shown and "[4]" not in shown
    assert any("不存在的来源编号 4" in w.value for w in at.warning)
    labels = [e.label for e in at.expander]
    assert any(label.startswith("[1] 租赁合同.pdf · 第 1 页") for label in labels)
    assert any("七日内退还" in m.value for m in at.markdown if m.value.startswith(">"))


def test_greeting_gets_not_found_and_files_tab_lists_chunks(tmp_path):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = page(tmp_path, lang="en")
    at.session_state["kb.selected"] = name
    at.run()
    at.text_area[0].set_value("hello")
    at.button(key="FormSubmitter:kb.ask_form-Ask").click().run()
    assert not at.exception
    assert any("Not found in the knowledge base." in m.value for m in at.markdown)
    at.segmented_control[0].set_value("files").run()
    assert not at.exception
    assert any(e.label == "Chunks of 租赁合同.pdf" for e in at.expander)
    assert any("第二章 押金" in t.value for t in at.text) or any("押金" in t.value for t in at.text)
    table = at.dataframe[0].value
    assert list(table["File"]) == ["租赁合同.pdf"] and list(table["Pages"]) == [2]


def test_clicking_the_view_already_shown_keeps_it_and_the_chosen_file(tmp_path):
    # A base with files opens on "ask"; the user goes to "files", chooses a file, then clicks "files" again.
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = page(tmp_path)
    at.session_state["kb.selected"] = name
    at.run()
    assert at.segmented_control(key="kb.view").value == "ask"
    at.segmented_control(key="kb.view").set_value("files").run()
    at.file_uploader(key="kb.uploader").set_value(("备忘.txt", "第 1 号备忘。".encode(), "text/plain")).run()
    assert "加入知识库" in [b.label for b in at.button]
    # The browser is told the shown view cannot be deselected (a click on it then sends nothing)...
    assert at.segmented_control(key="kb.view").proto.required
    # ...and an empty view that still arrives is not taken as "go to ask": the view and the chosen file stay.
    at.segmented_control(key="kb.view").unselect("files").run()
    assert not at.exception
    assert at.segmented_control(key="kb.view").value == "files"
    assert "加入知识库" in [b.label for b in at.button]
    assert [f.name for f in at.session_state["kb.uploader"]] == ["备忘.txt"]


def test_empty_question_is_refused_kindly(tmp_path):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = page(tmp_path)
    at.session_state["kb.selected"] = name
    at.run()
    at.button(key="FormSubmitter:kb.ask_form-提问").click().run()
    assert not at.exception and any("请输入问题" in e.value for e in at.error)


def test_a_citation_shows_its_page_rendered_with_the_passage_highlighted(tmp_path):
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = page(tmp_path, "提前解约的，押金不予退还[1]。")
    at.session_state["kb.selected"] = name
    at.run()
    at.text_area[0].set_value("提前解约押金退不退？")
    at.button(key="FormSubmitter:kb.ask_form-提问").click().run()
    assert not at.exception and not at.image
    at.toggle(key="kb.evidence.cite.1").set_value(True).run()
    assert not at.exception
    assert len(at.image) == 1
    caption = at.image[0].captions[0]
    assert caption.startswith("租赁合同.pdf 第 1 页") and "黄色为引用的段落" in caption


def retrieval_test(tmp_path, query: str, *replies) -> AppTest:
    """The retrieval-test view of a new lease base (English UI) after searching query."""
    name = f"合同-{uuid.uuid4().hex[:6]}"
    base_with_lease(tmp_path, name)
    at = page(tmp_path, *replies, lang="en")
    at.session_state["kb.selected"] = name
    at.run()
    at.segmented_control[0].set_value("test").run()
    at.text_input(key="kb.test.query").set_value(query)
    at.button(key="FormSubmitter:kb.test_form-Retrieve").click().run()
    return at


def test_retrieval_test_view_lists_passages_with_their_scores(tmp_path):
    at = retrieval_test(tmp_path, "押金退还")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns[:5]) == ["Rank", "File", "Page", "Fused score", "BM25 rank"]
    assert list(table["Rank"]) == list(range(1, len(table) + 1)) and set(table["File"]) == {"租赁合同.pdf"}
    assert table["Fused score"].is_monotonic_decreasing and table["BM25 rank"].iloc[0] == 1
    assert any("押金" in text for text in table["Opening words"])


def test_retrieval_test_view_shows_the_translation_an_english_question_was_also_searched_as(tmp_path):
    at = retrieval_test(tmp_path, "When is the deposit returned?", "押金什么时候退还？")
    assert not at.exception
    assert any("押金什么时候退还？" in c.value and "translated" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert table["Found by translation"].iloc[0] == "✓" and any("押金" in text for text in table["Opening words"])


def test_retrieval_test_view_shows_the_translation_also_when_it_found_nothing(tmp_path):
    at = retrieval_test(tmp_path, "When is the deposit returned?", "存款何时返还？")   # a bank deposit: no match
    assert not at.exception
    assert any("存款何时返还？" in c.value for c in at.caption)
    assert any("Nothing relevant" in i.value for i in at.info) and not at.dataframe


class GatedKeywords(embeddings.KeywordOnly):
    """BM25 with an embedding step that holds the file about 维修 until the test opens the gate."""

    dense = True  # so that the indexer embeds, and waits here

    def __init__(self, gate, reached):
        self.gate, self.reached = gate, reached

    def embed_documents(self, texts):
        if any("维修" in t for t in texts):
            self.reached.set()
            self.gate.wait(60)
        return super().embed_documents(texts)


def test_stop_indexing_keeps_finished_files_and_leaves_the_rest_out(tmp_path):
    import threading
    from services.chat.store import new_browser_id, owner_for
    from services.kb import jobs
    gate, reached = threading.Event(), threading.Event()
    store = KBStore(chroma_client())
    store.create_base("停止测试", embedder=BM25.id, chunk_size=300, overlap=40)
    first = make_pdf(tmp_path / "第一份.pdf", [LEASE])
    second = make_pdf(tmp_path / "第二份.pdf", ["第三章 维修\n房屋维修由出租方负责。"])
    browser = new_browser_id()
    gated = GatedKeywords(gate, reached)
    gated.id = BM25.id
    job = jobs.start("停止测试", [(first, first.name), (second, second.name)], store=store, embedder=gated,
                     owner=owner_for(None, browser), cleanup=False)
    deadline = time.monotonic() + 60
    assert reached.wait(60), "the second file is held in its embedding step"
    assert [r.file for r in store.files("停止测试")] == [first.name]

    at = page(tmp_path)
    at.session_state["chat.browser_id"] = browser
    at.session_state["kb.selected"] = "停止测试"
    at.session_state["kb.view"] = "files"
    at.run()
    stop = [b for b in at.button if b.label == "停止索引"]
    assert stop, [b.label for b in at.button]
    stop[0].click().run()
    assert job.stop_event.is_set()
    assert any("正在停止" in c.value for c in at.caption)
    gate.set()
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.done
    at.run()
    assert [r.file for r in store.files("停止测试")] == [first.name]   # nothing half-indexed of the second
    infos = " ".join(i.value for i in at.info)
    assert "第二份.pdf：已停止，未加入知识库" in infos
    assert any("第一份.pdf" in s.value for s in at.success)
    assert any("已停止：新增 1 个，未处理 1 个" in str(t.value) for t in at.toast)
