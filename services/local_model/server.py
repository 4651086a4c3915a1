"""The built-in model server: llama.cpp behind the OpenAI chat-completions protocol, in its own process.

Run as `python -m services.local_model.server --port N --model NAME=PATH ...`; the app starts it (supervisor.py)
and reaches it like any OpenAI-compatible endpoint. One generation runs at a time, in arrival order, so every
browser session gets its turn; a request whose client hung up is dropped or stopped at the next token.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

STOP_TEXT = ["<|im_end|>", "<|endoftext|>"]
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


@dataclass
class Job:
    """One completion request waiting for, or holding, the model."""

    model: str
    prompt: str
    params: dict[str, Any]
    grammar: Any
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue
    cancel: threading.Event = field(default_factory=threading.Event)

    def emit(self, item: tuple) -> None:
        """Hand an item to the waiting request, from the worker thread."""
        self.loop.call_soon_threadsafe(self.out.put_nowait, item)


# A structured reply in which the same LOOP_SPAN tokens come round a third time has started going in circles (small
# models do, on long inputs): it is cut at once and reported as cut by length, instead of spending the rest of the
# answer's room on the loop. Twice is allowed: a model may copy its summary into a topic, which is poor but finished.
LOOP_SPAN = 64
LOOP_TIMES = 3


class LoopGuard:
    """A llama.cpp stopping criterion that notices a reply repeating a span of itself for the third time."""

    def __init__(self, prompt_tokens: int, span: int = LOOP_SPAN, times: int = LOOP_TIMES) -> None:
        self.start, self.span, self.times = prompt_tokens, span, times
        self.seen: dict[tuple, int] = {}
        self.looped = False

    def __call__(self, input_ids, logits) -> bool:
        reply = input_ids[self.start:]
        if len(reply) >= self.span and not self.looped:
            window = tuple(int(t) for t in reply[-self.span:])
            self.seen[window] = self.seen.get(window, 0) + 1
            self.looped = self.seen[window] >= self.times
        return self.looped


class Engine:
    """The loaded models and the single worker that runs their generations first come, first served."""

    def __init__(self, paths: dict[str, str], n_threads: int, n_ctx: int, extra_bufts: bool = True) -> None:
        self.paths, self.n_threads, self.n_ctx, self.extra_bufts = paths, n_threads, n_ctx, extra_bufts
        self.models: dict[str, Any] = {}
        self.formatters: dict[str, Any] = {}
        self.failures: dict[str, str] = {}
        self.stats: dict[str, dict[str, float]] = {}
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.busy = False
        self._grammars: dict[str, Any] = {}
        threading.Thread(target=self._work, name="llama-worker", daemon=True).start()

    def load(self, name: str):
        """The llama.cpp model for name, loaded once."""
        if name in self.models:
            return self.models[name]
        if name not in self.paths:
            raise KeyError(name)
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        try:
            llm = Llama(model_path=self.paths[name], n_ctx=self.n_ctx, n_threads=self.n_threads,
                        n_threads_batch=self.n_threads, n_batch=512, seed=42, verbose=False)
        except Exception as exc:  # noqa: BLE001 - reported on /health and to the caller
            self.failures[name] = str(exc)
            raise
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise RuntimeError(f"{name} has no chat template")
        eos = llm.detokenize([llm.token_eos()]).decode("utf-8", "ignore")
        self.formatters[name] = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")
        self.models[name] = llm
        self.failures.pop(name, None)
        return llm

    def grammar(self, response_format: dict | None):
        """A llama.cpp grammar for an OpenAI or llama.cpp style response_format, or None."""
        if not response_format or response_format.get("type") not in ("json_object", "json_schema"):
            return None
        from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar
        schema = response_format.get("schema")
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema")
        key = json.dumps(schema, sort_keys=True) if schema else ""
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_string(grammar_text(schema) if schema else JSON_GBNF,
                                                           verbose=False)
        return self._grammars[key]

    def prompt(self, name: str, messages: list[dict], tools: list[dict] | None) -> str:
        """The conversation in the model's own chat template."""
        self.load(name)
        return self.formatters[name](messages=_template_messages(messages), tools=tools or None).prompt

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job.cancel.is_set():
                job.emit(("done", {"finish_reason": "cancelled"}))
                continue
            self.busy = True
            try:
                self._run(job)
            except Exception as exc:  # noqa: BLE001 - the request turns it into an HTTP error
                import traceback
                traceback.print_exc()  # into the server log the supervisor keeps
                job.emit(("error", str(exc)))
            finally:
                self.busy = False

    def _run(self, job: Job) -> None:
        from llama_cpp import StoppingCriteriaList
        llm = self.load(job.model)
        start = time.perf_counter()
        prompt_tokens = llm.tokenize(job.prompt.encode("utf-8"), add_bos=False, special=True)
        room = self.n_ctx - len(prompt_tokens)
        if room < 16:
            job.emit(("error", f"context length exceeded: the prompt has {len(prompt_tokens)} tokens, "
                               f"the model's context is {self.n_ctx}"))
            return
        # Current OpenAI clients (langchain-openai among them) send max_completion_tokens; older ones max_tokens.
        asked = job.params.get("max_completion_tokens") or job.params.get("max_tokens") or 512
        max_tokens = min(int(asked), room)
        produced, first_at, finish = 0, None, "length"
        guard = LoopGuard(len(prompt_tokens)) if job.grammar is not None else None
        stream = llm.create_completion(
            prompt_tokens, max_tokens=max_tokens, temperature=float(job.params.get("temperature", 0.2)),
            top_p=float(job.params.get("top_p", 0.9)), repeat_penalty=float(job.params.get("repeat_penalty", 1.05)),
            stop=STOP_TEXT + list(job.params.get("stop") or []), seed=job.params.get("seed", 42),
            grammar=job.grammar, stream=True, **({"stopping_criteria": StoppingCriteriaList([guard])} if guard else {}))
        try:
            for part in stream:
                if job.cancel.is_set():
                    finish = "cancelled"
                    break
                choice = part["choices"][0]
                text = choice.get("text") or ""
                if text:
                    produced += 1
                    if first_at is None:
                        first_at = time.perf_counter()
                    job.emit(("text", text))
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        finally:
            stream.close()
        if guard is not None and guard.looped:
            print(f"reply cut after {produced} pieces: it repeated its last {guard.span} tokens", flush=True)
            finish = "length"
        end = time.perf_counter()
        if first_at is not None and produced > 1 and end > first_at:
            self.stats[job.model] = {"tokens_per_s": round((produced - 1) / (end - first_at), 2),
                                     "ttft_s": round(first_at - start, 2), "at": time.time()}
        job.emit(("done", {"finish_reason": finish, "prompt_tokens": len(prompt_tokens),
                           "completion_tokens": produced}))


