"""Chat: conversations that last, role presets, attached files, two models side by side."""
from __future__ import annotations

import json
import queue
import threading
import time
import zlib

import streamlit as st

from services import agent, kb, llm, storage
from services.chat import grounding, presets, turns
from services.chat.store import (ConversationStore, Conversation, Message, default_url, new_browser_id, owner_for,
                                 shared_workspace, valid_browser_id)
from services.chat_text import stats_line
from services.errors import AppError
from ui import session
from ui.agent_trace import show_run, show_step
from ui.session import t

S = st.session_state
lang = session.lang()


# -- who is asking, and where their conversations live ---------------------------------------------------------------
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


# Started alone (AppTest) the page applies the deployment's start provider itself; under app.py the router did.
if session.apply_start_choice():
    st.rerun()

account = logged_in_account()
owner = owner_for(account, None if account else browser_id())
store = conversation_store(default_url())

S.setdefault("chat.messages", [])          # the open conversation, as plain dicts (kept even if saving fails)
# The open conversation's id and the saving error while part of it is not stored. One dict, only ever mutated:
# a run interrupted mid-answer (Stop, leaving the page) may not touch st.session_state, but may still save.
SAVE = S.setdefault("chat.save", {"id": None, "unsaved": None})
S.setdefault("chat.preset", "general")
S.setdefault("chat.system", presets.builtin("general").system_prompt(lang))
S.setdefault("chat.draft", None)           # a question that could not be sent, offered back for editing
S.setdefault("chat.attachments", [])       # files attached to the next question
S.setdefault("chat.notice", None)
S.setdefault("chat.stop_events", [])
S.setdefault("chat.upload_round", 0)    # a new uploader after each question, so a sent file is not sent again


def saved_presets() -> list[dict[str, str]]:
    try:
        return store.presets(owner)
    except AppError:
        return []


def current_preset() -> presets.Preset:
    return presets.find(S["chat.preset"], saved_presets())


# -- actions (callbacks run before the page is drawn) ----------------------------------------------------------------
def notice(kind: str, text: str) -> None:
    S["chat.notice"] = (kind, text)


def blocked_by_unsaved() -> bool:
    if SAVE["unsaved"] and S["chat.messages"]:
        notice("warning", t("chat.unsaved_block"))
        return True
    return False


def new_conversation() -> None:
    if blocked_by_unsaved():
        return
    S["chat.messages"], SAVE["id"], SAVE["unsaved"], S["chat.draft"] = [], None, None, None
    S["chat.attachments"] = []
    st.query_params.pop("c", None)


def open_conversation(conversation_id: str) -> None:
    if conversation_id != SAVE["id"] and blocked_by_unsaved():
        return
    try:
        conv = store.get(owner, conversation_id)
        history = store.messages(owner, conversation_id)
    except AppError as exc:
        notice("error", exc.message(lang))
        return
    SAVE["id"] = conv.id
    S["chat.messages"] = [m.as_dict() for m in history]
    S["chat.preset"], S["chat.system"] = conv.preset, conv.system
    SAVE["unsaved"], S["chat.draft"] = None, None
    st.query_params["c"] = conv.id


def rename_conversation(key: str) -> None:
    title = S.get(key, "")
    try:
        store.rename(owner, SAVE["id"], title)
        notice("success", t("chat.renamed", title=title.strip()))
    except AppError as exc:
        notice("error", exc.message(lang))


def delete_conversation() -> None:
    cid = SAVE["id"]
    try:
        title = store.get(owner, cid).title
        store.delete(owner, cid)
    except AppError as exc:
        notice("error", exc.message(lang))
        return
    SAVE["unsaved"] = None
    new_conversation()
    notice("success", t("chat.deleted", title=title))


def choose_preset() -> None:
    S["chat.system"] = current_preset().system_prompt(lang)
    remember_prompt()


def remember_prompt() -> None:
    if SAVE["id"] and not SAVE["unsaved"]:
        try:
            store.set_prompt(owner, SAVE["id"], preset=S["chat.preset"], system=S["chat.system"])
        except AppError as exc:
            notice("error", exc.message(lang))


