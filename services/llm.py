"""Calling chat models: streaming with stats, one-shot answers, structured output, fault handling."""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from services import i18n, pricing, providers
from services.errors import AppError, InputError, ProviderError, StreamCut
from services.faults import RETRY_ATTEMPTS, RETRY_WAIT, translate_error
from services.providers.base import Connection
from services.reasoning import ThinkSplitter

MAX_PROMPT_CHARS = 200_000  # a sanity bound before any token estimate

# Set by long work (ui/long_job.py): when the event is set, a request under way is closed at its next piece, so a
# Stop click or a closed tab frees the model (the built-in server stops generating for a client that hung up).
_cancel_event: ContextVar[threading.Event | None] = ContextVar("llm_cancel_event", default=None)


@contextmanager
def cancellable(event: threading.Event):
    """Within the block, model calls in this thread end early (error.stopped) once event is set."""
    token = _cancel_event.set(event)
    try:
        yield
    finally:
        _cancel_event.reset(token)

ModelT = TypeVar("ModelT", bound=BaseModel)

i18n.register({
    "llm.json_instruction": {
        "zh": "只输出一个符合下列 JSON Schema 的 JSON 对象，不要输出其他文字：\n{schema}",
        "en": "Reply with one JSON object that matches this JSON Schema and nothing else:\n{schema}",
    },
    "llm.json_repair": {
        "zh": "你上一次的输出不符合要求：{error}\n请只输出修正后的 JSON 对象。",
        "en": "Your previous output was not valid: {error}\nReply with the corrected JSON object only.",
    },
})


@dataclass
class ChatResult:
    """An answer with what it cost: text, thinking text, status, token counts, timings, price."""

    text: str = ""
    reasoning: str = ""
    status: str = "ok"  # ok | stopped | cut | error
    error: AppError | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    ttft_s: float | None = None
    elapsed_s: float | None = None
    tokens_per_s: float | None = None
    cost: float | None = None
    currency: str | None = None
    provider: str = ""
    model: str = ""
    tool_calls: list[dict] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """The numbers shown under an answer."""
        return {k: getattr(self, k) for k in ("input_tokens", "output_tokens", "ttft_s", "elapsed_s",
                                               "tokens_per_s", "cost", "currency")}


def estimate_tokens(text: str) -> int:
    """Rough token count: one per CJK character, one per four other characters."""
    cjk = len(re.findall(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]", text))
    return cjk + max(0, len(text) - cjk) // 4 + 1


def to_langchain(messages: list[dict], system: str | None = None) -> list[BaseMessage]:
    """Plain role/content dicts as LangChain messages, with an optional system prompt first."""
    out: list[BaseMessage] = []
    if system and system.strip():
        out.append(SystemMessage(content=system))
    for m in messages:
        role, content = m.get("role"), m.get("content") or ""
        if role == "system":
            out.append(SystemMessage(content=content))
        elif role == "assistant":
            out.append(AIMessage(content=content))
        else:
            out.append(HumanMessage(content=content))
    return out


def check_prompt(conn: Connection, messages: list[dict], system: str | None = None) -> int:
    """Refuse empty or over-long input before anything is sent; returns the estimated prompt tokens."""
    if not messages or not str(messages[-1].get("content") or "").strip():
        raise InputError("error.empty_prompt")
    text = (system or "") + "".join(str(m.get("content") or "") for m in messages)
    tokens = estimate_tokens(text)
    limit = providers.model_info(conn).context_window
    if len(text) > MAX_PROMPT_CHARS or tokens > limit:
        raise InputError("error.prompt_too_long", tokens=tokens, model=conn.model, limit=limit)
    return tokens


def _retrying() -> Retrying:
    return Retrying(
        stop=stop_after_attempt(RETRY_ATTEMPTS),
        wait=wait_exponential(multiplier=RETRY_WAIT["multiplier"], max=RETRY_WAIT["max"]),
        retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable),
        reraise=True,
    )


