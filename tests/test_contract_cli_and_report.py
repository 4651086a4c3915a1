"""The `contract` CLI on real files (TXT, DOCX, PDF made here), and the Markdown / Word / HTML exports."""
from __future__ import annotations

import io
import json

import pytest

from services.cli import main
from services.contracts import analyse_text
from services.contracts.report import highlighted_html, summary_figure, to_docx, to_markdown
from tests.test_contract_segment import contracts_data  # noqa: F401  (fixture)

LEASE = ("房屋租赁合同\n出租方（甲方）：甲公司\n承租方（乙方）：李四\n\n第一条 房屋\n甲方将房屋出租给乙方。\n"
         "第二条 押金\n乙方应于签约时支付押金人民币9000元（相当于三个月租金）。甲方有权根据房屋情况扣除押金，剩余部分于退租后60日内退还。\n"
         "第三条 甲方进入\n甲方有权随时进入房屋检查，无需事先通知乙方。\n"
         "第四条 乙方提前解约\n乙方提前解除合同的，押金不予退还，并另付相当于两个月租金的违约金。\n"
         "第五条 甲方提前解约\n甲方提前收回房屋的，应提前7日通知乙方，无需承担其他责任。\n")


def write_docx(path, paragraphs):
    from docx import Document
    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(path)


def write_pdf(path, text):
    import pymupdf
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), text, fontsize=11)
    doc.save(path)


def test_cli_no_llm_json_on_a_txt_file(tmp_path, capsys):
    path = tmp_path / "lease.txt"
    path.write_text(LEASE, encoding="utf-8")
    assert main(["contract", str(path), "--party", "lessee", "--no-llm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["type"] == "lease"  # guessed from the title
    assert data["party"] == "lessee"
    assert [c["id"] for c in data["clauses"]] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    clause = {c["id"]: c for c in data["clauses"]}
    assert clause["第三条"]["risk"] == "high" and clause["第三条"]["favours"] == "lessor"
    assert clause["第二条"]["risk"] == "high"
    assert {m["item"] for m in data["missing"]} >= {"handover_inventory", "landlord_repair"}
    one_sided = data["summary"]["one_sided"]
    assert one_sided and one_sided[0]["clauses"] == ["第四条", "第五条"]


def test_cli_with_replay_model_and_exports(tmp_path, capsys):
    path = tmp_path / "lease.txt"
    path.write_text(LEASE, encoding="utf-8")
    replies = tmp_path / "r.jsonl"
    results = [{"clause_id": f"第{n}条", "favours": "lessor", "risk": "medium", "reason": f"理由{n}",
                "suggestion": f"建议{n}"} for n in "一二三四五"]
    replies.write_text(json.dumps({"content": json.dumps({"results": results}, ensure_ascii=False)},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    md, docx_path = tmp_path / "r.md", tmp_path / "r.docx"
    code = main(["contract", str(path), "--party", "lessee", "--type", "lease", "--replay", str(replies),
                 "--json", "--markdown", str(md), "--docx", str(docx_path), "--lang", "en"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["clauses"][0]["reason"] == "理由一" and data["clauses"][0]["risk"] == "medium"
    assert data["clauses"][2]["risk"] == "high"  # the rule (entry without notice) outranks "medium"
    assert "# Contract review: lease.txt" in md.read_text(encoding="utf-8")
    from docx import Document
    doc = Document(str(docx_path))
    assert doc.tables[0].rows[1].cells[0].text == "第一条"


def test_cli_reads_docx_and_pdf(tmp_path, capsys):
    docx_path = tmp_path / "lease.docx"
    write_docx(docx_path, LEASE.split("\n"))
    assert main(["contract", str(docx_path), "--party", "lessee", "--no-llm", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["clauses"]) == 5
    pdf_path = tmp_path / "nda.pdf"
    write_pdf(pdf_path, "MUTUAL NON-DISCLOSURE AGREEMENT\n1. Purpose. Evaluate a deal.\n2. Term. Two years.\n"
                        "3. Remedies. Injunctive relief is available.")
    assert main(["contract", str(pdf_path), "--party", "recipient", "--no-llm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["type"] == "nda" and [c["id"] for c in data["clauses"]] == ["1", "2", "3"]
    assert "definition" in {m["item"] for m in data["missing"]}


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert main(["contract", str(empty), "--party", "lessee", "--no-llm"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err
    path = tmp_path / "x.txt"
    path.write_text(LEASE, encoding="utf-8")
    assert main(["contract", str(path), "--party", "landlady", "--no-llm"]) == 1
    assert "landlady" in capsys.readouterr().err
    assert main(["contract", str(tmp_path / "missing.pdf"), "--party", "lessee", "--no-llm"]) == 1
    capsys.readouterr()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    assert main(["contract", str(broken), "--party", "lessee", "--no-llm"]) == 1
    assert capsys.readouterr().err.startswith("error:")


def test_exports_escape_and_colour():
    text = LEASE + "第六条 其他\n甲方可随时进入，无需通知。<script>alert('x')</script>\n"
    report = analyse_text(text, contract_type="lease", side="b", lang="zh")
    page = highlighted_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<mark") == len([c for c in report.clauses if c.risk in ("high", "medium")])
    md = to_markdown(report)
    assert "## 主要风险" in md and "## 缺失条款" in md and "| 第三条 |" in md
    from docx import Document
    doc = Document(io.BytesIO(to_docx(report, "en")))
    assert any(p.text == "Missing clauses" for p in doc.paragraphs)
    fig = summary_figure(report)
    assert sum(sum(bar.y) for bar in fig.data) == len(report.clauses)


def test_cuad_contract_without_model(contracts_data, capsys):
    path = next((contracts_data / "en").glob("Gopage*.txt"))
    assert main(["contract", str(path), "--party", "neutral", "--type", "other", "--no-llm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["clauses"]) > 20
    assert data["clauses"][0]["id"] == "1"
    assert data["summary"]["method"] == "numbered"


@pytest.mark.parametrize("party,kind", [("employee", "labour"), ("buyer", "purchase"), ("client", "service")])
def test_other_types_have_their_checklists(tmp_path, capsys, party, kind):
    path = tmp_path / "c.txt"
    path.write_text("合同\n第一条 内容\n双方合作。\n第二条 争议\n提交仲裁。\n", encoding="utf-8")
    assert main(["contract", str(path), "--party", party, "--type", kind, "--no-llm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["missing"]) >= 4 and data["party"] == party


def test_scanned_contract_is_read_by_ocr(tmp_path, capsys):
    import pymupdf
    # A page of text rendered to an image and put into a PDF with no text layer, as a scanner would.
    src = pymupdf.open()
    page = src.new_page(width=420, height=220)
    page.insert_text((30, 50), "1. Rent. The Tenant pays 900 dollars monthly.", fontsize=14)
    page.insert_text((30, 90), "2. Repairs. The Landlord shall repair the roof.", fontsize=14)
    page.insert_text((30, 130), "3. Term. The lease lasts one year.", fontsize=14)
    pix = page.get_pixmap(dpi=200)
    scan = pymupdf.open()
    scan.new_page(width=420, height=220).insert_image(pymupdf.Rect(0, 0, 420, 220), pixmap=pix)
    path = tmp_path / "scan.pdf"
    scan.save(path)
    assert main(["contract", str(path), "--party", "lessee", "--type", "lease", "--no-llm", "--json",
                 "--lang", "en"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any("OCR" in n for n in data["summary"]["notes"])
    assert [c["id"] for c in data["clauses"]] == ["1", "2", "3"]
    assert "landlord_repair" not in {m["item"] for m in data["missing"]}
