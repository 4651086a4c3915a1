"""Chinese-aware chunking of parsed documents; every chunk keeps its file, page and heading path."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_CHUNK_SIZE = 800      # characters; ~400-800 tokens for Chinese, ~200 for English
DEFAULT_OVERLAP = 120

# Sentence ends: Chinese full-width marks, and Western marks followed by a space (so "3.5" and "Inc." inside
# a number or name mostly stay whole).
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s+[A-Z\"“(])")

_CN_NUM = "一二三四五六七八九十百零〇两"
_HEADING_RULES: list[tuple[re.Pattern[str], int | None]] = [
    (re.compile(r"^(#{1,6})\s+\S"), None),                                   # Markdown: level = number of #
    (re.compile(rf"^第[{_CN_NUM}\d]+[编篇部]\s*\S*"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+章\s*\S*"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+节\s*\S*"), 2),
    (re.compile(rf"^[{_CN_NUM}]+、\s*\S"), 3),
    (re.compile(rf"^[（(][{_CN_NUM}]+[）)]\s*\S"), 4),
    (re.compile(r"^PART\s+[IVX]+\b", re.I), 1),
    (re.compile(r"^ITEM\s+\d+[A-Z]?\.", re.I), 2),
    (re.compile(r"^\d+(\.\d+){1,3}\s+[^\d\s.,%]"), None),                      # 1.2 / 1.2.3 Title: level = depth
]
_MAX_HEADING_LEN = 60


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough to retrieve and quote, with where it came from."""

    text: str
    file: str
    page: int                 # 1-based; 1 for formats without pages
    heading: str = ""         # heading path, outermost first, joined by " > "
    index: int = 0            # position of the chunk within its file
    kind: str = "text"        # "text" or "table"
    title: str = ""           # the page's leading lines (e.g. "Consolidated Statement of Cash Flows")


def heading_level(line: str) -> int | None:
    """The heading level of a line (1 = outermost), or None when it is body text."""
    line = line.strip()
    if not line or len(line) > _MAX_HEADING_LEN or line[-1] in "。；，,;:：":
        return None
    for pattern, level in _HEADING_RULES:
        match = pattern.match(line)
        if not match:
            continue
        if level is not None:
            return level
        if line.startswith("#"):
            return len(match.group(1))
        return line.split()[0].count(".") + 1
    return None


def split_sentences(text: str) -> list[str]:
    """Lines split further at sentence ends (。！？； and . ! ? ;); empty pieces dropped."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pieces.extend(p.strip() for p in _SENTENCE_END.split(line) if p.strip())
    return pieces


def _hard_split(piece: str, size: int, overlap: int) -> list[str]:
    step = max(1, size - overlap)
    return [piece[i:i + size] for i in range(0, max(1, len(piece) - overlap), step)]


def pack(pieces: Iterable[str], size: int = DEFAULT_CHUNK_SIZE, overlap: int = DEFAULT_OVERLAP) -> list[str]:
    """Greedily join pieces (sentences or table rows) into texts of at most size characters, with overlap."""
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    out: list[str] = []
    current: list[str] = []
    length = 0
    for piece in pieces:
        parts = _hard_split(piece, size, overlap) if len(piece) > size else [piece]
        for part in parts:
            if current and length + len(part) + 1 > size:
                out.append("\n".join(current))
                # Carry whole trailing pieces into the next chunk, up to the overlap budget.
                carried: list[str] = []
                kept = 0
                for prev in reversed(current):
                    if kept + len(prev) + 1 > overlap:
                        break
                    carried.insert(0, prev)
                    kept += len(prev) + 1
                current, length = carried, kept
            current.append(part)
            length += len(part) + 1
    if current:
        out.append("\n".join(current))
    return out


def _table_chunks(table: str, size: int) -> list[str]:
    """A Markdown table cut into row groups, each repeating the header so it stays a table."""
    rows = [r for r in table.strip().splitlines() if r.strip()]
    if len(table) <= size or len(rows) <= 3:
        return [table.strip()]
    header, body = rows[:2], rows[2:]
    head_len = sum(len(r) + 1 for r in header)
    groups, current, length = [], [], head_len
    for row in body:
        if current and length + len(row) + 1 > size:
            groups.append("\n".join(header + current))
            current, length = [], head_len
        current.append(row)
        length += len(row) + 1
    if current:
        groups.append("\n".join(header + current))
    return groups


_NOISE_LINE = re.compile(r"^(table of contents|目录|\d+|page \d+.*|第\s*\d+\s*页.*|-\s*\d+\s*-)$", re.I)


def page_title(text: str, lines: int = 2, max_len: int = 80) -> str:
    """The first few short lines of a page (statement or section titles), skipping page furniture."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or _NOISE_LINE.match(line) or not re.search(r"[A-Za-z\u4e00-\u9fff]", line):
            continue
        if len(line) > max_len:
            break
        found.append(line)
        if len(found) >= lines:
            break
    return " / ".join(found)


def chunk_document(document, *, size: int = DEFAULT_CHUNK_SIZE, overlap: int = DEFAULT_OVERLAP,
                   file: str | None = None) -> list[Chunk]:
    """Chunks of a parsed document (anything with .name and .pages of .number/.text/.tables), page by page.

    Chunks never cross a page, so a citation's page is exact; the heading path carries across pages.
    """
    name = file or document.name
    headings: list[tuple[int, str]] = []
    chunks: list[Chunk] = []

    title = ""

    def emit(text: str, page: int, kind: str) -> None:
        text = text.strip()
        if text:
            chunks.append(Chunk(text=text, file=name, page=page, heading=" > ".join(h for _, h in headings),
                                index=len(chunks), kind=kind, title=title))

    for page in document.pages:
        number = int(getattr(page, "number", 1) or 1)
        title = page_title(page.text or "", lines=3)
        section: list[str] = []   # sentences under the current heading on this page
        body = [False]            # whether section holds more than heading lines

        def flush() -> None:
            for text in pack(section, size, overlap):
                emit(text, number, "text")
            section.clear()
            body[0] = False

        for line in (page.text or "").splitlines():
            level = heading_level(line)
            if level is not None:
                if body[0]:
                    flush()
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, line.strip().lstrip("#").strip()))
                section.append(line.strip().lstrip("#").strip())
                continue
            pieces = split_sentences(line)
            section.extend(pieces)
            body[0] = body[0] or bool(pieces)
        flush()
        for table in getattr(page, "tables", None) or []:
            for text in _table_chunks(table, size):
                emit(text, number, "table")
    return chunks
