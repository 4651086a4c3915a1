"""Replay provider: canned replies from a JSONL file, in order; records every request it receives."""
from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from services.errors import AppError
from services.faults import for_status
from services.providers import register
from services.providers.base import Capabilities, Connection, ModelInfo, Provider

LOG_ENV = "ASSISTANT_REPLAY_LOG"


class ReplayScript:
    """The replies of one JSONL file and the requests made against it, shared by every model reading it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            self.replies: list[dict[str, Any]] = [_as_reply(json.loads(line)) for line in lines if line.strip()]
        except (OSError, ValueError) as exc:
            raise AppError("error.replay_file", path=str(path), detail=str(exc)[:200]) from exc
        self.requests: list[list[dict[str, Any]]] = []
        self.request_options: list[dict[str, Any]] = []
        self._next = 0
        self._lock = threading.Lock()

    def take(self, messages: list[BaseMessage], options: dict[str, Any]) -> dict[str, Any]:
        """Record a request and return the next reply; an error once all are used."""
        sent = [_as_dict(m) for m in messages]
        with self._lock:
            self.requests.append(sent)
            self.request_options.append(options)
            _log(sent, options)
            if self._next >= len(self.replies):
                raise AppError("error.replay_exhausted", path=str(self.path), count=len(self.replies))
            reply = self.replies[self._next]
            self._next += 1
        return reply

    @property
    def remaining(self) -> int:
        """How many replies are still unused."""
        return len(self.replies) - self._next


_scripts: dict[str, ReplayScript] = {}
_scripts_lock = threading.Lock()


def script_for(path: str | os.PathLike) -> ReplayScript:
    """The shared script for a replay file (loaded once per process, so replies are consumed in order)."""
    key = str(Path(path).resolve())
    with _scripts_lock:
        if key not in _scripts:
            _scripts[key] = ReplayScript(Path(key))
        return _scripts[key]


def forget(path: str | os.PathLike | None = None) -> None:
    """Drop loaded scripts (one, or all) so the file is read afresh on next use."""
    with _scripts_lock:
        if path is None:
            _scripts.clear()
        else:
            _scripts.pop(str(Path(path).resolve()), None)


def _as_reply(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"content": str(value)}


def _as_dict(message: BaseMessage) -> dict[str, Any]:
    role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}.get(message.type, message.type)
    out: dict[str, Any] = {"role": role, "content": message.content}
    if getattr(message, "tool_calls", None):
        out["tool_calls"] = message.tool_calls
    if getattr(message, "tool_call_id", None):
        out["tool_call_id"] = message.tool_call_id
    return out


def _log(sent: list[dict[str, Any]], options: dict[str, Any]) -> None:
    log_path = os.environ.get(LOG_ENV)
    if not log_path:
        return
    with open(log_path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"messages": sent, "options": options}, ensure_ascii=False, default=str) + "\n")


class ReplayChatModel(BaseChatModel):
    """A chat model that answers from a replay script; streams each reply in small pieces."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    replay_path: str
    chunk_chars: int = 8
    bound_tools: list[dict] = []

    @property
    def _llm_type(self) -> str:
        return "replay"

    def _reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> dict[str, Any]:
        options = {k: v for k, v in kwargs.items() if k in ("response_format", "tools", "tool_choice")}
        reply = script_for(self.replay_path).take(messages, options)
        if reply.get("finish_reason") == "length":
            # A structured answer that ran into its token cap, as the OpenAI SDK reports one.
            from services.errors import ProviderError
            raise ProviderError("error.answer_too_long", provider="replay", tokens=reply.get("tokens", "?"))
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {"status": int(reply["error"])}
            raise for_status(int(err.get("status", 500)), Connection(provider="replay", model="replay"),
                             str(err.get("message", "")))
        return reply

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        reply = self._reply(messages, kwargs)
        message = AIMessage(content=reply.get("content", ""),
                            additional_kwargs={"reasoning_content": reply["reasoning"]} if reply.get("reasoning") else {},
                            tool_calls=[_tool_call(c, i) for i, c in enumerate(reply.get("tool_calls") or [])],
                            usage_metadata=_usage(reply))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages, kwargs)
        reasoning, content = reply.get("reasoning", ""), reply.get("content", "")
        for i in range(0, len(reasoning), self.chunk_chars):
            yield ChatGenerationChunk(message=AIMessageChunk(
                content="", additional_kwargs={"reasoning_content": reasoning[i:i + self.chunk_chars]}))
        cut_after = reply.get("cut_after")  # simulate a stream that breaks mid-answer
        for i in range(0, len(content), self.chunk_chars):
            if cut_after is not None and i >= cut_after:
                raise ConnectionError("stream interrupted (replay cut_after)")
            yield ChatGenerationChunk(message=AIMessageChunk(content=content[i:i + self.chunk_chars]))
        calls = reply.get("tool_calls") or []
        if calls:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[
                tool_call_chunk(name=c["name"], args=json.dumps(c.get("args", {}), ensure_ascii=False),
                                id=c.get("id") or f"call_{i}", index=i) for i, c in enumerate(calls)]))
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=_usage(reply)))

    def bind_tools(self, tools, **kwargs: Any):
        """Accept tools like a real model; the script decides which are called."""
        from langchain_core.utils.function_calling import convert_to_openai_tool
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


def _tool_call(call: dict, index: int) -> dict:
    return {"name": call["name"], "args": call.get("args", {}), "id": call.get("id") or f"call_{index}",
            "type": "tool_call"}


def _usage(reply: dict[str, Any]):
    usage = reply.get("usage")
    if not usage:
        return None
    i, o = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}


class ReplayProvider(Provider):
    name = "replay"
    label = "Replay"
    capabilities = Capabilities(stream=True, json_schema=False, reasoning=True, tools=True)
    needs_key = False

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(name="replay", context_window=1_000_000)]

    def is_configured(self, stored=None) -> bool:
        return False

    def connect(self, model=None, *, api_key=None, base_url=None, stored=None, replay_path=None, **options):
        path = replay_path or os.environ.get("ASSISTANT_REPLAY_FILE")
        if not path:
            raise AppError("error.replay_file", path="-", detail="--replay FILE is required")
        return Connection(provider=self.name, model=model or "replay", replay_path=str(path), **options)

    def chat_model(self, conn: Connection) -> BaseChatModel:
        if not conn.replay_path:
            raise AppError("error.replay_file", path="-", detail="no replay file given")
        script_for(conn.replay_path)  # fail early on an unreadable file
        return ReplayChatModel(replay_path=conn.replay_path)


register(ReplayProvider())
