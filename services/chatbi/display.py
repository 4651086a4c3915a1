"""Result tables as people read them: thousands separators, empty cells left empty (never NaN or None)."""
from __future__ import annotations

import datetime as dt
import decimal
import math
import re

_PLAIN_NAME = re.compile(r"(year|年份|^年$|年度|编号|代码|序号|^id$|_id$|^id_|code$|电话|邮编|zip|phone)", re.I)


def cell_text(value: object, plain: bool = False) -> str:
    """One cell as text: 12,345.5 for numbers (plain: no separators, for years and codes), '' when empty."""
    if value is None:
        return ""
    try:
        import pandas as pd
        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (float, decimal.Decimal)):
        f = float(value)
        if math.isnan(f):
            return ""
        if math.isinf(f):
            return str(f)
        if plain:
            return f"{f:.0f}" if f.is_integer() else f"{f:g}"
        text = f"{f:,.6f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    if isinstance(value, int):
        return str(value) if plain else f"{value:,}"
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return cell_text(value.item(), plain)
    return str(value)


def display_frame(frame):
    """A copy of the frame with every cell as display text (years and codes without separators)."""
    import pandas as pd
    out = {}
    for col in frame.columns:
        values = list(frame[col])
        plain = bool(_PLAIN_NAME.search(str(col))) or _all_years(values)
        out[col] = [cell_text(v, plain) for v in values]
    return pd.DataFrame(out, columns=list(frame.columns))


def _all_years(values: list) -> bool:
    nums = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return bool(nums) and len(nums) == sum(1 for v in values if cell_text(v) != "") and all(
        1800 <= v <= 2200 for v in nums)
