"""Chat: conversations that last, role presets, attached files, two models side by side."""
from __future__ import annotations

import streamlit as st

from services import agent, kb, storage
from services.chat import presets, turns
from services.chat.store import Conversation, default_url, owner_for, shared_workspace
from services.chat_text import stats_line
from services.errors import AppError
from ui import session
from ui.chat_messages import show_conversation
from ui.chat_turns import (ChatTurns, browser_id, conversation_store, logged_in_account, login_configured,
                           start_state)
from ui.session import t

S = st.session_state
lang = session.lang()

# Started alone (AppTest) the page applies the deployment's start provider itself; under app.py the router did.
if session.apply_start_choice():
    st.rerun()

account = logged_in_account()
owner = owner_for(account, None if account else browser_id())
store = conversation_store(default_url())
start_state(lang)
SAVE = S["chat.save"]
chat = ChatTurns(store, owner, lang)

# -- the page -------------------------------------------------------------------------------------------------------
if SAVE.get("saving") is not None:
    SAVE["saving"].wait(timeout=15)  # an interrupted run may still be saving the answer it was writing
# A reload starts a new session: reopen the conversation named in the address, if it is this user's.
if SAVE["id"] is None and not S["chat.messages"] and st.query_params.get("c"):
    wanted = st.query_params.get("c")
    chat.open_conversation(wanted)
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
    st.button(t("chat.new"), key="chat.new", icon=":material/add_comment:", on_click=chat.new_conversation, width="stretch")
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
        st.button(conv.title, key=f"chat.open.{conv.id}", on_click=chat.open_conversation, args=(conv.id,),
                  type="primary" if conv.id == SAVE["id"] else "secondary", width="stretch",
                  help=conv.snippet or conv.updated_at)
    if SAVE["id"]:
        with st.expander(t("chat.current"), icon=":material/edit:"):
            current_title = next((c.title for c in listed if c.id == SAVE["id"]), "")
            title_key = f"chat.title_input.{SAVE['id']}"
            st.text_input(t("chat.title_input"), value=current_title, key=title_key)
            st.button(t("chat.rename"), key="chat.rename", on_click=chat.rename_conversation, args=(title_key,))
            if st.checkbox(t("chat.delete_confirm"), key="chat.delete_confirm"):
                st.button(t("chat.delete"), key="chat.delete", type="primary", icon=":material/delete:",
                          on_click=chat.delete_conversation)
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

saved = chat.saved_presets()
options = presets.choices(saved)
if S["chat.preset"] not in {p.id for p in options}:
    S["chat.preset"] = "general"
top = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
top[0].selectbox(t("chat.preset"), [p.id for p in options], key="chat.preset", on_change=chat.choose_preset,
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
    history = chat.as_messages()
    export_name = storage.safe_filename(conv.title, "chat")
    top[2].download_button(t("chat.export_md"), turns.to_markdown(conv, history, lang, stats_line),
                           file_name=f"{export_name}.md", mime="text/markdown", key="chat.export_md",
                           icon=":material/download:", on_click="ignore")
    top[3].download_button(t("chat.export_json"), turns.to_json(conv, history), file_name=f"{export_name}.json",
                           mime="application/json", key="chat.export_json", icon=":material/data_object:",
                           on_click="ignore")

with st.expander(t("chat.system_prompt"), expanded=False):
    st.text_area(t("chat.system_prompt"), key="chat.system", help=t("chat.system_help"),
                 label_visibility="collapsed", on_change=chat.remember_prompt)
    examples = chat.current_preset().examples.get(lang) or []
    if examples:
        st.caption(t("chat.examples_note", count=len(examples)))
    name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
    name_col.text_input(t("chat.preset_name"), key="chat.preset_name")
    save_col.button(t("chat.preset_save"), key="chat.preset_save", on_click=chat.save_preset,
                    icon=":material/bookmark_add:")
    if S["chat.preset"].startswith(presets.CUSTOM_PREFIX):
        st.button(t("chat.preset_delete"), key="chat.preset_delete", on_click=chat.delete_preset,
                  icon=":material/bookmark_remove:")

with st.container(horizontal=True, vertical_alignment="bottom"):
    bases = kb.list_bases(viewer=owner)  # the same owner id as session.owner(): private bases stay private
    chat.keep_kb_choice(bases)
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
                     on_change=chat.attach_file, args=(upload_key,), label_visibility="collapsed")
    base = turns.model_messages(chat.as_messages(), chat.current_preset(), lang)
    for a in S["chat.attachments"]:
        st.caption(t("chat.attached", name=a["name"], tokens=a["tokens"]))
        for note in a.get("notes") or []:
            st.caption(note)
        for warning in turns.attachment_warnings(conn, a, base, S["chat.system"], lang):
            st.warning(warning, icon=":material/warning:")
    if S["chat.attachments"]:
        st.checkbox(t("chat.attach_fit"), key="chat.attach_fit")
        st.button(t("chat.attach_remove"), key="chat.attach_remove", on_click=chat.remove_attachments)

if SAVE["unsaved"]:
    st.warning(t("chat.unsaved", error=SAVE["unsaved"]), icon=":material/database:")
    st.button(t("chat.retry_save"), key="chat.retry_save", on_click=chat.retry_saving, icon=":material/sync:")

messages = S["chat.messages"]
if not messages:
    st.caption(t("chat.empty", model=f"{conn.provider} · {conn.model}"))
show_conversation(messages)
live = st.container()  # a new turn is drawn where the conversation goes on, so the rerun after it replaces it in place

pending = S.pop("chat.pending", None)
last = chat.last_question_index()
if messages and last is not None and pending is None:
    if not any(m["role"] == "assistant" for m in messages[last + 1:]):
        st.caption(t("chat.failed"))
    action_cols = st.columns([1, 3])
    action_cols[0].button(t("chat.regenerate"), key="chat.regenerate", icon=":material/refresh:", on_click=chat.regenerate)
    with action_cols[1].expander(t("chat.edit"), icon=":material/edit_note:"):
        edit_key = f"chat.edit.{messages[last].get('id') or last}"
        st.text_area(t("chat.edit"), value=messages[last]["content"], key=edit_key, label_visibility="collapsed")
        st.button(t("chat.resend"), key="chat.resend", on_click=chat.resend_edited, args=(edit_key,), icon=":material/send:")

draft_slot = st.empty()
if S["chat.draft"] is not None and pending is None:
    chat.show_draft(draft_slot)

question = st.chat_input(t("chat.input"))
if question is not None:
    pending = {"kind": "ask", "text": question, "attachments": S["chat.attachments"]}
if pending is not None:
    with live:
        if pending["kind"] == "ask" and S.get("chat.agent"):
            chat.ask_agent(pending["text"], mcp_servers)
        elif pending["kind"] == "ask":
            chat.ask(pending["text"], pending["attachments"], draft_slot)
        else:
            chat.answer_again()
