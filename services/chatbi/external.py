"""A database reached by SQLAlchemy URL (PostgreSQL first, MySQL by the same path), queried read-only."""
from __future__ import annotations

import threading
import time

from services.chatbi import messages  # noqa: F401  (registers texts)
from services.chatbi.engine import (DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, SAMPLE_ROWS, Column, QueryResult,
                                    SqlExecutionError, TableInfo, _first_line)
from services.chatbi.guard import check_sql, with_row_limit
from services.errors import InputError

_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
_DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


def masked_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"


class ExternalDatabase:
    """Tables of an external database, every query in a read-only transaction with a statement time limit."""

    def __init__(self, url: str, *, max_rows: int = DEFAULT_MAX_ROWS, timeout_s: float = DEFAULT_TIMEOUT_S,
                 connect_timeout_s: int = 5) -> None:
        from sqlalchemy import create_engine, inspect
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
        self.max_rows = max_rows
        self.timeout_s = timeout_s
        self.url = masked_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise InputError("bi.error.db_url", detail=str(exc)[:200]) from None
        self.backend = parsed.get_backend_name()
        if self.backend not in ("postgresql", "mysql", "mariadb"):
            raise InputError("bi.error.db_url", detail=f"unsupported database '{self.backend}' "
                                                         "(PostgreSQL or MySQL)")
        self.dialect = _DIALECTS[self.backend]
        connect_args = {"connect_timeout": connect_timeout_s}
        try:
            self._engine = create_engine(parsed, pool_pre_ping=True, pool_size=1, max_overflow=1,
                                         connect_args=connect_args)
        except (NoSuchModuleError, ImportError) as exc:
            raise InputError("bi.error.db_driver", detail=str(exc)[:200]) from None
        self._lock = threading.RLock()
        self.tables: dict[str, TableInfo] = {}
        self.schemas: list[str] = []
        try:
            insp = inspect(self._engine)
            default = insp.default_schema_name
            self.schemas = [default] if default else []
            for schema in [default] + [s for s in insp.get_schema_names()
                                       if s != default and s not in _SYSTEM_SCHEMAS and not s.startswith("pg_")]:
                names = list(insp.get_table_names(schema=schema)) + list(insp.get_view_names(schema=schema))
                for name in names:
                    key = name if schema == default else f"{schema}.{name}"
                    cols = [Column(c["name"], str(c["type"])) for c in insp.get_columns(name, schema=schema)]
                    self.tables[key] = TableInfo(
                        name=key, source=self.url, sheet=None, rows=-1, columns=cols)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise InputError("bi.error.db_down", url=self.url, detail=_first_line(exc.orig or exc)[:300]) from None
        if self.backend == "postgresql" and self.tables:
            self._keep_readable()
        if not self.tables:
            self._engine.dispose()
            raise InputError("bi.error.db_empty", url=self.url)

    def _keep_readable(self) -> None:
        """Drop tables the role may not SELECT from (PostgreSQL lists them anyway)."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError
        try:
            with self._engine.connect() as conn:
                readable = {(schema, name) for schema, name in conn.execute(text(
                    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND has_schema_privilege(n.oid, 'USAGE') "
                    "AND has_table_privilege(c.oid, 'SELECT')"))}
        except SQLAlchemyError:
            return  # the guard and the database's own permissions still apply
        for key in list(self.tables):
            schema, _, name = key.rpartition(".")
            if (schema or self.schemas[0], name) not in readable:
                del self.tables[key]

    def table_names(self) -> list[str]:
        """Names of the readable tables (other schemas qualified)."""
        return list(self.tables)

    def describe(self) -> list[TableInfo]:
        """The readable tables."""
        return list(self.tables.values())

    def _quote(self, key: str) -> str:
        preparer = self._engine.dialect.identifier_preparer
        return ".".join(preparer.quote(part) for part in key.split(".", 1))

    def sample_rows(self, table: str, n: int = SAMPLE_ROWS) -> tuple[list[str], list[tuple]]:
        """A few rows of a table (our own fixed SQL), read-only."""
        result = self._read_only(f"SELECT * FROM {self._quote(self.tables[table].name)} LIMIT {int(n)}", n)
        return result[0], result[1]

    def run(self, sql: str, *, max_rows: int | None = None, timeout_s: float | None = None) -> QueryResult:
        """Check sql with the guard (this database's dialect) and run it read-only with row and time limits."""
        checked = check_sql(sql, self.tables, dialect=self.dialect, schemas=self.schemas)
        limit = max_rows or self.max_rows
        final_sql = with_row_limit(checked, limit, dialect=self.dialect)
        start = time.perf_counter()
        columns, rows = self._read_only(final_sql, limit + 1, timeout_s or self.timeout_s)
        elapsed = time.perf_counter() - start
        types = [type(v).__name__ for v in (rows[0] if rows else [])] or [""] * len(columns)
        return QueryResult(sql=checked.sql, columns=columns, types=types, rows=rows[:limit],
                           truncated=len(rows) > limit, elapsed_s=elapsed)

    def _read_only(self, sql: str, fetch: int, timeout_s: float | None = None) -> tuple[list[str], list[tuple]]:
        from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
        seconds = timeout_s or self.timeout_s
        with self._lock:
            try:
                with self._engine.connect() as conn:
                    # The transaction is read-only at the database, whatever the statement says.
                    if self.backend == "postgresql":
                        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
                    else:
                        conn.exec_driver_sql(f"SET SESSION max_execution_time = {int(seconds * 1000)}")
                        conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
                    try:
                        # no_parameters: the driver must not read % in the SQL as a placeholder.
                        result = conn.execution_options(no_parameters=True).exec_driver_sql(sql)
                        columns = list(result.keys())
                        rows = [tuple(r) for r in result.fetchmany(fetch)]
                    finally:
                        conn.rollback()
                    return columns, rows
            except OperationalError as exc:
                text = _first_line(exc.orig or exc)
                if "timeout" in text.lower() or "canceling statement" in text.lower() or "max_execution_time" in text:
                    raise InputError("bi.error.timeout", seconds=f"{seconds:g}") from None
                if exc.connection_invalidated or "connect" in text.lower() or "server closed" in text.lower():
                    raise InputError("bi.error.db_down", url=self.url, detail=text[:300]) from None
                raise SqlExecutionError(text) from None
            except DBAPIError as exc:
                text = _first_line(exc.orig or exc)
                if "statement timeout" in text.lower() or "canceling statement" in text.lower():
                    raise InputError("bi.error.timeout", seconds=f"{seconds:g}") from None
                raise SqlExecutionError(text) from None
            except SQLAlchemyError as exc:
                raise SqlExecutionError(_first_line(exc)) from None

    def close(self) -> None:
        """Close the connection pool."""
        self._engine.dispose()
