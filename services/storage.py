"""Where the app keeps files: one data folder, a sub-folder per browser session, safe file names."""
from __future__ import annotations

import os
import re
import unicodedata
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


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write uploaded bytes under folder with a safe name; never outside it."""
    target = (folder / safe_filename(name)).resolve()
    if folder.resolve() not in target.parents:
        raise ValueError("unsafe file name")
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
