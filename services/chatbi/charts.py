"""Which chart fits a result (line for time, bar for categories, pie for shares, scatter for two measures)."""
from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass, field

from services import i18n
from services.chatbi import messages  # noqa: F401  (registers texts)

KINDS = ("line", "bar", "pie", "scatter", "table")
_SHARE_WORDS = re.compile(r"(占比|比例|比重|份额|构成|分布|百分比|share|proportion|percent|breakdown|composition|"
                          r"distribution|split|%)", re.I)
_TIME_NAME = re.compile(r"(year|month|date|day|quarter|week|period|time|年|月|日|季度|周|时间|期间)", re.I)
_DATE_TEXT = re.compile(r"^\d{4}([-/.年]\d{1,2}([-/.月]\d{1,2}日?)?月?|[-\s]?Q[1-4]|年)?$")


@dataclass
class ChartSpec:
    """A chart kind with the columns it plots."""

    kind: str
    x: str | None = None
    y: list[str] = field(default_factory=list)
    color: str | None = None


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool)


def column_roles(columns: list[str], rows: list[tuple]) -> dict[str, str]:
    """time, measure or category for each result column, judged from its values and name."""
    roles = {}
    for j, name in enumerate(columns):
        values = [r[j] for r in rows if r[j] is not None]
        if not values:
            roles[name] = "category"
        elif all(isinstance(v, (dt.date, dt.datetime)) for v in values):
            roles[name] = "time"
        elif all(_is_number(v) for v in values):
            year_like = all(float(v).is_integer() and 1800 <= float(v) <= 2200 for v in values)
            roles[name] = "time" if (year_like and _TIME_NAME.search(name)) else "measure"
        elif all(isinstance(v, str) and _DATE_TEXT.match(v.strip()) for v in values):
            roles[name] = "time"
        else:
            roles[name] = "category"
    return roles


def choose_chart(columns: list[str], rows: list[tuple], question: str = "") -> ChartSpec:
    """The chart a reader would expect for this result."""
    if not rows or not columns:
        return ChartSpec("table")
    roles = column_roles(columns, rows)
    times = [c for c in columns if roles[c] == "time"]
    measures = [c for c in columns if roles[c] == "measure"]
    cats = [c for c in columns if roles[c] == "category"]
    if len(rows) == 1 and not (times or cats):
        return ChartSpec("table")
    if times and measures and len(rows) > 1:
        color = cats[0] if cats and len(measures) == 1 else None
        return ChartSpec("line", x=times[0], y=measures[:4], color=color)
    label = (cats or times or [None])[0]
    if label and measures:
        first = measures[0]
        values = [r[columns.index(first)] for r in rows]
        non_negative = all(v is None or v >= 0 for v in values)
        if _SHARE_WORDS.search(question or "") and len(rows) <= 12 and non_negative and len(measures) == 1:
            return ChartSpec("pie", x=label, y=[first])
        return ChartSpec("bar", x=label, y=measures[:4])
    if len(measures) >= 2:
        return ChartSpec("scatter", x=measures[0], y=[measures[1]], color=cats[0] if cats else None)
    return ChartSpec("table")


def switch_kind(spec: ChartSpec, kind: str, columns: list[str], rows: list[tuple]) -> ChartSpec:
    """The same data drawn as another kind, choosing sensible axes for it."""
    if kind == spec.kind or kind == "table" or not rows:
        return ChartSpec(kind, spec.x, list(spec.y), spec.color)
    roles = column_roles(columns, rows)
    measures = [c for c in columns if roles[c] == "measure"]
    labels = [c for c in columns if roles[c] != "measure"]
    if kind == "scatter":
        if len(measures) >= 2:
            return ChartSpec("scatter", x=measures[0], y=[measures[1]], color=labels[0] if labels else None)
        return ChartSpec("scatter", x=labels[0] if labels else columns[0], y=measures[:1] or columns[1:2])
    x = spec.x if spec.x in labels else (labels[0] if labels else columns[0])
    y = [c for c in (spec.y or measures) if c != x] or [c for c in columns if c != x][:1]
    if kind == "pie":
        return ChartSpec("pie", x=x, y=y[:1])
    return ChartSpec(kind, x=x, y=y, color=spec.color if kind == "line" else None)


def axis_label(column: str, units: dict[str, str] | None = None, lang: str = "zh") -> str:
    """A column name with its unit, as an axis title: 销售额（万元）, or sales (USD)."""
    unit = (units or {}).get(column)
    if not unit:
        return column
    return f"{column}（{unit}）" if lang == "zh" else f"{column} ({unit})"


def figure(frame, spec: ChartSpec, lang: str = "zh", title: str | None = None, units: dict[str, str] | None = None):
    """A Plotly figure for the spec with axes named after the columns (and their units), or None for a table."""
    import plotly.express as px
    if spec.kind == "table" or frame is None or frame.empty or not spec.x or not spec.y:
        return None
    data = frame.copy()
    for c in spec.y:
        if c in data:
            data[c] = _to_float(data[c])
    labels = {c: axis_label(c, units, lang) for c in [spec.x, *spec.y, spec.color] if c}
    y_units = {(units or {}).get(c) for c in spec.y}
    # Several measures in one chart: plotly would call the axis "value" and the legend "variable".
    y_title = (axis_label(spec.y[0], units, lang) if len(spec.y) == 1 else
               " / ".join(spec.y) + (f"（{next(iter(y_units))}）" if len(y_units) == 1 and None not in y_units
                                     else ""))
    labels.update({"value": y_title, "variable": i18n.t("bi.chart.series", lang)})
    if spec.kind == "line":
        data = data.sort_values(spec.x)
        fig = px.line(data, x=spec.x, y=spec.y, color=spec.color, markers=True, labels=labels)
    elif spec.kind == "bar":
        fig = px.bar(data, x=spec.x, y=spec.y, barmode="group", labels=labels)
    elif spec.kind == "pie":
        fig = px.pie(data, names=spec.x, values=spec.y[0], labels=labels)
    elif spec.kind == "scatter":
        fig = px.scatter(data, x=spec.x, y=spec.y[0], color=spec.color, labels=labels)
    else:
        return None
    if spec.kind != "pie":
        fig.update_layout(xaxis_title=labels[spec.x], yaxis_title=y_title, yaxis_tickformat=",")
    fig.update_layout(title=title or i18n.t(f"bi.chart.{spec.kind}", lang), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _to_float(series):
    import pandas as pd
    return pd.to_numeric(series.map(lambda v: float(v) if isinstance(v, decimal.Decimal) else v), errors="coerce")
