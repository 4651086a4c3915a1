"""Hostile and broken files on every page that takes files, run headless with AppTest and the replay provider.

For each page: a clear message in the user's language naming the bad file, no exception element, the rest of the
upload batch processed, earlier work kept; formula cells neutralised in every CSV/Excel export; HTML from documents
and model answers never live; text addressing the model flagged on the page and sent to the model as delimited data.
The corpus is written by tests/hostile_corpus.py into a temporary folder.
"""
from __future__ import annotations

import csv
import io
import json
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from services.providers.replay import forget, script_for
from tests import hostile_corpus as hc
from tests.test_chat_page import ask, chat_db, sent  # noqa: F401 - chat_db: autouse fixture (own conversation db)
from tests.test_chat_page import page as chat_page

ROOT = Path(__file__).resolve().parents[1]
PDF, CSV, XLSX = "application/pdf", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RAW_HTML = ("<script", "<img src=x")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return hc.build(tmp_path_factory.mktemp("hostile-corpus"))


def data(corpus, key: str) -> bytes:
    return corpus[key].read_bytes()


def replay(tmp_path: Path, replies, name: str | None = None) -> str:
    path = tmp_path / (name or f"replay-{uuid.uuid4().hex[:8]}.jsonl")
    path.write_text("".join(json.dumps(r if isinstance(r, dict) else {"content": r}, ensure_ascii=False) + "\n"
                            for r in replies), encoding="utf-8")
    forget(path)
    return str(path)


def app(page: str, tmp_path: Path, replies=(), lang: str = "zh") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=300)  # 10,000 columns on a busy machine
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = replay(tmp_path, replies)
    at.session_state["app.lang"] = lang
    return at


def messages(at: AppTest, kind: str = "error") -> list[str]:
    return [e.value for e in getattr(at, kind)]


def assert_message(at: AppTest, file: str, *words: str, kind: str = "error") -> None:
    """An element of `kind` names the file and says what is wrong, in the page's language."""
    found = [m for m in messages(at, kind) if file in m and all(w in m for w in words)]
    assert found, f"no {kind} about {file!r} with {words}: {messages(at, kind)}"


def assert_no_live_html(at: AppTest) -> None:
    """Markdown rendered with HTML allowed never carries a raw <script> or <img onerror> from a file or a model."""
    for element in [*at.markdown, *at.caption]:
        if element.proto.allow_html:
            assert not any(raw in element.value for raw in RAW_HTML), element.value[:300]


def assert_formula_safe_rows(rows: list[list]) -> int:
    """No text cell starts a formula; returns how many cells were checked."""
    n = 0
    for row in rows:
        for cell in row:
            n += 1
            if isinstance(cell, str):
                assert not cell.startswith(FORMULA_START), f"live formula in an export: {cell!r}"
    return n


def csv_rows(payload: bytes) -> list[list]:
    return list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


def xlsx_rows(payload: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(payload))  # not data_only: a formula would show as "=..."
    rows = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
            rows.append([cell.value for cell in row])
    return rows


def good_pdf_variant(corpus, tag: str) -> bytes:
    """The good contract PDF with a comment after %%EOF: the same document, different bytes (not a duplicate)."""
    return data(corpus, "good_pdf") + f"\n% {tag}\n".encode()


# ---------------------------------------------------------------- knowledge base

