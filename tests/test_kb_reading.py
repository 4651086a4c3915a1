"""Reading PDFs for the index: table rows stay on one line, Chinese text is not split by spaces, pages count."""
from __future__ import annotations

from services.kb import embeddings
from services.kb.indexing import add_files
from services.kb.reading import page_lines, read_for_index
from services.kb.store import KBStore, chroma_client
from tests.test_kb_helpers import LEASE, make_pdf

BM25 = embeddings.KeywordOnly()
ROWS = [("Fiscal Years Ended", "2023", "2022"), ("Net sales", "34,229", "35,355"),
        ("Cost of sales", "19,232", "18,795"), ("Operating income", "6,539", "7,369")]


def make_statement_pdf(path):
    """A page with a statement table drawn cell by cell, as filings print them."""
    import pymupdf
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 60), "Consolidated Statement of Income", fontsize=12)
    for i, (label, a, b) in enumerate(ROWS):
        y = 100 + 18 * i
        page.insert_text((50, y), label, fontsize=10)
        page.insert_text((320, y), a, fontsize=10)
        page.insert_text((420, y), b, fontsize=10)
    page.insert_text((50, 200), "Net sales decreased because of lower demand in consumer electronics.", fontsize=10)
    doc.save(path)
    doc.close()
    return path


def test_table_rows_are_indexed_and_shown_as_rows_not_one_cell_per_line(tmp_path):
    pdf = make_statement_pdf(tmp_path / "statement.pdf")
    store = KBStore(chroma_client(tmp_path / "chroma"))
    store.create_base("fin", embedder=BM25.id)
    outcome = add_files("fin", [(pdf, pdf.name)], store=store, embedder=BM25)[0]
    assert outcome.ok
    lines = [ln for c in store.chunks("fin") for ln in c.text.splitlines()]
    assert "Net sales | 34,229 | 35,355" in lines
    assert "Operating income | 6,539 | 7,369" in lines
    assert "34,229" not in lines   # no cell alone on a line
    assert any(ln.startswith("Net sales decreased because of lower demand") for ln in lines)


def test_chinese_lines_keep_their_characters_together(tmp_path):
    pdf = make_pdf(tmp_path / "lease.pdf", [LEASE])
    doc = read_for_index(pdf)
    text = doc.pages[0].text
    assert "第二章 押金" in text.splitlines()
    assert "一、押金数额" in text.splitlines()
    assert "出租方将位于北京市朝阳区的房屋" in text


def test_words_on_one_baseline_form_one_line_in_reading_order():
    words = [(300, 100, 330, 110, "34,229"), (50, 100, 90, 110, "Net"), (92, 100.5, 120, 110.5, "sales"),
             (50, 120, 80, 130, "Total")]
    assert page_lines(words) == ["Net sales | 34,229", "Total"]
