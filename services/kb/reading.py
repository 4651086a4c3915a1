"""Reading files for the index at the parser's speed: PDF pages as visual lines, table rows kept on one line.

PyMuPDF's plain text puts every table cell on a line of its own, so a statement row ("Net sales  34,229
35,355") loses its label and a passage shown to the user reads as a column of numbers. Grouping the page's
words by their position into visual lines keeps each table row together (cells separated by " | ") at the
cost of one `get_text("words")` per page, instead of running the table finder over every ruled page.
Other formats go through services.documents.read_document unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

CELL_GAP = 0.9        # a gap wider than this many line heights separates two table cells
JOIN_GAP = 0.15       # pieces closer than this (a font change inside a CJK phrase) join without a space


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def page_lines(words) -> list[str]:
    """PyMuPDF words (x0, y0, x1, y1, text, …) grouped into visual lines, top to bottom, cells joined by " | "."""
    items = sorted(((w[1] + w[3]) / 2, w[0], w[2], max(1.0, w[3] - w[1]), w[4]) for w in words if w[4].strip())
    rows: list[list[tuple]] = []
    centre = height = 0.0
    for item in items:
        yc, _, _, h, _ = item
        if rows and abs(yc - centre) <= 0.45 * max(height, h):
            rows[-1].append(item)
            continue
        rows.append([item])
        centre, height = yc, h
    lines = []
    for row in rows:
        row.sort(key=lambda it: it[1])
        h = max(it[3] for it in row)
        parts: list[str] = []
        prev_x1 = None
        for _, x0, x1, _, text in row:
            if prev_x1 is not None:
                gap = x0 - prev_x1
                if gap > CELL_GAP * h:
                    parts.append(" | ")
                elif gap > JOIN_GAP * h or not (_is_cjk(parts[-1][-1]) and _is_cjk(text[0])):
                    parts.append(" ")
            parts.append(text)
            prev_x1 = x1
        lines.append("".join(parts))
    return lines


def read_pdf_fast(path: str | Path, name: str | None = None, *, ocr: bool = True,
                  progress: Callable[[int, int], None] | None = None):
    """A PDF's pages (services.documents.Document) as visual lines; OCR only for pages without a text layer."""
    from services import documents
    path = Path(path)
    name = name or path.name
    doc = documents.Document(name=name, kind="pdf", pages=[])
    ocr_pages: list[int] = []
    with documents.open_pdf(path, name) as pdf:
        total = pdf.page_count
        for index, page in enumerate(pdf):
            text = "\n".join(page_lines(page.get_text("words")))
            used_ocr = False
            if len(text.strip()) < 10 and ocr and page.get_images():
                try:
                    text = documents.ocr_pdf_page(page)
                    used_ocr = True
                    ocr_pages.append(index + 1)
                except Exception as exc:  # noqa: BLE001 - OCR failure leaves the page empty, the rest is kept
                    doc.warnings.append(("doc.warning.ocr_unavailable", {"detail": str(exc)[:200]}))
                    ocr = False
            doc.pages.append(documents.Page(number=index + 1, text=text, ocr=used_ocr))
            if progress:
                progress(index + 1, total)
    if ocr_pages:
        doc.warnings.append(("doc.warning.ocr", {"file": name, "pages": ", ".join(map(str, ocr_pages))}))
    if len(doc.pages) >= 3:
        documents.strip_running_lines(doc.pages)
    if not any(p.text.strip() for p in doc.pages):
        from services.errors import InputError
        raise InputError("doc.error.no_text", file=name)
    return doc


def read_for_index(path: str | Path, name: str | None = None, *,
                   progress: Callable[[int, int], None] | None = None):
    """A document's pages for indexing: the fast line reader for PDFs, services.documents for the rest."""
    from services.documents import SUPPORTED, read_document
    from services.errors import InputError
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix != ".pdf":
        return read_document(path, name=name, progress=progress)
    if suffix not in SUPPORTED:
        raise InputError("doc.error.unsupported", file=name, types=" ".join(SUPPORTED))
    if not path.exists() or path.stat().st_size == 0:
        raise InputError("doc.error.empty", file=name)
    return read_pdf_fast(path, name, progress=progress)
