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
