"""The contract page, run headless with Streamlit's AppTest and the replay provider."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]

LEASE = ("房屋租赁合同\n出租方（甲方）：甲公司\n承租方（乙方）：李四\n\n第一条 房屋\n甲方将房屋出租给乙方。<b>加粗</b>\n"
         "第二条 租金\n月租金5000元。乙方逾期支付的，每逾期一日按月租金的2%支付滞纳金。\n"
         "第三条 甲方进入\n甲方有权随时进入房屋检查，无需事先通知乙方。\n")


def page(tmp_path, replies=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "contracts.py"), default_timeout=60)
    if replies is not None:
        path = tmp_path / "replies.jsonl"
        path.write_text("".join(json.dumps({"content": r}, ensure_ascii=False) + "\n" for r in replies),
                        encoding="utf-8")
        from services.providers.replay import forget
        forget(path)
        at.session_state["app.provider"] = "replay"
        at.session_state["app.replay_path"] = str(path)
    return at


def test_page_without_input_says_so(tmp_path):
    at = page(tmp_path).run()
    assert not at.exception
    assert at.title[0].value == "合同条款审查"
    at.button(key="contract.run").click().run()
    assert not at.exception
    assert at.error[0].value == "请先上传合同文件。"


def test_page_reviews_pasted_contract_with_the_model(tmp_path):
    results = [{"clause_id": "第一条", "favours": "balanced", "risk": "low", "reason": "基本信息", "suggestion": ""},
               {"clause_id": "第二条", "favours": "lessor", "risk": "high", "reason": "滞纳金过高", "suggestion": "万分之五"},
               {"clause_id": "第三条", "favours": "lessor", "risk": "high", "reason": "随时进入", "suggestion": "提前通知"}]
    at = page(tmp_path, [json.dumps({"results": results}, ensure_ascii=False)]).run()
    at.text_area(key="contract.pasted").set_value(LEASE)
    at.button(key="contract.run").click().run()
    assert not at.exception, at.exception
    report = at.session_state["contract.report"]
    assert [c.risk for c in report.clauses] == ["low", "high", "high"]
    assert report.model == "replay/replay"
    assert [m.value for m in at.metric][:3] == ["2", "0", "1"]
    # The highlighted original: contract text escaped, risky clauses marked.
    html = next(m.value for m in at.markdown if "<mark" in m.value)
    assert "&lt;b&gt;加粗&lt;/b&gt;" in html and "<b>" not in html
    assert html.count("<mark") == 2
    assert len(at.get("download_button")) == 3
    assert any("主要风险" in s.value for s in at.subheader)


def test_page_rules_only_in_english(tmp_path):
    at = page(tmp_path)
    at.session_state["app.lang"] = "en"
    at.run()
    at.text_area(key="contract.pasted").set_value(LEASE)
    at.toggle(key="contract.use_model").set_value(False)
    at.button(key="contract.run").click().run()
    assert not at.exception
    assert at.title[0].value == "Contract clause review"
    report = at.session_state["contract.report"]
    assert report.model == "" and report.clauses[2].risk == "high"
    assert any("Rules only" in c.value for c in at.caption)


def test_page_keeps_the_last_report_when_the_model_fails(tmp_path):
    at = page(tmp_path, []).run()  # an empty replay file: the model call fails
    at.text_area(key="contract.pasted").set_value(LEASE)
    at.toggle(key="contract.use_model").set_value(False)
    at.button(key="contract.run").click().run()
    first = at.session_state["contract.report"]
    at.toggle(key="contract.use_model").set_value(True)
    at.button(key="contract.run").click().run()
    assert not at.exception
    assert at.error and "回放文件" in at.error[0].value
    assert at.session_state["contract.report"] is first


def test_page_reads_an_uploaded_docx(tmp_path):
    from io import BytesIO

    from docx import Document
    doc = Document()
    for line in LEASE.split("\n"):
        doc.add_paragraph(line)
    buffer = BytesIO()
    doc.save(buffer)
    at = page(tmp_path).run()
    at.file_uploader(key="contract.file").set_value(
        ("lease.docx", buffer.getvalue(),
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    at.toggle(key="contract.use_model").set_value(False)
    at.button(key="contract.run").click().run()
    assert not at.exception, at.exception
    report = at.session_state["contract.report"]
    assert report.file == "lease.docx" and [c.id for c in report.clauses] == ["第一条", "第二条", "第三条"]


def test_page_rejects_a_broken_upload_without_losing_the_report(tmp_path):
    at = page(tmp_path).run()
    at.text_area(key="contract.pasted").set_value(LEASE)
    at.toggle(key="contract.use_model").set_value(False)
    at.button(key="contract.run").click().run()
    first = at.session_state["contract.report"]
    at.file_uploader(key="contract.file").set_value(("bad.pdf", b"%PDF-1.4 broken", "application/pdf"))
    at.button(key="contract.run").click().run()
    assert not at.exception
    assert at.error and "bad.pdf" in at.error[0].value
    assert at.session_state["contract.report"] is first
