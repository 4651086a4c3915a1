"""A scanned report (pages are images): the located pages are OCR'd and the tables read from the OCR boxes."""
from __future__ import annotations

import pytest

from services.financials.service import analyze
from tests.test_financials_pdfs import cn_scanned_mini


def test_scanned_report_is_read_by_ocr(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime", reason="RapidOCR (rapidocr-onnxruntime) is not installed")
    r = analyze(cn_scanned_mini(tmp_path / "scan.pdf"))
    assert r.ocr_pages == [1, 2]
    f = r.extraction.fields
    assert f["total_assets"].value == 5_000_000.0 and f["total_assets"].page == 2
    assert f["total_liabilities"].value == 2_000_000.0  # not 流动负债合计 1,500,000.00
    assert f["revenue"].value == 1_000_000.0 and f["operating_cost"].value == 600_000.0
    assert f["net_profit"].value == -120_000.0
    # The scan has no 主要会计数据 summary: each figure is read once, so none is "verified".
    assert f["total_assets"].status == "unverified"
    assert r.extraction.stock_code == "600123"
    assert any("OCR" in w for w in r.warnings("zh"))


def test_statement_pages_printed_as_images_inside_a_text_pdf(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime", reason="RapidOCR (rapidocr-onnxruntime) is not installed")
    r = analyze(cn_scanned_mini(tmp_path / "mixed.pdf", text_cover=True))
    assert r.ocr_pages == [2]  # only the image-only page is OCR'd
    f = r.extraction.fields
    assert f["total_liabilities"].value == 2_000_000.0 and f["revenue"].value == 1_000_000.0
    assert r.extraction.company_name == "测试科技股份有限公司"
