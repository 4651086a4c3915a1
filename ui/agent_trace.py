"""Drawing an agent run in a page: each step as it happens inside a status box, collapsed once the answer is in."""
from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from services import i18n
from services.agent import AgentEvent, chart_figure, step_body, step_label
from services.errors import AppError


def show_step(event: AgentEvent, lang: str, key_prefix: str = "live") -> None:
    """One step: heading, then arguments / result as code (never as HTML), then a chart for table results."""
    if event.kind == "thought":
        st.markdown(f"**{step_label(event, lang)}**")
        st.text(event.text)
    elif event.kind == "tool_call":
        st.markdown(f"**{step_label(event, lang)}**")
        st.code(step_body(event), language="json")
    elif event.kind == "observation":
        if event.error:
            st.warning(f"{step_label(event, lang)}: {event.text}", icon="⚠️")
            return
        st.markdown(f"**{step_label(event, lang)}**")
        st.code(step_body(event), language="json")
        figure = chart_figure(event, lang)
        if figure is not None:
            st.plotly_chart(figure, width="stretch", key=f"agent-chart-{key_prefix}-{event.step}-{event.call_id}")
        flagged = (event.data or {}).get("flagged")
        if flagged:
            st.warning(i18n.t("agent.notice.injection", lang, phrases="; ".join(flagged[:3])), icon="🛡️")
    elif event.kind == "notice":
        st.info(event.text)


def show_run(events: Iterable[AgentEvent], lang: str) -> AgentEvent | None:
    """Draw steps while they arrive; returns the answer event (the caller shows the answer text below)."""
    answer: AgentEvent | None = None
    steps = 0
    with st.status(i18n.t("agent.running", lang), expanded=True) as box:
        try:
            for event in events:
                if event.kind == "answer":
                    answer = event
                    break
                steps = max(steps, event.step)
                show_step(event, lang)
        except AppError as exc:
            answer = AgentEvent("answer", exc.message(lang), error=True, status="error")
        failed = answer is None or answer.error
        box.update(label=i18n.t("agent.trace_failed" if failed else "agent.trace_done", lang, steps=steps),
                   state="error" if failed else "complete", expanded=False)
    return answer
