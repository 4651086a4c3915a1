"""The evidence behind a citation: the PDF page rendered with the passage highlighted; background indexing
that reports pages done and finishes with the outcome of every file."""
from __future__ import annotations

import time

import pytest

from services.errors import InputError
from services.kb import embeddings, jobs
from services.kb.evidence import render_page
from services.kb.store import KBStore, chroma_client
from tests.test_kb_helpers import LEASE, make_pdf

BM25 = embeddings.KeywordOnly()


def yellow_pixels(png: bytes) -> int:
    import pymupdf
    pix = pymupdf.Pixmap(png)
    data, n = pix.samples, pix.n
    return sum(1 for i in range(0, len(data), n * 7)
               if data[i] > 200 and data[i + 1] > 170 and data[i + 2] < 120)


def test_the_cited_page_is_rendered_with_the_passage_highlighted(tmp_path):
    pdf = make_pdf(tmp_path / "lease.pdf", ["第一页 无关内容。", LEASE])
    shown = render_page(pdf, 2, "承租方提前解约的，押金不予退还。")
    assert shown.page == 2 and shown.png.startswith(b"\x89PNG") and shown.highlighted >= 1
    plain = render_page(pdf, 2, "")
    assert plain.highlighted == 0 and yellow_pixels(plain.png) == 0
    assert yellow_pixels(shown.png) > 20
    # A passage that is not on the page highlights nothing, but the page is still shown.
    assert render_page(pdf, 1, "承租方提前解约的，押金不予退还。").highlighted == 0
    with pytest.raises(InputError) as exc:
        render_page(pdf, 3, "")
    assert exc.value.key == "kb.error.no_page"


def test_background_job_counts_pages_and_reports_each_file(tmp_path):
    store = KBStore(chroma_client(tmp_path / "chroma"))
    store.create_base("bg", embedder=BM25.id)
    pdf = make_pdf(tmp_path / "upload-lease.pdf", [LEASE, "第三章 维修\n房屋维修由出租方负责。", "附则"])
    bad = tmp_path / "upload-empty.txt"
    bad.write_bytes(b"")
    job = jobs.start("bg", [(pdf, "租赁合同.pdf"), (bad, "空.txt")], store=store, embedder=BM25)
    assert job in jobs.jobs_for("bg") and job.total_pages == 4
    deadline = time.time() + 120
    while not job.done and time.time() < deadline:
        time.sleep(0.1)
    assert job.done and job.pages_done == 4 and job.seconds_left() == 0.0
    assert [o.status for o in job.outcomes] == ["added", "error"]
    assert [r.file for r in store.files("bg")] == ["租赁合同.pdf"]
    assert not pdf.exists() and not bad.exists()   # the saved uploads are removed afterwards
    jobs.dismiss(job.id)
    assert job not in jobs.jobs_for("bg")
