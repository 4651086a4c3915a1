"""Drawing a conversation: questions, answers with their status, numbers and sources, compared answers side by side."""
from __future__ import annotations

import streamlit as st

from services import agent
from services.chat import grounding
from services.chat_text import stats_line
from ui.agent_trace import show_step
from ui.session import lang, t


def show_question(message: dict) -> None:
    """A question with the files that went with it."""
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
            st.caption(stats_line(message["stats"], lang()))
        if message.get("content"):
            with st.expander(t("chat.copy"), icon=":material/content_copy:", expanded=False):
                st.code(message["content"], language="markdown", wrap_lines=True)


def show_sources(sources: dict | None) -> None:
    """Knowledge-base sources under an answer: the quoted passages it cites, and every passage it was given."""
    if not sources:
        return
    trace = sources.get("trace") or []
    if trace:
        with st.expander(t("chat.agent_trace", steps=max(e.get("step", 0) for e in trace)), icon=":material/route:"):
            for event in trace:
                show_step(agent.AgentEvent(**event), lang(), key_prefix=str(id(sources)))
    for warning in sources.get("warnings") or []:
        st.warning(warning, icon=":material/report:")
    citations = sources.get("citations") or []
    for c in citations:
        with st.expander(t("kb.ask.source", n=c["n"], file=c["file"], page=c["page"]), icon=":material/description:"):
            st.text(c["quote"])
    if "given" not in sources:
        return  # answers saved before the passages were kept
    given = sources["given"]
    if not given:
        st.info(t("chat.kb_no_passages", base=sources.get("base") or ""), icon=":material/search_off:")
        return
    if not citations and not sources.get("not_found"):
        st.info(t("chat.kb_no_citation"), icon=":material/link_off:")
    with st.expander(t("chat.kb_given", count=len(given)), icon=":material/library_books:",
                     expanded=not citations):
        for line in grounding.passage_lines(sources, lang()):
            st.text(line)


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
