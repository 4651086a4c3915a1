"""The agent loop: the model calls tools through LangChain tool binding, each step yielded as an event."""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from services import i18n
from services.agent.tools import AgentTool, ToolError, ToolOutput
from services.errors import AppError, InputError
from services.providers.base import Connection

MAX_STEPS = 8            # model turns that call tools
TIME_LIMIT_S = 180.0     # per question
LOCAL_TIME_LIMIT_S = 900.0  # the built-in model reads the tools' long schema on one CPU core: minutes, not seconds
MAX_OBSERVATION_CHARS = 8000


@dataclass
class AgentEvent:
    """One step of the trace: thought, tool_call, observation, notice or answer."""

    kind: str
    text: str = ""
    tool: str | None = None
    args: dict | None = None
    call_id: str | None = None
    data: dict = field(default_factory=dict)   # structured tool output for the page (rows, chart, passages)
    error: bool = False
    step: int = 0
    status: str = ""                           # for answer: ok | repeated | step_limit | time_limit | no_tools | error | stopped

    def to_dict(self) -> dict:
        """JSON-ready form (CLI --json, logs)."""
        d = {"kind": self.kind, "step": self.step, "text": self.text}
        for key in ("tool", "args", "call_id", "status"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        if self.error:
            d["error"] = True
        if self.data:
            d["data"] = self.data
        return d


def system_prompt(lang: str, today: str) -> str:
    """What the model is told about the tools and about trusting their output."""
    return i18n.t("agent.system", lang, today=today)


def supports_tools(conn: Connection) -> bool:
    """Whether the connection's provider declares function calling."""
    from services.providers import get_provider
    return bool(get_provider(conn.provider).capabilities.tools)


def _history(history: Sequence[dict] | None) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for m in history or []:
        content = str(m.get("content") or "")
        if m.get("role") == "assistant":
            out.append(AIMessage(content=content))
        elif m.get("role") == "user":
            out.append(HumanMessage(content=content))
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content or "")


def _invoke(conn: Connection, model, messages: list[BaseMessage]) -> AIMessage:
    """One model call with the foundation's retry policy; every fault becomes a ProviderError."""
    from services.llm import _retrying
    from services.faults import translate_error
    for attempt in _retrying():
        with attempt:
            try:
                return model.invoke(messages)
            except AppError:
                raise
            except Exception as exc:  # noqa: BLE001 - an SDK fault is a user message, never a traceback
                raise translate_error(exc, conn) from None
    raise AssertionError("unreachable")  # pragma: no cover


def execute(tool_by_name: dict[str, AgentTool], name: str, args: Any, lang: str) -> ToolOutput:
    """Validate and run one tool call; any failure is a ToolError with a message for the model and the user."""
    tool = tool_by_name.get(name)
    if tool is None:
        raise ToolError("agent.error.unknown_tool", name=name, names=", ".join(tool_by_name))
    checked = tool.validate(args)
    try:
        output = tool.run(checked)
    except ToolError:
        raise
    except AppError as exc:
        raise ToolError("agent.error.tool_failed", name=name, detail=exc.message(lang)) from None
    except Exception as exc:  # noqa: BLE001 - a tool bug must not end the conversation
        raise ToolError("agent.error.tool_failed", name=name, detail=f"{type(exc).__name__}: {exc}"[:300]) from None
    if "flagged" not in output.data:
        # Table cells, MCP results: any text that addresses the model is shown to the user, not obeyed.
        from services.documents import looks_like_injection
        flagged = sorted(set(looks_like_injection(output.text)))
        if flagged:
            output.data["flagged"] = flagged
    return output


def _tool_model(conn: Connection, tools: Sequence[AgentTool]):
    """(plain model, model with the tools bound), or None when this model cannot take tools."""
    from services.providers import chat_model
    base = chat_model(conn)
    if not tools:
        return base, base
    try:
        return base, base.bind_tools([t.schema() for t in tools])
    except NotImplementedError:
        return None


