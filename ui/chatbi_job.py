"""A ChatBI question worked on in a background thread, so the page can show its step and elapsed time and stop it."""
from __future__ import annotations

import threading
import time

# No page has looked at the job for this long: its browser session is gone, so the work stops at its next step.
ABANDONED_S = 30.0


class StopRequest:
    """Set by the stop button, or by itself once no page has followed the job for ABANDONED_S seconds."""

    def __init__(self, job: "QuestionJob") -> None:
        self._job = job
        self._event = threading.Event()

    def set(self) -> None:
        """Ask the work to stop."""
        self._event.set()

    def is_set(self) -> bool:
        """Whether the work should stop now."""
        return self._event.is_set() or time.monotonic() - self._job.seen > ABANDONED_S


class QuestionJob:
    """One question being answered: what is being done, how far, since when, and a stop request."""

    def __init__(self, work) -> None:
        self.step = ("start", 0, 0)
        self.started = self.seen = time.monotonic()
        self.stop = StopRequest(self)
        self.answer = None
        self.error = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work) -> None:
        from services.errors import AppError
        from services.llm import cancellable
        try:
            with cancellable(self.stop):  # a stop also closes a model request under way
                self.answer = work(self)
        except AppError as exc:
            self.error = exc

    def progress(self, step: str, n: int, total: int) -> None:
        """Called by the work at each step."""
        self.step = (step, n, total)

    def touch(self) -> None:
        """A page is still showing the job."""
        self.seen = time.monotonic()

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
