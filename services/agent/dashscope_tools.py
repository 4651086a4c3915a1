"""Function calling for DashScope (Qwen): the foundation's DashScope model sends tools but neither reads the calls
back nor sends the call ids; this subclass does both, in DashScope's OpenAI-like message format."""
from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.outputs import ChatGeneration, ChatResult

from services.providers.dashscope_provider import DashScopeChatModel


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


class DashScopeToolModel(DashScopeChatModel):
    """DashScopeChatModel with `bind_tools` and tool calls read from the reply."""

    def bind_tools(self, tools, **kwargs: Any):
        """Send the tools (OpenAI function format, which DashScope accepts) with every call."""
        from langchain_core.utils.function_calling import convert_to_openai_tool
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _call(self, messages: list[BaseMessage], stream: bool, stop: list[str] | None, kwargs: dict[str, Any]):
        from dashscope import Generation
        params: dict[str, Any] = {"model": self.model_name, "messages": as_dashscope_messages(messages),
                                  "api_key": self.api_key.get_secret_value(), "result_format": "message",
                                  "base_address": self.base_url, "request_timeout": int(self.timeout_s)}
        if stream:
            params.update(stream=True, incremental_output=True)
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if stop:
            params["stop"] = stop
        if kwargs.get("tools"):
            params["tools"] = kwargs["tools"]
        return Generation.call(**params)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None,
                  **kwargs: Any) -> ChatResult:
        response = self._call(messages, False, stop, kwargs)
        self._check(response)
        message = response.output.choices[0]["message"]
        usage = response.usage or {}
        calls, invalid = parse_tool_calls(message.get("tool_calls"))
        extra = {"reasoning_content": message.get("reasoning_content")} if message.get("reasoning_content") else {}
        ai = AIMessage(content=message.get("content") or "", additional_kwargs=extra, tool_calls=calls,
                       invalid_tool_calls=invalid, usage_metadata={
                           "input_tokens": usage.get("input_tokens", 0), "output_tokens": usage.get("output_tokens", 0),
                           "total_tokens": usage.get("total_tokens", 0)})
        return ChatResult(generations=[ChatGeneration(message=ai)])


def tool_model(base):
    """The same DashScope model, able to call tools."""
    return DashScopeToolModel(model_name=base.model_name, api_key=base.api_key, base_url=base.base_url,
                              timeout_s=base.timeout_s, temperature=base.temperature, max_tokens=base.max_tokens)
