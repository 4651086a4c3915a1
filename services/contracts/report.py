"""The review as Markdown, Word, highlighted HTML and a Plotly chart."""
from __future__ import annotations

import html
import io

from services import i18n
from services.contracts.analysis import ContractReport

RISK_COLOURS = {"high": "#f8d0cc", "medium": "#fde7c2", "low": "#d9f2dd", "": "#eeeeee"}
RISK_STRONG = {"high": "#d93025", "medium": "#f29900", "low": "#1e8e3e", "": "#9e9e9e"}


def _risk(report: ContractReport, risk: str, lang: str) -> str:
    return i18n.t(f"contract.risk.{risk}", lang)


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def to_markdown(report: ContractReport, lang: str | None = None) -> str:
    """The report as Markdown: summary, top risks, one-sidedness, missing clauses, every clause."""
    lang = lang or report.lang
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    s = report.summary()
    lines = [f"# {t('contract.report.title', file=report.file)}", "",
             t("contract.report.meta", side=report.side_label(lang), kind=t(f"contract.type.{report.contract_type}")),
             "", f"_{t('contract.report.disclaimer')}_", "", f"## {t('contract.report.summary')}", ""]
    lines.append("- " + t("contract.clauses_found", count=s["clauses"], method=t(f"contract.method.{report.method}")))
    lines.append("- " + t("contract.report.by_risk", **s["by_risk"]))
    comma, colon = ("，", "：") if lang == "zh" else (", ", ": ")
    parts = comma.join(f"{report.favours_label('' if k == 'unknown' else k, lang)} {v}"
                     for k, v in s["by_favours"].items())
    lines.append("- " + t("contract.report.by_favours", parts=parts))
    if report.model:
        lines.append("- " + t("contract.model_used", model=report.model))
    else:
        lines.append("- " + t("contract.rules_only"))
    for note in report.note_texts(lang):
        lines.append(f"- {note}")
    lines += ["", f"## {t('contract.top_risks')}", ""]
    top = report.top_risks()
    if report.not_assessed_text(lang):
        lines.insert(lines.index(f"## {t('contract.report.summary')}") + 2, f"**{report.not_assessed_text(lang)}**")
        lines.insert(lines.index(f"## {t('contract.report.summary')}") + 3, "")
    if not top:
        lines.append(report.no_risk_text(lang))
    for c in top:
        lines.append(f"- **{c.id} {c.title}** ({_risk(report, c.risk, lang)}){colon}{_md_cell(c.reason)}")
        if c.suggestion:
            lines.append(f"  - {t('contract.col.suggestion')}{colon}{_md_cell(c.suggestion)}")
    one_sided = report.one_sided()
    if one_sided:
        lines += ["", f"## {t('contract.one_sided')}", ""]
        for f in one_sided:
            lines.append(f"- {comma.join(f.clause_ids)}{colon}{report.finding_text(f, lang)}")
    lines += ["", f"## {t('contract.missing')}", ""]
    missing = report.missing_texts(lang)
    lines += [f"- {m}" for m in missing] or [t("contract.none_missing")]
    lines += ["", f"## {t('contract.report.clauses')}", "",
              "| " + " | ".join(t(f"contract.col.{k}") for k in ("id", "title", "favours", "risk", "reason",
                                                                "suggestion", "flags")) + " |",
              "|" + "---|" * 7]
    for c in report.clauses:
        flags = "; ".join(i18n.t(f"contract.flag.{f}", lang) for f in c.flags)
        notes = "; ".join(c.rule_notes)
        reason = c.reason if all(n in c.reason for n in c.rule_notes) else f"{c.reason} [{notes}]"
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            c.id, c.title, report.favours_label(c.favours, lang), _risk(report, c.risk, lang), reason,
            c.suggestion, flags)) + " |")
    return "\n".join(lines) + "\n"


