"""Results as CSV and Excel downloads, with spreadsheet formulas neutralised."""
from __future__ import annotations

import io

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame):
    """A copy of the frame with every text cell (and column name) neutralised."""
    out = frame.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    from pandas.api.types import is_object_dtype, is_string_dtype
    for c in out.columns:
        if is_object_dtype(out[c]) or is_string_dtype(out[c]):
            out[c] = out[c].map(neutralize).astype(object)
    return out


def to_csv_bytes(frame) -> bytes:
    """CSV in UTF-8 with BOM so that Excel shows Chinese correctly."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(frame, sheet: str = "result") -> bytes:
    """An .xlsx workbook with the result on one sheet."""
    buf = io.BytesIO()
    data = safe_frame(frame)
    for c in data.columns:  # Excel cannot store time zones
        if hasattr(data[c].dtype, "tz") and data[c].dtype.tz is not None:
            data[c] = data[c].dt.tz_localize(None)
    import pandas as pd
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        data.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buf.getvalue()