def run_agent(conn: Connection, question: str, tools: Sequence[AgentTool], *, history: Sequence[dict] | None = None,
              lang: str = "zh", max_steps: int = MAX_STEPS, time_limit_s: float | None = None,
              stop_event: threading.Event | None = None, today: str | None = None,
              clock: Callable[[], float] = time.monotonic) -> Iterator[AgentEvent]:
    """Answer a question, letting the model call tools; yields each step as it happens, the answer last."""
    from services.agent.sources import with_sources
    yield from with_sources(_run(conn, question, tools, history=history, lang=lang, max_steps=max_steps,
                                 time_limit_s=time_limit_s, stop_event=stop_event, today=today, clock=clock), lang)


def _run(conn: Connection, question: str, tools: Sequence[AgentTool], *, history, lang, max_steps, time_limit_s,
         stop_event, today, clock) -> Iterator[AgentEvent]:
    question = (question or "").strip()
    if not question:
        raise InputError("agent.error.empty_question")
    if time_limit_s is None:
        time_limit_s = LOCAL_TIME_LIMIT_S if conn.provider == "local" else TIME_LIMIT_S
    if today is None:
        from datetime import date
        today = date.today().isoformat()
    system = system_prompt(lang, today)

    try:
        bound = _tool_model(conn, tools) if supports_tools(conn) else None
    except AppError as exc:
        yield AgentEvent("answer", exc.message(lang), error=True, status="error")
        return
    if bound is None:
        yield AgentEvent("notice", i18n.t("agent.notice.no_tools", lang, provider=conn.provider, model=conn.model))
        yield from _plain_answer(conn, history, question, lang)
        return
    base, model = bound

    tool_by_name = {t.name: t for t in tools}
    messages: list[BaseMessage] = [SystemMessage(content=system), *_history(history), HumanMessage(content=question)]
    started = clock()
    step = 0
    seen_calls: set[str] = set()
    searched = False
    while True:
        if stop_event is not None and stop_event.is_set():
            yield AgentEvent("answer", i18n.t("agent.notice.stopped", lang), status="stopped", step=step)
            return
        if clock() - started > time_limit_s:
            yield _time_up(lang, time_limit_s, step)
            return
        step += 1
        try:
            reply = _invoke(conn, model, messages)
        except AppError as exc:
            if step == 1 and _refuses_tools(exc):
                # A server (Ollama, vLLM…) whose model rejects the tools parameter: chat without them.
                yield AgentEvent("notice", i18n.t("agent.notice.no_tools", lang, provider=conn.provider,
                                                  model=conn.model))
                yield from _plain_answer(conn, history, question, lang)
                return
            yield AgentEvent("answer", exc.message(lang), error=True, status="error", step=step)
            return
        text = _text(reply.content).strip()
        calls = list(reply.tool_calls or [])
        bad_calls = list(getattr(reply, "invalid_tool_calls", None) or [])
        if not calls and not bad_calls:
            written = calls_in_text(text, tool_by_name, step)
            if written:
                # A small model wrote its call as text (double braces, a code fence) that the server's tool-call
                # reader did not take: it is still a call, and the user should not see it as the answer.
                calls = written
                reply = AIMessage(content="", tool_calls=written)
        if not calls and not bad_calls:
            if not text and step > 1:
                # Nothing said after tool results (the 1.5B stops like this): one more turn, without tools.
                yield from _final_without_tools(conn, base, messages, lang, max_steps, step, prompt="agent.repeat_prompt",
                                                status="ok")
                return
            yield AgentEvent("answer", text or i18n.t("agent.no_answer", lang), status="ok", step=step)
            return
        if calls and not bad_calls and all(_call_key(c) in seen_calls for c in calls):
            # Small models (the built-in 1.5B) ask for the same result again and again instead of answering; the
            # results are already in the conversation, so the next turn answers from them, without tools.
            yield AgentEvent("notice", i18n.t("agent.notice.repeated", lang), step=step)
            yield from _final_without_tools(conn, base, messages, lang, max_steps, step, prompt="agent.repeat_prompt",
                                            status="repeated")
            return
        seen_calls.update(_call_key(c) for c in calls)
        thinking = str((reply.additional_kwargs or {}).get("reasoning_content") or "").strip()
        if thinking or text:
            # Thinking text (Qwen/DeepSeek reasoning) and any words said before the calls are the step's thought.
            yield AgentEvent("thought", "\n\n".join(p for p in (thinking, text) if p), step=step)
        messages.append(reply)
        for call in calls:
            yield AgentEvent("tool_call", tool=call["name"], args=call.get("args") or {}, call_id=call.get("id"),
                             step=step, text=_json(call.get("args") or {}))
            if clock() - started > time_limit_s:
                # The model is waiting for every call it made: answer the rest with the time-out, then stop.
                yield _time_up(lang, time_limit_s, step)
                return
            try:
                output = execute(tool_by_name, call["name"], call.get("args"), lang)
            except ToolError as exc:
                message = exc.message(lang)
                messages.append(ToolMessage(content=f"Error: {exc.message('en')}", tool_call_id=call.get("id") or "",
                                            name=call["name"], status="error"))
                yield AgentEvent("observation", message, tool=call["name"], call_id=call.get("id"), error=True,
                                 step=step)
                continue
            content = output.text if len(output.text) <= MAX_OBSERVATION_CHARS else \
                output.text[:MAX_OBSERVATION_CHARS] + " …[truncated]"
            messages.append(ToolMessage(content=content, tool_call_id=call.get("id") or "", name=call["name"]))
            yield AgentEvent("observation", content, tool=call["name"], call_id=call.get("id"), data=output.data,
                             step=step)
        if not searched and "kb_search" in tool_by_name and any(
                getattr(tool_by_name.get(c["name"]), "then_search", False) for c in calls):
            searched = True
            yield from _search_question(tool_by_name, question, messages, lang, step)
        for bad in bad_calls:
            # Arguments that were not even JSON: tell the model, as the schema check would.
            detail = str(bad.get("error") or "arguments are not valid JSON")[:300]
            error = ToolError("agent.error.bad_args", name=bad.get("name") or "?", detail=detail)
            messages.append(ToolMessage(content=f"Error: {error.message('en')}", tool_call_id=bad.get("id") or "",
                                        name=bad.get("name") or "", status="error"))
            yield AgentEvent("observation", error.message(lang), tool=bad.get("name"), call_id=bad.get("id"),
                             error=True, step=step)
        if step >= max_steps:
            yield AgentEvent("notice", i18n.t("agent.notice.step_limit", lang, steps=max_steps), step=step)
            yield from _final_without_tools(conn, base, messages, lang, max_steps, step)
            return


