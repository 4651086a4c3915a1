"""A chat turn from question to stored answer: opening the model streams (grounded in a knowledge base when asked),
streaming one answer or two side by side, agent runs, saving every message, and the page's actions on them."""
from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import zlib

import streamlit as st

from services import agent, kb, llm, storage
from services.chat import grounding, presets, turns
from services.chat.store import ConversationStore, Message, new_browser_id, valid_browser_id
from services.errors import AppError
from ui import long_job, session
from ui.agent_trace import show_run
from ui.chat_messages import show_question
from ui.session import t

S = st.session_state


@st.cache_resource(show_spinner=False)
def conversation_store(url: str) -> ConversationStore:
    """One store (connection pool) per database, shared by every browser session."""
    return ConversationStore(url)


def logged_in_account() -> str | None:
    """The account from st.login when the deployment configured it."""
    try:
        if st.user.is_logged_in:
            return st.user.get("email") or st.user.get("sub")
    except Exception:  # noqa: BLE001 - no auth configured
        return None
    return None


def login_configured() -> bool:
    """Whether the deployment set up st.login (an [auth] section in .streamlit/secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def browser_id() -> str:
    """This browser's own id, kept in the address (u=) so that reloading the page keeps the conversations."""
    if "chat.browser_id" not in S:
        from_url = st.query_params.get("u")
        S["chat.browser_id"] = from_url if valid_browser_id(from_url) else new_browser_id()
    if st.query_params.get("u") != S["chat.browser_id"]:
        st.query_params["u"] = S["chat.browser_id"]
    return S["chat.browser_id"]


def start_state(lang: str) -> None:
    """This session's chat state, created once."""
    S.setdefault("chat.messages", [])          # the open conversation, as plain dicts (kept even if saving fails)
    # The open conversation's id and the saving error while part of it is not stored. One dict, only ever mutated:
    # a run interrupted mid-answer (Stop, leaving the page) may not touch st.session_state, but may still save.
    S.setdefault("chat.save", {"id": None, "unsaved": None})
    S.setdefault("chat.preset", "general")
    S.setdefault("chat.system", presets.builtin("general").system_prompt(lang))
    S.setdefault("chat.draft", None)           # a question that could not be sent, offered back for editing
    S.setdefault("chat.attachments", [])       # files attached to the next question
    S.setdefault("chat.notice", None)
    S.setdefault("chat.stop_events", [])
    S.setdefault("chat.upload_round", 0)    # a new uploader after each question, so a sent file is not sent again


