"""Table names derived from file and sheet names."""
from __future__ import annotations

import re
from pathlib import Path

_OTHER = re.compile(r"[\W_]+", re.UNICODE)


def base_name(text: str) -> str:
    """Lower-case, with each run of characters other than letters and digits turned into one underscore."""
    name = _OTHER.sub("_", text.strip().lower()).strip("_")
    if not name:
        name = "table"
    if name[0].isdigit():
        name = "t_" + name
    return name


def table_name(file_name: str, sheet: str | None = None, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The table name for a file (and sheet): `file` or `file_sheet`, made unique against taken names."""
    stem = Path(file_name).stem
    name = base_name(f"{stem} {sheet}" if sheet is not None else stem)
    unique, n = name, 2
    while unique in taken:
        unique = f"{name}_{n}"
        n += 1
    return unique


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (works for Chinese and spaces)."""
    return '"' + identifier.replace('"', '""') + '"'