def save_preset() -> None:
    name = S.get("chat.preset_name", "")
    try:
        preset_id = store.save_preset(owner, name, S["chat.system"])
    except AppError as exc:
        notice("error", exc.message(lang))
        return
    S["chat.preset"] = presets.CUSTOM_PREFIX + preset_id
    remember_prompt()
    notice("success", t("chat.preset_saved", name=name.strip()))


def delete_preset() -> None:
    try:
        store.delete_preset(owner, S["chat.preset"].removeprefix(presets.CUSTOM_PREFIX))
    except AppError as exc:
        notice("error", exc.message(lang))
        return
    S["chat.preset"] = "general"
    choose_preset()


def request_stop() -> None:
    for stop in S["chat.stop_events"]:
        stop.set()


def forget_from(index: int) -> bool:
    """Drop the session's messages from index on, and their stored copies."""
    gone = S["chat.messages"][index:]
    first_stored = next((m["id"] for m in gone if m.get("id") is not None), None)
    if first_stored is not None and SAVE["id"]:
        try:
            store.delete_from(owner, SAVE["id"], first_stored)
        except AppError as exc:
            notice("error", exc.message(lang))
            return False
    del S["chat.messages"][index:]
    return True


def last_question_index() -> int | None:
    return next((i for i in range(len(S["chat.messages"]) - 1, -1, -1) if S["chat.messages"][i]["role"] == "user"),
                None)


def regenerate() -> None:
    i = last_question_index()
    if i is not None and forget_from(i + 1):
        S["chat.pending"] = {"kind": "answer"}


def resend_edited(key: str) -> None:
    i = last_question_index()
    text = S.get(key, "")
    if i is None:
        return
    attachments = S["chat.messages"][i].get("attachments") or []
    if forget_from(i):
        S["chat.pending"] = {"kind": "ask", "text": text, "attachments": attachments}


def send_draft(key: str) -> None:
    S["chat.pending"] = {"kind": "ask", "text": S.get(key, ""), "attachments": S["chat.attachments"]}
    S["chat.draft"] = None


def retry_saving(again: bool = True) -> None:
    try:
        if SAVE["id"] is None:
            first = next((m["content"] for m in S["chat.messages"] if m["role"] == "user"), "")
            conv = store.create(owner, turns.title_from(first), preset=S["chat.preset"], system=S["chat.system"])
            SAVE["id"] = conv.id
            st.query_params["c"] = conv.id
        for m in S["chat.messages"]:
            if m.get("id") is None:
                stored = store.add(owner, SAVE["id"], Message.from_dict(m))
                m["id"], m["created_at"] = stored.id, stored.created_at
    except AppError as exc:
        if exc.key == "chat.error.not_found" and again:  # deleted meanwhile (another tab): keep it as a new one
            SAVE["id"] = None
            for m in S["chat.messages"]:
                m["id"] = None
            retry_saving(again=False)
            return
        SAVE["unsaved"] = exc.message(lang)
        return
    SAVE["unsaved"] = None
    notice("success", t("chat.saved_again"))


def attach_file(key: str) -> None:
    upload = S.get(key)
    if upload is None:
        return
    try:
        path = storage.save_upload(session.uploads_dir(), f"chat-{upload.file_id}-{upload.name}", upload.getvalue())
        S["chat.attachments"] = S["chat.attachments"] + [turns.read_attachment(path, upload.name, lang)]
    except AppError as exc:
        notice("error", exc.message(lang))
    except (OSError, ValueError) as exc:
        notice("error", t("error.unexpected", detail=str(exc)[:200]))


def remove_attachments() -> None:
    S["chat.attachments"] = []
    S["chat.upload_round"] += 1


# -- keeping messages ----------------------------------------------------------------------------------------------
def record(message: Message, kept: list[dict]) -> None:
    """Keep a message on the page (kept: the session's message list) and in the store; a store fault is shown
    and the turn stays on the page. Touches no st.* call, so it also works in an interrupted run."""
    kept.append(message.as_dict())
    if SAVE["unsaved"]:
        return  # earlier messages are not stored yet; "Retry saving" stores them in order
    try:
        if SAVE["id"] is None:
            conv = store.create(owner, turns.title_from(message.content), preset=SAVE["preset"],
                                system=SAVE["system"])
            SAVE["id"] = conv.id
        store.add(owner, SAVE["id"], message)
        kept[-1].update(id=message.id, created_at=message.created_at)
    except AppError as exc:
        SAVE["unsaved"] = exc.message(lang)


