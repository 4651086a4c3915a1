"""Scanned reports: OCR only the pages that can hold the statements, keeping word positions for the table parse."""
from __future__ import annotations

import re
from collections.abc import Callable

from services.financials import labels as L
from services.financials.extract import PageSource
from services.financials.layout import Word, group_rows

OCR_DPI = 150
MAX_OCR_PAGES = 40  # a bound on work for a 500-page scan; the TOC narrows the window first


def is_scanned(texts: list[str]) -> bool:
    """Most pages have no text layer."""
    empty = sum(1 for t in texts if len(t.strip()) < 20)
    return bool(texts) and empty >= 0.6 * len(texts)


def ocr_words(page, dpi: int = OCR_DPI) -> list[Word]:
    """Words with boxes (PDF points) from the shared RapidOCR engine of services.documents."""
    from services import documents
    png = page.get_pixmap(dpi=dpi).tobytes("png")
    result = documents.ocr_image.boxes(png)  # the table parse needs the boxes, not the joined text
    scale = 72.0 / dpi
    words: list[Word] = []
    for box, text, _score in result or []:
        xs = [pt[0] * scale for pt in box]
        ys = [pt[1] * scale for pt in box]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        parts = text.split()
        if len(parts) <= 1:
            words.append(Word(x0, y0, x1, y1, text.strip()))
            continue
        # A box holding several tokens: spread them over its width in proportion to their length.
        total = sum(len(p) for p in parts) + len(parts) - 1
        cursor = x0
        for p in parts:
            width = (x1 - x0) * len(p) / total
            words.append(Word(cursor, y0, cursor + width, y1, p))
            cursor += width + (x1 - x0) / total
    return words


def image_only_pages(texts, order: list[int]) -> list[int]:
    """Pages without a text layer, in the given order (statements printed as images inside a text PDF)."""
    return [p for p in order if len(texts[p - 1].strip()) < 20]


def _words_text(words: list[Word]) -> str:
    return "\n".join(r.text for r in group_rows(words, 0))


def _toc_target(texts: list[str]) -> int | None:
    """Page number of the financial-report chapter from a table of contents, when one was read."""
    for text in texts:
        for line in text.splitlines():
            m = re.search(r"(财务报告|财务报表|Financial Statements)[^\d]{0,80}?(\d{1,3})\s*$", line, re.I)
            if m:
                return int(m.group(2))
    return None


def ocr_source(doc, texts: list[str], progress: Callable[[int, int], None] | None = None,
               only: list[int] | None = None) -> tuple[PageSource, list[int]]:
    """A PageSource whose text and rows come from OCR of a bounded set of pages (or of `only`); also the pages OCR'd."""
    n = len(doc)
    words_by_page: dict[int, list[Word]] = {}
    texts = list(texts)

    def run(page_numbers: list[int]) -> None:
        for k, p in enumerate(page_numbers):
            if p in words_by_page or not 1 <= p <= n:
                continue
            words_by_page[p] = ocr_words(doc[p - 1])
            texts[p - 1] = _words_text(words_by_page[p])
            if progress:
                progress(len(words_by_page), min(n, MAX_OCR_PAGES))

    if only is not None:
        run(only[:MAX_OCR_PAGES])
    elif n <= MAX_OCR_PAGES:
        run([p for p in range(1, n + 1) if len(texts[p - 1].strip()) < 20])
    else:
        run(list(range(1, 6)))
        target = _toc_target(texts[:5])
        start = target if target else int(n * 0.3)
        window = list(range(start, min(n, start + MAX_OCR_PAGES - 5) + 1))
        found = 0
        for p in window:
            run([p])
            if any(L.statement_title(r.text) for r in group_rows(words_by_page[p], p)):
                found += 1
            if found >= 4:  # both consolidated statements and their parent-company twins seen
                run([p + 1, p + 2])
                break

    def rows(p: int):
        if p in words_by_page:
            return group_rows(words_by_page[p], p)
        from services.financials.layout import words_from_page
        return group_rows(words_from_page(doc[p - 1]), p)

    return PageSource(texts, rows), sorted(words_by_page)
