"""Shared test set-up: no network beyond loopback, isolated data folders, replay connections, real data."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
sys.path.insert(0, str(ROOT))

# Before any app module is imported: app data and secrets go to a throwaway folder, retries wait little.
_tmp_root = Path(tempfile.mkdtemp(prefix="assistant-tests-"))
atexit.register(shutil.rmtree, _tmp_root, True)
os.environ["ASSISTANT_DATA_DIR"] = str(_tmp_root / "data")
os.environ["ASSISTANT_SECRETS_FILE"] = str(_tmp_root / "secrets.toml")
os.environ.setdefault("ASSISTANT_RETRY_WAIT", "0.01")
os.environ["ANONYMIZED_TELEMETRY"] = "False"
# Page tests need not load the built-in model just because the sidebar shows it; tests that use it start it.
os.environ.setdefault("ASSISTANT_LOCAL_PREWARM", "0")
# A developer's real keys must never reach a test.
for var in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_API_KEY", "SILICONFLOW_API_KEY",
            "OLLAMA_BASE_URL", "VLLM_BASE_URL", "OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_API_KEY",
            "CHROMA_HOST"):
    os.environ.pop(var, None)

from tests import netguard  # noqa: E402

netguard.install()


@pytest.fixture(autouse=True)
def _no_network_beyond_loopback():
    """Fail any test that tried to reach another host, even if it swallowed the error."""
    before = len(netguard.attempts)
    yield
    tried = netguard.attempts[before:]
    if tried:
        pytest.fail(f"test tried to reach non-loopback hosts: {sorted(set(tried))}")


@pytest.fixture
def replay_conn(tmp_path):
    """Factory: a replay Connection whose replies are the given strings or dicts, in order."""
    from services.providers import get_provider
    from services.providers.replay import forget
    made = []

    def make(replies, name: str = "replay.jsonl"):
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as f:
            for reply in replies:
                f.write(json.dumps(reply if isinstance(reply, dict) else {"content": reply}, ensure_ascii=False) + "\n")
        forget(path)
        made.append(path)
        return get_provider("replay").connect(replay_path=str(path))

    yield make
    for path in made:
        forget(path)


@pytest.fixture
def shared_data() -> Path:
    """The real documents beside the project; the test skips, saying why, when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not present at {SHARED_DATA} (../shared/data beside the project)")
    return SHARED_DATA
