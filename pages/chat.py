"""Chat: a conversation with the model chosen in the sidebar, streamed as it is written."""
import streamlit as st

from services import llm
from services.chat_text import stats_line
from services.errors import AppError
from ui import session
from ui.session import t

st.session_state.setdefault("chat.messages", [])
st.session_state.setdefault("chat.system", "")
messages = st.session_state["chat.messages"]

st.header(t("chat.title"))
with st.expander(t("chat.system_prompt"), expanded=False):
    st.text_area(t("chat.system_prompt"), key="chat.system", help=t("chat.system_help"), label_visibility="collapsed")


def show_message(message: dict) -> None:
    """One stored message with its thinking text, warnings and numbers."""
    with st.chat_message(message["role"]):
        if message.get("reasoning"):
            with st.expander(t("chat.thinking"), expanded=False):
                st.markdown(message["reasoning"])
        st.markdown(message["content"])
        if message.get("status") == "cut":
            st.warning(t("chat.cut"), icon=":material/warning:")
        if message.get("error"):
            st.error(message["error"], icon=":material/error:")
        if message.get("stats"):
            st.caption(stats_line(message["stats"], session.lang()))


try:
    conn = session.connection()
except AppError as exc:
    session.show_error(exc)
    st.stop()

if not messages:
    st.caption(t("chat.empty", model=f"{conn.provider} · {conn.model}"))
for message in messages:
    show_message(message)

question = st.chat_input(t("chat.input"))
if question is not None:
    history = [{"role": m["role"], "content": m["content"]} for m in messages if m.get("status") != "error"]
    history.append({"role": "user", "content": question})
    try:
        stream = llm.stream_chat(conn, history, system=st.session_state["chat.system"])
    except AppError as exc:
        session.show_error(exc)  # the conversation so far stays as it was
    else:
        messages.append({"role": "user", "content": question})
        with st.chat_message("user"):
            st.markdown(question)
        with st.chat_message("assistant"):
            thinking_slot = st.container()
            thinking = {"box": None, "text": ""}

            def answer_text():
                for kind, delta in stream.events():
                    if kind == "text":
                        yield delta
                        continue
                    if thinking["box"] is None:
                        thinking["box"] = thinking_slot.expander(t("chat.thinking_live"), expanded=True).empty()
                    thinking["text"] += delta
                    thinking["box"].markdown(thinking["text"])

            st.write_stream(answer_text())
        result = stream.result
        messages.append({"role": "assistant", "content": result.text, "reasoning": result.reasoning,
                         "status": result.status, "stats": result.stats(),
                         "error": result.error.message(session.lang()) if result.error else None})
        st.rerun()

if messages and st.button(t("chat.clear"), icon=":material/delete:"):
    messages.clear()
    st.rerun()