def grammar_text(schema: dict) -> str:
    """The GBNF grammar for a JSON schema, with the properties in the schema's own order.

    llama.cpp's grammar writes an object's properties in the order it is given them, so that order is the order the
    model must write them in; a copy with sorted keys (fine as a cache key) would make it alphabetical and have a
    model write e.g. "action_items" before it has written the summary.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf
    return json_schema_to_gbnf(json.dumps(schema))


def _template_messages(messages: list[dict]) -> list[dict]:
    """OpenAI messages as chat templates expect them: text content, tool-call arguments as objects."""
    out = []
    for m in messages:
        m = dict(m)
        content = m.get("content")
        if isinstance(content, list):
            m["content"] = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        elif content is None:
            m["content"] = ""
        calls = []
        for call in m.get("tool_calls") or []:
            fn = dict(call.get("function") or {})
            args = fn.get("arguments")
            if isinstance(args, str):
                try:
                    fn["arguments"] = json.loads(args or "{}")
                except json.JSONDecodeError:
                    fn["arguments"] = {}
            calls.append({**call, "function": fn})
        if calls:
            m["tool_calls"] = calls
        out.append(m)
    return out


def parse_tool_calls(text: str, tool_names: set[str] | None = None) -> tuple[str, list[dict]]:
    """Tool calls in the model's reply: Qwen's `<tool_call>{json}</tool_call>` blocks, or, as small models often
    write them, a bare or fenced JSON object naming one of the offered tools."""
    blocks = [m.group(1) for m in _TOOL_CALL.finditer(text)]
    rest = _TOOL_CALL.sub("", text).strip() if blocks else text
    if not blocks and tool_names:
        stripped = _FENCED.sub(r"\1", text.strip()).strip()
        if stripped.startswith(("{", "[")):
            blocks, rest = [stripped], ""
    calls = []
    for block in blocks:
        try:
            data = json.loads(block)
        except json.JSONDecodeError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            if tool_names is not None and item["name"] not in tool_names:
                continue
            args = item.get("arguments") or item.get("parameters") or {}
            calls.append({"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                          "function": {"name": item["name"],
                                       "arguments": args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)}})
    if not calls:
        return text, []
    return rest, calls


def create_app(engine: Engine, default_model: str, token: str | None = None):
    """The Starlette app: /health, /v1/models, /v1/chat/completions."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)

    def authorised(request: Request) -> bool:
        return not token or request.headers.get("authorization", "") == f"Bearer {token}"

    async def health(request: Request):
        return JSONResponse({"status": "ok", "pid": os.getpid(), "loaded": sorted(engine.models),
                             "models": sorted(engine.paths), "failures": engine.failures, "stats": engine.stats,
                             "queued": engine.jobs.qsize(), "busy": engine.busy, "threads": engine.n_threads})

    async def models(request: Request):
        return JSONResponse({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "local"}
                                                        for m in sorted(engine.paths)]})

    async def completions(request: Request):
        if not authorised(request):
            return error(401, "invalid token", "authentication_error")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(400, "the body is not JSON")
        name = body.get("model") or default_model
        if name not in engine.paths:
            return error(404, f"model {name} is not served here; models: {', '.join(sorted(engine.paths))}",
                         "not_found_error")
        messages, tools = body.get("messages") or [], body.get("tools") or None
        try:
            prompt = await asyncio.to_thread(engine.prompt, name, messages, tools)
            grammar = None if tools else await asyncio.to_thread(engine.grammar, body.get("response_format"))
        except Exception as exc:  # noqa: BLE001 - a bad template input or schema is the caller's error
            return error(400, f"cannot prepare the prompt: {exc}")
        loop = asyncio.get_running_loop()
        job = Job(name, prompt, body, grammar, loop, asyncio.Queue())
        engine.jobs.put(job)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:16]}", int(time.time())

        def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> str:
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": name,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage is not None:
                data["usage"] = usage
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        async def collect() -> tuple[str, dict]:
            text = ""
            while True:
                kind, value = await job.out.get()
                if kind == "text":
                    text += value
                elif kind == "error":
                    raise RuntimeError(value)
                else:
                    return text, value

        if not body.get("stream"):
            try:
                text, info = await collect()
            except RuntimeError as exc:
                return error(400 if "context length" in str(exc) else 500, str(exc), "server_error")
            finally:
                job.cancel.set()
            message, finish = _message(text, tools, info["finish_reason"])
            return JSONResponse({"id": cid, "object": "chat.completion", "created": created, "model": name,
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                 "usage": _usage(info)})

        async def events():
            try:
                yield chunk({"role": "assistant", "content": ""})
                if tools:  # tool calls are only known once the whole reply is there
                    text, info = await collect()
                    message, finish = _message(text, tools, info["finish_reason"])
                    if message.get("tool_calls"):
                        yield chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]})
                    elif message.get("content"):
                        yield chunk({"content": message["content"]})
                else:
                    while True:
                        kind, value = await job.out.get()
                        if kind == "text":
                            yield chunk({"content": value})
                        elif kind == "error":
                            yield f"data: {json.dumps({'error': {'message': value, 'type': 'server_error'}})}\n\n"
                            return
                        else:
                            info, finish = value, value["finish_reason"]
                            break
                yield chunk({}, finish)
                if (body.get("stream_options") or {}).get("include_usage"):
                    yield f"data: {json.dumps({'id': cid, 'object': 'chat.completion.chunk', 'created': created, 'model': name, 'choices': [], 'usage': _usage(info)})}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                job.cancel.set()  # the client hung up or the answer is done: free the model either way

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/health", health), Route("/v1/models", models),
                             Route("/v1/chat/completions", completions, methods=["POST"])])


