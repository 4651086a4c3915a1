"""Reading CSV and Excel files into columnar tables: encodings, delimiters, title rows, thousands separators."""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import math
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from services.chatbi import messages  # noqa: F401  (registers texts)
from services.chatbi.layout import Block, TotalCheck, is_dash, split_sheet
from services.chatbi.naming import quote
from services.errors import InputError

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
MB = 1024 * 1024
MAX_CSV_MB = int(os.environ.get("BI_MAX_CSV_MB", "1024"))
MAX_EXCEL_MB = int(os.environ.get("BI_MAX_EXCEL_MB", "50"))
_HEAD_BYTES = 256 * 1024
# Files up to this size are read cell by cell first to find titles, units, totals and notes.
GRID_MAX_MB = int(os.environ.get("BI_GRID_MAX_MB", "8"))
_TOTAL_WORD = re.compile(r"小计|合计|总计|共计|总和|总额|累计|汇总|total|sum", re.I)
GRID_FULL_MB = 1  # below this every file is read cell by cell; above it only when its head or tail asks for it
_DELIMITERS = [",", "\t", ";", "|"]
_NUMBER = r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"

Progress = Callable[[float, str], None]


@dataclass
class Frame:
    """One sheet read from a workbook: its name, the data, and notes for the user."""

    sheet: str | None
    data: object  # a pandas.DataFrame, registered in DuckDB as a table
    rows: int
    warnings: list[str] = field(default_factory=list)
    title: str | None = None
    name: str | None = None          # set when a sheet holds several tables: the table's title
    part: int = 0                    # and its place on the sheet (1, 2, …), for tables without a title
    units: dict[str, str] = field(default_factory=dict)
    full: object = None              # every row, subtotals and totals included (None when there were none)
    total_rows: list[int] = field(default_factory=list)
    total_labels: list[str] = field(default_factory=list)
    checks: list[TotalCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_file(path: str | Path, name: str | None = None, *, max_csv_mb: int | None = None,
               max_excel_mb: int | None = None) -> str:
    """"csv" or "excel" for a readable file within the size limits; a clear InputError otherwise."""
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise InputError("bi.error.file_missing", file=name)
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    size = path.stat().st_size
    if suffix in CSV_SUFFIXES:
        _check_size(name, size, "CSV", MAX_CSV_MB if max_csv_mb is None else max_csv_mb, "bi.error.too_large")
        return "csv"
    if suffix in EXCEL_SUFFIXES:
        _check_size(name, size, "Excel", MAX_EXCEL_MB if max_excel_mb is None else max_excel_mb,
                    "bi.error.too_large_xlsx")
        return "excel"
    raise InputError("bi.error.unsupported", file=name)


def _check_size(name: str, size: int, kind: str, limit_mb: int, error_key: str) -> None:
    if size == 0:
        raise InputError("bi.error.empty", file=name)
    if size > limit_mb * MB:
        raise InputError(error_key, file=name, size_mb=f"{size / MB:.1f}", kind=kind, limit_mb=limit_mb,
                         csv_mb=MAX_CSV_MB)


# ---------------------------------------------------------------- CSV

def detect_encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes: utf-8, utf-16 or a legacy one such as gb18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head
    # Cut at the last newline so a multi-byte character split by the sample does not look invalid.
    if len(head) >= _HEAD_BYTES and b"\n" in head:
        sample = head[: head.rfind(b"\n")]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK/GB2312 and the most common non-UTF-8 encoding of Chinese spreadsheets.
        decoded = sample.decode("gb18030")
        if sum(1 for ch in decoded if "\u4e00" <= ch <= "\u9fff") > 0:
            return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes
    best = from_bytes(sample).best()
    if best is None:
        raise InputError("bi.error.encoding", file="?")
    enc = best.encoding.lower()
    return "gb18030" if enc in {"gbk", "gb2312", "cp936", "hz"} else enc


@dataclass(frozen=True)
class CsvLayout:
    """How a delimited text file is laid out."""

    delimiter: str
    skip: int        # lines before the header (titles, notes, blank lines)
    header: bool


def sniff_layout(text: str) -> CsvLayout:
    """Delimiter, number of title lines before the header, and whether there is a header, from the first lines."""
    lines = [ln for ln in text.splitlines()[:60]]
    if len(text) >= _HEAD_BYTES - 8 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    best: tuple[float, str, int] | None = None
    for delim in _DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delim))
        counts = [len(r) for r in rows if any(c.strip() for c in r)]
        if not counts:
            continue
        tail = counts[len(counts) // 3:] or counts
        mode, freq = Counter(tail).most_common(1)[0]
        if mode < 2:
            continue
        score = freq / len(tail) + 0.01 * min(mode, 20)
        if best is None or score > best[0]:
            best = (score, delim, mode)
    if best is None:
        return CsvLayout(delimiter=",", skip=_first_nonblank(lines), header=True)
    _, delim, mode = best
    rows = list(csv.reader(lines, delimiter=delim))
    need = max(2, math.ceil(mode * 0.6))
    skip = 0
    for i, row in enumerate(rows):
        filled = sum(1 for c in row if c.strip())
        if filled >= need and len(row) >= mode:
            skip = i
            break
    header_row = rows[skip] if skip < len(rows) else []
    header = not all(_looks_numeric(c) for c in header_row if c.strip())
    return CsvLayout(delimiter=delim, skip=skip, header=header)


def _first_nonblank(lines: list[str]) -> int:
    for i, ln in enumerate(lines):
        if ln.strip():
            return i
    return 0


def _looks_numeric(text: str) -> bool:
    return re.fullmatch(_NUMBER, text.strip()) is not None


def load_csv(con: duckdb.DuckDBPyConnection, staging: Path, path: Path, name: str, table: str, *,
             progress: Progress | None = None) -> tuple[int, list[str]]:
    """Load one delimited text file into `table` with DuckDB's CSV reader; returns (rows, warnings).

    The file is first placed in `staging`, the only folder the locked-down connection may read."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise InputError("bi.error.empty", file=name)
    try:
        encoding = detect_encoding(head)
    except InputError:
        raise InputError("bi.error.encoding", file=name) from None
    if progress:
        progress(0.1, name)
    warnings: list[str] = []
    staged = staging / f"{uuid.uuid4().hex}.csv"
    try:
        if encoding in ("utf-8", "utf-16"):
            _stage(path, staged)
        else:
            _transcode(path, staged, encoding)
            encoding = "utf-8"
        if progress:
            progress(0.3, name)
        try:
            layout = sniff_layout(head.decode(_python_codec(encoding), errors="replace").lstrip("\ufeff"))
            _duckdb_read(con, staged, table, layout, encoding, name, warnings)
        except _NotUtf8:
            # The first bytes were plain ASCII but later lines are not UTF-8: decode the whole file as GB18030.
            staged.unlink(missing_ok=True)
            _transcode(path, staged, "gb18030")
            layout = sniff_layout(head.decode("gb18030", errors="replace"))
            try:
                _duckdb_read(con, staged, table, layout, "utf-8", name, warnings)
            except _NotUtf8:  # still undecodable after transcoding: a message, never an uncaught exception
                raise InputError("bi.error.encoding", file=name) from None
    finally:
        staged.unlink(missing_ok=True)
    if progress:
        progress(0.9, name)
    rows = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchall()[0][0]
    if rows == 0:
        con.execute(f"DROP TABLE {quote(table)}").fetchall()
        raise InputError("bi.error.header_only", file=name)
    return rows, warnings


def read_csv_tables(path: Path, name: str, *, max_mb: float | None = None) -> list[Frame] | None:
    """The tables of a small delimited file laid out like an office sheet (titles, units, totals, notes, several
    tables); None when it is a plain table (or too large to read cell by cell) and DuckDB's reader should load it."""
    if path.stat().st_size > (GRID_MAX_MB if max_mb is None else max_mb) * MB:
        return None
    raw = path.read_bytes()
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        return None
    try:
        encoding = detect_encoding(raw[:_HEAD_BYTES])
        text = raw.decode(_python_codec(encoding))
    except (InputError, UnicodeDecodeError):
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            return None
    text = text.lstrip("\ufeff")
    if re.search(r"\r(?!\n)", text):
        return None  # a bare carriage return inside a field: DuckDB's lenient reader keeps it in its cell
    layout = sniff_layout(text[:_HEAD_BYTES])
    lines = text.splitlines()
    try:
        # Read cell by cell only when the first or last lines show an office layout, or (in a small file) a word
        # that names a subtotal or total appears anywhere: plain files go straight to DuckDB's fast reader.
        sample = list(csv.reader(lines if len(lines) <= 120 else lines[:60] + lines[-60:],
                                 delimiter=layout.delimiter))
        found = split_sheet(sample)
        if len(found) == 1 and found[0].plain and (len(raw) > GRID_FULL_MB * MB or not _TOTAL_WORD.search(text)):
            return None
        grid = list(csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter))  # quoted newlines stay
    except csv.Error:
        return None
    blocks = split_sheet(grid)
    if not blocks or (len(blocks) == 1 and blocks[0].plain):
        return None
    frames = _sheet_frames(grid, None)
    return [f for f in frames if f.rows or f.total_rows] or None