def as_messages() -> list[Message]:
    return [Message.from_dict(m) for m in S["chat.messages"]]


# -- drawing -------------------------------------------------------------------------------------------------------
def show_question(message: dict) -> None:
    with st.chat_message("user"):
        st.markdown(message["content"])
        for a in message.get("attachments") or []:
            st.caption(t("chat.attachment_chip", name=a["name"], chars=a.get("chars", 0)))


def show_answer(message: dict, *, label_model: bool = False) -> None:
    """One answer with its thinking text (collapsed), status, numbers and a copy box."""
    with st.chat_message("assistant"):
        if label_model and message.get("model"):
            st.caption(f"{message.get('provider')} · {message['model']}")
        if message.get("reasoning"):
            with st.expander(t("chat.thinking"), expanded=False):
                st.markdown(message["reasoning"])
        if message.get("content"):
            st.markdown(message["content"])
        show_sources(message.get("sources"))
        status = message.get("status")
        if status == "stopped":
            st.info(t("chat.stopped"), icon=":material/stop_circle:")
        elif status == "interrupted":
            st.warning(t("chat.interrupted"), icon=":material/power_off:")
        elif status == "cut":
            st.warning(t("chat.cut"), icon=":material/warning:")
        if message.get("error"):
            st.error(message["error"], icon=":material/error:")
        if message.get("stats"):
            st.caption(stats_line(message["stats"], lang))
        if message.get("content"):
            with st.expander(t("chat.copy"), icon=":material/content_copy:", expanded=False):
                st.code(message["content"], language="markdown", wrap_lines=True)


def show_sources(sources: dict | None) -> None:
    """Knowledge-base citations under an answer: file, page and the quoted passage, each expandable."""
    if not sources:
        return
    trace = sources.get("trace") or []
    if trace:
        with st.expander(t("chat.agent_trace", steps=max(e.get("step", 0) for e in trace)), icon=":material/route:"):
            for event in trace:
                show_step(agent.AgentEvent(**event), lang, key_prefix=str(id(sources)))
    for warning in sources.get("warnings") or []:
        st.warning(warning, icon=":material/report:")
    for c in sources.get("citations") or []:
        with st.expander(t("kb.ask.source", n=c["n"], file=c["file"], page=c["page"]), icon=":material/description:"):
            st.text(c["quote"])


def show_conversation(messages: list[dict]) -> None:
    """Questions and answers in order; answers of a compared turn side by side."""
    i = 0
    while i < len(messages):
        if messages[i]["role"] == "user":
            show_question(messages[i])
            i += 1
            continue
        group = []
        while i < len(messages) and messages[i]["role"] == "assistant":
            group.append(messages[i])
            i += 1
        if len(group) == 1:
            show_answer(group[0])
        else:
            for column, answer in zip(st.columns(len(group)), group):
                with column:
                    show_answer(answer, label_model=True)


# -- asking the model -----------------------------------------------------------------------------------------------
def connections() -> list:
    conns = [session.connection()]
    if S.get("chat.compare") and S.get("chat.cmp_provider"):
        conns.append(session.connection(S["chat.cmp_provider"], S.get("chat.cmp_model") or None))
    return conns


def open_streams(history: list[Message]) -> list[llm.ChatStream]:
    """One stream per chosen model; raises AppError (empty, too long, no key) before anything is sent."""
    preset = current_preset()
    sent = turns.model_messages(history, preset, lang)
    passages = None
    if S.get("chat.use_kb") and S.get("chat.kb_base"):
        sent, passages = grounding.grounded_turn(S["chat.kb_base"], [m.as_dict() for m in history], lang,
                                                 session.connection())
    stops = [threading.Event() for _ in range(2)]
    S["chat.stop_events"] = stops
    streams = [llm.stream_chat(conn, sent, system=S["chat.system"], stop_event=stop)
               for conn, stop in zip(connections(), stops)]
    for stream in streams:
        # Kept on the stream, not in session state: an interrupted run (Stop) must still check the citations.
        stream.kb_passages = passages
    return streams


