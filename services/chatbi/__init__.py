"""ChatBI: questions in plain language over spreadsheets and databases, answered with checked, read-only SQL."""
from services.chatbi import messages  # noqa: F401  (registers texts)
from services.chatbi.assistant import Answer, Attempt, Turn, ask, extract_sql, fallback_summary, rerun
from services.chatbi.charts import KINDS, ChartSpec, choose_chart, figure, switch_kind
from services.chatbi.engine import DuckSession, QueryResult, SqlExecutionError, TableInfo
from services.chatbi.exports import neutralize, to_csv_bytes, to_excel_bytes
from services.chatbi.external import ExternalDatabase
from services.chatbi.guard import SqlRefused, check_sql
from services.chatbi.profile import profile_table, suggested_questions
from services.chatbi.workspace import Workspace

__all__ = ["Answer", "Attempt", "Turn", "ask", "extract_sql", "fallback_summary", "rerun", "KINDS", "ChartSpec",
           "choose_chart", "figure", "switch_kind", "DuckSession", "QueryResult", "SqlExecutionError", "TableInfo",
           "neutralize", "to_csv_bytes", "to_excel_bytes", "ExternalDatabase", "SqlRefused", "check_sql",
           "profile_table", "suggested_questions", "Workspace"]
