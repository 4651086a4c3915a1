"""A batch of reports kept on disk as it goes: each finished report's result is written (atomically) the moment
it is done, so a batch cut short (a crash, a kill, a closed terminal) keeps every report that finished."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from services import storage
from services.storage import write_atomic


def new_batch_dir() -> Path:
    """A fresh folder for one batch under the app's data folder (<data>/financials/batches/<time>-<id>)."""
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    return storage.data_dir("financials", "batches", name)


def save_result(folder: str | Path, index: int, result: dict) -> Path:
    """Keep one finished report's result (the JSON shape of ReportResult.to_dict) in the batch folder."""
    name = storage.safe_filename(str(result.get("file") or "report"), "report")
    payload = json.dumps({"index": index, "result": result}, ensure_ascii=False, indent=1).encode("utf-8")
    return write_atomic(Path(folder) / f"{index:03d}-{name}.json", payload)


def _results_in_order(paths, order_field: str, as_number) -> list[dict]:
    # A file that is unreadable or was cut short by a crash is skipped: what finished is still shown.
    out = []
    for path in paths:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            out.append((as_number(entry[order_field]), entry["result"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return [r for _, r in sorted(out, key=lambda x: x[0])]


def saved_results(folder: str | Path) -> list[dict]:
    """The finished reports of a batch, in batch order (unreadable or unfinished files are skipped)."""
    return _results_in_order(Path(folder).glob("[0-9][0-9][0-9]-*.json"), "index", int)


def _owner_folder(owner: str) -> Path:
    import hashlib
    # Kept under the owner's own session-style folder, so the retention cleanup removes it like any upload.
    return storage.session_dir(hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32], "financials")


def keep_for_owner(owner: str, result: dict) -> Path:
    """Keep one finished report's result for this user (the page shows it again after a restart or reload)."""
    import hashlib
    key = hashlib.sha256(str(result.get("file") or "").encode("utf-8")).hexdigest()[:16]
    payload = json.dumps({"saved_at": time.time(), "result": result}, ensure_ascii=False).encode("utf-8")
    return write_atomic(_owner_folder(owner) / f"{key}.json", payload)


def owner_results(owner: str) -> list[dict]:
    """This user's kept results, oldest first (unreadable files skipped)."""
    return _results_in_order(_owner_folder(owner).glob("*.json"), "saved_at", float)


def forget_owner(owner: str) -> None:
    """Remove this user's kept results (the page's Clear button)."""
    import shutil
    shutil.rmtree(_owner_folder(owner), ignore_errors=True)