def _refuses_tools(exc: AppError) -> bool:
    """Whether a 400 from the server says this model does not take tools."""
    detail = str(exc.params.get("detail", "")).lower()
    return exc.key == "error.bad_request" and "tool" in detail and any(
        w in detail for w in ("support", "not allowed", "unsupported", "invalid", "unknown", "unrecognized"))


def _plain_answer(conn: Connection, history, question: str, lang: str) -> Iterator[AgentEvent]:
    """The question as plain chat, for models that cannot call tools."""
    from services.llm import complete
    try:
        result = complete(conn, list(history or []) + [{"role": "user", "content": question}])
    except AppError as exc:
        yield AgentEvent("answer", exc.message(lang), error=True, status="error")
        return
    yield AgentEvent("answer", result.text, status="no_tools")


SEARCH_FIRST_K = 5  # the tool's own default


def _search_question(tool_by_name, question: str, messages: list, lang: str, step: int) -> Iterator[AgentEvent]:
    """Look the user's question up in the knowledge base, as a call the model sees it made."""
    call = {"name": "kb_search", "args": {"query": question[:500], "k": SEARCH_FIRST_K}, "id": f"auto-{step}",
            "type": "tool_call"}
    messages.append(AIMessage(content="", tool_calls=[call]))
    yield AgentEvent("tool_call", tool="kb_search", args=call["args"], call_id=call["id"], step=step,
                     text=_json(call["args"]), data={"automatic": True})
    try:
        output = execute(tool_by_name, "kb_search", call["args"], lang)
    except ToolError as exc:
        messages.append(ToolMessage(content=f"Error: {exc.message('en')}", tool_call_id=call["id"], name="kb_search",
                                    status="error"))
        yield AgentEvent("observation", exc.message(lang), tool="kb_search", call_id=call["id"], error=True, step=step)
        return
    messages.append(ToolMessage(content=output.text[:MAX_OBSERVATION_CHARS], tool_call_id=call["id"], name="kb_search"))
    yield AgentEvent("observation", output.text[:MAX_OBSERVATION_CHARS], tool="kb_search", call_id=call["id"],
                     data=output.data, step=step)


