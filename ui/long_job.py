"""Long work drawn in a page: what it is doing, how far it got, the time so far, and a Stop button.

The work runs in a worker thread while the page's own run redraws the bar every half second. A click on Stop (or
any other widget) interrupts the page's run, and Streamlit stops the run of a session whose browser went away; either
way the worker is told to stop and ends at its next step instead of computing for nobody.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from services import i18n
from services.errors import AppError

T = TypeVar("T")

i18n.register({
    "job.stop": {"zh": "停止", "en": "Stop"},
    "job.elapsed": {"zh": "已用 {seconds} 秒", "en": "{seconds} s so far"},
    "job.stopped": {"zh": "已停止：{what}没有完成，之前的结果保持不变。", "en": "Stopped: {what} did not finish; "
                                                               "earlier results are unchanged."},
    "job.error.stopped": {"zh": "已停止。", "en": "Stopped."},
})

POLL_S = 0.5
# A browser that dropped its connection may come back (a network blip); after this long the session counts as gone.
GRACE_ENV = "ASSISTANT_SESSION_GRACE_S"


class Stopped(AppError):
    """The user pressed Stop, or the browser session ended, before the work was done."""

    def __init__(self) -> None:
        super().__init__("job.error.stopped")


class Job:
    """What the worker reports (a fraction and a step text) and the event that tells it to stop."""

    def __init__(self, text: str) -> None:
        self.stop = threading.Event()
        self.fraction = 0.0
        self.text = text

    def report(self, fraction: float | None = None, text: str | None = None) -> None:
        """Record progress; raises Stopped once the work should end (called by the worker between steps)."""
        if self.stop.is_set():
            raise Stopped()
        if fraction is not None:
            self.fraction = max(0.0, min(1.0, float(fraction)))
        if text:
            self.text = text


def _grace_s() -> float:
    try:
        return max(0.0, float(os.environ.get(GRACE_ENV, "") or 10))
    except ValueError:
        return 10.0


def session_gone() -> bool:
    """Whether this run's browser session is no longer connected (False outside a served app, e.g. AppTest)."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return False
        return not Runtime.instance().is_active_session(ctx.session_id)
    except Exception:  # noqa: BLE001 - a Streamlit without this API: rely on its own stop request
        return False


def wait_ticking(fetch: Callable[[], T], tick: Callable[[int], None]) -> T:
    """fetch() in a helper thread while this run calls tick(seconds so far) every half second; returns its result.

    For one blocking step (a search, a model's first word) whose wait the user should see counted. An interrupted
    run leaves the helper to finish on its own; the caller stops the work behind it.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fetch()
        except BaseException as exc:  # noqa: BLE001 - raised again in the page's run
            outcome["error"] = exc

    helper = threading.Thread(target=target, name="wait-ticking", daemon=True)
    started = time.monotonic()
    helper.start()
    helper.join(POLL_S)
    while helper.is_alive():
        tick(int(time.monotonic() - started))
        helper.join(POLL_S)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def stopped_notice(key: str, lang: str) -> None:
    """After a Stop click: say so once, in the user's language."""
    what = st.session_state.pop(f"{key}.stopped", None)
    if what:
        st.info(i18n.t("job.stopped", lang, what=what), icon=":material/stop_circle:")


def run(work: Callable[[Job], T], *, key: str, lang: str, label: str, what: str | None = None) -> T:
    """Run work(job) with a live bar (step, fraction, elapsed seconds) and a Stop button; returns its result.

    Raises the work's own error, or Stopped when the session ended. A Stop click ends this page run (Streamlit
    reruns the page), so the code after run() does not execute then; stopped_notice() tells the user on the rerun.
    """
    job = Job(label)
    outcome: dict[str, object] = {}

    def target() -> None:
        from services.llm import cancellable
        try:
            # A Stop click or a closed tab also ends a model request already under way, not only the next step.
            with cancellable(job.stop):
                outcome["value"] = work(job)
        except BaseException as exc:  # noqa: BLE001 - handed to the page's run, which shows it
            outcome["error"] = exc

    def pressed_stop() -> None:
        job.stop.set()
        st.session_state[f"{key}.stopped"] = what or label

    slot = st.empty()
    with slot.container():
        bar = st.progress(0.0, text=label)
        st.button(i18n.t("job.stop", lang), key=f"{key}.stop", icon=":material/stop_circle:", on_click=pressed_stop)
    started = time.monotonic()
    gone_since: float | None = None
    worker = threading.Thread(target=target, name=f"job-{key}", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_S)
            elapsed = int(time.monotonic() - started)
            # Each redraw is also where Streamlit interrupts this run (a click, or the session's end).
            bar.progress(job.fraction, text=f"{job.text} · {i18n.t('job.elapsed', lang, seconds=elapsed)}")
            if session_gone():
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since >= _grace_s():
                    job.stop.set()
                    raise Stopped()
            else:
                gone_since = None
    finally:
        if worker.is_alive():
            job.stop.set()  # this run was interrupted: the work must not go on for nobody
    slot.empty()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