def to_docx(report: ContractReport, lang: str | None = None) -> bytes:
    """The report as a Word document (python-docx), risk cells coloured."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from services.exports import xml_safe

    lang = lang or report.lang
    report = xml_safe(report)  # a BEL in a file name or a form feed in the text must not break the export
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    doc = Document()
    doc.add_heading(t("contract.report.title", file=report.file), level=0)
    doc.add_paragraph(t("contract.report.meta", side=report.side_label(lang),
                        kind=t(f"contract.type.{report.contract_type}")))
    doc.add_paragraph(t("contract.report.disclaimer")).italic = True
    s = report.summary()
    doc.add_heading(t("contract.report.summary"), level=1)
    doc.add_paragraph(t("contract.clauses_found", count=s["clauses"], method=t(f"contract.method.{report.method}")),
                      style="List Bullet")
    doc.add_paragraph(t("contract.report.by_risk", **s["by_risk"]), style="List Bullet")
    doc.add_paragraph(t("contract.model_used", model=report.model) if report.model else t("contract.rules_only"),
                      style="List Bullet")
    for note in report.note_texts(lang):
        doc.add_paragraph(note, style="List Bullet")
    doc.add_heading(t("contract.top_risks"), level=1)
    for c in report.top_risks() or []:
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(f"{c.id} {c.title}（{_risk(report, c.risk, lang)}）：").bold = True
        p.add_run(c.reason)
        if c.suggestion:
            doc.add_paragraph(f"{t('contract.col.suggestion')}：{c.suggestion}", style="List Bullet 2")
    if not report.top_risks():
        doc.add_paragraph(report.no_risk_text(lang))
    if report.one_sided():
        doc.add_heading(t("contract.one_sided"), level=1)
        for f in report.one_sided():
            doc.add_paragraph(f"{'、'.join(f.clause_ids)}：{report.finding_text(f, lang)}", style="List Bullet")
    doc.add_heading(t("contract.missing"), level=1)
    for m in report.missing_texts(lang) or [t("contract.none_missing")]:
        doc.add_paragraph(m, style="List Bullet")
    doc.add_heading(t("contract.report.clauses"), level=1)
    cols = ("id", "title", "favours", "risk", "reason", "suggestion")
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    for cell, key in zip(table.rows[0].cells, cols):
        cell.text = t(f"contract.col.{key}")
    for c in report.clauses:
        row = table.add_row().cells
        values = (c.id, c.title, report.favours_label(c.favours, lang), _risk(report, c.risk, lang), c.reason,
                  c.suggestion)
        for cell, value in zip(row, values):
            cell.text = value
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:fill"), RISK_COLOURS[c.risk].lstrip("#"))
        row[3]._tc.get_or_add_tcPr().append(shading)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def highlighted_html(report: ContractReport, lang: str | None = None) -> str:
    """The original text as HTML with medium/high clauses marked; every piece of contract text is escaped."""
    lang = lang or report.lang
    out = []
    pos = 0
    for c in sorted(report.clauses, key=lambda c: c.start):
        if c.start < pos:
            continue
        out.append(html.escape(report.text[pos:c.start]))
        body = html.escape(report.text[c.start:c.end])
        if c.risk in ("high", "medium"):
            tip = html.escape(f"{c.id} · {i18n.t('contract.risk.' + c.risk, lang)} · {c.reason}", quote=True)
            out.append(f'<mark style="background:{RISK_COLOURS[c.risk]};border-left:3px solid '
                       f'{RISK_STRONG[c.risk]};padding:0 2px" title="{tip}">{body}</mark>')
        else:
            out.append(body)
        pos = c.end
    out.append(html.escape(report.text[pos:]))
    return ('<div style="white-space:pre-wrap;font-family:inherit;line-height:1.7">' + "".join(out) + "</div>")


def summary_figure(report: ContractReport, lang: str | None = None):
    """A Plotly bar chart: clauses per risk level, stacked by the party they favour."""
    import plotly.graph_objects as go

    lang = lang or report.lang
    risks = ["high", "medium", "low", ""]
    favours = list(dict.fromkeys(c.favours for c in report.clauses))
    fig = go.Figure()
    palette = ["#5b8def", "#f28b82", "#a7a7a7", "#81c995", "#fdd663"]
    for i, fav in enumerate(favours):
        counts = [sum(1 for c in report.clauses if c.risk == r and c.favours == fav) for r in risks]
        fig.add_bar(name=report.favours_label(fav, lang), x=[i18n.t(f"contract.risk.{r}", lang) for r in risks],
                    y=counts, marker_color=palette[i % len(palette)])
    fig.update_layout(barmode="stack", title=i18n.t("contract.chart.title", lang),
                      xaxis_title=i18n.t("contract.chart.risk", lang), yaxis_title=i18n.t("contract.chart.count", lang),
                      legend_title=i18n.t("contract.chart.favours", lang), height=360, margin={"t": 50, "b": 40})
    return fig