def _stage(src: Path, dst: Path) -> None:
    """A hard link when the file system allows (instant), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


class _NotUtf8(Exception):
    pass


def _python_codec(encoding: str) -> str:
    if encoding == "utf-8":
        return "utf-8-sig"
    return "utf-16" if encoding == "utf-16" else encoding


def _transcode(src: Path, dst: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(src, "rb") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        while chunk := fin.read(4 * MB):
            fout.write(decoder.decode(chunk))
        fout.write(decoder.decode(b"", final=True))


def _duckdb_read(con: duckdb.DuckDBPyConnection, source: Path, table: str, layout: CsvLayout, encoding: str,
                 name: str, warnings: list[str]) -> None:
    """Read with DuckDB's sniffer for types; widen the type sample, then fall back to text, on conflicts."""
    base = (f"delim := {_lit(layout.delimiter)}, skip := {layout.skip}, header := {str(layout.header).lower()}, "
            f"encoding := {_lit(encoding)}, normalize_names := false")
    ragged = ", null_padding := true, parallel := false"  # short rows get NULLs (needs the serial reader)
    attempts = ["", ragged, ragged + ", sample_size := -1", ragged + ", all_varchar := true",
                # A stray carriage return or quote inside a field: read leniently, as text.
                ragged + ", all_varchar := true, strict_mode := false"]
    last: Exception | None = None
    target = quote(table)
    for extra in attempts:
        try:
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM read_csv({_lit(str(source))}, {base}{extra})"
                        ).fetchall()
            break
        except duckdb.Error as exc:
            last = exc
            con.execute(f"DROP TABLE IF EXISTS {target}").fetchall()
            msg = str(exc).lower()
            # Only a real decoding error: every sniffer failure also says "Encoding: utf-8" in its hints.
            if "invalid unicode" in msg or "not utf-8 encoded" in msg:
                raise _NotUtf8() from exc
    else:
        raise InputError("bi.error.corrupt", file=name, kind="CSV", detail=_short(last))
    if "sample_size" in extra or "all_varchar" in extra:
        warnings.append(f"{name}: mixed values in some columns; columns with mixed types are kept as text")
    select = _clean_select(con, table)
    if select is not None:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {select} FROM {target}").fetchall()


