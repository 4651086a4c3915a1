"""Reading user documents (PDF, DOCX, TXT/MD, XLSX, CSV) into pages of text, with OCR for scanned pages."""
from __future__ import annotations

import os
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services import i18n
from services.errors import InputError

i18n.register({
    "doc.error.encrypted": {"zh": "「{file}」已加密（有密码保护），无法读取。请先去除密码再上传。",
                            "en": "'{file}' is encrypted (password-protected) and cannot be read. Remove the password and upload it again."},
    "doc.error.corrupt": {"zh": "「{file}」已损坏或不是有效的 {kind} 文件。",
                          "en": "'{file}' is damaged or not a valid {kind} file."},
    "doc.error.empty": {"zh": "「{file}」是空文件。", "en": "'{file}' is empty."},
    "doc.error.unsupported": {"zh": "不支持「{file}」的文件类型。支持：{types}",
                              "en": "The file type of '{file}' is not supported. Supported: {types}"},
    "doc.error.no_text": {"zh": "「{file}」中没有可识别的文字（文字识别也未找到内容）。",
                          "en": "No text could be found in '{file}' (text recognition found nothing either)."},
    "doc.error.unzipped_too_large": {
        "zh": "「{file}」解压后约 {size_mb} MB，超过上限 {limit_mb} MB（可能是压缩炸弹），已拒绝读取。",
        "en": "'{file}' would unpack to about {size_mb} MB, over the {limit_mb} MB limit (possibly a zip bomb); "
              "it was not read."},
    "doc.warning.ocr": {"zh": "「{file}」第 {pages} 页没有文字层，已用文字识别（OCR）读取，可能有识别误差。",
                        "en": "Pages {pages} of '{file}' have no text layer and were read by OCR; expect recognition errors."},
    "doc.warning.ocr_unavailable": {"zh": "文字识别（OCR）不可用：{detail}", "en": "Text recognition (OCR) is unavailable: {detail}"},
})

SUPPORTED = (".pdf", ".docx", ".txt", ".md", ".xlsx", ".csv")
MAX_SHEET_ROWS = 2000
# DOCX and XLSX are ZIP archives; a tiny file can inflate to gigabytes. Python's zipfile never inflates a part past
# the size its header declares, so checking the declared sizes before opening bounds what any reader can unpack.
MAX_UNZIPPED_MB = int(os.environ.get("ASSISTANT_MAX_UNZIPPED_MB", "200"))


@dataclass
class Page:
    """One page of a document; numbers are 1-based."""

    number: int
    text: str
    tables: list[str] = field(default_factory=list)  # Markdown
    ocr: bool = False


@dataclass
class Document:
    """A document's pages plus anything the reader should be told about them."""

    name: str
    kind: str
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)  # i18n keys with params: (key, params)

    @property
    def text(self) -> str:
        """All pages' text, separated by blank lines."""
        return "\n\n".join(p.text for p in self.pages if p.text)


def read_text_file(path: str | Path, name: str | None = None) -> str:
    """A text file's content with its encoding detected (UTF-8, UTF-8-BOM, UTF-16, GB18030/GBK, others)."""
    path = Path(path)
    data = path.read_bytes()
    if not data.strip():
        raise InputError("doc.error.empty", file=name or path.name)
    return decode_text(data)


