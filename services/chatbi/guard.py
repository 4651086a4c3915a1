"""The gate every SQL statement passes before it runs: one read-only SELECT over known tables, nothing else."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from services.chatbi import messages  # noqa: F401  (registers texts)
from services.errors import InputError

# sqlglot logs a warning for statements it cannot parse fully; those are refused anyway, quietly.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# Statement kinds that write, change settings, reach outside the database or describe it.
_FORBIDDEN_NODE_NAMES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterColumn", "TruncateTable", "Copy",
    "Command", "Set", "SetItem", "Pragma", "Attach", "Detach", "Install", "Use", "Transaction", "Commit",
    "Rollback", "Describe", "Show", "Summarize", "Into", "LoadData", "Grant", "Revoke", "Analyze", "Export",
    "Cache", "Uncache", "Refresh", "Kill", "Declare", "Execute", "Call", "Comment",
)
_FORBIDDEN_NODES = tuple(cls for cls in (getattr(exp, n, None) for n in _FORBIDDEN_NODE_NAMES)
                         if isinstance(cls, type))

# Functions that read files or URLs, run SQL given as text, reveal or change settings, or have side effects.
_DENIED_FUNCTIONS = {
    "glob", "query", "query_table", "sniff_csv", "getenv", "current_setting", "set_config", "duckdb_settings",
    "json_execute_serialized_sql", "json_serialize_sql", "which_secret", "load_extension", "install_extension",
    "checkpoint", "force_checkpoint", "system", "shell", "sleep", "sleep_ms", "st_read", "st_readosm",
    "st_read_meta", "iceberg_metadata", "iceberg_snapshots", "delta_scan", "from_csv_auto", "copy_database",
    "lo_import", "lo_export", "lo_get", "lo_put", "lo_from_bytea", "lo_open", "lo_unlink", "dblink",
    "dblink_exec", "dblink_connect", "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema",
    "table_to_xml", "table_to_xml_and_xmlschema", "cursor_to_xml", "database_to_xml", "schema_to_xml",
    "database_to_xml_and_xmlschema", "schema_to_xml_and_xmlschema", "nextval", "setval", "txid_current",
    "load_file", "sys_exec", "sys_eval", "benchmark", "get_lock", "release_lock", "http_get", "http_post",
    "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "make_interval_sleep",
    "host", "inet_server_addr", "current_user_password", "scan_arrow_ipc", "arrow_scan", "pandas_scan",
    "getvariable", "current_database_path",
}
_DENIED_PREFIXES = ("read_", "pg_", "duckdb_", "sqlite_", "postgres_", "mysql_", "parquet_", "iceberg_", "delta_",
                    "lo_", "dblink", "file_", "write_", "http", "s3_", "azure_", "gcs_", "enable_", "disable_",
                    "export_", "import_", "install_", "load_", "json_execute")
_DENIED_SUFFIXES = ("_scan", "_attach")
_ALLOWED_DESPITE_PREFIX = {"pg_typeof"}

# Table functions that produce rows without touching anything outside the query.
_ALLOWED_TABLE_FUNCTIONS = tuple(cls for cls in (getattr(exp, n, None) for n in ("GenerateSeries", "Unnest",
                                                                                     "ExplodingGenerateSeries"))
                                 if isinstance(cls, type))


@dataclass(frozen=True)
class CheckedSql:
    """A statement that passed the guard: the text to run and the tables it reads."""

    sql: str
    tables: tuple[str, ...]
    tree: exp.Expression


class SqlRefused(InputError):
    """The statement is not a single read-only SELECT over the known tables."""

    def __init__(self, reason_key: str, **params: object) -> None:
        self.reason_key = reason_key
        self.reason_params = params
        super().__init__("bi.error.refused", reason="")

    def message(self, lang: str = "zh") -> str:
        from services import i18n
        return i18n.t("bi.error.refused", lang, reason=i18n.t(self.reason_key, lang, **self.reason_params))

    def __str__(self) -> str:
        return self.message("en")


def function_name(node: exp.Func) -> str:
    """The lower-case SQL name of a function call as written."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    try:
        return node.sql_name().lower()
    except Exception:  # some sqlglot function classes have no single SQL name
        return type(node).__name__.lower()