def _short(exc: Exception | None) -> str:
    return str(exc).splitlines()[0][:200] if exc else ""


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _clean_select(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """A select list that turns text columns of numbers with thousands separators into numbers (None: no need)."""
    columns = con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                          f"WHERE table_schema = 'main' AND table_name = {_lit(table)} ORDER BY ordinal_position"
                          ).fetchall()
    text_cols = [c for c, t in columns if t == "VARCHAR"]
    convert: dict[str, str] = {}
    # A cheap look at the first rows rules out most text columns before any full scan.
    candidates = _numeric_text_columns(con, table, text_cols, "LIMIT 2000") if text_cols else []
    if candidates:
        for c, kind in zip(candidates, _numeric_text_columns(con, table, candidates, "", kinds=True)):
            if kind:
                convert[c] = kind
    if not convert:
        return None
    items = []
    for c, _ in columns:
        q = quote(c)
        if c in convert:
            items.append(f"CAST(replace(nullif(trim({q}), ''), ',', '') AS {convert[c]}) AS {q}")
        else:
            items.append(q)
    return ", ".join(items)


def _numeric_text_columns(con, table: str, columns: list[str], limit: str, kinds: bool = False) -> list:
    """Text columns whose every filled value is a number written with thousands separators (or plainly).

    With kinds=True: for each column, "BIGINT"/"DOUBLE" when it should be converted, else None."""
    parts = []
    for c in columns:
        q = quote(c)
        parts.append(f"count(*) FILTER (WHERE nullif(trim({q}), '') IS NOT NULL)")
        parts.append(f"count(*) FILTER (WHERE regexp_full_match(trim({q}), '{_NUMBER}'))")
        parts.append(f"count(*) FILTER (WHERE contains({q}, ','))")
        parts.append(f"count(*) FILTER (WHERE contains({q}, '.'))")
    stats = con.execute(f"SELECT {', '.join(parts)} FROM (SELECT * FROM {quote(table)} {limit})").fetchall()[0]
    out = []
    for i, c in enumerate(columns):
        filled, numeric, commas, dots = stats[4 * i: 4 * i + 4]
        ok = bool(filled) and numeric == filled
        if kinds:
            out.append(("DOUBLE" if dots else "BIGINT") if ok and commas else None)
        elif ok:
            out.append(c)
    return out


# ---------------------------------------------------------------- Excel

