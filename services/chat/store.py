"""Conversations that last: SQLite by default, any SQLAlchemy URL (PostgreSQL) for a team deployment.

Every read and write names the owner; a conversation is only ever returned to the owner it belongs to.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (Column, Integer, MetaData, String, Table, Text, and_, create_engine, delete, event,
                        func, insert, or_, select, update)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from services import i18n, storage
from services.errors import AppError

DB_ENV = "ASSISTANT_CHAT_DB"            # a file path or a SQLAlchemy URL
TIMEOUT_ENV = "ASSISTANT_CHAT_DB_TIMEOUT"  # seconds to wait for a busy database
SHARED_ENV = "ASSISTANT_CHAT_SHARED"    # "1": everyone sees one shared workspace
SHARED_OWNER = "shared-workspace"

i18n.register({
    "chat.error.db_locked": {
        "zh": "对话数据库正忙（被其他程序锁定），本轮内容暂未保存，仍保留在当前页面中；请稍后点击「重试保存」。",
        "en": "The conversation database is busy (locked by another program); this turn is not saved yet but is kept "
              "on this page. Click 'Retry saving' in a moment.",
    },
    "chat.error.db_unwritable": {
        "zh": "无法写入对话数据库（{where}）：{detail}。本轮内容仍保留在当前页面中；请检查文件权限或 {env} 设置。",
        "en": "Cannot write the conversation database ({where}): {detail}. This turn is kept on this page; "
              "check the file permissions or the {env} setting.",
    },
    "chat.error.not_found": {
        "zh": "找不到这个对话（可能已被删除，或不属于当前用户）。",
        "en": "This conversation was not found (it may have been deleted, or it belongs to another user).",
    },
    "chat.error.empty_name": {"zh": "名称不能为空。", "en": "The name cannot be empty."},
    "chat.interrupted": {
        "zh": "回答未完成：服务在生成途中停止（例如服务器重启），以上是当时已收到的部分。",
        "en": "Unfinished answer: the server stopped while it was being written (e.g. a restart); above is the part "
              "received by then.",
    },
})

metadata = MetaData()

conversations = Table(
    "chat_conversations", metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(200), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("preset", String(64), nullable=False, default="general"),
    Column("system", Text, nullable=False, default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

messages = Table(
    "chat_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False, default=""),
    Column("reasoning", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="ok"),
    Column("error", Text),
    Column("provider", String(64), nullable=False, default=""),
    Column("model", String(200), nullable=False, default=""),
    Column("variant", Integer, nullable=False, default=0),  # 0: main answer; 1: the compared model's answer
    Column("stats", Text),        # JSON: tokens, timings, cost
    Column("attachments", Text),  # JSON: [{name, chars, tokens, text}]
    Column("sources", Text),      # JSON: knowledge-base citations {citations: [{n, file, page, quote}], warnings}
    Column("created_at", String(32), nullable=False),
)

# The answer being written right now, saved every second or so; turned into an "interrupted" message when the
# process that was writing it is gone (a crash or kill), deleted when the finished answer is stored.
drafts = Table(
    "chat_drafts", metadata,
    Column("conversation_id", String(32), primary_key=True),
    Column("content", Text, nullable=False, default=""),
    Column("reasoning", Text, nullable=False, default=""),
    Column("provider", String(64), nullable=False, default=""),
    Column("model", String(200), nullable=False, default=""),
    Column("boot", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)
BOOT = uuid.uuid4().hex  # this process; drafts of any other process are no longer being written

presets = Table(
    "chat_presets", metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(200), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("system", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)


@dataclass
class Conversation:
    """One conversation's header."""

    id: str
    owner: str
    title: str
    preset: str = "general"
    system: str = ""
    created_at: str = ""
    updated_at: str = ""
    snippet: str = ""  # the matching text when found by a search


@dataclass
class Message:
    """One stored message; assistant messages carry status, thinking text and numbers."""

    role: str
    content: str
    reasoning: str = ""
    status: str = "ok"  # ok | stopped | cut | error
    error: str | None = None
    provider: str = ""
    model: str = ""
    variant: int = 0
    stats: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, Any] | None = None
    id: int | None = None
    created_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The message as a plain dict (what the page keeps in its session)."""
        return {"id": self.id, "role": self.role, "content": self.content, "reasoning": self.reasoning,
                "status": self.status, "error": self.error, "provider": self.provider, "model": self.model,
                "variant": self.variant, "stats": self.stats, "attachments": self.attachments,
                "sources": self.sources, "created_at": self.created_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Message":
        """A message from a plain dict; unknown keys are ignored."""
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known.setdefault("content", "")
        return cls(**known)


def now() -> str:
    """The current UTC time as ISO text."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def default_url() -> str:
    """The database from ASSISTANT_CHAT_DB (path or URL), else a SQLite file in the app's data folder."""
    configured = os.environ.get(DB_ENV, "").strip()
    if configured:
        return configured if "://" in configured else f"sqlite:///{Path(configured).expanduser().resolve()}"
    return f"sqlite:///{storage.data_dir('chat') / 'conversations.db'}"


