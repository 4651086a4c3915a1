"""Where checked SQL runs: a private, locked-down DuckDB per user session, or a read-only external database."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from services.chatbi import messages  # noqa: F401  (registers texts)
from services.chatbi.guard import check_sql, with_row_limit
from services.chatbi.layout import TotalCheck
from services.chatbi.loading import Frame, Progress, check_file, load_csv, read_csv_tables, read_excel_file
from services.chatbi.naming import quote, table_name
from services.errors import InputError

DEFAULT_MAX_ROWS = 5000
DEFAULT_TIMEOUT_S = 10.0
SAMPLE_ROWS = 3


@dataclass
class Column:
    """A column's name and SQL type."""

    name: str
    type: str


@dataclass
class TableInfo:
    """A queryable table: where it came from, its columns and size."""

    name: str
    source: str
    sheet: str | None
    rows: int
    columns: list[Column]
    warnings: list[str] = field(default_factory=list)
    title: str | None = None
    units: dict[str, str] = field(default_factory=dict)
    total_labels: list[str] = field(default_factory=list)   # subtotal/total rows found when loading
    checks: list[TotalCheck] = field(default_factory=list)  # each excluded total against the kept rows' sum
    keep_totals: bool = False                               # whether those rows are in the table

    def unit(self, column: str) -> str | None:
        """The unit recorded for a column (万元, 元, % …), if any."""
        return self.units.get(column)


@dataclass
class QueryResult:
    """Rows returned by a checked query."""

    sql: str
    columns: list[str]
    types: list[str]
    rows: list[tuple]
    truncated: bool
    elapsed_s: float

    def to_frame(self):
        """The rows as a pandas DataFrame."""
        import pandas as pd
        return pd.DataFrame([list(r) for r in self.rows], columns=_unique(self.columns))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 1
            out.append(n)
    return out