def decode_text(data: bytes) -> str:
    """Bytes to text: BOMs first, then strict UTF-8, then GB18030, then charset-normalizer's best guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes
    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def open_pdf(path: str | Path, name: str | None = None):
    """A PyMuPDF document, or a clear error for encrypted, corrupt or empty files."""
    import pymupdf
    path = Path(path)
    name = name or path.name
    if path.stat().st_size == 0:
        raise InputError("doc.error.empty", file=name)
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # noqa: BLE001 - PyMuPDF raises several types for damaged files
        raise InputError("doc.error.corrupt", file=name, kind="PDF") from exc
    if doc.needs_pass and not doc.authenticate(""):
        doc.close()
        raise InputError("doc.error.encrypted", file=name)
    if doc.page_count == 0:
        doc.close()
        raise InputError("doc.error.corrupt", file=name, kind="PDF")
    return doc


def check_unzipped_size(path: str | Path, name: str | None = None, kind: str = "ZIP",
                        limit_mb: int | None = None) -> None:
    """Refuse an Office file (a ZIP archive) whose parts would unpack to more than limit_mb, before reading any."""
    path = Path(path)
    name = name or path.name
    limit_mb = MAX_UNZIPPED_MB if limit_mb is None else limit_mb
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError("doc.error.corrupt", file=name, kind=kind) from exc
    if total > limit_mb * 1024 * 1024:
        raise InputError("doc.error.unzipped_too_large", file=name, size_mb=f"{total / 1024 / 1024:.0f}",
                         limit_mb=limit_mb)


def pdf_pages_text(path: str | Path, name: str | None = None) -> list[str]:
    """The text layer of every page (no OCR), fast."""
    with open_pdf(path, name) as doc:
        return [page.get_text("text") for page in doc]


class _Ocr:
    """One RapidOCR engine for the process (its ONNX models ship in the wheel); calls are serialized."""

    def __init__(self) -> None:
        self._engine = None
        self._lock = threading.Lock()

    def boxes(self, png: bytes) -> list:
        """Recognised text boxes: [(corner points, text, score), …] in pixel coordinates."""
        with self._lock:
            if self._engine is None:
                from rapidocr_onnxruntime import RapidOCR
                self._engine = RapidOCR()
            result, _ = self._engine(png)
        return result or []

    def __call__(self, png: bytes) -> str:
        result = self.boxes(png)
        return _ocr_lines(result) if result else ""


def _ocr_lines(result) -> str:
    # Boxes come roughly in reading order; join boxes on the same line with a space.
    lines: list[list[tuple[float, str]]] = []
    last_y = None
    for box, text, _score in result:
        y = sum(pt[1] for pt in box) / 4
        x = min(pt[0] for pt in box)
        height = abs(box[2][1] - box[0][1]) or 10
        if last_y is None or abs(y - last_y) > height * 0.6:
            lines.append([])
        lines[-1].append((x, text))
        last_y = y
    return "\n".join(" ".join(t for _, t in sorted(line)) for line in lines)


ocr_image = _Ocr()


def ocr_pdf_page(page, dpi: int = 200) -> str:
    """Text of one PyMuPDF page by OCR of its rendering."""
    pix = page.get_pixmap(dpi=dpi)
    return ocr_image(pix.tobytes("png"))


def read_document(path: str | Path, *, ocr: bool = True, progress: Callable[[int, int], None] | None = None,
                  name: str | None = None, clean: bool = True) -> Document:
    """A document's pages; raises InputError with a message naming the file when it cannot be read."""
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError("doc.error.unsupported", file=name, types=" ".join(SUPPORTED))
    if not path.exists() or path.stat().st_size == 0:
        raise InputError("doc.error.empty", file=name)
    reader = {".pdf": _read_pdf, ".docx": _read_docx, ".xlsx": _read_xlsx}.get(suffix, _read_text)
    doc = reader(path, name, ocr=ocr, progress=progress)
    if clean and len(doc.pages) >= 3:
        strip_running_lines(doc.pages)
    if not any(p.text.strip() or p.tables for p in doc.pages):
        raise InputError("doc.error.no_text" if suffix == ".pdf" else "doc.error.empty", file=name)
    return doc


def _read_pdf(path: Path, name: str, *, ocr: bool, progress) -> Document:
    doc = Document(name=name, kind="pdf", pages=[])
    ocr_pages: list[int] = []
    with open_pdf(path, name) as pdf:
        total = pdf.page_count
        for index, page in enumerate(pdf):
            text = page.get_text("text")
            tables: list[str] = []
            used_ocr = False
            if len(text.strip()) < 10 and ocr and page.get_images():
                try:
                    text = ocr_pdf_page(page)
                    used_ocr = True
                    ocr_pages.append(index + 1)
                except Exception as exc:  # noqa: BLE001 - OCR failure leaves the page empty, the rest is kept
                    doc.warnings.append(("doc.warning.ocr_unavailable", {"detail": str(exc)[:200]}))
                    ocr = False
            elif text.strip():
                tables = _pdf_tables(page)
            doc.pages.append(Page(number=index + 1, text=text, tables=tables, ocr=used_ocr))
            if progress:
                progress(index + 1, total)
    if ocr_pages:
        doc.warnings.append(("doc.warning.ocr", {"file": name, "pages": _ranges(ocr_pages)}))
    return doc


def _pdf_tables(page) -> list[str]:
    # Only pages with ruling lines are worth the table finder's time.
    try:
        if not page.get_drawings():
            return []
        return [t.to_markdown() for t in page.find_tables().tables if t.row_count >= 2]
    except Exception:  # noqa: BLE001 - a table that cannot be parsed stays in the plain text
        return []


def _read_docx(path: Path, name: str, *, ocr: bool, progress) -> Document:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    check_unzipped_size(path, name, "DOCX")
    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise InputError("doc.error.corrupt", file=name, kind="DOCX") from exc
    except Exception as exc:  # noqa: BLE001 - zipfile and lxml errors for damaged files
        raise InputError("doc.error.corrupt", file=name, kind="DOCX") from exc
    pages: list[Page] = [Page(number=1, text="")]
    lines: list[str] = []
    for block in d.iter_inner_content():
        if hasattr(block, "rows"):  # a table
            lines.append(_rows_to_markdown([[c.text.strip() for c in row.cells] for row in block.rows]))
            continue
        if block.contains_page_break and lines:
            pages[-1].text = "\n".join(lines)
            pages.append(Page(number=len(pages) + 1, text=""))
            lines = []
        text = block.text.strip()
        if not text:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = re.match(r"(?:Heading|标题)\s*(\d)", style)
        lines.append(("#" * int(level.group(1)) + " " + text) if level else text)
    pages[-1].text = "\n".join(lines)
    return Document(name=name, kind="docx", pages=pages)