class ChatStream:
    """A streaming answer: iterate for answer text; thinking text and stats collect in `.result`."""

    def __init__(self, conn: Connection, messages: list[dict], *, system: str | None = None,
                 stop_event: threading.Event | None = None) -> None:
        self.conn = conn
        self.stop_event = stop_event if stop_event is not None else _cancel_event.get()
        self.result = ChatResult(provider=conn.provider, model=conn.model)
        self._prompt_tokens = check_prompt(conn, messages, system)
        self._lc_messages = to_langchain(messages, system)
        self._events: Iterator[tuple[str, str]] | None = None

    def __iter__(self) -> Iterator[str]:
        for kind, delta in self.events():
            if kind == "text":
                yield delta

    def events(self) -> Iterator[tuple[str, str]]:
        """(kind, delta) pairs, kind being "reasoning" or "text"; faults end the stream with `.result.status` set."""
        if self._events is None:
            self._events = self._run()
        return self._events

    def _open(self, model) -> tuple[Iterator[AIMessageChunk], AIMessageChunk | None]:
        # Retry only until the first chunk arrives: after that, repeating would duplicate text.
        for attempt in _retrying():
            with attempt:
                try:
                    it = iter(model.stream(self._lc_messages))
                    first = next(it, None)
                except AppError:
                    raise
                except Exception as exc:  # noqa: BLE001 - every SDK fault becomes a user message
                    raise translate_error(exc, self.conn) from exc
                return it, first
        raise AssertionError("unreachable")

    def _run(self) -> Iterator[tuple[str, str]]:
        r = self.result
        start = time.perf_counter()
        splitter = ThinkSplitter()
        usage: dict[str, int] = {}
        try:
            model = providers.chat_model(self.conn)
            it, first = self._open(model)
        except AppError as exc:
            r.status, r.error = "error", exc
            r.elapsed_s = time.perf_counter() - start
            return
        chunks = _chain_first(first, it)
        try:
            for chunk in chunks:
                if self.stop_event is not None and self.stop_event.is_set():
                    r.status = "stopped"
                    break
                if chunk.usage_metadata:
                    usage = dict(chunk.usage_metadata)
                if chunk.tool_call_chunks:
                    r.tool_calls.extend(dict(c) for c in chunk.tool_call_chunks)
                thinking = chunk.additional_kwargs.get("reasoning_content") or ""
                content = chunk.content if isinstance(chunk.content, str) else _text_of(chunk.content)
                pieces = ([("reasoning", thinking)] if thinking else []) + splitter.feed(content)
                for kind, delta in pieces:
                    if not delta:
                        continue
                    if r.ttft_s is None:
                        r.ttft_s = time.perf_counter() - start
                    if kind == "reasoning":
                        r.reasoning += delta
                    else:
                        r.text += delta
                    yield kind, delta
            for kind, delta in splitter.flush():
                if kind == "reasoning":
                    r.reasoning += delta
                else:
                    r.text += delta
                yield kind, delta
        except GeneratorExit:
            r.status = "stopped"
            raise
        except Exception as exc:  # noqa: BLE001
            err = exc if isinstance(exc, AppError) else translate_error(exc, self.conn)
            r.status = "cut" if (r.text or r.reasoning) else "error"
            r.error = StreamCut(err) if r.status == "cut" else err
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
            self._finish(usage, start)

    def _finish(self, usage: dict[str, int], start: float) -> None:
        r = self.result
        r.elapsed_s = time.perf_counter() - start
        r.input_tokens = usage.get("input_tokens") or self._prompt_tokens
        r.output_tokens = usage.get("output_tokens") or (estimate_tokens(r.text + r.reasoning) if r.text or r.reasoning else 0)
        generating = r.elapsed_s - (r.ttft_s or 0.0)
        if r.output_tokens and generating > 0:
            r.tokens_per_s = r.output_tokens / generating
        r.cost, r.currency = pricing.estimate_cost(providers.model_info(self.conn), r.input_tokens, r.output_tokens)


def _chain_first(first, it):
    if first is not None:
        yield first
    yield from it


def _text_of(content: list) -> str:
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def stream_chat(conn: Connection, messages: list[dict], *, system: str | None = None,
                stop_event: threading.Event | None = None) -> ChatStream:
    """A streaming answer to the conversation; raises InputError at once for empty or over-long input."""
    return ChatStream(conn, messages, system=system, stop_event=stop_event)


