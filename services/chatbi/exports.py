"""Results as CSV and Excel downloads, with spreadsheet formulas neutralised."""
from __future__ import annotations

import io

from services.exports import csv_bytes, neutralize, safe_frame  # noqa: F401 - neutralize is part of this module's surface


def to_csv_bytes(frame) -> bytes:
    """CSV in UTF-8 with BOM so that Excel shows Chinese correctly."""
    return csv_bytes(frame)


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