def calls_in_text(text: str, tool_by_name: dict, step: int = 0) -> list[dict]:
    """Tool calls a model wrote as text ({"name": …, "arguments": {…}}, in tags, fences or doubled braces), if the
    text is nothing but such calls to known tools; otherwise none."""
    decoder = json.JSONDecoder()
    calls, rest, pos = [], [], 0
    for m in re.finditer(r'\{\s*"name"\s*:', text):
        if m.start() < pos:
            continue
        try:
            obj, end = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        args = obj.get("arguments", obj.get("parameters", {})) if isinstance(obj, dict) else None
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                args = None
        if not isinstance(args, dict) or obj.get("name") not in tool_by_name:
            return []
        rest.append(text[pos:m.start()])
        calls.append({"name": obj["name"], "args": args, "id": f"text-{step}-{len(calls)}", "type": "tool_call"})
        pos = end
    rest.append(text[pos:])
    # Only wrapping may be left over: braces, tags, fences, punctuation, white space.
    leftover = re.sub(r"</?tool_call>|```(?:json)?|[{}\[\],;\s]", "", "".join(rest))
    return calls if calls and not leftover else []


def _call_key(call: dict) -> str:
    return f"{call.get('name')}:{json.dumps(call.get('args') or {}, sort_keys=True, ensure_ascii=False)}"


def _final_without_tools(conn, base, messages, lang, max_steps, step, *, prompt: str = "agent.step_limit_prompt",
                         status: str = "step_limit") -> Iterator[AgentEvent]:
    """One last model turn, with no tools bound, to answer from what is known (after the step limit or a repeat)."""
    messages.append(HumanMessage(content=i18n.t(prompt, lang, steps=max_steps)))
    try:
        reply = _invoke(conn, base, messages)
    except AppError as exc:
        yield AgentEvent("answer", exc.message(lang), error=True, status=status, step=step + 1)
        return
    text = _text(reply.content).strip()
    if not text:
        last = next((m for m in reversed(messages) if isinstance(m, ToolMessage) and m.status != "error"), None)
        # Still silent: the user gets the last result the tools gave rather than nothing.
        text = i18n.t("agent.answer_is_last_result", lang, result=_text(last.content)[:1500]) if last else (
            i18n.t("agent.notice.step_limit", lang, steps=max_steps) if status == "step_limit"
            else i18n.t("agent.no_answer", lang))
    yield AgentEvent("answer", text, status=status, step=step + 1)


def _time_up(lang: str, seconds: float, step: int) -> AgentEvent:
    return AgentEvent("answer", i18n.t("agent.notice.time_limit", lang, seconds=f"{seconds:g}"), status="time_limit",
                      step=step)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def answer_of(events: Sequence[AgentEvent]) -> AgentEvent | None:
    """The final answer event of a finished run."""
    return next((e for e in reversed(events) if e.kind == "answer"), None)