def read_excel_file(path: Path, name: str, *, progress: Progress | None = None) -> list[Frame]:
    """Read every sheet of a workbook that holds data."""
    import zipfile

    import openpyxl

    from services.documents import check_unzipped_size
    try:
        check_unzipped_size(path, name, "Excel")  # a zip bomb is refused before openpyxl inflates a byte
    except InputError as exc:
        if exc.key != "doc.error.corrupt":
            raise
        raise InputError("bi.error.corrupt", file=name, kind="Excel", detail="not a ZIP archive") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError("bi.error.corrupt", file=name, kind="Excel", detail=_short(exc) or type(exc).__name__) from None
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged workbooks
        raise InputError("bi.error.corrupt", file=name, kind="Excel", detail=type(exc).__name__) from None
    frames: list[Frame] = []
    header_only: list[str] = []
    try:
        sheets = book.worksheets
        for i, sheet in enumerate(sheets):
            if progress:
                progress(0.1 + 0.8 * i / max(1, len(sheets)), f"{name} / {sheet.title}")
            try:
                rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            except Exception as exc:
                raise InputError("bi.error.corrupt", file=name, kind="Excel", detail=type(exc).__name__) from None
            found = _sheet_frames(rows, sheet.title)
            if found and all(f.rows == 0 and not f.total_rows for f in found):
                header_only.append(sheet.title)
                continue
            frames.extend(f for f in found if f.rows or f.total_rows)
    finally:
        book.close()
    if not frames:
        if header_only:
            raise InputError("bi.error.header_only", file=name)
        raise InputError("bi.error.no_sheets", file=name)
    for title in header_only:
        frames[0].warnings.append(f"{name} / {title}: header only, skipped")
    return frames


def _sheet_frames(rows: list[list], sheet: str | None) -> list[Frame]:
    """The tables on one sheet as frames: totals marked, units and notes recorded, several tables apart."""
    blocks = split_sheet(rows)
    frames = []
    for k, block in enumerate(blocks):
        if not block.names:
            continue
        frame = block_frame(block, sheet)
        if len(blocks) > 1:
            frame.name = block.title
            frame.part = k + 1
        frames.append(frame)
    return frames


def block_frame(block: Block, sheet: str | None) -> Frame:
    """One found table as a Frame: the kept rows as data, all rows kept aside for the "keep totals" switch."""
    import pandas as pd
    full = pd.DataFrame({n: _column_values([r[j] for r in block.rows]) for j, n in enumerate(block.names)})
    kept = full.drop(index=block.total_rows).reset_index(drop=True) if block.total_rows else full
    warnings = []
    if block.notes:
        warnings.append("notes below the table were not loaded: " + " / ".join(block.notes)[:300])
    return Frame(sheet=sheet, data=kept, rows=len(kept), warnings=warnings, title=block.title, units=block.units,
                 full=full if block.total_rows else None, total_rows=list(block.total_rows),
                 total_labels=block.total_labels(), checks=list(block.checks), notes=list(block.notes))


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip()) and not (
        isinstance(value, float) and math.isnan(value))


def _column_values(values: list) -> object:
    """One column with a single type: numbers, timestamps, booleans, or else text (mixed columns become text)."""
    import pandas as pd
    filled = [v for v in values if _filled(v)]
    if filled and any(is_dash(v) for v in filled) and all(
            _is_number(v) or is_dash(v) or (isinstance(v, str) and _looks_numeric(v)) for v in filled):
        # "-" or "—" in a column of numbers means none, as office sheets write it.
        values = [None if is_dash(v) else v for v in values]
        filled = [v for v in values if _filled(v)]
    cleaned = [None if not _filled(v) else v for v in values]
    if not filled:
        return pd.Series([None] * len(values), dtype="object").astype("string")
    if all(isinstance(v, bool) for v in filled):
        return pd.Series(cleaned, dtype="boolean")
    if all(_is_number(v) or (isinstance(v, str) and _looks_numeric(v)) for v in filled):
        numbers = [None if v is None else _as_number(v) for v in cleaned]
        if all(n is None or (float(n).is_integer() and abs(n) < 2**62) for n in numbers) \
                and not any(isinstance(v, float) or (isinstance(v, str) and "." in v) for v in filled):
            return pd.Series([None if n is None else int(n) for n in numbers], dtype="Int64")
        return pd.Series([None if n is None else float(n) for n in numbers], dtype="Float64")
    if all(isinstance(v, (dt.datetime, dt.date)) for v in filled):
        return pd.to_datetime(pd.Series(cleaned, dtype="object"))
    return pd.Series([None if v is None else _text(v) for v in cleaned], dtype="object").astype("string")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_number(value: object) -> float:
    return float(value.strip().replace(",", "")) if isinstance(value, str) else float(value)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value).strip()




__all__ = ["Frame", "check_file", "load_csv", "read_csv_tables", "read_excel_file", "block_frame", "detect_encoding", "sniff_layout",
           "CsvLayout", "CSV_SUFFIXES", "EXCEL_SUFFIXES"]
