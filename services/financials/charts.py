"""Plotly charts over several reports: revenue beside net profit, and the debt ratio."""
from __future__ import annotations

import plotly.graph_objects as go

from services import i18n
from services.financials.export import debt_ratio
from services.financials.messages import field_name


def report_label(d: dict) -> str:
    """Short name for a report on an axis: company (or file) and year."""
    name = d.get("short_name") or d.get("company_name") or d.get("file") or "?"
    year = d.get("fiscal_year")
    return f"{name} {year}" if year else str(name)


def _unique_labels(reports: list[dict]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for d in reports:
        label = report_label(d)
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def revenue_profit_chart(reports: list[dict], lang: str) -> go.Figure:
    """Grouped bars: revenue and net profit of each report, in its own currency."""
    labels = _unique_labels(reports)
    fig = go.Figure()
    for key in ("revenue", "net_profit"):
        values = [(d.get("fields", {}).get(key) or {}).get("value") for d in reports]
        fig.add_bar(name=field_name(key, lang), x=labels, y=values,
                    customdata=[d.get("currency") or "" for d in reports],
                    hovertemplate="%{x}<br>%{y:,.0f} %{customdata}<extra>" + field_name(key, lang) + "</extra>")
    fig.update_layout(barmode="group", title=i18n.t("fin.chart_rev_profit", lang), yaxis_tickformat="~s",
                      legend_orientation="h", margin=dict(t=50, b=30))
    return fig


def debt_ratio_chart(reports: list[dict], lang: str) -> go.Figure:
    """Bars of total liabilities / total assets per report."""
    labels = _unique_labels(reports)
    ratios = [debt_ratio(d) for d in reports]
    fig = go.Figure(go.Bar(x=labels, y=ratios, text=[None if r is None else f"{r:.1%}" for r in ratios],
                           textposition="outside", name=i18n.t("fin.col.debt_ratio", lang)))
    fig.update_layout(title=i18n.t("fin.chart_debt", lang), yaxis_tickformat=".0%", yaxis_range=[0, 1],
                      margin=dict(t=50, b=30))
    return fig