def shared_workspace() -> bool:
    """Whether the deployment turned on one shared workspace for everyone."""
    return os.environ.get(SHARED_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def owner_for(login: str | None, browser_id: str | None) -> str:
    """Whose conversations these are: the logged-in account, else this browser, else the shared workspace."""
    if shared_workspace():
        return SHARED_OWNER
    if login:
        return f"user:{login}"
    if browser_id and valid_browser_id(browser_id):
        return f"browser:{browser_id}"
    raise ValueError("no user identity")


def new_browser_id() -> str:
    """A random, unguessable id for a browser that has none yet."""
    return uuid.uuid4().hex


def valid_browser_id(value: str | None) -> bool:
    """Whether a value looks like an id made by new_browser_id (32 hex digits)."""
    return bool(value) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


class ConversationStore:
    """Conversations, their messages and the users' own presets, kept in one SQL database."""

    def __init__(self, url: str | None = None, *, timeout_s: float | None = None) -> None:
        self.url = url or default_url()
        if timeout_s is None:
            timeout_s = float(os.environ.get(TIMEOUT_ENV, "5"))
        self.timeout_s = timeout_s
        self._sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self._ready = False
        self.engine = self._make_engine()

    # -- set-up -------------------------------------------------------------------------------------------------
    def _make_engine(self) -> Engine:
        if not self._sqlite:
            return create_engine(self.url, pool_pre_ping=True, future=True)
        path = make_url(self.url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # reported as "cannot write" on first use
        engine = create_engine(self.url, future=True, connect_args={"timeout": self.timeout_s,
                                                                    "check_same_thread": False})
        timeout_ms = int(self.timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Transactions are begun by hand below (BEGIN IMMEDIATE), so writers queue on busy_timeout
            # instead of failing when a read lock has to be upgraded.
            dbapi_connection.isolation_level = None
            cur = dbapi_connection.cursor()
            cur.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")

        return engine

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise self._translate(exc) from exc
        self._ready = True
        self.recover_interrupted()

    def _translate(self, exc: Exception) -> AppError:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        if "locked" in detail.lower() or "busy" in detail.lower():
            return AppError("chat.error.db_locked")
        return AppError("chat.error.db_unwritable", where=self.where(), detail=detail, env=DB_ENV)

    def where(self) -> str:
        """Where the database lives, password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    def _write(self):
        self._ensure_schema()
        return _Tx(self, self.engine.begin())

    def _read(self):
        self._ensure_schema()
        return _Tx(self, self.engine.connect().execution_options(readonly=True))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- conversations ------------------------------------------------------------------------------------------
    def create(self, owner: str, title: str, *, preset: str = "general", system: str = "") -> Conversation:
        """A new, empty conversation for owner."""
        stamp = now()
        conv = Conversation(id=uuid.uuid4().hex, owner=owner, title=_clip_title(title), preset=preset,
                            system=system, created_at=stamp, updated_at=stamp)
        with self._write() as c:
            c.execute(insert(conversations).values(id=conv.id, owner=owner, title=conv.title, preset=preset,
                                                   system=system, created_at=stamp, updated_at=stamp))
        return conv

    def get(self, owner: str, conversation_id: str) -> Conversation:
        """The owner's conversation; not found for anyone else's."""
        with self._read() as c:
            row = c.execute(select(conversations).where(and_(conversations.c.id == conversation_id,
                                                             conversations.c.owner == owner))).mappings().first()
        if row is None:
            raise AppError("chat.error.not_found")
        return Conversation(**dict(row))

    def get_any(self, conversation_id: str) -> Conversation:
        """A conversation by id whoever owns it: only for the local command line, which has the database anyway."""
        with self._read() as c:
            row = c.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
        if row is None:
            raise AppError("chat.error.not_found")
        return Conversation(**dict(row))

    def list(self, owner: str, query: str | None = None, limit: int = 200) -> list[Conversation]:
        """The owner's conversations, newest first; with query, those whose title or text contains it."""
        with self._read() as c:
            if not query or not query.strip():
                rows = c.execute(select(conversations).where(conversations.c.owner == owner)
                                 .order_by(conversations.c.updated_at.desc(), conversations.c.created_at.desc())
                                 .limit(limit)).mappings().all()
                return [Conversation(**dict(r)) for r in rows]
            pattern = f"%{_escape_like(query.strip())}%"
            matching = (select(messages.c.conversation_id, func.min(messages.c.id).label("first_id"))
                        .where(messages.c.content.like(pattern, escape="\\"))
                        .group_by(messages.c.conversation_id).subquery())
            rows = c.execute(
                select(conversations, messages.c.content.label("snippet"))
                .outerjoin(matching, matching.c.conversation_id == conversations.c.id)
                .outerjoin(messages, messages.c.id == matching.c.first_id)
                .where(and_(conversations.c.owner == owner,
                            or_(conversations.c.title.like(pattern, escape="\\"), matching.c.first_id.is_not(None))))
                .order_by(conversations.c.updated_at.desc()).limit(limit)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["snippet"] = _snippet(d.pop("snippet") or "", query.strip())
            out.append(Conversation(**d))
        return out

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        """Give the owner's conversation a new title."""
        if not title.strip():
            raise AppError("chat.error.empty_name")
        self._update(owner, conversation_id, title=_clip_title(title))

    def set_prompt(self, owner: str, conversation_id: str, *, preset: str, system: str) -> None:
        """Remember the preset and system prompt the conversation uses."""
        self._update(owner, conversation_id, preset=preset, system=system)

    def _update(self, owner: str, conversation_id: str, **values: Any) -> None:
        with self._write() as c:
            done = c.execute(update(conversations).where(and_(conversations.c.id == conversation_id,
                                                              conversations.c.owner == owner))
                             .values(**values, updated_at=now()))
            if done.rowcount == 0:
                raise AppError("chat.error.not_found")

    def delete(self, owner: str, conversation_id: str) -> None:
        """Delete the owner's conversation and all its messages."""
        with self._write() as c:
            done = c.execute(delete(conversations).where(and_(conversations.c.id == conversation_id,
                                                              conversations.c.owner == owner)))
            if done.rowcount == 0:
                raise AppError("chat.error.not_found")
            c.execute(delete(messages).where(messages.c.conversation_id == conversation_id))

    # -- messages -----------------------------------------------------------------------------------------------
    def messages(self, owner: str, conversation_id: str) -> list[Message]:
        """The conversation's messages in the order they were written."""
        self.get(owner, conversation_id)
        with self._read() as c:
            rows = c.execute(select(messages).where(messages.c.conversation_id == conversation_id)
                             .order_by(messages.c.id)).mappings().all()
        return [_message(r) for r in rows]

    def add(self, owner: str, conversation_id: str, message: Message) -> Message:
        """Append a message; returns it with its id."""
        stamp = message.created_at or now()
        with self._write() as c:
            self._check_owner(c, owner, conversation_id)
            done = c.execute(insert(messages).values(
                conversation_id=conversation_id, role=message.role, content=message.content or "",
                reasoning=message.reasoning or "", status=message.status, error=message.error,
                provider=message.provider or "", model=message.model or "", variant=message.variant,
                stats=json.dumps(message.stats, ensure_ascii=False) if message.stats else None,
                attachments=json.dumps(message.attachments, ensure_ascii=False) if message.attachments else None,
                sources=json.dumps(message.sources, ensure_ascii=False) if message.sources else None,
                created_at=stamp))
            c.execute(update(conversations).where(conversations.c.id == conversation_id).values(updated_at=stamp))
            if message.role == "assistant":  # the finished answer replaces its draft, in the same transaction
                c.execute(delete(drafts).where(drafts.c.conversation_id == conversation_id))
        message.id, message.created_at = done.inserted_primary_key[0], stamp
        return message

    def save_draft(self, owner: str, conversation_id: str, *, content: str, reasoning: str = "", provider: str = "",
                   model: str = "") -> None:
        """Keep the answer written so far, so that a crash mid-answer still leaves it (marked unfinished)."""
        with self._write() as c:
            self._check_owner(c, owner, conversation_id)
            c.execute(delete(drafts).where(drafts.c.conversation_id == conversation_id))
            c.execute(insert(drafts).values(conversation_id=conversation_id, content=content or "",
                                            reasoning=reasoning or "", provider=provider or "", model=model or "",
                                            boot=BOOT, updated_at=now()))

    def recover_interrupted(self) -> int:
        """Turn drafts left by a process that is gone into assistant messages marked "interrupted"; how many."""
        try:
            with self.engine.begin() as c:
                rows = c.execute(select(drafts).where(drafts.c.boot != BOOT)).mappings().all()
                for r in rows:
                    known = c.execute(select(conversations.c.id).where(
                        conversations.c.id == r["conversation_id"])).first()
                    if known is not None:
                        c.execute(insert(messages).values(
                            conversation_id=r["conversation_id"], role="assistant", content=r["content"],
                            reasoning=r["reasoning"], status="interrupted", error=None, provider=r["provider"],
                            model=r["model"], variant=0, created_at=r["updated_at"]))
                    c.execute(delete(drafts).where(drafts.c.conversation_id == r["conversation_id"]))
            return len(rows)
        except SQLAlchemyError as exc:
            raise self._translate(exc) from exc

    def delete_from(self, owner: str, conversation_id: str, message_id: int) -> int:
        """Delete a message and every later one (to regenerate or edit); returns how many went."""
        with self._write() as c:
            self._check_owner(c, owner, conversation_id)
            done = c.execute(delete(messages).where(and_(messages.c.conversation_id == conversation_id,
                                                         messages.c.id >= message_id)))
            return done.rowcount

    def _check_owner(self, c, owner: str, conversation_id: str) -> None:
        found = c.execute(select(conversations.c.id).where(and_(conversations.c.id == conversation_id,
                                                                conversations.c.owner == owner))).first()
        if found is None:
            raise AppError("chat.error.not_found")

    # -- the user's own presets ---------------------------------------------------------------------------------
    def presets(self, owner: str) -> list[dict[str, str]]:
        """The owner's saved presets, oldest first."""
        with self._read() as c:
            rows = c.execute(select(presets).where(presets.c.owner == owner)
                             .order_by(presets.c.created_at, presets.c.name)).mappings().all()
        return [{"id": r["id"], "name": r["name"], "system": r["system"]} for r in rows]

    def save_preset(self, owner: str, name: str, system: str) -> str:
        """Save (or replace, by name) one of the owner's presets; returns its id."""
        name = name.strip()
        if not name:
            raise AppError("chat.error.empty_name")
        with self._write() as c:
            row = c.execute(select(presets.c.id).where(and_(presets.c.owner == owner, presets.c.name == name))).first()
            if row is not None:
                c.execute(update(presets).where(presets.c.id == row[0]).values(system=system))
                return row[0]
            preset_id = uuid.uuid4().hex
            c.execute(insert(presets).values(id=preset_id, owner=owner, name=name[:200], system=system,
                                             created_at=now()))
            return preset_id

    def delete_preset(self, owner: str, preset_id: str) -> None:
        """Delete one of the owner's presets."""
        with self._write() as c:
            c.execute(delete(presets).where(and_(presets.c.id == preset_id, presets.c.owner == owner)))


class _Tx:
    """A connection context that turns database faults into messages for the user."""

    def __init__(self, store: ConversationStore, ctx) -> None:
        self.store, self.ctx = store, ctx

    def __enter__(self):
        try:
            return self.ctx.__enter__()
        except (OperationalError, DBAPIError, SQLAlchemyError) as exc:
            raise self.store._translate(exc) from exc

    def __exit__(self, exc_type, exc, tb):
        try:
            self.ctx.__exit__(exc_type, exc, tb)
        except (OperationalError, DBAPIError, SQLAlchemyError) as commit_exc:
            raise self.store._translate(commit_exc) from commit_exc
        if isinstance(exc, SQLAlchemyError):
            raise self.store._translate(exc) from exc
        return False


def _message(row) -> Message:
    d = dict(row)
    d.pop("conversation_id", None)
    d["stats"] = json.loads(d["stats"]) if d.get("stats") else None
    d["attachments"] = json.loads(d["attachments"]) if d.get("attachments") else []
    d["sources"] = json.loads(d["sources"]) if d.get("sources") else None
    return Message(**d)


def _clip_title(title: str) -> str:
    title = " ".join((title or "").split())
    return (title[:60] + "…") if len(title) > 60 else (title or "…")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _snippet(text: str, query: str, width: int = 30) -> str:
    at = text.lower().find(query.lower())
    if at < 0:
        return ""
    start = max(0, at - width)
    end = min(len(text), at + len(query) + width)
    return ("…" if start else "") + " ".join(text[start:end].split()) + ("…" if end < len(text) else "")


__all__ = ["ConversationStore", "Conversation", "Message", "owner_for", "new_browser_id", "valid_browser_id",
           "default_url", "shared_workspace", "SHARED_OWNER"]