def answer_message(stream: llm.ChatStream, variant: int, finished: bool) -> Message:
    """The answer as far as it got: stopped when the page was interrupted before the model finished."""
    events = stream.events()
    if hasattr(events, "close"):
        events.close()  # ends the model call if it is still running
    r = stream.result
    status = r.status if finished or r.status != "ok" else "stopped"
    text, sources = r.text, None
    passages = getattr(stream, "kb_passages", None)
    if passages is not None and (r.text or status == "ok"):
        text, sources = grounding.checked_answer(r.text, passages, lang)
    return Message(role="assistant", content=text, reasoning=r.reasoning, status=status,
                   error=r.error.message(lang) if r.error else None, provider=stream.conn.provider,
                   model=stream.conn.model, variant=variant, stats=r.stats(), sources=sources)


def stream_one(stream: llm.ChatStream, kept: list[dict]) -> None:
    """Stream one answer into the page; whatever happens, what arrived is kept."""
    finished = False
    with st.chat_message("assistant"):
        thinking_slot = st.container()
        thinking = {"box": None, "text": ""}

        draft = {"text": "", "saved_at": time.monotonic()}

        def keep_draft(force: bool = False) -> None:
            # Every second or so the answer so far goes to the store: if the server dies mid-answer, the
            # conversation reopens with it, marked unfinished (services.chat.store.recover_interrupted).
            if SAVE["id"] is None or SAVE["unsaved"] or (not force and time.monotonic() - draft["saved_at"] < 1.0):
                return
            draft["saved_at"] = time.monotonic()
            try:
                store.save_draft(owner, SAVE["id"], content=draft["text"], reasoning=thinking["text"],
                                 provider=stream.conn.provider, model=stream.conn.model)
            except AppError:
                pass  # the finished answer is still recorded (or offered for "Retry saving") below

        def answer_text():
            nonlocal finished
            for kind, delta in stream.events():
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
            record(answer_message(stream, 0, finished), kept)


def stream_side_by_side(streams: list[llm.ChatStream], kept: list[dict]) -> None:
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
            record(answer_message(stream, i, finished[i]) if not threads[i].is_alive()
                   else Message(role="assistant", content=texts[i], status="stopped", provider=stream.conn.provider,
                                model=stream.conn.model, variant=i), kept)


def run_streams(streams: list[llm.ChatStream]) -> None:
    """Stream the answer(s) under a stop button, then draw the page afresh."""
    stop_slot = st.empty()
    stop_slot.button(t("chat.stop"), key="chat.stop", icon=":material/stop_circle:", on_click=request_stop)
    SAVE.update(preset=S["chat.preset"], system=S["chat.system"])  # for a conversation created while streaming
    kept = S["chat.messages"]
    # Pressing Stop starts the next run in a new thread while this one is still unwinding; that run waits on
    # this event so that it shows the stopped answer this run is saving.
    saving = SAVE["saving"] = threading.Event()
    try:
        if len(streams) == 1:
            stream_one(streams[0], kept)
        else:
            stream_side_by_side(streams, kept)
    finally:
        saving.set()
    stop_slot.empty()
    st.rerun()


def answer_again() -> None:
    """Answer the conversation's last question again (after regenerate)."""
    try:
        streams = open_streams(as_messages())
    except AppError as exc:
        session.show_error(exc)
        return
    run_streams(streams)


def ask_agent(question: str, mcp_servers: list) -> None:
    """Answer with tools (built-in and the chosen MCP servers'): each step drawn as it happens, the trace kept."""
    # The MCP connections live for this one question: nothing outlives the run that opened it.
    with agent.McpToolset(mcp_servers) as mcp:
        for problem in mcp.errors:
            st.warning(t("agent.mcp.unavailable", detail=problem.message(lang)), icon=":material/extension_off:")
        answer_with_tools(question, mcp.tools)


