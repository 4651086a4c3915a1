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


def batch_dir_for(folder: str | Path) -> Path:
    """The batch folder of a report folder: the same folder each run, so a run cut short resumes where it stopped."""
    import hashlib
    key = hashlib.sha256(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:16]
    return storage.data_dir("financials", "batches", f"dir-{key}")


def report_files(paths: list[str | Path]) -> list[Path]:
    """The PDFs named, folders expanded to the PDFs inside them (sorted, subfolders included)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pdf" and q.is_file())
        else:
            out.append(p)
    return out


def _analyze_to_dict(path: str, lang: str) -> tuple[dict, bool, list[str]]:
    """One report in a worker process: (result dict, readable?, warnings) — plain data, cheap to send back."""
    from services.financials.service import analyze
    r = analyze(path, lang=lang)
    return r.to_dict(lang), r.extraction is not None, r.warnings(lang)


def _saved_entries(folder: Path) -> tuple[dict[int, dict], dict[str, dict]]:
    """Results kept by an earlier run of this batch, by position and by file name."""
    by_index: dict[int, dict] = {}
    by_name: dict[str, dict] = {}
    if not folder.is_dir():
        return by_index, by_name
    for path in folder.glob("[0-9][0-9][0-9]-*.json"):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            by_index[int(entry["index"])] = entry["result"]
            by_name[entry["result"]["file"]] = entry["result"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # cut short by a kill: that report is simply done again
    return by_index, by_name


def format_duration(seconds: float) -> str:
    """1h02m / 3m05s / 12s."""
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def run_batch(files: list[Path], folder: Path, *, workers: int = 1, lang: str = "zh", conn=None,
              on_done=None) -> list[tuple[dict, bool]]:
    """Every report once, in parallel processes (no model) or in turn (with a model); each result is saved the
    moment it is done and reports saved by an earlier run are reused. on_done(done, total, result, warnings,
    seconds_left) is called after each report."""
    import concurrent.futures as cf
    by_index, by_name = _saved_entries(folder)
    names = [f.name for f in files]
    results: dict[int, tuple[dict, bool]] = {}
    todo = []
    for i, f in enumerate(files):
        d = by_index.get(i)
        if d is None or d.get("file") != f.name:
            # Files added or removed since: a name still identifies a report when it occurs once in the batch.
            d = by_name.get(f.name) if names.count(f.name) == 1 else None
        if d is not None and d.get("fields"):
            results[i] = (d, True)
        else:
            todo.append(i)
    start = time.perf_counter()
    finished = 0

    def record(i: int, d: dict, ok: bool, warnings: list[str]) -> None:
        nonlocal finished
        save_result(folder, i, d)
        results[i] = (d, ok)
        finished += 1
        left = (time.perf_counter() - start) / finished * (len(todo) - finished)
        if on_done:
            on_done(len(results), len(files), d, warnings, left)

    if on_done:
        for i in sorted(results):
            on_done(-1, len(files), results[i][0], [], None)  # reused from an earlier run
    if conn is not None or workers <= 1 or len(todo) <= 1:
        from services.financials.service import analyze
        for i in todo:
            r = analyze(files[i], conn=conn, use_model=conn is not None, lang=lang)
            record(i, r.to_dict(lang), r.extraction is not None, r.warnings(lang))
    else:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_analyze_to_dict, str(files[i]), lang): i for i in todo}
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    d, ok, warnings = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker that died on one file: that file's error
                    d, ok, warnings = {"file": files[i].name, "error": str(exc)[:200], "fields": {}}, False, []
                record(i, d, ok, warnings)
    return [results[i] for i in range(len(files))]
