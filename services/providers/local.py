"""Built-in offline models (Qwen2.5-Coder, llama.cpp) served by a local process over the OpenAI protocol."""
from __future__ import annotations

import os
from typing import Any

from services.errors import AppError
from services.local_model import files
from services.local_model.supervisor import supervisor
from services.providers import register
from services.providers.base import Capabilities, Connection, ModelInfo, Provider
from services.providers.openai_compatible import ReasoningChatOpenAI

DEFAULT_MAX_TOKENS = 512
CHAT_MODEL = "qwen2.5-coder-1.5b-instruct"      # better answers: chat, extraction, SQL, summaries
FAST_MODEL = "qwen2.5-coder-0.5b-instruct"      # twice as fast: labels under a grammar (docs/local_models.md)
LOCAL_TIMEOUT_S = 900.0  # sessions queue for one CPU model, so a turn may wait behind others' answers


def default_max_tokens() -> int:
    """Answer length cap when the caller sets none: ASSISTANT_LOCAL_MAX_TOKENS, else 512."""
    try:
        value = int(os.environ.get("ASSISTANT_LOCAL_MAX_TOKENS", "") or DEFAULT_MAX_TOKENS)
    except ValueError:
        return DEFAULT_MAX_TOKENS
    return value if value > 0 else DEFAULT_MAX_TOKENS


class LocalChatOpenAI(ReasoningChatOpenAI):
    """The OpenAI client pointed at the built-in server, which is started (or started again) before each call."""

    def _ready(self) -> None:
        supervisor().ensure_ready()

    def _stream(self, *args: Any, **kwargs: Any):
        self._ready()
        yield from super()._stream(*args, **kwargs)

    def _generate(self, *args: Any, **kwargs: Any):
        self._ready()
        return super()._generate(*args, **kwargs)


class LocalProvider(Provider):
    name = "local"
    label = "内置离线模型 / Built-in offline"
    capabilities = Capabilities(stream=True, json_schema=True, reasoning=False, tools=True, audio=True)
    needs_key = False

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(name, spec.n_ctx) for name, spec in files.MODEL_FILES.items()]  # free: no cost line

    def is_configured(self, stored=None) -> bool:
        return True

    def connect(self, model=None, *, api_key=None, base_url=None, stored=None, **options) -> Connection:
        options["timeout_s"] = max(float(options.get("timeout_s") or 0), LOCAL_TIMEOUT_S)
        return Connection(provider=self.name, model=model or CHAT_MODEL, **options)

    def chat_model(self, conn: Connection) -> LocalChatOpenAI:
        if conn.model not in files.MODEL_FILES:
            raise AppError("error.unknown_model", provider=self.label, model=conn.model)
        sup = supervisor()
        return LocalChatOpenAI(
            provider_name=self.name, model=conn.model, api_key=sup.token, base_url=sup.base_url,
            # The SDK's own retries cover a request that never reached the server (a pooled connection the server
            # had just closed); nothing was generated then, so nothing is repeated.
            timeout=conn.timeout_s, max_retries=2, stream_usage=True,
            temperature=0.2 if conn.temperature is None else conn.temperature,
            max_tokens=conn.max_tokens or default_max_tokens())

    def state(self) -> dict[str, Any]:
        """The server's state for the providers list, the settings page and the sidebar."""
        status = supervisor().refresh()
        stats = (status.health or {}).get("stats") or {}
        return {"state": status.state, "reason": status.reason, "restarts": status.restarts, "pid": status.pid,
                "loaded": (status.health or {}).get("loaded", []),
                "tokens_per_s": {m: s.get("tokens_per_s") for m, s in stats.items()}}


register(LocalProvider())
