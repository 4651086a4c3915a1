"""What a page shows for each agent step: a label, a body and, for table results, a chart."""
from __future__ import annotations

import json

from services import i18n
from services.agent.loop import AgentEvent


def step_label(event: AgentEvent, lang: str) -> str:
    """A one-line heading: 'Tool call · calculator', 'Observation · calculator', 'Tool error · …'."""
    key = "agent.event.error" if event.error and event.kind == "observation" else f"agent.event.{event.kind}"
    label = i18n.t(key, lang)
    if event.kind == "tool_call" and event.data.get("automatic"):
        label = i18n.t("agent.event.automatic_call", lang)  # the app made this call, not the model
    return f"{label} · {event.tool}" if event.tool else label


def step_body(event: AgentEvent) -> str:
    """The step's content as plain text (arguments pretty-printed; long results cut)."""
    if event.kind == "tool_call":
        return json.dumps(event.args or {}, ensure_ascii=False, indent=2)
    text = event.text
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except (ValueError, TypeError):
        pass
    return text if len(text) <= 4000 else text[:4000] + " …"


def chart_figure(event: AgentEvent, lang: str):
    """A Plotly figure for a table-query observation that suggested a chart; None otherwise."""
    data = event.data or {}
    if event.kind != "observation" or not data.get("chart") or not data.get("rows"):
        return None
    import pandas as pd
    from services.chatbi.charts import ChartSpec, figure
    spec = ChartSpec(**data["chart"])
    if spec.kind in ("table", "none", "number"):
        return None
    frame = pd.DataFrame(data["rows"], columns=data["columns"])
    try:
        return figure(frame, spec, lang, title=data.get("question") or None)
    except Exception:  # noqa: BLE001 - a chart that cannot be drawn leaves the table and the text
        return None
