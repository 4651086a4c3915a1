"""Cells for CSV and Excel downloads that a spreadsheet will show, never run as formulas."""
from __future__ import annotations

# Text from documents and models is untrusted: =HYPERLINK(...), =cmd|... and the like must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame):
    """A copy of a DataFrame with every text cell and column name neutralised."""
    from pandas.api.types import is_object_dtype, is_string_dtype
    out = frame.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    for c in out.columns:
        if is_object_dtype(out[c]) or is_string_dtype(out[c]):
            out[c] = out[c].map(neutralize).astype(object)
    return out


def csv_bytes(frame) -> bytes:
    """A DataFrame as formula-safe CSV in UTF-8 with BOM (so Excel shows Chinese).

    CRLF line ends make the writer quote any cell holding a carriage return: with pandas' default "\n" a cell such
    as "\r=1+1" was written bare, and a spreadsheet splits the row at the CR and runs "=1+1"."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


_NOT_XML = {c: " " for c in range(32) if c not in (9, 10, 13)} | {0xFFFE: " ", 0xFFFF: " "}


def xml_safe(value: object, _depth: int = 0) -> object:
    """A copy of value (text, lists, dicts, dataclasses, pydantic models) fit for Word/XML: control characters
    such as form feed or BEL, which python-docx refuses, become spaces (same length, so text offsets still hold)."""
    if isinstance(value, str):
        return value.translate(_NOT_XML)
    if _depth > 12 or value is None or isinstance(value, (int, float, bool, bytes)):
        return value
    if isinstance(value, list):
        return [xml_safe(v, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(xml_safe(v, _depth + 1) for v in value)
    if isinstance(value, dict):
        return {k: xml_safe(v, _depth + 1) for k, v in value.items()}
    if hasattr(value, "__dict__") and not isinstance(value, type):
        import copy
        clone = copy.copy(value)
        for key, item in vars(value).items():
            clone.__dict__[key] = xml_safe(item, _depth + 1)
        return clone
    return value