def _message(text: str, tools: list | None, finish: str) -> tuple[dict, str]:
    if tools:
        names = {(t.get("function") or {}).get("name") for t in tools if isinstance(t, dict)}
        content, calls = parse_tool_calls(text, names)
        if calls:
            return {"role": "assistant", "content": content or None, "tool_calls": calls}, "tool_calls"
    return {"role": "assistant", "content": text}, ("length" if finish == "length" else "stop")


def _usage(info: dict) -> dict:
    p, c = info.get("prompt_tokens", 0), info.get("completion_tokens", 0)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _without_extra_bufts() -> None:
    """Every model loaded in this process keeps its weights out of llama.cpp's extra buffer types.

    Weight repacking into those buffers (AMX on some Xeons) is what crashed natively compiled builds.
    """
    # Llama() reads its defaults from the ctypes module, not from the package.
    import llama_cpp.llama_cpp as bindings
    default_params = bindings.llama_model_default_params

    def params():
        p = default_params()
        p.use_extra_bufts = False
        return p
    bindings.llama_model_default_params = params


def _exit_with_parent(pid: int) -> None:
    # The app was killed without stopping us: no orphan may keep a core busy (polled, as PR_SET_PDEATHSIG
    # follows the starting thread, not the process).
    while True:
        time.sleep(1.0)
        if os.getppid() != pid:
            os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Load the models named on the command line, then serve them on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH of a GGUF file; the first is the default")
    parser.add_argument("--preload", action="append", default=[], help="models to load before serving")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--no-extra-bufts", action="store_true")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if args.parent_pid:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    paths = dict(item.split("=", 1) for item in args.model)
    if args.no_extra_bufts:
        _without_extra_bufts()
    engine = Engine(paths, args.threads, args.ctx, extra_bufts=not args.no_extra_bufts)
    for name in args.preload:
        engine.load(name)
    import uvicorn
    # Long keep-alive: the app's client reuses connections between questions that come minutes apart.
    uvicorn.run(create_app(engine, next(iter(paths)), os.environ.get("ASSISTANT_LOCAL_TOKEN")),
                host="127.0.0.1", port=args.port, log_level="warning", access_log=False, timeout_keep_alive=300)


if __name__ == "__main__":
    main()
