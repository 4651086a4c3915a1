"""Indexing in the background: a job per upload runs in a thread of the server process, so it goes on when the
page is reloaded or left, and any session can read how far it is (pages done, time left)."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.errors import AppError


def page_count(path: str | Path, name: str) -> int:
    """Pages a file will be indexed as (a PDF's page count; 1 for other formats or an unreadable file)."""
    if Path(name).suffix.lower() != ".pdf":
        return 1
    try:
        import pymupdf
        with pymupdf.open(path) as doc:
            return max(1, doc.page_count)
    except Exception:  # noqa: BLE001 - a broken file is reported by the indexer itself
        return 1


@dataclass
class IndexJob:
    """One upload being indexed: its files, progress and, when finished, the outcome of each file."""

    id: str
    kb_name: str
    files: list[tuple[Path, str]]
    pages: list[int]
    owner: str = ""
    started: float = field(default_factory=time.time)
    fraction: float = 0.0
    current: str = ""
    finished: float | None = None
    outcomes: list = field(default_factory=list)
    error: AppError | None = None
    cleanup: bool = True
    stop_event: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Ask the job to stop: finished files stay, the rest are reported as stopped."""
        self.stop_event.set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set() and not self.done

    @property
    def total_pages(self) -> int:
        return sum(self.pages)

    @property
    def pages_done(self) -> int:
        """Pages read, chunked and embedded so far (estimated within the file being indexed)."""
        return min(self.total_pages, round(self.fraction * self.total_pages))

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started

    def seconds_left(self) -> float | None:
        """Time left at the rate so far (None until there is a rate to go by)."""
        if self.done:
            return 0.0
        if self.fraction < 0.02 or self.elapsed < 1.0:
            return None
        return self.elapsed * (1 - self.fraction) / self.fraction

    def _progress(self, fraction: float, name: str) -> None:
        # add_files reports per file in equal shares; weight them by pages so the count and time left are fair.
        n = len(self.files)
        i = min(n - 1, int(fraction * n)) if n else 0
        within = fraction * n - i
        done_pages = sum(self.pages[:i]) + within * (self.pages[i] if n else 0)
        self.fraction = min(1.0, done_pages / max(1, self.total_pages))
        if name:
            self.current = name


_jobs: dict[str, IndexJob] = {}
_lock = threading.Lock()


def start(kb_name: str, files: Sequence[tuple[str | Path, str]], *, store, embedder, owner: str = "",
          cleanup: bool = True) -> IndexJob:
    """Index (path, display name) files into a base in a background thread; the files are deleted afterwards
    when cleanup is set (uploads saved only for this job)."""
    from services.kb.indexing import add_files
    paths = [(Path(p), n or Path(p).name) for p, n in files]
    job = IndexJob(id=uuid.uuid4().hex, kb_name=kb_name, files=paths, pages=[page_count(p, n) for p, n in paths],
                   owner=owner, cleanup=cleanup)

    def run() -> None:
        try:
            job.outcomes = add_files(kb_name, paths, store=store, embedder=embedder, progress=job._progress,
                                     stop=job.stop_event)
        except AppError as exc:
            job.error = exc
        except Exception as exc:  # noqa: BLE001 - a job must always finish, with a message, never hang
            job.error = AppError("kb.error.index_failed", file=job.current or kb_name,
                                 detail=f"{type(exc).__name__}: {exc}"[:200])
        finally:
            if job.cleanup:
                for path, _ in paths:
                    path.unlink(missing_ok=True)
            job.fraction = 1.0
            job.finished = time.time()

    with _lock:
        _jobs[job.id] = job
    threading.Thread(target=run, name=f"kb-index-{job.id[:8]}", daemon=True).start()
    return job


def jobs_for(kb_name: str) -> list[IndexJob]:
    """The jobs of a base, oldest first (running and finished ones, until dismissed)."""
    with _lock:
        return sorted((j for j in _jobs.values() if j.kb_name == kb_name), key=lambda j: j.started)


def dismiss(job_id: str) -> None:
    """Forget a finished job (its outcomes were shown)."""
    with _lock:
        job = _jobs.get(job_id)
        if job is not None and job.done:
            del _jobs[job_id]
