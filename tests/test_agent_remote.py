"""Function calling over the real wire protocols (OpenAI-compatible and DashScope) against loopback stubs."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from services.agent import AgentContext, answer_of, builtin_tools, run_agent
from services.providers import get_provider
from tests.stubs import DashScopeHandler, OpenAIHandler, Reply, StubServer

CALL = {"name": "calculator", "args": {"expression": "(2000+1000-500)*1.2, (3000+1000-500)*1.2"}}


def _wire_calls(calls):
    return [{"id": f"call_{i}", "type": "function",
             "function": {"name": c["name"], "arguments": c.get("raw") or json.dumps(c["args"], ensure_ascii=False)}}
            for i, c in enumerate(calls)]


class OpenAIToolHandler(OpenAIHandler):
    """The OpenAI stub, answering with tool calls when the scripted reply has them."""

    def do_POST(self):  # noqa: N802
        if not self.path.endswith("/chat/completions"):
            return super().do_POST()
        body = self._body()
        self._record(body)
        reply = self.stub.next_reply()
        if reply.status != 200:
            return self._json(reply.status, {"error": {"message": reply.error_code, "type": "invalid_request_error"}})
        if body.get("stream"):  # plain chat (the fallback) streams
            self._start_sse()
            for delta, finish in (({"role": "assistant", "content": reply.text}, None), ({}, "stop")):
                chunk = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            return None
        message = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = _wire_calls(reply.tool_calls)
        return self._json(200, {"id": "cmpl-1", "object": "chat.completion", "created": int(time.time()),
                                "model": body.get("model"), "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                                                      "total_tokens": 2},
                                "choices": [{"index": 0, "message": message,
                                             "finish_reason": "tool_calls" if reply.tool_calls else "stop"}]})


class DashScopeToolHandler(DashScopeHandler):
    """The DashScope stub, answering with tool calls when the scripted reply has them."""

    def do_POST(self):  # noqa: N802
        body = self._body()
        self._record(body)
        reply = self.stub.next_reply()
        message = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = _wire_calls(reply.tool_calls)
        return self._json(200, {"output": {"choices": [{"finish_reason": "tool_calls" if reply.tool_calls else "stop",
                                                        "message": message}]},
                                "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
                                "request_id": uuid.uuid4().hex})


@pytest.mark.parametrize("provider,handler,base", [
    ("openai-compatible", OpenAIToolHandler, "/v1"),
    ("dashscope", DashScopeToolHandler, "/api/v1"),
])
def test_tool_calls_round_trip_over_the_wire(provider, handler, base):
    with StubServer(handler) as stub:
        stub.replies = [Reply(text="", tool_calls=[CALL]), Reply(text="分别是 3000 和 4200。")]
        conn = get_provider(provider).connect("qwen-plus" if provider == "dashscope" else "stub-model",
                                              api_key=stub.api_key, base_url=f"http://127.0.0.1:{stub.port}{base}")
        events = list(run_agent(conn, "把 2000、3000 分别加 1000、减 500、再乘 1.2", builtin_tools(AgentContext()),
                                today="2026-11-22"))
    obs = [e for e in events if e.kind == "observation"]
    assert len(obs) == 1 and obs[0].data["results"] == ["3000", "4200"]
    assert answer_of(events).text == "分别是 3000 和 4200。"
    first, second = stub.requests[0]["body"], stub.requests[1]["body"]
    tools = first.get("tools") or first.get("parameters", {}).get("tools")
    assert {t["function"]["name"] for t in tools} == {"calculator", "date_info"}
    msgs = second.get("messages") or second["input"]["messages"]
    assistant = [m for m in msgs if m["role"] == "assistant"][-1]
    assert assistant["tool_calls"][0]["id"] == "call_0"
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == CALL["args"]
    tool = [m for m in msgs if m["role"] == "tool"][-1]
    assert tool["tool_call_id"] == "call_0" and json.loads(tool["content"])["results"] == ["3000", "4200"]


@pytest.mark.parametrize("provider,handler,base", [
    ("openai-compatible", OpenAIToolHandler, "/v1"),
    ("dashscope", DashScopeToolHandler, "/api/v1"),
])
def test_arguments_that_are_not_json_are_an_error_the_model_can_fix(provider, handler, base):
    with StubServer(handler) as stub:
        stub.replies = [Reply(text="", tool_calls=[{"name": "calculator", "args": {}, "raw": '{"expression": "1+'}]),
                        Reply(text="", tool_calls=[{"name": "calculator", "args": {"expression": "1+1"}}]),
                        Reply(text="2")]
        conn = get_provider(provider).connect("qwen-plus" if provider == "dashscope" else "stub-model",
                                              api_key=stub.api_key, base_url=f"http://127.0.0.1:{stub.port}{base}")
        events = list(run_agent(conn, "1+1", builtin_tools(AgentContext()), today="2026-11-22", lang="en"))
    errors = [e for e in events if e.kind == "observation" and e.error]
    assert len(errors) == 1 and "Invalid arguments for tool 'calculator'" in errors[0].text
    msgs = stub.requests[1]["body"].get("messages") or stub.requests[1]["body"]["input"]["messages"]
    tool = [m for m in msgs if m["role"] == "tool"][-1]
    assert tool["tool_call_id"] == "call_0" and tool["content"].startswith("Error: Invalid arguments")
    assert answer_of(events).text == "2"


def test_a_server_model_that_rejects_tools_falls_back_to_plain_chat():
    with StubServer(OpenAIToolHandler) as stub:
        stub.replies = [Reply(status=400, error_code="registry.ollama.ai/library/gemma:2b does not support tools"),
                        Reply(text="大约 5。")]
        conn = get_provider("openai-compatible").connect("gemma:2b", api_key=stub.api_key,
                                                         base_url=f"http://127.0.0.1:{stub.port}/v1")
        events = list(run_agent(conn, "2+3?", builtin_tools(AgentContext()), lang="en"))
    assert events[0].kind == "notice" and "cannot call tools" in events[0].text
    assert answer_of(events).status == "no_tools" and answer_of(events).text == "大约 5。"
    assert "tools" in stub.requests[0]["body"] and "tools" not in stub.requests[1]["body"]