def _denied_function(name: str) -> bool:
    if name in _ALLOWED_DESPITE_PREFIX:
        return False
    return (name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES) or name.endswith(_DENIED_SUFFIXES))


def check_sql(sql: str, known_tables: Iterable[str], *, dialect: str = "duckdb",
              schemas: Iterable[str] = ("main",)) -> CheckedSql:
    """Parse sql and allow it only as one read-only SELECT (CTEs allowed) over known_tables; raise SqlRefused."""
    text = (sql or "").strip().rstrip(";").strip()
    if not text:
        raise InputError("bi.error.empty_sql")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise SqlRefused("bi.refuse.parse", detail=str(exc).splitlines()[0][:200]) from None
    except Exception as exc:  # the parser can fail in other ways on hostile input
        raise SqlRefused("bi.refuse.parse", detail=type(exc).__name__) from None
    if len(statements) != 1:
        raise SqlRefused("bi.refuse.multiple") if statements else InputError("bi.error.empty_sql")
    tree = statements[0]
    root = tree.this if isinstance(tree, exp.Subquery) else tree
    if not isinstance(root, (exp.Select, exp.SetOperation)):
        raise SqlRefused("bi.refuse.not_select", kind=type(root).__name__.upper())

    known = {t.lower() for t in known_tables}
    allowed_schemas = {s.lower() for s in schemas}
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    used: list[str] = []
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise SqlRefused("bi.refuse.not_select", kind=type(node).__name__.upper())
        if isinstance(node, exp.Lock):
            raise SqlRefused("bi.refuse.lock")
        if isinstance(node, exp.Func) and _denied_function(function_name(node)):
            raise SqlRefused("bi.refuse.function", name=function_name(node))
        if isinstance(node, exp.Table):
            _check_table(node, known, cte_names, allowed_schemas, used)
    return CheckedSql(sql=tree.sql(dialect=dialect), tables=tuple(dict.fromkeys(used)), tree=tree)


def _check_table(node: exp.Table, known: set[str], cte_names: set[str], schemas: set[str], used: list[str]) -> None:
    target = node.this
    if not isinstance(target, exp.Identifier):
        if isinstance(target, _ALLOWED_TABLE_FUNCTIONS):
            return
        name = function_name(target) if isinstance(target, exp.Func) else target.sql()[:60]
        raise SqlRefused("bi.refuse.table_function", name=name)
    name = target.name.lower()
    if node.args.get("catalog") is not None:
        raise SqlRefused("bi.refuse.table", table=node.sql()[:80])
    db = node.args.get("db")
    if db is not None:
        qualified = f"{db.name.lower()}.{name}"
        if qualified in known:
            used.append(qualified)
            return
        if db.name.lower() not in schemas:
            raise SqlRefused("bi.refuse.table", table=node.sql()[:80])
    elif name in cte_names:
        return
    if name not in known:
        raise SqlRefused("bi.refuse.table", table=name[:80])
    used.append(name)


def with_row_limit(checked: CheckedSql, max_rows: int, *, dialect: str = "duckdb") -> str:
    """The checked statement capped at max_rows + 1 rows, so the caller can tell the result was cut."""
    cap = max_rows + 1
    tree = checked.tree.copy()
    if isinstance(tree, exp.Select):
        limit = tree.args.get("limit")
        if limit is None:
            return tree.limit(cap, copy=False).sql(dialect=dialect)
        value = limit.args.get("expression")
        if isinstance(value, exp.Literal) and value.is_int:
            if int(value.this) > cap:
                tree = tree.limit(cap, copy=False)
            return tree.sql(dialect=dialect)
    wrapped = exp.select("*").from_(tree.subquery("_bi_q")).limit(cap)
    return wrapped.sql(dialect=dialect)
