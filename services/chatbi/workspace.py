"""One user's ChatBI work: loaded tables, an optional database, profiles and the conversation per source."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.chatbi.assistant import Answer, Turn, ask, relevant_tables, rerun, summarize, typed_sql
from services.chatbi.engine import DuckSession, TableInfo
from services.chatbi.external import ExternalDatabase
from services.chatbi.profile import TableProfile, profile_table, suggested_questions
from services.errors import AppError


@dataclass
class LoadReport:
    """What happened to one uploaded file."""

    name: str
    tables: list[TableInfo] = field(default_factory=list)
    error: AppError | None = None


class Workspace:
    """Files in a private DuckDB, an optional read-only database, and a conversation for each."""

    def __init__(self, *, max_rows: int = 5000, timeout_s: float = 10.0) -> None:
        self.files = DuckSession(max_rows=max_rows, timeout_s=timeout_s)
        self.database: ExternalDatabase | None = None
        self.source_name = "files"
        self.profiles: dict[str, TableProfile] = {}
        self.answers: dict[str, list[Answer]] = {"files": [], "db": []}
        self.loaded: set[tuple[str, int]] = set()
        self.load_errors: dict[tuple[str, int], AppError] = {}

    # ------------------------------------------------------------ data
    def add_upload(self, path: Path, name: str, size: int, progress=None) -> LoadReport | None:
        """Load an uploaded file once (a rerun with the same file does nothing); errors are reported, not raised."""
        key = (name, size)
        if key in self.loaded:
            return None
        self.loaded.add(key)
        report = LoadReport(name=name)
        try:
            report.tables = self.files.add_file(path, name, progress=progress)
            for info in report.tables:
                self.profiles[info.name] = profile_table(self.files, info.name)
        except AppError as exc:
            report.error = exc
            self.load_errors[key] = exc  # shown for as long as the file stays in the uploader
        return report

    def keep_totals(self, table: str, keep: bool) -> None:
        """Put the subtotal/total rows found when loading back into a table, or leave them out again."""
        info = self.files.keep_totals(table, keep)
        self.profiles[info.name] = profile_table(self.files, info.name)

    def replace_table(self, table: str, data) -> None:
        """Swap a loaded table for new data (an AI column added), so questions see it at once."""
        info = self.files.replace_table(table, data)
        self.profiles[info.name] = profile_table(self.files, info.name)

    def remove_table(self, table: str) -> None:
        """Forget one loaded table (the conversation stays)."""
        self.files.remove_table(table)
        self.profiles.pop(table, None)

    def connect(self, url: str) -> ExternalDatabase:
        """Connect a database read-only, replacing an earlier one; the file tables stay."""
        database = ExternalDatabase(url)
        if self.database is not None:
            self.database.close()
        self.database = database
        self.answers["db"] = []
        self.source_name = "db"
        return database

    def disconnect(self) -> None:
        """Close the database connection."""
        if self.database is not None:
            self.database.close()
        self.database = None
        self.source_name = "files"

    @property
    def source(self):
        """Where questions go now: the files' DuckDB or the database."""
        if self.source_name == "db" and self.database is not None:
            return self.database
        return self.files

    @property
    def conversation(self) -> list[Answer]:
        """The answers so far for the current source."""
        return self.answers["db" if self.source is self.database else "files"]

    def suggestions(self, lang: str) -> list[str]:
        """Three questions to start with, for the loaded tables."""
        if self.source is self.database:
            return []
        return suggested_questions([self.profiles[t] for t in self.files.tables if t in self.profiles], lang)

    # ------------------------------------------------------------ questions
    def tables_for(self, question: str) -> list[str]:
        """The tables a question is about, matched by column names; a follow-up that names no column stays with
        the tables of the previous answer (all tables when there is none)."""
        earlier = next((a.tables for a in reversed(self.conversation) if a.ok and a.tables), None)
        return relevant_tables(self.source, question, otherwise=earlier)

    def ask(self, conn, question: str, lang: str, on_attempt=None, *, tables: list[str] | None = None,
            progress=None, stop=None) -> Answer:
        """Answer a question, using earlier answers for follow-ups; the answer joins the conversation.

        SQL the user typed is run at once; its model summary is left for summarize() so the result shows first."""
        history = [Turn(a.question, a.sql, len(a.result.rows) if a.result else 0) for a in self.conversation if a.ok]
        if typed_sql(self.source, question):
            answer = ask(self.source, conn, question, lang=lang, summarize=False, on_attempt=on_attempt)
            answer.summary_pending = answer.ok and conn is not None
        else:
            if tables is None and self.source is self.files and len(self.files.tables) > 1:
                tables = self.tables_for(question)
            answer = ask(self.source, conn, question, history=history, lang=lang, on_attempt=on_attempt,
                         tables=tables, progress=progress, stop=stop)
        self.conversation.append(answer)
        return answer

    def run_sql(self, sql: str, conn, lang: str) -> Answer:
        """Run SQL the user wrote (same checks and limits); the result joins the conversation, the summary follows."""
        answer = rerun(self.source, sql, sql, None, lang)
        answer.summary_pending = answer.ok and conn is not None
        self.conversation.append(answer)
        return answer

    def summarize(self, index: int, conn, lang: str) -> Answer:
        """Write the model's summary for an answer already shown with its result."""
        answer = self.conversation[index]
        summarize(answer, conn, lang)
        return answer

    def rerun(self, index: int, sql: str, conn, lang: str) -> Answer:
        """Run edited SQL for an earlier answer; the new answer replaces it."""
        old = self.conversation[index]
        answer = rerun(self.source, sql, old.question, conn, lang)
        if answer.error is None:
            self.conversation[index] = answer
        return answer

    def clear(self) -> None:
        """Forget the conversation of the current source."""
        self.conversation.clear()