class DuckSession:
    """One user's tables in an in-memory DuckDB that cannot touch other files, the network or its own settings."""

    dialect = "duckdb"

    def __init__(self, *, max_rows: int = DEFAULT_MAX_ROWS, timeout_s: float = DEFAULT_TIMEOUT_S,
                 memory_limit: str = "2GB") -> None:
        self.max_rows = max_rows
        self.timeout_s = timeout_s
        self.tables: dict[str, TableInfo] = {}
        self._frames: dict[str, Frame] = {}  # tables with subtotal/total rows: every row, for keep_totals
        self._lock = threading.RLock()
        self._con = duckdb.connect(":memory:")
        # Lock down before any data arrives. The only files this connection may open are those placed in its own
        # staging folder while loading; no other path, no network, no extensions, no way to change settings.
        self._staging = Path(tempfile.mkdtemp(prefix="chatbi_"))
        allowed = str(self._staging) + os.sep
        for setting in (f"SET memory_limit = '{memory_limit}'", "SET threads TO 2",
                        f"SET allowed_directories = [{_sql_text(allowed)}]",
                        "SET enable_external_access = false", "SET autoinstall_known_extensions = false",
                        "SET autoload_known_extensions = false", "SET lock_configuration = true"):
            self._con.execute(setting).fetchall()

    # -------------------------------------------------------------- loading
    def add_file(self, path: str | Path, name: str | None = None, *, progress: Progress | None = None,
                 max_csv_mb: int | None = None, max_excel_mb: int | None = None) -> list[TableInfo]:
        """Load a CSV or Excel file (every sheet) as tables named after the file; returns the new tables."""
        name = name or Path(path).name
        kind = check_file(path, name, max_csv_mb=max_csv_mb, max_excel_mb=max_excel_mb)
        frames = None
        if kind == "csv":
            frames = read_csv_tables(Path(path), name)
            if frames is None:
                with self._lock:
                    table = table_name(name, None, taken=set(self.tables))
                    rows, warnings = load_csv(self._con, self._staging, Path(path), name, table, progress=progress)
                    info = TableInfo(name=table, source=name, sheet=None, rows=rows, columns=self._columns(table),
                                     warnings=warnings)
                    self.tables[table] = info
                if progress:
                    progress(1.0, name)
                return [info]
        if frames is None:
            frames = read_excel_file(Path(path), name, progress=progress)
        added = []
        with self._lock:
            for frame in frames:
                if frame.name:
                    table = table_name(frame.name, None, taken=set(self.tables))
                elif frame.part:
                    table = table_name(name, f"{frame.sheet or ''} {frame.part}".strip(), taken=set(self.tables))
                else:
                    table = table_name(name, frame.sheet, taken=set(self.tables))
                self._store(table, frame.data)
                if frame.full is not None:
                    self._frames[table] = frame
                info = TableInfo(name=table, source=name, sheet=frame.sheet, rows=frame.rows,
                                 columns=self._columns(table), warnings=list(frame.warnings), title=frame.title,
                                 units=dict(frame.units), total_labels=list(frame.total_labels),
                                 checks=list(frame.checks))
                self.tables[table] = info
                added.append(info)
        if progress:
            progress(1.0, name)
        return added

    def keep_totals(self, table: str, keep: bool) -> TableInfo:
        """Put the subtotal/total rows found when loading back into the table (keep=True) or leave them out."""
        with self._lock:
            info = self.tables[table]
            frame: Frame | None = self._frames.get(table)
            if frame is None or info.keep_totals == keep:
                return info
            data = frame.full if keep else frame.data
            self._con.execute(f"DROP TABLE {quote(table)}").fetchall()
            self._store(table, data)
            info.keep_totals = keep
            info.rows = len(data)
            return info

    def frame(self, table: str):
        """Every row of a loaded table as a pandas DataFrame (our own fixed SQL)."""
        with self._lock:
            return self._con.execute(f"SELECT * FROM {quote(table)}").df()

    def replace_table(self, table: str, data) -> TableInfo:
        """Put new data (e.g. the table with an AI column added) in place of a loaded table, same name."""
        with self._lock:
            info = self.tables[table]
            self._con.execute(f"DROP TABLE {quote(table)}").fetchall()
            self._store(table, data)
            # Subtotal rows kept aside no longer match the new columns; the table is now what it holds.
            self._frames.pop(table, None)
            info.total_labels, info.checks = [], []
            info.columns = self._columns(table)
            info.rows = len(data)
            return info

    def _store(self, table: str, data) -> None:
        view = f"_bi_load_{uuid.uuid4().hex}"
        self._con.register(view, data)
        try:
            self._con.execute(f"CREATE TABLE {quote(table)} AS SELECT * FROM {quote(view)}").fetchall()
        finally:
            self._con.unregister(view)

    def _columns(self, table: str) -> list[Column]:
        rows = self._con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                                 [table]).fetchall()
        return [Column(n, t) for n, t in rows]

    def remove_table(self, table: str) -> None:
        """Drop one loaded table."""
        with self._lock:
            if table in self.tables:
                self._con.execute(f"DROP TABLE IF EXISTS {quote(table)}").fetchall()
                del self.tables[table]
                self._frames.pop(table, None)

    # -------------------------------------------------------------- querying
    def table_names(self) -> list[str]:
        """Names of the loaded tables."""
        return list(self.tables)

    def describe(self) -> list[TableInfo]:
        """The loaded tables."""
        return list(self.tables.values())

    def sample_rows(self, table: str, n: int = SAMPLE_ROWS) -> tuple[list[str], list[tuple]]:
        """A few rows of a table (our own fixed SQL, not model output)."""
        with self._lock:
            cur = self._con.execute(f"SELECT * FROM {quote(table)} LIMIT {int(n)}")
            return [d[0] for d in cur.description], cur.fetchall()

    def internal_query(self, sql: str, params: list | None = None) -> list[tuple]:
        """Run our own fixed SQL (profiles); never called with model or user text."""
        with self._lock:
            return self._con.execute(sql, params or []).fetchall()

    def run(self, sql: str, *, max_rows: int | None = None, timeout_s: float | None = None) -> QueryResult:
        """Check sql with the guard and run it with a row cap and a time limit."""
        if not self.tables:
            raise InputError("bi.error.no_tables")
        checked = check_sql(sql, self.tables, dialect=self.dialect)
        limit = max_rows or self.max_rows
        final_sql = with_row_limit(checked, limit, dialect=self.dialect)
        seconds = timeout_s or self.timeout_s
        with self._lock:
            timed_out = threading.Event()

            def stop() -> None:
                timed_out.set()
                self._con.interrupt()

            timer = threading.Timer(seconds, stop)
            start = time.perf_counter()
            timer.start()
            try:
                cur = self._con.execute(final_sql)
                description = cur.description or []
                rows = cur.fetchmany(limit + 1)
                _discard_rest(self._con)
            except duckdb.InterruptException:
                raise InputError("bi.error.timeout", seconds=_fmt_seconds(seconds)) from None
            except duckdb.Error as exc:
                if timed_out.is_set():
                    raise InputError("bi.error.timeout", seconds=_fmt_seconds(seconds)) from None
                raise SqlExecutionError(_first_line(exc)) from None
            finally:
                timer.cancel()
            elapsed = time.perf_counter() - start
        return QueryResult(sql=checked.sql, columns=[d[0] for d in description],
                           types=[str(d[1]) for d in description], rows=rows[:limit],
                           truncated=len(rows) > limit, elapsed_s=elapsed)

    def close(self) -> None:
        """Release the connection and the staging folder."""
        with self._lock:
            self._con.close()
            shutil.rmtree(self._staging, ignore_errors=True)

    def __del__(self) -> None:
        # A Streamlit session that ends without close() still leaves no staged files behind.
        staging = getattr(self, "_staging", None)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _discard_rest(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the unread rest of a result (DuckDB 2 keeps it pending; DuckDB 1 discards it on the next call)."""
    abort = getattr(con, "abort", None)
    if abort is not None:
        try:
            abort()
        except duckdb.Error:
            pass


class SqlExecutionError(InputError):
    """The database rejected a checked query (wrong column, type error…); the model may repair it."""

    def __init__(self, detail: str) -> None:
        super().__init__("bi.error.sql", detail=detail)
        self.detail = detail


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # Keep the hint DuckDB adds ("Did you mean …") — it is what lets the model repair its query.
    return " ".join(lines[:3])[:500]


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:g}"
