"""A batch of reports kept on disk as it goes: each finished report's result is written (atomically) the moment
it is done, so a batch cut short (a crash, a kill, a closed terminal) keeps every report that finished."""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from services import storage


def new_batch_dir() -> Path:
    """A fresh folder for one batch under the app's data folder (<data>/financials/batches/<time>-<id>)."""
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    return storage.data_dir("financials", "batches", name)


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


def save_result(folder: str | Path, index: int, result: dict) -> Path:
    """Keep one finished report's result (the JSON shape of ReportResult.to_dict) in the batch folder."""
    name = storage.safe_filename(str(result.get("file") or "report"), "report")
    payload = json.dumps({"index": index, "result": result}, ensure_ascii=False, indent=1).encode("utf-8")
    return write_atomic(Path(folder) / f"{index:03d}-{name}.json", payload)


def saved_results(folder: str | Path) -> list[dict]:
    """The finished reports of a batch, in batch order (unreadable or unfinished files are skipped)."""
    out = []
    for path in sorted(Path(folder).glob("[0-9][0-9][0-9]-*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            out.append((int(entry["index"]), entry["result"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return [r for _, r in sorted(out, key=lambda x: x[0])]
