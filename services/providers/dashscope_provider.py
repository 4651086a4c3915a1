"""Alibaba DashScope through its own SDK: Qwen models and the DeepSeek models it serves."""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, SecretStr

from services.errors import ProviderError
from services.faults import for_status
from services.providers import register
from services.providers.base import Capabilities, Connection, ModelInfo, Provider

DEFAULT_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"


def as_dashscope_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages in DashScope's format, keeping tool calls and tool-call ids."""
    role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
    out = []
    for m in messages:
        content = m.content if isinstance(m.content, str) else str(m.content)
        item: dict[str, Any] = {"role": role.get(m.type, "user"), "content": content}
        calls = getattr(m, "tool_calls", None)
        if m.type == "ai" and calls:
            item["tool_calls"] = [{"id": c.get("id") or f"call_{i}", "type": "function",
                                   "function": {"name": c["name"],
                                                "arguments": json.dumps(c.get("args") or {}, ensure_ascii=False)}}
                                  for i, c in enumerate(calls)]
        if m.type == "tool":
            item["tool_call_id"] = getattr(m, "tool_call_id", "")
            if getattr(m, "name", None):
                item["name"] = m.name
        out.append(item)
    return out


def parse_tool_calls(raw: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """(tool calls, invalid tool calls) from the message DashScope returned."""
    calls, invalid = [], []
    for i, c in enumerate(raw or []):
        fn = c.get("function") or {}
        name, arguments, call_id = fn.get("name") or "", fn.get("arguments") or "{}", c.get("id") or f"call_{i}"
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments)
            if not isinstance(args, dict):
                raise ValueError("arguments are not a JSON object")
            calls.append(tool_call(name=name, args=args, id=call_id))
        except (ValueError, TypeError) as exc:
            invalid.append(invalid_tool_call(name=name, args=str(arguments)[:500], id=call_id, error=str(exc)[:200]))
    return calls, invalid


class DashScopeChatModel(BaseChatModel):
    """LangChain chat model over `dashscope.Generation`; thinking text goes to additional_kwargs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_name: str
    api_key: SecretStr = Field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout_s: float = 60.0
    temperature: float | None = None
    max_tokens: int | None = None

    @property
    def _llm_type(self) -> str:
        return "dashscope"

    def _conn(self) -> Connection:
        return Connection(provider="dashscope", model=self.model_name, base_url=self.base_url)

    def _call(self, messages: list[BaseMessage], stream: bool, stop: list[str] | None, kwargs: dict[str, Any]):
        from dashscope import Generation
        params: dict[str, Any] = {"model": self.model_name, "messages": as_dashscope_messages(messages),
                                  "api_key": self.api_key.get_secret_value(), "result_format": "message",
                                  "base_address": self.base_url, "request_timeout": max(1, math.ceil(self.timeout_s))}
        if stream:
            params.update(stream=True, incremental_output=True)
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if stop:
            params["stop"] = stop
        if kwargs.get("response_format"):
            params["response_format"] = {"type": "json_object"}
        if kwargs.get("tools"):
            params["tools"] = kwargs["tools"]
        return Generation.call(**params)

    def bind_tools(self, tools, **kwargs: Any):
        """Send the tools (OpenAI function format, which DashScope accepts) with every call."""
        from langchain_core.utils.function_calling import convert_to_openai_tool
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _check(self, response) -> None:
        if response.status_code != HTTPStatus.OK:
            raise for_status(int(response.status_code or 500), self._conn(), f"{response.code}: {response.message}")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        response = self._call(messages, False, stop, kwargs)
        self._check(response)
        message = response.output.choices[0]["message"]
        usage = response.usage or {}
        extra = {"reasoning_content": message.get("reasoning_content")} if message.get("reasoning_content") else {}
        calls, invalid = parse_tool_calls(message.get("tool_calls"))
        ai = AIMessage(content=message.get("content") or "", additional_kwargs=extra, tool_calls=calls,
                       invalid_tool_calls=invalid, usage_metadata={
            "input_tokens": usage.get("input_tokens", 0), "output_tokens": usage.get("output_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0)})
        return ChatResult(generations=[ChatGeneration(message=ai)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        usage: dict[str, int] = {}
        finished = False
        for response in self._call(messages, True, stop, kwargs):
            self._check(response)
            choices = (response.output or {}).get("choices") or []
            usage = dict(response.usage or usage)
            if not choices:
                continue
            finished = finished or choices[0].get("finish_reason") not in (None, "", "null")
            message = choices[0].get("message") or {}
            thinking = message.get("reasoning_content") or ""
            content = message.get("content") or ""
            if thinking or content:
                yield ChatGenerationChunk(message=AIMessageChunk(
                    content=content, additional_kwargs={"reasoning_content": thinking} if thinking else {}))
        if usage:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata={
                "input_tokens": usage.get("input_tokens", 0), "output_tokens": usage.get("output_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0)}))
        if not finished:
            # The SDK ends quietly when the server hangs up mid-answer; without a finish reason it is cut.
            from services.faults import dropped
            raise dropped(self._conn())


class DashScopeEmbeddings(Embeddings):
    """text-embedding-v3 through `dashscope.TextEmbedding`, in batches the API accepts."""

    batch = 10

    def __init__(self, conn: Connection, model: str = "text-embedding-v3") -> None:
        self._conn, self.model = conn, model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        from dashscope import TextEmbedding
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch):
            response = TextEmbedding.call(model=self.model, input=texts[i:i + self.batch], api_key=self._conn.api_key,
                                          base_address=self._conn.base_url)
            if response.status_code != HTTPStatus.OK:
                raise for_status(int(response.status_code or 500), self._conn, f"{response.code}: {response.message}")
            rows = sorted(response.output["embeddings"], key=lambda e: e["text_index"])
            vectors.extend(row["embedding"] for row in rows)
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class DashScopeProvider(Provider):
    name = "dashscope"
    label = "通义千问 DashScope"
    key_env = "DASHSCOPE_API_KEY"
    base_url_env = "DASHSCOPE_BASE_URL"
    default_base_url = DEFAULT_BASE_URL
    capabilities = Capabilities(stream=True, json_schema=False, reasoning=True, embeddings=True, audio=True, tools=True)
    models_editable = True

    def models(self) -> list[ModelInfo]:
        # List prices in CNY per million tokens (estimates; check the console for current prices).
        return [ModelInfo("qwen-plus", 131_072, 0.8, 2.0), ModelInfo("qwen-max", 32_768, 2.4, 9.6),
                ModelInfo("qwen-turbo", 1_000_000, 0.3, 0.6), ModelInfo("qwen-long", 10_000_000, 0.5, 2.0),
                ModelInfo("deepseek-v3", 65_536, 2.0, 8.0), ModelInfo("deepseek-r1", 65_536, 4.0, 16.0, reasoning=True),
                ModelInfo("qwq-plus", 131_072, 1.6, 4.0, reasoning=True)]

    def chat_model(self, conn: Connection) -> BaseChatModel:
        if not conn.api_key:
            raise ProviderError("error.missing_key", provider=self.label, env_var=self.key_env)
        return DashScopeChatModel(model_name=conn.model, api_key=SecretStr(conn.api_key),
                                  base_url=conn.base_url or DEFAULT_BASE_URL, timeout_s=conn.timeout_s,
                                  temperature=conn.temperature, max_tokens=conn.max_tokens)

    def embeddings(self, conn: Connection) -> Embeddings:
        return DashScopeEmbeddings(conn)


register(DashScopeProvider())
