"""The cited page itself: a PDF page rendered to PNG with the quoted passage highlighted."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.errors import InputError

MIN_PIECE = 6          # shorter pieces (a lone number) would light up every match on the page


@dataclass(frozen=True)
class PageImage:
    """A rendered page: PNG bytes and how many places of the passage were found and highlighted on it."""

    png: bytes
    highlighted: int
    page: int


def _pieces(text: str) -> list[str]:
    """What to look for on the page: each line of the passage, its table cells joined by plain spaces; long
    lines also by their halves, as a PDF may break them differently than the text layer did."""
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(cell.strip() for cell in line.split(" | ") if cell.strip())
        if len(line) >= MIN_PIECE:
            out.append(line)
    return out


def render_page(path: str | Path, page: int, passage: str = "", *, dpi: int = 110) -> PageImage:
    """Page (1-based) of the PDF at path as PNG, with the passage's lines highlighted where they are found."""
    from services.documents import open_pdf
    with open_pdf(path) as pdf:
        if not 1 <= page <= pdf.page_count:
            raise InputError("kb.error.no_page", page=page, pages=pdf.page_count)
        target = pdf[page - 1]
        found = 0
        seen: set[tuple] = set()
        for piece in _pieces(passage):
            hits = target.search_for(piece)
            if not hits and len(piece) > 40:
                half = len(piece) // 2
                hits = target.search_for(piece[:half].strip()) + target.search_for(piece[half:].strip())
            for rect in hits:
                key = tuple(round(v) for v in rect)
                if key in seen:
                    continue
                seen.add(key)
                annot = target.add_highlight_annot(rect)
                annot.set_colors(stroke=(1.0, 0.85, 0.0))
                annot.update()
                found += 1
        png = target.get_pixmap(dpi=dpi).tobytes("png")
    return PageImage(png=png, highlighted=found, page=page)


def original_of(store, kb_name: str, file: str) -> Path | None:
    """Where the uploaded bytes of a base's file are kept (None when the original is not a kept PDF)."""
    for record in store.files(kb_name):
        if record.file == file and record.original and Path(record.original).exists():
            return Path(record.original) if record.original.lower().endswith(".pdf") else None
    return None
