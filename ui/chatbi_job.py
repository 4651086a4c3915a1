"""A ChatBI question worked on in a background thread, so the page can show its step and elapsed time and stop it."""
from __future__ import annotations

import threading
import time


class QuestionJob:
    """One question being answered: what is being done, how far, since when, and a stop request."""

    def __init__(self, work) -> None:
        self.step = ("start", 0, 0)
        self.started = time.monotonic()
        self.stop = threading.Event()
        self.answer = None
        self.error = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work) -> None:
        from services.errors import AppError
        try:
            self.answer = work(self)
        except AppError as exc:
            self.error = exc

    def progress(self, step: str, n: int, total: int) -> None:
        """Called by the work at each step."""
        self.step = (step, n, total)

    @property
    def running(self) -> bool:
        """Whether the work has not finished yet."""
        return self._thread.is_alive()

    @property
    def elapsed(self) -> float:
        """Seconds since the question was asked."""
        return time.monotonic() - self.started

    def wait(self, seconds: float) -> None:
        """Wait up to seconds for the work to finish."""
        self._thread.join(seconds)
