"""Starting and stopping the real servers the tests use (llama.cpp, Chroma, Streamlit) on loopback ports."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, log_tail: Callable[[], str], timeout_s: float = 60.0) -> None:
    """Wait until url answers 200; fail with the server's last log lines if it exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_tail()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer {url} within {timeout_s:.0f} s: {log_tail()[-2000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """Terminate a server, killing it if it does not stop in time."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
