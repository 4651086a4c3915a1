"""Loopback HTTP servers that speak the DashScope and OpenAI wire protocols, scripted by the tests."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the stub does for one request: answer text (streamed in pieces), or an HTTP error, or a cut stream."""

    text: str = "你好，我是测试模型。"
    reasoning: str = ""
    status: int = 200
    error_code: str = ""
    cut_after: int | None = None   # stop the stream (close the socket) after this many pieces
    delay_s: float = 0.0
    stall_s: float = 0.0           # with cut_after: keep the socket open this long, silent, before hanging up
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: str = ""        # what the reply ends with; "" means "stop" (or "tool_calls" with tool calls)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # Clients that hang up early (timeouts, cut streams) are part of the tests.
        pass


class StubServer:
    """A threaded HTTP server on 127.0.0.1 with a queue of scripted replies; records every request."""

    def __init__(self, handler_cls) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.default = Reply()
        self.api_key = "sk-test-0000"
        server = self

        class Handler(handler_cls):
            stub = server

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if self.replies else self.default

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Base(BaseHTTPRequestHandler):
    stub: StubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype and raw:
            return json.loads(raw)
        return {"_raw": raw, "_content_type": ctype}

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _cut_json(self, payload: dict, keep_bytes: int) -> None:
        """Announce the whole JSON body, send only its first bytes, then hang up (a reply cut mid-way)."""
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:keep_bytes])
        self.wfile.flush()
        self.close_connection = True

    def _authorized(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.stub.api_key}"

    def _record(self, body: dict) -> None:
        self.stub.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


class DashScopeHandler(_Base):
    """/api/v1/services/aigc/text-generation/generation (JSON or SSE) and text-embedding."""

    def do_POST(self):  # noqa: N802
        body = self._body()
        self._record(body)
        if not self._authorized():
            return self._json(401, {"code": "InvalidApiKey", "message": "Invalid API-key provided.",
                                    "request_id": uuid.uuid4().hex})
        if "text-embedding" in self.path:
            texts = body.get("input", {}).get("texts", [])
            return self._json(200, {"output": {"embeddings": [
                {"text_index": i, "embedding": _fake_vector(t)} for i, t in enumerate(texts)]},
                "usage": {"total_tokens": sum(len(t) for t in texts)}, "request_id": uuid.uuid4().hex})
        reply = self.stub.next_reply()
        time.sleep(reply.delay_s)
        if reply.status != 200:
            code = reply.error_code or {404: "ModelNotFound", 429: "Throttling.RateQuota"}.get(reply.status, "InternalError")
            return self._json(reply.status, {"code": code, "message": f"stub error {reply.status}",
                                             "request_id": uuid.uuid4().hex})
        model = body.get("model", "")
        usage = {"input_tokens": 12, "output_tokens": max(1, len(reply.text)), "total_tokens": 12 + len(reply.text)}
        if self.headers.get("X-DashScope-SSE", "").lower() != "enable":
            return self._json(200, {"output": {"choices": [{"finish_reason": "stop", "message": {
                "role": "assistant", "content": reply.text, "reasoning_content": reply.reasoning}}]},
                "usage": usage, "request_id": uuid.uuid4().hex})
        self._start_sse()
        events = [("reasoning_content", p) for p in _pieces(reply.reasoning)] + [("content", p) for p in _pieces(reply.text)]
        for n, (kind, piece) in enumerate(events, start=1):
            if reply.cut_after is not None and n > reply.cut_after:
                return  # the connection closes mid-answer
            message = {"role": "assistant", "content": piece if kind == "content" else "",
                       "reasoning_content": piece if kind == "reasoning_content" else ""}
            data = {"output": {"choices": [{"finish_reason": "null", "message": message}]},
                    "usage": {**usage, "output_tokens": n}, "request_id": "r"}
            self.wfile.write(f"id:{n}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(data, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        final = {"output": {"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": ""}}]},
                 "usage": usage, "request_id": "r"}
        self.wfile.write(f"id:{len(events) + 1}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(final)}\n\n".encode())
        self.wfile.flush()
        _ = model


class OpenAIHandler(_Base):
    """/v1/chat/completions (JSON or SSE), /v1/embeddings, /v1/models."""

    def do_GET(self):  # noqa: N802
        self._record({})
        self._json(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

    def do_POST(self):  # noqa: N802
        body = self._body()
        self._record(body)
        if not self._authorized():
            return self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                              "code": "invalid_api_key"}})
        if self.path.endswith("/embeddings"):
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) else texts
            return self._json(200, {"object": "list", "model": body.get("model"), "data": [
                {"object": "embedding", "index": i, "embedding": _fake_vector(str(t))} for i, t in enumerate(texts)],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        reply = self.stub.next_reply()
        time.sleep(reply.delay_s)
        if reply.status != 200:
            return self._json(reply.status, {"error": {"message": f"stub error {reply.status}", "type": "error",
                                                       "code": reply.error_code or None}})
        model = body.get("model", "stub-model")
        usage = {"prompt_tokens": 12, "completion_tokens": max(1, len(reply.text)), "total_tokens": 12 + len(reply.text)}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.reasoning:
                message["reasoning_content"] = reply.reasoning
            if reply.tool_calls:
                # arguments may be given as a raw string to send malformed JSON
                message["tool_calls"] = [{"id": c.get("id") or f"call_{i}", "type": "function", "function": {
                    "name": c["name"], "arguments": c["args"] if isinstance(c.get("args"), str)
                    else json.dumps(c.get("args") or {}, ensure_ascii=False)}} for i, c in enumerate(reply.tool_calls)]
            payload = {"id": "cmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
                       "choices": [{"index": 0, "message": message,
                                    "finish_reason": reply.finish_reason
                                    or ("tool_calls" if reply.tool_calls else "stop")}], "usage": usage}
            if reply.cut_after is not None:
                return self._cut_json(payload, reply.cut_after)
            return self._json(200, payload)
        self._start_sse()
        events = [{"reasoning_content": p} for p in _pieces(reply.reasoning)] + [{"content": p} for p in _pieces(reply.text)]
        for n, delta in enumerate(events, start=1):
            if reply.cut_after is not None and n > reply.cut_after:
                time.sleep(reply.stall_s)
                return
            chunk = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        last = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason or "stop"}]}
        self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            self.wfile.write(f"data: {json.dumps({'id': 'cmpl-1', 'object': 'chat.completion.chunk', 'created': 0, 'model': model, 'choices': [], 'usage': usage})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _fake_vector(text: str, dim: int = 8) -> list[float]:
    # Deterministic, content-dependent vectors so retrieval code has something to rank.
    import hashlib
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in digest[:dim]]


def dashscope_stub() -> StubServer:
    """A DashScope protocol stub (use as a context manager)."""
    return StubServer(DashScopeHandler)


def openai_stub() -> StubServer:
    """An OpenAI protocol stub (use as a context manager)."""
    return StubServer(OpenAIHandler)