def answer_with_tools(question: str, extra_tools: list) -> None:
    conn = session.connection()
    use_kb = S.get("chat.use_kb") and S.get("chat.kb_base")
    # The agent reads what this session loaded on the other pages: ChatBI tables, processed reports, the chosen base.
    context = agent.AgentContext(lang=lang, chatbi=S.get("bi.workspace"), reports=list(S.get("fin.results", {}).values()),
                                 kb_search=agent.kb_searcher(S["chat.kb_base"]) if use_kb else None)
    history = [{"role": m["role"], "content": m["content"]} for m in S["chat.messages"]
               if m["role"] in ("user", "assistant") and m.get("content")]
    try:
        events = agent.run_agent(conn, question, agent.builtin_tools(context) + extra_tools, history=history, lang=lang)
    except AppError as exc:
        session.show_error(exc)
        return
    user = Message(role="user", content=question)
    SAVE.update(preset=S["chat.preset"], system=S["chat.system"])
    record(user, S["chat.messages"])
    show_question(user.as_dict())
    steps: list[dict] = []

    def kept(stream):
        for event in stream:
            if event.kind != "answer":
                steps.append(json.loads(json.dumps(vars(event), ensure_ascii=False, default=str)))
            yield event

    with st.chat_message("assistant"):
        answer = show_run(kept(events), lang)
    failed = answer is None or answer.error
    record(Message(role="assistant", content="" if failed else answer.text, provider=conn.provider, model=conn.model,
                   status="error" if failed else "ok", error=answer.text if failed and answer else None,
                   sources={"trace": steps} if steps else None), S["chat.messages"])
    st.rerun()


def ask(question: str, attachments: list[dict], draft_slot) -> None:
    """Send a new question (with any attached files); on failure the typed text is offered back for editing."""
    if S.get("chat.attach_fit") and attachments:
        attachments = fit_to_context(question, attachments)
    user = Message(role="user", content=question, attachments=attachments)
    try:
        streams = open_streams(as_messages() + [user])
    except AppError as exc:
        session.show_error(exc)
        if S["chat.draft"] != question:
            S["chat.draft"] = question
            show_draft(draft_slot)
        return
    S["chat.draft"] = None
    SAVE.update(preset=S["chat.preset"], system=S["chat.system"])
    record(user, S["chat.messages"])
    if attachments:
        S["chat.attachments"] = []
        S["chat.upload_round"] += 1
    show_question(user.as_dict())
    run_streams(streams)


def show_draft(slot) -> None:
    """The text that could not be sent, editable, with a send button."""
    key = f"chat.draft.{zlib.crc32(S['chat.draft'].encode('utf-8'))}"
    with slot.container():
        st.text_area(t("chat.draft"), value=S["chat.draft"], key=key)
        st.button(t("chat.send"), key=key + ".send", on_click=send_draft, args=(key,), icon=":material/send:")


def fit_to_context(question: str, attachments: list[dict]) -> list[dict]:
    conn = session.connection()
    base = turns.model_messages(as_messages(), current_preset(), lang) + [{"role": "user", "content": question}]
    used, limit = turns.context_tokens(conn, base, S["chat.system"])
    budget = max(0, limit - used - 1024) // max(1, len(attachments))  # leave room for the answer
    return [turns.fit_attachment(a, budget, lang) for a in attachments]


# -- the page -------------------------------------------------------------------------------------------------------
if SAVE.get("saving") is not None:
    SAVE["saving"].wait(timeout=15)  # an interrupted run may still be saving the answer it was writing
# A reload starts a new session: reopen the conversation named in the address, if it is this user's.
if SAVE["id"] is None and not S["chat.messages"] and st.query_params.get("c"):
    wanted = st.query_params.get("c")
    open_conversation(wanted)
    if SAVE["id"] != wanted:
        st.query_params.pop("c", None)

if SAVE["id"] and st.query_params.get("c") != SAVE["id"]:
    st.query_params["c"] = SAVE["id"]  # so that a reload reopens this conversation

# The built-in preset's prompt follows the UI language.
_preset = presets.builtin(S["chat.preset"])
if _preset and S["chat.system"] in {_preset.system_prompt(x) for x in ("zh", "en")}:
    S["chat.system"] = _preset.system_prompt(lang)

