"""Where API keys and endpoints come from: argument, then stored setting, then environment."""
from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from services.errors import AppError

# Stored settings live beside the app; the file is only written when the user asks to save a key.
SECRETS_FILE = Path(os.environ.get("ASSISTANT_SECRETS_FILE", Path(__file__).resolve().parents[1] / ".streamlit" / "secrets.toml"))


def stored_settings(path: Path | None = None) -> dict[str, str]:
    """Flat string settings from secrets.toml (top-level keys), empty when the file is absent or unreadable."""
    path = path or SECRETS_FILE
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, (str, int, float))}


def resolve_setting(name: str | None, explicit: str | None = None,
                    stored: Mapping[str, str] | None = None) -> str | None:
    """The value of setting `name`: explicit argument, then stored setting, then environment variable."""
    if explicit:
        return explicit.strip()
    if not name:
        return None
    stored = stored_settings() if stored is None else stored
    if stored.get(name):
        return str(stored[name]).strip()
    value = os.environ.get(name)
    return value.strip() if value else None


def resolve_api_key(provider_label: str, env_var: str, explicit: str | None = None,
                    stored: Mapping[str, str] | None = None) -> str:
    """The API key for a provider, or an error that names the variable to set."""
    key = resolve_setting(env_var, explicit, stored)
    if not key:
        raise AppError("error.missing_key", provider=provider_label, env_var=env_var)
    return key


def mask(secret: str | None) -> str:
    """A key shown safely: its first three and last four characters at most."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:3]}…{secret[-4:]}"


def save_setting(name: str, value: str, path: Path | None = None) -> Path:
    """Write one setting to secrets.toml (only on the user's explicit request), readable by the owner alone."""
    path = path or SECRETS_FILE
    current = {}
    try:
        with open(path, "rb") as f:
            current = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        pass
    current[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {_toml_string(str(v))}" for k, v in current.items() if isinstance(v, (str, int, float))]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