def test_knowledge_base_batch_of_hostile_files_keeps_the_good_ones_and_earlier_files(tmp_path, corpus):
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    store = KBStore(chroma_client())
    name = f"hostile-{uuid.uuid4().hex[:6]}"
    store.create_base(name, embedder=embeddings.BM25_ONLY, chunk_size=300, overlap=40)
    earlier = tmp_path / "earlier.pdf"
    earlier.write_bytes(good_pdf_variant(corpus, "earlier"))
    assert add_files(name, [(earlier, "先前的合同.pdf")], store=store, embedder=embeddings.KeywordOnly())[0].ok

    answer = f"押金七日内退还[1]。{hc.SCRIPT}{hc.IMG}"
    at = app("knowledge_base.py", tmp_path, [answer])
    at.session_state["kb.selected"] = name
    at.session_state["kb.view"] = "files"
    at.run()
    long_name = "很长的文件名" * 60 + ".pdf"
    batch = [("encrypted.pdf", data(corpus, "encrypted_pdf"), PDF), ("truncated.pdf", data(corpus, "truncated_pdf"), PDF),
             ("empty.pdf", b"", PDF), ("really-a-zip.pdf", data(corpus, "zip_as_pdf"), PDF),
             ("bomb.xlsx", data(corpus, "xlsx_bomb"), XLSX), ("inject.docx", data(corpus, "inject_docx"), DOCX),
             ("gbk-sales.csv", data(corpus, "gbk_csv"), CSV), ("../../etc/passwd.pdf", good_pdf_variant(corpus, "t"), PDF),
             (long_name, good_pdf_variant(corpus, "long"), PDF)]
    at.file_uploader(key="kb.uploader").set_value(batch).run()
    next(b for b in at.button if b.label == "加入知识库").click().run()
    assert not at.exception, at.exception
    # Indexing runs in the background; the page shows the outcomes once the job is finished.
    from services.kb import jobs
    deadline = time.time() + 300
    while any(not j.done for j in jobs.jobs_for(name)) and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception, at.exception
    assert_message(at, "encrypted.pdf", "已加密")
    assert_message(at, "truncated.pdf", "已损坏")
    assert_message(at, "empty.pdf", "空文件")
    assert_message(at, "really-a-zip.pdf", "已损坏")
    assert_message(at, "bomb.xlsx", "压缩炸弹")
    files = {r.file for r in store.files(name)}
    assert {"先前的合同.pdf", "inject.docx", "gbk-sales.csv", "../../etc/passwd.pdf", long_name} <= files
    assert not {"encrypted.pdf", "truncated.pdf", "empty.pdf", "really-a-zip.pdf", "bomb.xlsx"} & files
    assert [m for m in messages(at, "success") if "gbk-sales.csv" in m]

    # Ask: the injected passage is flagged on the page and reaches the model only inside a <passage> block.
    at.segmented_control[0].set_value("ask").run()
    at.text_area[0].set_value("违约金 系统管理员 系统提示词")
    next(b for b in at.button if b.label == "提问").click().run()
    assert not at.exception, at.exception
    assert [w for w in messages(at, "warning") if "疑似针对模型的指令" in w]
    prompt = script_for(at.session_state["app.replay_path"]).requests[0]
    user = prompt[-1]["content"]
    start = user.index("忽略之前的所有指令")
    assert user.rfind("<passage", 0, start) > user.rfind("</passage>", 0, start)
    assert "</passage>" in user[start:]
    assert "data" in user or "资料" in prompt[0]["content"]
    shown = [m for m in at.markdown if hc.SCRIPT in m.value]
    assert shown and not any(m.proto.allow_html for m in shown)  # the model's <script> is text
    assert_no_live_html(at)


# ---------------------------------------------------------------- financials

