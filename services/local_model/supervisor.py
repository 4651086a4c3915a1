"""Starts the built-in model server when first needed, watches it, and starts it again when it dies.

The app process never loads llama.cpp: a crash or an out-of-memory kill takes down only the server, and the next
question finds a new one on the same port.
"""
from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from services.errors import AppError
from services.local_model import files

STARTUP_TIMEOUT_S = float(os.environ.get("ASSISTANT_LOCAL_STARTUP_S", "300"))


def default_threads() -> int:
    """Decode threads: ASSISTANT_LOCAL_THREADS, else 1 (measured fastest on a busy 2-core machine, docs/local_models.md)."""
    try:
        value = int(os.environ.get("ASSISTANT_LOCAL_THREADS", "") or 0)
    except ValueError:
        value = 0
    return value if value > 0 else 1


@dataclass
class ServerState:
    """What the app knows of the model server: ready, starting, failed (with why) or not started."""

    state: str = "stopped"          # stopped | starting | ready | failed
    reason: str = ""
    port: int | None = None
    pid: int | None = None
    restarts: int = 0
    started_at: float | None = None
    health: dict = field(default_factory=dict)


class Supervisor:
    """One model server per app process, shared by every session."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models or list(files.MODEL_FILES)
        self.token = secrets.token_urlsafe(16)
        self.status = ServerState()
        self._proc: subprocess.Popen | None = None
        self._log = None
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._closing = False
        self._launching = False
        self._last_exit: int | None = None

    @property
    def base_url(self) -> str:
        """The server's OpenAI-compatible base URL (the port stays the same across restarts)."""
        # Under the lock: two sessions asking at once must not pick two ports, one of which nobody listens on.
        with self._lock:
            if self.status.port is None:
                self.status.port = _free_port()
            return f"http://127.0.0.1:{self.status.port}/v1"

    def ensure_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> str:
        """Start the server if it is not running, wait for its health check; returns the base URL."""
        self.start_in_background()
        if not self._ready.wait(timeout_s):
            raise AppError("error.local_model", detail=self.status.reason or "the model server did not start in time")
        if self.status.state != "ready":
            raise AppError("error.local_model", detail=self.status.reason or "the model server is not running")
        return self.base_url

    def start_in_background(self) -> None:
        """Start the server unless it runs or is starting; returns at once (joining and loading take a while)."""
        with self._lock:
            if self._launching or (self._proc is not None and self._proc.poll() is None):
                return
            self._launching = True
            self._ready.clear()
            self.status.state, self.status.reason = "starting", ""
        threading.Thread(target=self._launch, name="local-model-start", daemon=True).start()

    def _launch(self) -> None:
        try:
            # Joined once and checked by SHA-256 (again whenever the file changed): a damaged file is never loaded.
            paths = {name: str(files.model_path(name)) for name in self.models}
        except AppError as exc:
            with self._lock:
                self._launching = False
            self._fail(exc.message("en"))
            return
        base = self.base_url  # fixes the port
        # ASSISTANT_LOCAL_PYTHON: another interpreter (another llama.cpp build) may serve the models.
        python = os.environ.get("ASSISTANT_LOCAL_PYTHON") or sys.executable
        args = [python, "-m", "services.local_model.server", "--port", str(self.status.port),
                "--threads", str(default_threads()), "--preload", self.models[0], "--parent-pid", str(os.getpid())]
        for name, path in paths.items():
            args += ["--model", f"{name}={path}"]
        if os.environ.get("ASSISTANT_LOCAL_EXTRA_BUFTS", "1") == "0":
            args.append("--no-extra-bufts")
        env = dict(os.environ, ASSISTANT_LOCAL_TOKEN=self.token)
        root = Path(__file__).resolve().parents[2]
        with self._lock:
            was_running = self.status.started_at is not None
            # A file, not a pipe: llama.cpp can log enough to fill a pipe and stall the server. Kept in the data
            # folder so that an administrator can read why a server died.
            from services.storage import data_dir
            self._log = open(data_dir("logs") / f"local-model-server-{os.getpid()}.log", "w+b")
            proc = self._proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=root, env=env)
            self.status.pid, self.status.started_at = proc.pid, time.time()
            if was_running:
                self.status.restarts += 1
            self._launching = False
        self._watch(proc, base)

    def _watch(self, proc: subprocess.Popen, base: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            health = _get_json(base.removesuffix("/v1") + "/health", self.token)
            if health is not None:
                self.status.health = health
                self.status.state = "ready"
                self._ready.set()
                break
            time.sleep(0.25)
        else:
            if proc.poll() is None:
                proc.kill()
            self._fail(self._exit_reason(proc))
            return
        # Polled, not wait(): a thread blocked in wait() makes poll() from other threads answer None.
        while (code := proc.poll()) is None:
            time.sleep(0.2)
        if self._closing or proc is not self._proc:
            return
        # Died under us (crash, kill -9, out of memory): say why, then start a new one on the same port.
        self._last_exit = code
        reason = self._exit_reason(proc)
        with self._lock:
            if self._closing or proc is not self._proc:
                return
        self.start_in_background()
        self.status.reason = reason

    def _exit_reason(self, proc: subprocess.Popen) -> str:
        code = proc.poll()
        tail = ""
        if self._log is not None:
            try:
                self._log.seek(0)
                tail = self._log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
                tail = " | ".join(tail)[-300:]
            except (OSError, ValueError):
                tail = ""
        why = _describe_exit(code) if code is not None else "no answer to the health check in time"
        return f"{why}{': ' + tail if tail else ''}"

    def _fail(self, reason: str) -> None:
        self.status.state, self.status.reason = "failed", reason
        self._ready.set()

    def exit_code(self) -> int | None:
        """How the last server ended, when it is not running (negative: killed by that signal)."""
        with self._lock:
            proc = self._proc
        if proc is None:
            return self._last_exit
        # Called when the connection broke: give a process that is dying a moment to be seen as dead.
        for _ in range(10):
            code = proc.poll()
            if code is not None:
                return code
            if self.status.state != "ready":
                return self._last_exit
            time.sleep(0.1)
        return None

    def refresh(self) -> ServerState:
        """The state, with fresh figures from the server's health check when it runs."""
        if self.status.state == "ready" and self.status.port:
            health = _get_json(f"http://127.0.0.1:{self.status.port}/health", self.token, timeout=1.0)
            if health is not None:
                self.status.health = health
        return self.status

    def stop(self) -> None:
        """Stop the server (at exit, or in tests)."""
        self._closing = True
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.status.state = "stopped"
        self._ready.clear()
        self._closing = False


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"the model server was stopped by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"the model server was stopped by signal {-code}"
    return f"the model server exited with code {code}"


def _get_json(url: str, token: str, timeout: float = 2.0) -> dict | None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_supervisor: Supervisor | None = None
_supervisor_lock = threading.Lock()


def supervisor() -> Supervisor:
    """The process-wide supervisor."""
    global _supervisor
    with _supervisor_lock:
        if _supervisor is None:
            _supervisor = Supervisor()
            atexit.register(_supervisor.stop)
        return _supervisor