def complete(conn: Connection, messages: list[dict], *, system: str | None = None) -> ChatResult:
    """The whole answer at once; raises ProviderError when the model fails."""
    for _ in range(RETRY_ATTEMPTS):
        stream = stream_chat(conn, messages, system=system)
        for _ in stream.events():
            pass
        # A cut answer was never shown to anyone here, so asking again duplicates nothing; other faults were
        # already retried (or must not be) by the stream itself.
        if stream.result.status != "cut":
            break
    if stream.result.status == "cut":
        from services.faults import dropped
        raise dropped(conn)
    if stream.result.error is not None:
        raise stream.result.error
    return stream.result


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


def parse_json_loosely(text: str) -> Any:
    """The first JSON object or array in text: bare, inside ``` fences, or surrounded by prose."""
    text = text.strip()
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
        for i, ch in enumerate(candidate):
            if ch in "{[":
                try:
                    value, _ = decoder.raw_decode(candidate, i)
                    return value
                except json.JSONDecodeError:
                    continue
    raise ValueError("no JSON object found in the model's reply")


def json_system(system: str | None, schema: type[BaseModel], lang: str = "en") -> str:
    """The system text structured() sends: the caller's rules followed by the JSON-schema instruction."""
    instruction = i18n.t("llm.json_instruction", lang, schema=json.dumps(schema.model_json_schema(), ensure_ascii=False))
    return f"{system}\n\n{instruction}" if system else instruction


def structured(conn: Connection, messages: list[dict], schema: type[ModelT], *, system: str | None = None,
               lang: str = "en", instruction_last: bool = False) -> ModelT:
    """The model's answer parsed into `schema`: JSON asked for (constrained where the provider can), one repair.

    instruction_last: the schema instruction ends the last user message and `system` is sent unchanged, so a
    follow-up question keeps the earlier request's prefix (which a local server can reuse from its cache).
    """
    provider = providers.get_provider(conn.provider)
    if instruction_last:
        instruction = i18n.t("llm.json_instruction", lang,
                             schema=json.dumps(schema.model_json_schema(), ensure_ascii=False))
        messages = messages[:-1] + [{**messages[-1], "content": f"{messages[-1]['content']}\n\n{instruction}"}]
        system_text = system or ""
    else:
        system_text = json_system(system, schema, lang)
    check_prompt(conn, messages, system_text)
    model = provider.chat_model(conn)
    if provider.capabilities.json_schema:
        model = model.bind(response_format={"type": "json_object", "schema": schema.model_json_schema()})

    cancel = _cancel_event.get()

    def streamed(lc_messages: list[BaseMessage]) -> str:
        # Piece by piece so that a stop closes the request at once instead of waiting for the whole reply.
        text, chunks = "", model.stream(lc_messages)
        try:
            for chunk in chunks:
                if cancel.is_set():
                    raise AppError("error.stopped")
                text += chunk.content if isinstance(chunk.content, str) else _text_of(chunk.content)
        finally:
            chunks.close()
        return text

    def invoke(lc_messages: list[BaseMessage]) -> str:
        if cancel is not None and cancel.is_set():
            raise AppError("error.stopped")
        for attempt in _retrying():
            with attempt:
                try:
                    if cancel is not None:
                        return streamed(lc_messages)
                    return model.invoke(lc_messages).content
                except AppError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    raise translate_error(exc, conn) from exc
        raise AssertionError("unreachable")

    def validate(text: str) -> ModelT:
        return schema.model_validate(parse_json_loosely(text))

    chain = RunnableLambda(invoke) | StrOutputParser()
    lc_messages = to_langchain(messages, system_text)
    reply = chain.invoke(lc_messages)
    try:
        return validate(reply)
    except (ValueError, ValidationError) as first_error:
        repair = lc_messages + [AIMessage(content=reply),
                                HumanMessage(content=i18n.t("llm.json_repair", lang, error=_short(first_error)))]
        reply = chain.invoke(repair)
        try:
            return validate(reply)
        except (ValueError, ValidationError) as exc:
            raise AppError("error.structured", detail=_short(exc)) from exc


def _short(exc: Exception) -> str:
    return str(exc).replace("\n", " ")[:400]