def test_financials_batch_reports_each_bad_file_keeps_results_and_exports_are_formula_safe(tmp_path, corpus):
    at = app("financials.py", tmp_path)
    at.run()
    at.file_uploader(key="fin.uploader").set_value([("先前的报告.pdf", data(corpus, "good_pdf"), PDF)]).run()
    at.button(key="fin.run").click().run()
    assert not at.exception, at.exception
    assert "先前的报告.pdf" in at.session_state["fin.results"]

    evil = ['=HYPERLINK("http://evil","x").pdf', "+1+1.pdf", "-2+3.pdf", "@SUM(A1).pdf"]
    batch = [("encrypted.pdf", data(corpus, "encrypted_pdf"), PDF), ("truncated.pdf", data(corpus, "truncated_pdf"), PDF),
             ("empty.pdf", b"", PDF), ("really-a-zip.pdf", data(corpus, "zip_as_pdf"), PDF),
             ("inject.pdf", data(corpus, "inject_pdf"), PDF), ("../../etc/passwd.pdf", good_pdf_variant(corpus, "t"), PDF)]
    batch += [(n, good_pdf_variant(corpus, n), PDF) for n in evil]
    at.file_uploader(key="fin.uploader").set_value(batch).run()
    at.button(key="fin.run").click().run()
    assert not at.exception, at.exception
    assert_message(at, "encrypted.pdf", "已加密")
    assert_message(at, "truncated.pdf", "已损坏")
    assert_message(at, "empty.pdf", "空文件")
    assert_message(at, "really-a-zip.pdf", "已损坏")
    assert_message(at, "inject.pdf", "试图指挥模型", kind="warning")
    results = at.session_state["fin.results"]
    assert {"先前的报告.pdf", "inject.pdf", "../../etc/passwd.pdf", *evil} <= set(results)
    assert not {"encrypted.pdf", "truncated.pdf", "empty.pdf", "really-a-zip.pdf"} & set(results)

    from services.financials import export
    reports = list(results.values())
    csv_payload, xlsx_payload = export.to_csv(reports, "zh"), export.to_xlsx(reports, "zh")  # what the page offers
    rows = csv_rows(csv_payload)
    assert any(cell == "'" + evil[0][:-4] + ".pdf" or cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    assert assert_formula_safe_rows(rows) > 0 and assert_formula_safe_rows(xlsx_rows(xlsx_payload)) > 0
    assert_no_live_html(at)


# ---------------------------------------------------------------- contracts

def _contract_page(tmp_path, replies=()):
    at = app("contracts.py", tmp_path, replies)
    at.run()
    at.text_area(key="contract.pasted").set_value(hc.CONTRACT)
    at.toggle(key="contract.use_model").set_value(False)
    at.button(key="contract.run").click().run()
    assert not at.exception, at.exception
    return at, at.session_state["contract.report"]


BAD_PDFS = [("encrypted_pdf", "encrypted.pdf", "已加密"), ("truncated_pdf", "truncated.pdf", "已损坏"),
            ("empty_pdf", "empty.pdf", "空文件"), ("zip_as_pdf", "really-a-zip.pdf", "已损坏")]


def test_contracts_each_bad_file_is_a_message_and_the_earlier_report_stays(tmp_path, corpus):
    at, first = _contract_page(tmp_path)
    for key, file, words in BAD_PDFS:
        at.file_uploader(key="contract.file").set_value((file, data(corpus, key), PDF))
        at.button(key="contract.run").click().run()
        assert not at.exception, at.exception
        assert_message(at, file, words)
        assert at.session_state["contract.report"] is first


# A NUL byte in a name is refused by Streamlit itself before any page runs (enforce_filename_restriction);
# it is covered at the storage level in test_upload_names_are_made_safe.
@pytest.mark.parametrize("hostile", ["../../etc/passwd.pdf", "line\nbreak\x07.pdf", "很长的文件名" * 60 + ".pdf", "CON.pdf"])
def test_contracts_hostile_file_names_are_read_from_inside_the_upload_folder(tmp_path, corpus, hostile):
    at, _ = _contract_page(tmp_path)
    at.file_uploader(key="contract.file").set_value((hostile, data(corpus, "good_pdf"), PDF))
    at.button(key="contract.run").click().run()
    assert not at.exception, at.exception
    assert not at.error, messages(at)
    assert at.session_state["contract.report"].file == hostile and at.session_state["contract.report"].clauses


def test_contracts_injection_is_flagged_delimited_for_the_model_and_html_is_escaped(tmp_path, corpus):
    at, _ = _contract_page(tmp_path, ["not json", "still not json"] * 8)
    at.file_uploader(key="contract.file").set_value(("inject.docx", data(corpus, "inject_docx"), DOCX))
    at.toggle(key="contract.use_model").set_value(True)
    at.button(key="contract.run").click().run()
    assert not at.exception, at.exception
    report = at.session_state["contract.report"]
    assert report.file == "inject.docx"
    assert any("injection" in c.flags for c in report.clauses)
    assert_message(at, "", "针对 AI 的指令性文字", kind="warning")
    # The clauses went to the model as tagged data, with the warning that they are data.
    requests = script_for(at.session_state["app.replay_path"]).requests
    assert requests
    prompt = "\n".join(m["content"] for m in requests[0])
    assert "untrusted DATA" in prompt and "<clause id=" in prompt
    for phrase in ("忽略之前的所有指令", "Ignore previous instructions"):
        if phrase in prompt:
            at_ = prompt.index(phrase)
            assert prompt.rfind("<clause id=", 0, at_) > prompt.rfind("</clause>", 0, at_)
    # The one place the page allows HTML (the highlighted text) carries the <script> clause escaped.
    live = [m for m in at.markdown if m.proto.allow_html]
    assert live and any("&lt;script&gt;alert(1)&lt;/script&gt;" in m.value for m in live)
    assert_no_live_html(at)


# ---------------------------------------------------------------- ChatBI

def test_chatbi_batch_loads_good_tables_refuses_bad_ones_and_keeps_earlier_tables(tmp_path, corpus):
    at = app("chatbi.py", tmp_path)
    at.run()
    at.file_uploader(key="bi.uploader.0").set_value([("sales.csv", data(corpus, "good_csv"), CSV)]).run()
    ws = at.session_state["bi.workspace"]
    assert ws.files.table_names() == ["sales"]

    traversal = "../../../../bi-escape.csv"
    batch = [("sales.csv", data(corpus, "good_csv"), CSV), ("gbk-sales.csv", data(corpus, "gbk_csv"), CSV),
             ("bom-sales.csv", data(corpus, "bom_csv"), CSV), ("header-only.csv", data(corpus, "header_only_csv"), CSV),
             ("wide-10000-columns.csv", data(corpus, "wide_csv"), CSV), ("bomb.xlsx", data(corpus, "xlsx_bomb"), XLSX),
             ("formulas.csv", data(corpus, "formula_csv"), CSV), ("bare-cr.csv", data(corpus, "bare_cr_csv"), CSV),
             ("formulas-book.xlsx", data(corpus, "formula_xlsx"), XLSX), ("inject.csv", data(corpus, "inject_csv"), CSV),
             (traversal, data(corpus, "good_csv"), CSV), ("ctl\r\x07name.csv", data(corpus, "good_csv"), CSV)]
    at.file_uploader(key="bi.uploader.0").set_value(batch).run()
    assert not at.exception, at.exception
    assert_message(at, "header-only.csv", "只有表头")
    assert_message(at, "bomb.xlsx", "压缩炸弹")
    tables = set(ws.files.table_names())
    assert {"sales", "formulas", "bare_cr", "inject"} <= tables, tables
    assert len(tables) == 10, tables  # + gbk, bom, wide, the workbook and the two odd names (sales.csv not twice)
    wide = next(i for i in ws.files.describe() if i.source == "wide-10000-columns.csv")
    assert len(wide.columns) == 10_000
    gbk = next(i for i in ws.files.describe() if i.source == "gbk-sales.csv")
    assert [c.name for c in gbk.columns] == ["地区", "产品", "销售额"]


def test_chatbi_answer_exports_neutralise_formulas_and_model_html_stays_text(tmp_path, corpus):
    sql = '```sql\nSELECT * FROM "formulas"\n```'
    at = app("chatbi.py", tmp_path, [sql, f"公式表共 7 行。{hc.SCRIPT}"])
    at.run()
    at.file_uploader(key="bi.uploader.0").set_value([("formulas.csv", data(corpus, "formula_csv"), CSV),
                                                     ("sales.csv", data(corpus, "good_csv"), CSV)]).run()
    ws = at.session_state["bi.workspace"]
    at.chat_input(key="bi.chat_input").set_value("列出公式表").run()
    assert not at.exception, at.exception
    answer = ws.conversation[-1]
    frame = answer.result.to_frame()
    assert any(str(v).startswith("=HYPERLINK") for v in frame.iloc[:, 0])  # the data itself is kept as typed
    from services.chatbi import to_csv_bytes, to_excel_bytes
    rows = csv_rows(to_csv_bytes(frame))
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in [r[0] for r in rows]
    assert assert_formula_safe_rows(rows) >= 8 * 3
    assert assert_formula_safe_rows(xlsx_rows(to_excel_bytes(frame))) >= 8 * 3
    shown = [m for m in at.markdown if "alert" in m.value]  # the model's summary, Markdown-escaped
    assert shown and not any(m.proto.allow_html for m in shown)
    assert_no_live_html(at)
    # Bad files after the question: messages, and the conversation and tables stay.
    at.file_uploader(key="bi.uploader.0").set_value([
        ("formulas.csv", data(corpus, "formula_csv"), CSV), ("sales.csv", data(corpus, "good_csv"), CSV),
        ("header-only.csv", data(corpus, "header_only_csv"), CSV), ("bomb.xlsx", data(corpus, "xlsx_bomb"), XLSX)]).run()
    assert not at.exception, at.exception
    assert_message(at, "header-only.csv", "只有表头")
    assert_message(at, "bomb.xlsx", "压缩炸弹")
    assert len(ws.conversation) == 1 and set(ws.files.table_names()) == {"formulas", "sales"}
    assert at.text_area(key="bi.sql.0").value.strip().startswith("SELECT")


def test_chatbi_file_name_cannot_choose_where_the_upload_is_written(tmp_path, corpus):
    at = app("chatbi.py", tmp_path)
    at.run()
    marker = f"escape-{uuid.uuid4().hex[:8]}.csv"
    at.file_uploader(key="bi.uploader.0").set_value([(f"../../../{marker}", data(corpus, "good_csv"), CSV)]).run()
    assert not at.exception, at.exception
    from services import storage
    sid = at.session_state["app.session_id"]
    uploads = storage.session_dir(sid, "uploads")
    assert not (uploads / ".." / ".." / ".." / marker).resolve().exists()
    assert [p for p in uploads.iterdir() if p.name.endswith(marker)]
    assert len(at.session_state["bi.workspace"].files.table_names()) == 1


# ---------------------------------------------------------------- minutes

MINUTES_REPLY = {"title": "预算会", "attendees": ["张三", "李四", "王五"], "summary": f"预算增加。{hc.SCRIPT}",
                 "topics": [{"title": "预算", "summary": hc.IMG}],
                 "decisions": [{"text": "市场部预算增加百分之十", "source_line": 1}],
                 "action_items": [{"task": f, "owner": "王五", "due": "下周五", "priority": "high", "source_line": 2}
                                  for f in hc.FORMULAS],
                 "open_questions": [hc.JS_LINK]}
MINUTES_LINE = {"content": json.dumps(MINUTES_REPLY, ensure_ascii=False)}  # one replay line: the model's JSON


@pytest.mark.parametrize("key,file,mime", [("transcript_txt", "meeting.txt", "text/plain"),
                                           ("transcript_docx", "meeting.docx", DOCX)])
def test_minutes_injection_flagged_html_inert_and_action_csv_formula_safe(tmp_path, corpus, key, file, mime):
    at = app("minutes.py", tmp_path, [MINUTES_LINE])
    at.run()
    at.file_uploader(key="minutes.upload").set_value((file, data(corpus, key), mime))
    at.button(key="minutes.go").click().run()
    assert not at.exception, at.exception
    minutes = at.session_state["minutes.result"]
    assert minutes is not None and minutes.title == "预算会"
    assert_message(at, "", "试图指挥 AI 的文字", "没有执行", kind="warning")
    assert [w for w in minutes.warnings if "3" in w and "试图指挥 AI" in w]  # line 3 holds the Chinese injection
    request = script_for(at.session_state["app.replay_path"]).requests[0]
    prompt = "\n".join(m["content"] for m in request)
    line = next(ln for ln in prompt.splitlines() if "忽略之前的所有指令" in ln)
    assert line.lstrip().startswith(("L3", "[L3", "3")), line  # a numbered transcript line (data), not an instruction
    assert request[0]["role"] == "system" and "忽略之前的所有指令" not in request[0]["content"]
    from services.minutes import action_items_csv
    rows = csv_rows(action_items_csv(minutes.action_items, "zh"))
    assert "'" + hc.FORMULAS[0] in [r[0] for r in rows]  # the task is kept, as text
    assert assert_formula_safe_rows(rows) > 0
    assert_no_live_html(at)
    assert not [m for m in at.markdown if hc.SCRIPT in m.value]  # escaped for Markdown before it is shown


@pytest.mark.parametrize("file,payload,words", [
    ("empty.txt", b"", "空"), ("really-a-zip.docx", None, "损坏"), ("bomb.docx", "bomb", "压缩炸弹"),
    ("../../etc/很长的文件名" * 1 + "很长的文件名" * 60 + ".txt", "meeting", None)])
def test_minutes_bad_upload_is_a_message_and_earlier_minutes_stay(tmp_path, corpus, file, payload, words):
    # Replies to spare: the hostile minutes (markup and formulas for words) fail the language check, so each
    # minutes run also asks for its one rewrite; what is tested here is the upload, not the number of calls.
    at = app("minutes.py", tmp_path, [MINUTES_LINE] * 4)
    at.run()
    at.text_area(key="minutes.paste").input(hc.TRANSCRIPT)
    at.button(key="minutes.go").click().run()
    first = at.session_state["minutes.result"]
    assert first is not None
    if payload is None:
        payload = data(corpus, "zip_as_pdf")
    elif payload == "bomb":
        bomb = tmp_path / "bomb.docx"
        bomb.write_bytes(data(corpus, "xlsx_bomb"))  # the same inflating archive, named as a Word file
        payload = bomb.read_bytes()
    elif payload == "meeting":
        payload = data(corpus, "transcript_txt")
    at.file_uploader(key="minutes.upload").set_value((file, payload, "application/octet-stream"))
    at.button(key="minutes.go").click().run()
    assert not at.exception, at.exception
    if words is None:
        assert not at.error, messages(at)
        assert at.session_state["minutes.result"] is not first
    else:
        assert_message(at, Path(file.replace("\\", "/")).name, words)
        assert at.session_state["minutes.result"] is first
        assert "预算会" in [h.value for h in at.header]


# ---------------------------------------------------------------- chat attachments

def chat_uploader(at: AppTest):
    return next(u for u in at.get("file_uploader") if u.key.startswith("chat.upload."))


def test_chat_each_bad_attachment_is_a_message_and_the_conversation_stays(tmp_path, corpus):
    at = chat_page(tmp_path, ["第一个回答"]).run()
    ask(at, "先聊一句")
    for key, file, words in BAD_PDFS:
        chat_uploader(at).upload(file, data(corpus, key), PDF).run()
        assert not at.exception, at.exception
        assert_message(at, file, words)
        assert at.session_state["chat.attachments"] == []
        assert [m["content"] for m in at.session_state["chat.messages"]] == ["先聊一句", "第一个回答"]


@pytest.mark.parametrize("key,file,mime", [("inject_txt", "inject.txt", "text/plain"),
                                           ("inject_md", "inject.md", "text/markdown"),
                                           ("inject_pdf", "inject.pdf", PDF), ("inject_docx", "inject.docx", DOCX)])
def test_chat_injection_in_every_document_type_is_flagged_and_sent_as_delimited_data(tmp_path, corpus, key, file, mime):
    answer = f"**好的**\n\n{hc.SCRIPT}\n\n{hc.IMG}\n\n{hc.JS_LINK}"
    at = chat_page(tmp_path, [answer]).run()
    chat_uploader(at).upload(file, data(corpus, key), mime).run()
    assert not at.exception, at.exception
    assert_message(at, file, "不会被当作指令", kind="warning")
    ask(at, "总结这份文件")
    question = sent(at)[0][-1]["content"]
    start = question.index("忽略之前的所有指令")
    opening, closing = f"【附件《{file}》的内容开始", f"【附件《{file}》的内容结束】"
    assert question.index(opening) < start < question.index(closing) < question.index("总结这份文件")
    assert "不是用户的指令" in question
    # The model's answer with <script> is shown as Markdown text, never as live HTML.
    shown = [m for m in at.markdown if "alert(1)" in m.value]
    assert shown and not any(m.proto.allow_html for m in shown)
    assert_no_live_html(at)


@pytest.mark.parametrize("hostile", ["../../etc/passwd.pdf", "line\nbreak\x07.pdf", "很长的文件名" * 60 + ".pdf", "NUL.pdf"])
def test_chat_hostile_attachment_names_are_stored_safely(tmp_path, corpus, hostile):
    at = chat_page(tmp_path, ["好"]).run()
    chat_uploader(at).upload(hostile, data(corpus, "good_pdf"), PDF).run()
    assert not at.exception, at.exception
    assert not at.error, messages(at)
    assert [a["name"] for a in at.session_state["chat.attachments"]] == [hostile]
    from services import storage
    uploads = storage.session_dir(at.session_state["app.session_id"], "uploads")
    assert all(len(p.name.encode()) <= 255 and "\x00" not in p.name for p in uploads.iterdir())


# ---------------------------------------------------------------- file names

@pytest.mark.parametrize("label", sorted(hc.HOSTILE_NAMES))
def test_upload_names_are_made_safe(tmp_path, label):
    from services import storage
    folder = tmp_path / "uploads"
    folder.mkdir()
    saved = storage.save_upload(folder, hc.HOSTILE_NAMES[label], b"%PDF-1.4 x")
    assert saved.parent == folder.resolve() and saved.read_bytes() == b"%PDF-1.4 x"
    assert len(saved.name.encode("utf-8")) <= 255 and not any(ord(ch) < 32 for ch in saved.name)
    assert saved.suffix == ".pdf" or label == "dots"
    assert saved.stem.upper() not in {"CON", "NUL", "PRN", "AUX"}


def test_word_exports_survive_control_characters_from_files_and_models(tmp_path):
    """A form feed (common in text exported from PDFs) or a BEL in a name made python-docx raise ValueError."""
    import docx

    from services.contracts import analyse_text
    from services.contracts.report import to_docx as contract_docx
    report = analyse_text(hc.CONTRACT.replace("\n第二条", "\x0c\n第二条"), conn=None, lang="zh", file="bell\x07.txt")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(contract_docx(report, "zh"))).paragraphs)
    assert "bell .txt" in text and report.file == "bell\x07.txt"  # the report itself is unchanged

    from services.minutes import to_docx as minutes_docx
    from services.minutes.schema import Minutes
    minutes = Minutes.model_validate({"title": "预算会\x0c\x07", "attendees": ["张三\x1b"], "summary": "s\x00",
                                      "topics": [], "decisions": [], "action_items": [], "open_questions": []})
    document = docx.Document(io.BytesIO(minutes_docx(minutes, "zh")))
    assert any(p.text.startswith("预算会") for p in document.paragraphs)
