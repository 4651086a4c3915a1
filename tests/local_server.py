"""The real built-in model served over the OpenAI HTTP protocol on 127.0.0.1 (llama-cpp-python's server)."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port, stop, wait_for_http


@contextmanager
def llama_server(model_path: Path, n_ctx: int = 2048, startup_s: float = 120.0):
    """Start `python -m llama_cpp.server` on a free loopback port; yields its /v1 base URL."""
    port = free_port()
    # A file, not a pipe: llama.cpp logs enough at start-up to fill a pipe and stall the server.
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", "2"],
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/v1"

    def log_tail() -> str:
        log.seek(0)
        return log.read()

    try:
        wait_for_http(f"{base}/models", proc, log_tail, startup_s)
        yield base
    finally:
        stop(proc)
        log.close()
