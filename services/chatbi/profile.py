"""What is in each table: column types, missing values, ranges, frequent values, and questions worth asking."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from services import i18n
from services.chatbi import messages  # noqa: F401  (registers texts)
from services.chatbi.naming import quote

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC", "INT", "BIGSERIAL", "SERIAL")
TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIME")
_TIME_NAME = re.compile(r"(year|month|date|day|time|quarter|period|年|月|日期|季度|时间|期间)", re.I)
_ID_NAME = re.compile(r"(^id$|_id$|^id_|编号|代码|序号|^no\.?$|^#$|code$)", re.I)
_TOP_COLUMNS = 40


def is_numeric_type(sql_type: str) -> bool:
    """Whether a SQL type name holds numbers."""
    return sql_type.upper().split("(")[0].strip() in NUMERIC_TYPES


def is_temporal_type(sql_type: str) -> bool:
    """Whether a SQL type name holds dates or times."""
    return sql_type.upper().startswith(TEMPORAL_TYPES)


@dataclass
class ColumnProfile:
    """One column: type, missing count, distinct count, range and most frequent values."""

    name: str
    type: str
    missing: int
    distinct: int
    minimum: object = None
    maximum: object = None
    top: list[tuple[object, int]] = field(default_factory=list)

    @property
    def role(self) -> str:
        """time, measure, category, id or text: how the column is likely used in questions."""
        if is_temporal_type(self.type):
            return "time"
        if is_numeric_type(self.type):
            if _TIME_NAME.search(self.name) and _year_like(self.minimum, self.maximum):
                return "time"
            if _ID_NAME.search(self.name):
                return "id"
            return "measure"
        if _TIME_NAME.search(self.name):
            return "time"
        if 1 < self.distinct <= 60:
            return "category"
        return "text"


def _year_like(lo: object, hi: object) -> bool:
    try:
        return 1800 <= float(lo) and float(hi) <= 2200
    except (TypeError, ValueError):
        return False


@dataclass
class TableProfile:
    """A table's size and its columns' profiles."""

    table: str
    rows: int
    columns: list[ColumnProfile]


def profile_table(session, table: str) -> TableProfile:
    """Profile one loaded DuckDB table with a single aggregate pass plus a top-values query per text column."""
    info = session.tables[table]
    t = quote(table)
    parts = ["count(*)"]
    for col in info.columns:
        q = quote(col.name)
        parts.append(f"count(*) - count({q})")
        parts.append(f"approx_count_distinct({q})")
        if is_numeric_type(col.type) or is_temporal_type(col.type):
            parts.append(f"min({q})")
            parts.append(f"max({q})")
        else:
            parts.append("NULL")
            parts.append("NULL")
    stats = session.internal_query(f"SELECT {', '.join(parts)} FROM {t}")[0]
    rows = int(stats[0])
    columns = []
    for i, col in enumerate(info.columns):
        missing, distinct, lo, hi = stats[1 + 4 * i: 5 + 4 * i]
        columns.append(ColumnProfile(col.name, col.type, int(missing), int(distinct), lo, hi))
    for cp in columns[:_TOP_COLUMNS]:
        if not is_numeric_type(cp.type) or cp.distinct <= 20:
            q = quote(cp.name)
            cp.top = [(v, int(n)) for v, n in session.internal_query(
                f"SELECT {q}, count(*) AS n FROM {t} WHERE {q} IS NOT NULL GROUP BY 1 ORDER BY n DESC, 1 LIMIT 3")]
    return TableProfile(table=table, rows=rows, columns=columns)


def suggested_questions(profiles: list[TableProfile], lang: str = "zh", count: int = 3) -> list[str]:
    """Questions a user could ask first, from the columns' roles (deterministic, no model call)."""
    out: list[str] = []
    for p in profiles:
        roles: dict[str, list[str]] = {}
        for c in p.columns:
            roles.setdefault(c.role, []).append(c.name)
        num = (roles.get("measure") or [None])[0]
        cat = (roles.get("category") or [None])[0]
        time = (roles.get("time") or [None])[0]
        if time and num:
            out.append(i18n.t("bi.suggest.trend", lang, num=num, time=time))
        if cat and num:
            out.append(i18n.t("bi.suggest.sum_by", lang, num=num, cat=cat))
        if num:
            out.append(i18n.t("bi.suggest.top", lang, num=num))
        if cat:
            out.append(i18n.t("bi.suggest.count_by", lang, cat=cat))
        if num:
            out.append(i18n.t("bi.suggest.avg", lang, num=num))
        out.append(i18n.t("bi.suggest.rows", lang, table=p.table))
        out.append(i18n.t("bi.suggest.preview", lang, table=p.table))
    unique = list(dict.fromkeys(out))
    # Mix tables: take the first suggestion of each table before the second of any.
    return unique[:count]


def format_range(cp: ColumnProfile) -> str:
    """The column's range as text, empty when not applicable."""
    if cp.minimum is None and cp.maximum is None:
        return ""
    return f"{_short(cp.minimum)} – {_short(cp.maximum)}"


def format_top(cp: ColumnProfile) -> str:
    """The most frequent values with their counts."""
    return ", ".join(f"{_short(v)} ({n})" for v, n in cp.top)


def _short(value: object, limit: int = 30) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