class ChatTurns:
    """The open conversation of one owner: its actions (page callbacks) and the asking of the model."""

    def __init__(self, store: ConversationStore, owner: str, lang: str) -> None:
        self.store, self.owner, self.lang = store, owner, lang
        self.save = S["chat.save"]

    def saved_presets(self) -> list[dict[str, str]]:
        try:
            return self.store.presets(self.owner)
        except AppError:
            return []

    def current_preset(self) -> presets.Preset:
        return presets.find(S["chat.preset"], self.saved_presets())

    def notice(self, kind: str, text: str) -> None:
        S["chat.notice"] = (kind, text)

    def blocked_by_unsaved(self) -> bool:
        if self.save["unsaved"] and S["chat.messages"]:
            self.notice("warning", t("chat.unsaved_block"))
            return True
        return False

    def new_conversation(self) -> None:
        if self.blocked_by_unsaved():
            return
        S["chat.messages"], self.save["id"], self.save["unsaved"], S["chat.draft"] = [], None, None, None
        S["chat.attachments"] = []
        st.query_params.pop("c", None)

    def open_conversation(self, conversation_id: str) -> None:
        if conversation_id != self.save["id"] and self.blocked_by_unsaved():
            return
        try:
            conv = self.store.get(self.owner, conversation_id)
            history = self.store.messages(self.owner, conversation_id)
        except AppError as exc:
            self.notice("error", exc.message(self.lang))
            return
        self.save["id"] = conv.id
        S["chat.messages"] = [m.as_dict() for m in history]
        S["chat.preset"], S["chat.system"] = conv.preset, conv.system
        self.save["unsaved"], S["chat.draft"] = None, None
        st.query_params["c"] = conv.id
        base = grounding.base_used(S["chat.messages"])
        if base:  # a conversation grounded in a base goes on with it (else the next question silently is not)
            S["chat.use_kb"], S["chat.kb_base"] = True, base

    def keep_kb_choice(self, bases: list[str]) -> None:
        """The knowledge-base switch survives a reload: kept in the address (kb=base, or kb=- when off)."""
        wanted = st.query_params.get("kb")
        if not S.get("chat.kb_restored"):  # once per browser session: the address wins over the conversation
            S["chat.kb_restored"] = True
            if wanted == "-":
                S["chat.use_kb"] = False
            elif wanted in bases:
                S["chat.use_kb"], S["chat.kb_base"] = True, wanted
        if S.get("chat.use_kb") and S.get("chat.kb_base") in bases:
            value = S["chat.kb_base"]
        else:
            value = "-" if bases and "chat.use_kb" in S else None
        if value is None:
            st.query_params.pop("kb", None)
        elif wanted != value:
            st.query_params["kb"] = value

    def rename_conversation(self, key: str) -> None:
        title = S.get(key, "")
        try:
            self.store.rename(self.owner, self.save["id"], title)
            self.notice("success", t("chat.renamed", title=title.strip()))
        except AppError as exc:
            self.notice("error", exc.message(self.lang))

    def delete_conversation(self) -> None:
        cid = self.save["id"]
        try:
            title = self.store.get(self.owner, cid).title
            self.store.delete(self.owner, cid)
        except AppError as exc:
            self.notice("error", exc.message(self.lang))
            return
        self.save["unsaved"] = None
        self.new_conversation()
        self.notice("success", t("chat.deleted", title=title))

    def choose_preset(self) -> None:
        S["chat.system"] = self.current_preset().system_prompt(self.lang)
        self.remember_prompt()

    def remember_prompt(self) -> None:
        if self.save["id"] and not self.save["unsaved"]:
            try:
                self.store.set_prompt(self.owner, self.save["id"], preset=S["chat.preset"], system=S["chat.system"])
            except AppError as exc:
                self.notice("error", exc.message(self.lang))

    def save_preset(self) -> None:
        name = S.get("chat.preset_name", "")
        try:
            preset_id = self.store.save_preset(self.owner, name, S["chat.system"])
        except AppError as exc:
            self.notice("error", exc.message(self.lang))
            return
        S["chat.preset"] = presets.CUSTOM_PREFIX + preset_id
        self.remember_prompt()
        self.notice("success", t("chat.preset_saved", name=name.strip()))

    def delete_preset(self) -> None:
        try:
            self.store.delete_preset(self.owner, S["chat.preset"].removeprefix(presets.CUSTOM_PREFIX))
        except AppError as exc:
            self.notice("error", exc.message(self.lang))
            return
        S["chat.preset"] = "general"
        self.choose_preset()

    def request_stop(self) -> None:
        for stop in S["chat.stop_events"]:
            stop.set()

    def forget_from(self, index: int) -> bool:
        """Drop the session's messages from index on, and their stored copies."""
        gone = S["chat.messages"][index:]
        first_stored = next((m["id"] for m in gone if m.get("id") is not None), None)
        if first_stored is not None and self.save["id"]:
            try:
                self.store.delete_from(self.owner, self.save["id"], first_stored)
            except AppError as exc:
                self.notice("error", exc.message(self.lang))
                return False
        del S["chat.messages"][index:]
        return True

    def last_question_index(self) -> int | None:
        return next((i for i in range(len(S["chat.messages"]) - 1, -1, -1) if S["chat.messages"][i]["role"] == "user"),
                    None)

    def regenerate(self) -> None:
        i = self.last_question_index()
        if i is not None and self.forget_from(i + 1):
            S["chat.pending"] = {"kind": "answer"}

    def resend_edited(self, key: str) -> None:
        i = self.last_question_index()
        text = S.get(key, "")
        if i is None:
            return
        attachments = S["chat.messages"][i].get("attachments") or []
        if self.forget_from(i):
            S["chat.pending"] = {"kind": "ask", "text": text, "attachments": attachments}

    def send_draft(self, key: str) -> None:
        S["chat.pending"] = {"kind": "ask", "text": S.get(key, ""), "attachments": S["chat.attachments"]}
        S["chat.draft"] = None

    def retry_saving(self, again: bool = True) -> None:
        try:
            if self.save["id"] is None:
                first = next((m["content"] for m in S["chat.messages"] if m["role"] == "user"), "")
                conv = self.store.create(self.owner, turns.title_from(first), preset=S["chat.preset"], system=S["chat.system"])
                self.save["id"] = conv.id
                st.query_params["c"] = conv.id
            for m in S["chat.messages"]:
                if m.get("id") is None:
                    stored = self.store.add(self.owner, self.save["id"], Message.from_dict(m))
                    m["id"], m["created_at"] = stored.id, stored.created_at
        except AppError as exc:
            if exc.key == "chat.error.not_found" and again:  # deleted meanwhile (another tab): keep it as a new one
                self.save["id"] = None
                for m in S["chat.messages"]:
                    m["id"] = None
                self.retry_saving(again=False)
                return
            self.save["unsaved"] = exc.message(self.lang)
            return
        self.save["unsaved"] = None
        self.notice("success", t("chat.saved_again"))

    def attach_file(self, key: str) -> None:
        upload = S.get(key)
        if upload is None:
            return
        try:
            path = storage.save_upload(session.uploads_dir(), f"chat-{upload.file_id}-{upload.name}", upload.getvalue())
            S["chat.attachments"] = S["chat.attachments"] + [turns.read_attachment(path, upload.name, self.lang)]
        except AppError as exc:
            self.notice("error", exc.message(self.lang))
        except (OSError, ValueError) as exc:
            self.notice("error", t("error.unexpected", detail=str(exc)[:200]))

    def remove_attachments(self) -> None:
        S["chat.attachments"] = []
        S["chat.upload_round"] += 1

    def record(self, message: Message, kept: list[dict]) -> None:
        """Keep a message on the page (kept: the session's message list) and in the store; a store fault is shown
        and the turn stays on the page. Touches no st.* call, so it also works in an interrupted run."""
        kept.append(message.as_dict())
        if self.save["unsaved"]:
            return  # earlier messages are not stored yet; "Retry saving" stores them in order
        try:
            if self.save["id"] is None:
                conv = self.store.create(self.owner, turns.title_from(message.content), preset=self.save["preset"],
                                    system=self.save["system"])
                self.save["id"] = conv.id
            self.store.add(self.owner, self.save["id"], message)
            kept[-1].update(id=message.id, created_at=message.created_at)
        except AppError as exc:
            self.save["unsaved"] = exc.message(self.lang)

    def as_messages(self) -> list[Message]:
        return [Message.from_dict(m) for m in S["chat.messages"]]

    def connections(self) -> list:
        conns = [session.connection()]
        if S.get("chat.compare") and S.get("chat.cmp_provider"):
            conns.append(session.connection(S["chat.cmp_provider"], S.get("chat.cmp_model") or None))
        return conns

    def kb_base(self) -> str | None:
        """The knowledge base this turn answers from, or None."""
        return S["chat.kb_base"] if S.get("chat.use_kb") and S.get("chat.kb_base") else None

    def find_passages(self, history: list[Message], step_slot) -> list | None:
        """The base's passages for the last question, with "searching…" and the seconds so far shown meanwhile."""
        base = self.kb_base()
        if base is None:
            return None
        conn, question = session.connection(), history[-1].content
        try:
            return long_job.wait_ticking(lambda: kb.retrieve(base, question, 5, conn=conn),
                                         lambda s: step_slot.caption(t("chat.step.retrieving", base=base, seconds=s)))
        finally:
            step_slot.empty()

    def open_streams(self, history: list[Message], passages: list | None = None) -> list[llm.ChatStream]:
        """One stream per chosen model; raises AppError (empty, too long, no key) before anything is sent."""
        sent = turns.model_messages(history, self.current_preset(), self.lang)
        if passages is not None:
            sent = grounding.grounded_messages([m.as_dict() for m in history], passages, self.lang)
        stops = [threading.Event() for _ in range(2)]
        S["chat.stop_events"] = stops
        streams = [llm.stream_chat(conn, sent, system=S["chat.system"], stop_event=stop)
                   for conn, stop in zip(self.connections(), stops)]
        for stream in streams:
            # Kept on the stream, not in session state: an interrupted run (Stop) must still check the citations.
            stream.kb_passages = passages
            stream.kb_base = self.kb_base()
        return streams

    def answer_message(self, stream: llm.ChatStream, variant: int, finished: bool) -> Message:
        """The answer as far as it got: stopped when the page was interrupted before the model finished."""
        waiting = getattr(stream, "first_wait", None)
        if waiting is not None and waiting.is_alive():
            stream.stop_event.set()  # still waiting for the first word: it ends the call when that arrives
            waiting.join(timeout=min(stream.conn.timeout_s, 10))
        events = stream.events()
        if hasattr(events, "close") and not (waiting is not None and waiting.is_alive()):
            events.close()  # ends the model call if it is still running
        r = stream.result
        status = r.status if finished or r.status != "ok" else "stopped"
        text, sources = r.text, None
        passages = getattr(stream, "kb_passages", None)
        if passages is not None and (r.text or status == "ok"):
            text, sources = grounding.checked_answer(r.text, passages, self.lang, base=getattr(stream, "kb_base", None))
        return Message(role="assistant", content=text, reasoning=r.reasoning, status=status,
                       error=r.error.message(self.lang) if r.error else None, provider=stream.conn.provider,
                       model=stream.conn.model, variant=variant, stats=r.stats(), sources=sources)

    def first_event(self, stream: llm.ChatStream, step_slot):
        """The stream's first piece, with "generating…" and the seconds so far shown until it comes."""
        events = stream.events()
        passages = getattr(stream, "kb_passages", None)

        def tick(seconds: int) -> None:
            if passages is None:
                step_slot.caption(t("chat.step.waiting", seconds=seconds))
            else:
                step_slot.caption(t("chat.step.generating", count=len(passages), seconds=seconds))

        def fetch():
            stream.first_wait = threading.current_thread()
            return next(events, None)

        try:
            return long_job.wait_ticking(fetch, tick)
        finally:
            step_slot.empty()

    def stream_one(self, stream: llm.ChatStream, kept: list[dict]) -> None:
        """Stream one answer into the page; whatever happens, what arrived is kept."""
        finished = False
        with st.chat_message("assistant"):
            step_slot = st.empty()
            thinking_slot = st.container()
            thinking = {"box": None, "text": ""}

            draft = {"text": "", "saved_at": time.monotonic()}

            def keep_draft(force: bool = False) -> None:
                # Every second or so the answer so far goes to the store: if the server dies mid-answer, the
                # conversation reopens with it, marked unfinished (services.chat.store.recover_interrupted).
                if self.save["id"] is None or self.save["unsaved"] or (
                        not force and time.monotonic() - draft["saved_at"] < 1.0):
                    return
                draft["saved_at"] = time.monotonic()
                try:
                    self.store.save_draft(self.owner, self.save["id"], content=draft["text"],
                                          reasoning=thinking["text"], provider=stream.conn.provider,
                                          model=stream.conn.model)
                except AppError:
                    pass  # the finished answer is still recorded (or offered for "Retry saving") below

            def answer_text():
                nonlocal finished
                first = self.first_event(stream, step_slot)
                rest = stream.events()
                for kind, delta in itertools.chain([first] if first else [], rest):
                    if kind == "text":
                        draft["text"] += delta
                        keep_draft()
                        yield delta
                        continue
                    if thinking["box"] is None:
                        thinking["box"] = thinking_slot.expander(t("chat.thinking_live"), expanded=True).empty()
                    thinking["text"] += delta
                    thinking["box"].markdown(thinking["text"])
                finished = True

            try:
                st.write_stream(answer_text())
            finally:
                self.record(self.answer_message(stream, 0, finished), kept)

    def stream_side_by_side(self, streams: list[llm.ChatStream], kept: list[dict]) -> None:
        """Stream two answers at once into two columns (each model read in its own thread)."""
        columns = st.columns(len(streams))
        slots = []
        for column, stream in zip(columns, streams):
            with column, st.chat_message("assistant"):
                st.caption(f"{stream.conn.provider} · {stream.conn.model}")
                slots.append(st.empty())
        events: queue.Queue = queue.Queue()
        finished = [False] * len(streams)

        def pump(i: int, stream: llm.ChatStream) -> None:
            try:
                for kind, delta in stream.events():
                    events.put((i, kind, delta))
                finished[i] = True
            finally:
                events.put((i, "done", ""))

        threads = [threading.Thread(target=pump, args=(i, s), daemon=True) for i, s in enumerate(streams)]
        texts = [""] * len(streams)
        try:
            for thread in threads:
                thread.start()
            running = len(threads)
            while running:
                i, kind, delta = events.get()
                if kind == "done":
                    running -= 1
                    slots[i].markdown(texts[i])
                elif kind == "text":
                    texts[i] += delta
                    slots[i].markdown(texts[i] + "▌")
        finally:
            for stream in streams:
                stream.stop_event.set()
            for thread, stream in zip(threads, streams):
                thread.join(timeout=min(stream.conn.timeout_s, 10))  # a stopped model ends at its next piece
            for i, stream in enumerate(streams):
                self.record(self.answer_message(stream, i, finished[i]) if not threads[i].is_alive()
                       else Message(role="assistant", content=texts[i], status="stopped", provider=stream.conn.provider,
                                    model=stream.conn.model, variant=i), kept)

    def run_streams(self, streams: list[llm.ChatStream]) -> None:
        """Stream the answer(s) under a stop button, then draw the page afresh."""
        stop_slot = st.empty()
        stop_slot.button(t("chat.stop"), key="chat.stop", icon=":material/stop_circle:", on_click=self.request_stop)
        self.save.update(preset=S["chat.preset"], system=S["chat.system"])  # for a conversation created while streaming
        kept = S["chat.messages"]
        # Pressing Stop starts the next run in a new thread while this one is still unwinding; that run waits on
        # this event so that it shows the stopped answer this run is saving.
        saving = self.save["saving"] = threading.Event()
        try:
            if len(streams) == 1:
                self.stream_one(streams[0], kept)
            else:
                self.stream_side_by_side(streams, kept)
        finally:
            saving.set()
        stop_slot.empty()
        st.rerun()

    def answer_again(self) -> None:
        """Answer the conversation's last question again (after regenerate)."""
        try:
            history = self.as_messages()
            streams = self.open_streams(history, self.find_passages(history, st.empty()))
        except AppError as exc:
            session.show_error(exc)
            return
        self.run_streams(streams)

    def ask_agent(self, question: str, mcp_servers: list) -> None:
        """Answer with tools (built-in and the chosen MCP servers'): each step drawn as it happens, the trace kept."""
        # The MCP connections live for this one question: nothing outlives the run that opened it.
        with agent.McpToolset(mcp_servers) as mcp:
            for problem in mcp.errors:
                st.warning(t("agent.mcp.unavailable", detail=problem.message(self.lang)), icon=":material/extension_off:")
            self.answer_with_tools(question, mcp.tools)

    def answer_with_tools(self, question: str, extra_tools: list) -> None:
        conn = session.connection()
        use_kb = S.get("chat.use_kb") and S.get("chat.kb_base")
        # The agent reads what this session loaded on the other pages: ChatBI tables, processed reports, the chosen base.
        context = agent.AgentContext(lang=self.lang, chatbi=S.get("bi.workspace"), reports=list(S.get("fin.results", {}).values()),
                                     kb_search=agent.kb_searcher(S["chat.kb_base"]) if use_kb else None, conn=conn)
        history = [{"role": m["role"], "content": m["content"]} for m in S["chat.messages"]
                   if m["role"] in ("user", "assistant") and m.get("content")]
        try:
            events = agent.run_agent(conn, question, agent.builtin_tools(context) + extra_tools, history=history, lang=self.lang)
        except AppError as exc:
            session.show_error(exc)
            return
        user = Message(role="user", content=question)
        self.save.update(preset=S["chat.preset"], system=S["chat.system"])
        self.record(user, S["chat.messages"])
        show_question(user.as_dict())
        steps: list[dict] = []

        def kept(stream):
            for event in stream:
                if event.kind != "answer":
                    steps.append(json.loads(json.dumps(vars(event), ensure_ascii=False, default=str)))
                yield event

        with st.chat_message("assistant"):
            answer = show_run(kept(events), self.lang)
        failed = answer is None or answer.error
        self.record(Message(role="assistant", content="" if failed else answer.text, provider=conn.provider, model=conn.model,
                       status="error" if failed else "ok", error=answer.text if failed and answer else None,
                       sources={"trace": steps} if steps else None), S["chat.messages"])
        st.rerun()

    def ask(self, question: str, attachments: list[dict], draft_slot) -> None:
        """Send a new question (with any attached files); on failure the typed text is offered back for editing."""
        if S.get("chat.attach_fit") and attachments:
            attachments = self.fit_to_context(question, attachments)
        user = Message(role="user", content=question, attachments=attachments)
        offered_before = S["chat.draft"] == question
        question_slot, step_slot = st.empty(), st.empty()
        with question_slot.container():
            show_question(user.as_dict())  # on screen while the knowledge base is searched; kept once sent
            if self.kb_base():
                # Any click ends this run; the question then comes back as an editable draft.
                st.button(t("chat.stop"), key="chat.stop_search", icon=":material/stop_circle:")
                S["chat.draft"] = question
        try:
            history = self.as_messages() + [user]
            streams = self.open_streams(history, self.find_passages(history, step_slot))
        except AppError as exc:
            question_slot.empty()
            session.show_error(exc)
            if not offered_before:
                S["chat.draft"] = question
                self.show_draft(draft_slot)
            return
        S["chat.draft"] = None
        question_slot.empty()
        show_question(user.as_dict())
        self.save.update(preset=S["chat.preset"], system=S["chat.system"])
        self.record(user, S["chat.messages"])
        if attachments:
            S["chat.attachments"] = []
            S["chat.upload_round"] += 1
        self.run_streams(streams)

    def show_draft(self, slot) -> None:
        """The text that could not be sent, editable, with a send button."""
        key = f"chat.draft.{zlib.crc32(S['chat.draft'].encode('utf-8'))}"
        with slot.container():
            st.text_area(t("chat.draft"), value=S["chat.draft"], key=key)
            st.button(t("chat.send"), key=key + ".send", on_click=self.send_draft, args=(key,), icon=":material/send:")

    def fit_to_context(self, question: str, attachments: list[dict]) -> list[dict]:
        conn = session.connection()
        base = turns.model_messages(self.as_messages(), self.current_preset(), self.lang) + [{"role": "user", "content": question}]
        used, limit = turns.context_tokens(conn, base, S["chat.system"])
        budget = max(0, limit - used - 1024) // max(1, len(attachments))  # leave room for the answer
        return [turns.fit_attachment(a, budget, self.lang) for a in attachments]