with st.sidebar:
    st.divider()
    st.subheader(t("chat.shared_conversations" if shared_workspace() else "chat.conversations"))
    st.button(t("chat.new"), key="chat.new", icon=":material/add_comment:", on_click=new_conversation, width="stretch")
    query = st.text_input(t("chat.search"), key="chat.search", icon=":material/search:")
    try:
        listed = store.list(owner, query)
    except AppError as exc:
        listed = []
        st.error(exc.message(lang), icon=":material/database:")
    if query and not listed:
        st.caption(t("chat.search_none", query=query))
    elif not listed:
        st.caption(t("chat.no_conversations"))
    for conv in listed:
        st.button(conv.title, key=f"chat.open.{conv.id}", on_click=open_conversation, args=(conv.id,),
                  type="primary" if conv.id == SAVE["id"] else "secondary", width="stretch",
                  help=conv.snippet or conv.updated_at)
    if SAVE["id"]:
        with st.expander(t("chat.current"), icon=":material/edit:"):
            current_title = next((c.title for c in listed if c.id == SAVE["id"]), "")
            title_key = f"chat.title_input.{SAVE['id']}"
            st.text_input(t("chat.title_input"), value=current_title, key=title_key)
            st.button(t("chat.rename"), key="chat.rename", on_click=rename_conversation, args=(title_key,))
            if st.checkbox(t("chat.delete_confirm"), key="chat.delete_confirm"):
                st.button(t("chat.delete"), key="chat.delete", type="primary", icon=":material/delete:",
                          on_click=delete_conversation)
    if account:
        st.caption(t("chat.signed_in", account=account))
        st.button(t("chat.logout"), key="chat.logout", on_click=st.logout, icon=":material/logout:")
    elif login_configured():
        st.button(t("chat.login"), key="chat.login", on_click=st.login, icon=":material/login:")
    if not account and not shared_workspace():
        st.caption(t("chat.user_hint"))

st.header(t("chat.title"))
if S["chat.notice"]:
    kind, text = S["chat.notice"]
    getattr(st, kind)(text)
    S["chat.notice"] = None

try:
    conn = session.connection()
except AppError as exc:
    session.show_error(exc)
    st.stop()

saved = saved_presets()
options = presets.choices(saved)
if S["chat.preset"] not in {p.id for p in options}:
    S["chat.preset"] = "general"
top = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
top[0].selectbox(t("chat.preset"), [p.id for p in options], key="chat.preset", on_change=choose_preset,
                 format_func=lambda pid: next(p.label(lang) for p in options if p.id == pid))
top[1].toggle(t("chat.compare"), key="chat.compare", help=t("chat.compare_help"))
top[1].toggle(t("chat.agent"), key="chat.agent", help=t("chat.agent_help"))
mcp_servers: list = []
if S.get("chat.agent"):
    mcp_servers, _ = agent.session_servers(S.get("app.mcp_urls", []))  # problems are shown on the settings page
    if mcp_servers:
        names = [c.name for c in mcp_servers]
        chosen = st.multiselect(t("agent.mcp.use"), names, default=[n for n in S.get("chat.mcp", names) if n in names],
                                key="chat.mcp.widget")
        S["chat.mcp"] = chosen
        mcp_servers = [c for c in mcp_servers if c.name in chosen]

if S["chat.messages"]:
    conv = Conversation(id=SAVE["id"] or "-", owner=owner, title="", preset=S["chat.preset"],
                        system=S["chat.system"])
    if SAVE["id"]:
        try:
            conv = store.get(owner, SAVE["id"])
        except AppError:
            pass
    conv.title = conv.title or turns.title_from(next((m["content"] for m in S["chat.messages"]
                                                      if m["role"] == "user"), "chat"))
    history = as_messages()
    export_name = storage.safe_filename(conv.title, "chat")
    top[2].download_button(t("chat.export_md"), turns.to_markdown(conv, history, lang, stats_line),
                           file_name=f"{export_name}.md", mime="text/markdown", key="chat.export_md",
                           icon=":material/download:", on_click="ignore")
    top[3].download_button(t("chat.export_json"), turns.to_json(conv, history), file_name=f"{export_name}.json",
                           mime="application/json", key="chat.export_json", icon=":material/data_object:",
                           on_click="ignore")

