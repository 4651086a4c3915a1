"""Where the app keeps files: one data folder, a sub-folder per browser session, safe file names."""
from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
import uuid
from pathlib import Path

DATA_DIR = Path(os.environ.get("ASSISTANT_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))


def data_dir(*parts: str) -> Path:
    """A folder under the app's data folder, created on first use."""
    path = DATA_DIR.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def session_dir(session_id: str, *parts: str) -> Path:
    """A folder that belongs to one browser session."""
    if not re.fullmatch(r"[0-9a-f]{8,64}", session_id):
        raise ValueError("invalid session id")
    return data_dir("sessions", session_id, *parts)


def safe_filename(name: str, default: str = "file") -> str:
    """A file name with no path parts, control characters or leading dots; CJK letters kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", name).strip().lstrip(".")
    if _RESERVED.match(name):  # CON, NUL, COM1 … cannot be created on Windows
        name = "_" + name
    return _fit(name, 150, MAX_NAME_BYTES) or default


# File systems limit a name to 255 bytes, and 150 Chinese characters are 450 bytes in UTF-8.
MAX_NAME_BYTES = 200
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\.|$)", re.I)


def _fit(name: str, max_chars: int, max_bytes: int) -> str:
    """The name cut to at most max_chars characters and max_bytes UTF-8 bytes, keeping its extension."""
    if len(name) <= max_chars and len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 16:
        stem, suffix = name, ""
    tail = "." + suffix if suffix else ""
    stem = stem[: max_chars - len(tail)]
    budget = max_bytes - len(tail.encode("utf-8"))
    return stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore") + tail


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write bytes so that the file is either the old one or the complete new one, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write uploaded bytes under folder with a safe name; never outside it."""
    target = (folder / safe_filename(name)).resolve()
    if folder.resolve() not in target.parents:
        raise ValueError("unsafe file name")
    return write_atomic(target, data)


RETENTION_ENV = "ASSISTANT_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 7.0
CLEANUP_EVERY_S = 3600.0
_CLEANUP_STAMP = ".last-cleanup"


def retention_days() -> float:
    """How many days a browser session's uploaded files are kept (ASSISTANT_RETENTION_DAYS, default 7; 0 = keep)."""
    raw = os.environ.get(RETENTION_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_RETENTION_DAYS
    except ValueError:
        return DEFAULT_RETENTION_DAYS


def _newest_mtime(folder: Path) -> float:
    """The latest modification time inside a folder, symlinks not followed."""
    newest = folder.lstat().st_mtime
    for root, dirs, files in os.walk(folder, followlinks=False):
        for entry in dirs + files:
            try:
                newest = max(newest, os.lstat(os.path.join(root, entry)).st_mtime)
            except OSError:
                pass
    return newest


def cleanup_sessions(days: float | None = None, *, now: float | None = None) -> list[str]:
    """Remove session folders untouched for more than `days` days; returns the removed session ids.

    Only direct children of <data>/sessions are considered, and a symlink there is removed as a link: nothing
    outside the data folder is ever read or deleted.
    """
    days = retention_days() if days is None else days
    root = DATA_DIR / "sessions"
    if days <= 0 or not root.is_dir() or root.is_symlink():
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    removed = []
    for child in sorted(root.iterdir()):
        try:
            if child.is_symlink():
                if child.lstat().st_mtime < cutoff:
                    child.unlink()
                    removed.append(child.name)
                continue
            if child.is_dir() and _newest_mtime(child) < cutoff:
                shutil.rmtree(child)  # unlinks symlinks inside instead of following them
                removed.append(child.name)
        except OSError:
            continue  # a folder in use or already gone: the next cleanup tries again
    return removed


def cleanup_if_due(*, now: float | None = None) -> list[str] | None:
    """Run cleanup_sessions at most once per hour (a stamp file in the data folder); None when not due."""
    now = time.time() if now is None else now
    stamp = DATA_DIR / _CLEANUP_STAMP
    try:
        if now - stamp.stat().st_mtime < CLEANUP_EVERY_S:
            return None
    except OSError:
        pass
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    os.utime(stamp, (now, now))
    return cleanup_sessions(now=now)