def _read_xlsx(path: Path, name: str, *, ocr: bool, progress) -> Document:
    import openpyxl
    check_unzipped_size(path, name, "XLSX")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zip and XML errors for damaged files
        raise InputError("doc.error.corrupt", file=name, kind="XLSX") from exc
    pages = []
    try:
        for number, ws in enumerate(wb.worksheets, start=1):
            rows = []
            for row in ws.iter_rows(values_only=True):
                if len(rows) >= MAX_SHEET_ROWS:
                    break
                if any(v is not None and str(v).strip() for v in row):
                    rows.append(["" if v is None else str(v) for v in row])
            table = _rows_to_markdown(rows) if rows else ""
            pages.append(Page(number=number, text=f"## {ws.title}\n{table}" if table else "", tables=[table] if table else []))
    finally:
        wb.close()
    return Document(name=name, kind="xlsx", pages=pages)


def _read_text(path: Path, name: str, *, ocr: bool, progress) -> Document:
    return Document(name=name, kind=Path(name).suffix.lower().lstrip(".") or "txt",
                    pages=[Page(number=1, text=read_text_file(path, name))])


def _rows_to_markdown(rows: list[list[str]]) -> str:
    width = max(len(r) for r in rows)
    rows = [[c.replace("|", "\\|").replace("\n", " ") for c in r] + [""] * (width - len(r)) for r in rows]
    head = "| " + " | ".join(rows[0]) + " |"
    sep = "|" + "---|" * width
    body = ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join([head, sep, *body])


_PAGE_NUMBER = re.compile(r"^\s*(第\s*\d+\s*页(\s*[/／共]\s*\d+\s*页?)?|\d+\s*(/|／|of)\s*\d+|[-–—]?\s*\d{1,4}\s*[-–—]?|page\s+\d+(\s+of\s+\d+)?)\s*$", re.I)


def strip_running_lines(pages: list[Page]) -> None:
    """Remove page numbers and running headers/footers (short lines repeated at the top or bottom of most pages)."""
    edge_counts: Counter[str] = Counter()
    for page in pages:
        lines = [ln.strip() for ln in page.text.splitlines() if ln.strip()]
        edge_counts.update(set(lines[:2] + lines[-2:]))
    threshold = max(3, len(pages) // 2)
    running = {ln for ln, n in edge_counts.items() if n >= threshold and len(ln) <= 60}
    for page in pages:
        lines = page.text.splitlines()
        kept = []
        for i, ln in enumerate(lines):
            s = ln.strip()
            near_edge = i < 3 or i >= len(lines) - 3
            if near_edge and (s in running or _PAGE_NUMBER.match(s)) and s:
                continue
            kept.append(ln)
        page.text = "\n".join(kept)


def _ranges(numbers: list[int]) -> str:
    out, start, prev = [], None, None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(out)


_INJECTION = [
    r"ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts?|rules)",
    r"disregard (all |any )?(the )?(previous|prior|above) (instructions|prompts?)",
    r"forget (all |everything )?(you were told|previous instructions)",
    r"\byou are now\b", r"\bact as (an?|the) ", r"\bsystem prompt\b", r"\bnew instructions?\s*:",
    r"(?:^|\n)\s*(system|assistant)\s*:", r"<\|im_start\|>", r"\[INST\]", r"</?system>",
    r"(reply|answer|respond|output) only with", r"do not (mention|tell|reveal)",
    r"忽略(之前|以上|前面|上述|先前|所有)(的)?(所有)?(指令|指示|提示|规则|要求)",
    r"无视(之前|以上|前面|上述)(的)?(指令|指示|提示|规则)", r"你现在是", r"你(必须|只能)(回答|输出|回复)",
    r"系统提示", r"新的指令", r"不要(告诉|透露|提及)用户", r"请将(本条|此条款|该条).{0,10}(评为|认定为|标记为)",
    r"(rate|mark|classify) (this|all) (clause|clauses|document) as",
]
_INJECTION_RE = re.compile("|".join(f"(?:{p})" for p in _INJECTION), re.I)


def looks_like_injection(text: str) -> list[str]:
    """Phrases in a document that address the model instead of the reader; empty when none."""
    return [m.group(0).strip() for m in _INJECTION_RE.finditer(text or "")]