with st.expander(t("chat.system_prompt"), expanded=False):
    st.text_area(t("chat.system_prompt"), key="chat.system", help=t("chat.system_help"),
                 label_visibility="collapsed", on_change=remember_prompt)
    examples = current_preset().examples.get(lang) or []
    if examples:
        st.caption(t("chat.examples_note", count=len(examples)))
    name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
    name_col.text_input(t("chat.preset_name"), key="chat.preset_name")
    save_col.button(t("chat.preset_save"), key="chat.preset_save", on_click=save_preset,
                    icon=":material/bookmark_add:")
    if S["chat.preset"].startswith(presets.CUSTOM_PREFIX):
        st.button(t("chat.preset_delete"), key="chat.preset_delete", on_click=delete_preset,
                  icon=":material/bookmark_remove:")

with st.container(horizontal=True, vertical_alignment="bottom"):
    bases = kb.list_bases(viewer=owner)  # the same owner id as session.owner(): private bases stay private
    st.toggle(t("chat.use_kb"), key="chat.use_kb", disabled=not bases, help=None if bases else t("chat.kb_none"))
    if S.get("chat.use_kb") and bases:
        st.selectbox(t("chat.kb_base"), bases, key="chat.kb_base")

if S.get("chat.compare"):
    names = session.configured_providers()
    if conn.provider not in names:
        names.insert(0, conn.provider)
    c1, c2 = st.columns(2)
    c1.selectbox(t("chat.compare_provider"), names, key="chat.cmp_provider",
                 index=names.index(conn.provider) if conn.provider in names else 0)
    c2.selectbox(t("chat.compare_model"), session.model_choices(S["chat.cmp_provider"]) or [""], key="chat.cmp_model")

with st.expander(t("chat.attach"), icon=":material/attach_file:", expanded=bool(S["chat.attachments"])):
    upload_key = f"chat.upload.{S['chat.upload_round']}"
    st.file_uploader(t("chat.attach"), type=[s.lstrip(".") for s in turns.ATTACHABLE], key=upload_key,
                     on_change=attach_file, args=(upload_key,), label_visibility="collapsed")
    base = turns.model_messages(as_messages(), current_preset(), lang)
    for a in S["chat.attachments"]:
        st.caption(t("chat.attached", name=a["name"], tokens=a["tokens"]))
        for note in a.get("notes") or []:
            st.caption(note)
        for warning in turns.attachment_warnings(conn, a, base, S["chat.system"], lang):
            st.warning(warning, icon=":material/warning:")
    if S["chat.attachments"]:
        st.checkbox(t("chat.attach_fit"), key="chat.attach_fit")
        st.button(t("chat.attach_remove"), key="chat.attach_remove", on_click=remove_attachments)

if SAVE["unsaved"]:
    st.warning(t("chat.unsaved", error=SAVE["unsaved"]), icon=":material/database:")
    st.button(t("chat.retry_save"), key="chat.retry_save", on_click=retry_saving, icon=":material/sync:")

messages = S["chat.messages"]
if not messages:
    st.caption(t("chat.empty", model=f"{conn.provider} · {conn.model}"))
show_conversation(messages)

pending = S.pop("chat.pending", None)
last = last_question_index()
if messages and last is not None and pending is None:
    if not any(m["role"] == "assistant" for m in messages[last + 1:]):
        st.caption(t("chat.failed"))
    action_cols = st.columns([1, 3])
    action_cols[0].button(t("chat.regenerate"), key="chat.regenerate", icon=":material/refresh:", on_click=regenerate)
    with action_cols[1].expander(t("chat.edit"), icon=":material/edit_note:"):
        edit_key = f"chat.edit.{messages[last].get('id') or last}"
        st.text_area(t("chat.edit"), value=messages[last]["content"], key=edit_key, label_visibility="collapsed")
        st.button(t("chat.resend"), key="chat.resend", on_click=resend_edited, args=(edit_key,), icon=":material/send:")

draft_slot = st.empty()
if S["chat.draft"] is not None and pending is None:
    show_draft(draft_slot)

question = st.chat_input(t("chat.input"))
if question is not None:
    pending = {"kind": "ask", "text": question, "attachments": S["chat.attachments"]}
if pending is not None:
    if pending["kind"] == "ask" and S.get("chat.agent"):
        ask_agent(pending["text"], mcp_servers)
    elif pending["kind"] == "ask":
        ask(pending["text"], pending["attachments"], draft_slot)
    else:
        answer_again()
