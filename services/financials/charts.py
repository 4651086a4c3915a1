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


_PATTERN = {"verified": "", "derived": "/", "unverified": "/", "conflict": "x"}


def revenue_profit_chart(reports: list[dict], lang: str) -> go.Figure:
    """Grouped bars: revenue and net profit of each report in 亿元 / 万元 (millions / billions), bars of figures
    that are not verified hatched and labelled with their status."""
    from services.financials.export import display_scale
    from services.financials.messages import status_name
    labels = _unique_labels(reports)
    currencies = {d.get("currency") or "" for d in reports}
    values_all = [(d.get("fields", {}).get(k) or {}).get("value") for d in reports for k in ("revenue", "net_profit")]
    scale, unit = display_scale(values_all, lang, currencies.pop() if len(currencies) == 1 else None)
    fig = go.Figure()
    for key in ("revenue", "net_profit"):
        figs = [d.get("fields", {}).get(key) or {} for d in reports]
        values = [None if f.get("value") is None else f["value"] / scale for f in figs]
        statuses = [f.get("status", "missing") for f in figs]
        fig.add_bar(name=field_name(key, lang), x=labels, y=values,
                    marker_pattern_shape=[_PATTERN.get(s, "") for s in statuses],
                    text=[None if s == "verified" else status_name(s, lang) for s in statuses],
                    customdata=[[d.get("currency") or "", status_name(s, lang)] for d, s in zip(reports, statuses)],
                    hovertemplate="%{x}<br>%{y:,.2f} " + unit + " %{customdata[0]}<br>%{customdata[1]}<extra>"
                                  + field_name(key, lang) + "</extra>")
    fig.update_layout(barmode="group", title=i18n.t("fin.chart_rev_profit", lang),
                      yaxis_title=i18n.t("fin.chart_amount", lang, unit=unit), yaxis_tickformat=",.2~f",
                      legend_orientation="h", margin=dict(t=50, b=30))
    return fig


def debt_ratio_chart(reports: list[dict], lang: str) -> go.Figure:
    """Bars of total liabilities / total assets per report."""
    labels = _unique_labels(reports)
    ratios = [debt_ratio(d) for d in reports]
    order = ("conflict", "missing", "unverified", "derived", "verified")
    weakest = [min(((d.get("fields", {}).get(k) or {}).get("status", "missing") for k in ("total_assets", "total_liabilities")),
                   key=lambda s: order.index(s) if s in order else 0) for d in reports]
    fig = go.Figure(go.Bar(x=labels, y=ratios, text=[None if r is None else f"{r:.1%}" for r in ratios],
                           marker_pattern_shape=[_PATTERN.get(s, "") for s in weakest],
                           textposition="outside", name=i18n.t("fin.col.debt_ratio", lang)))
    fig.update_layout(title=i18n.t("fin.chart_debt", lang), yaxis_tickformat=".0%", yaxis_range=[0, 1],
                      margin=dict(t=50, b=30))
    return fig
