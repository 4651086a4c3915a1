"""Contract review page: upload, choose your side, see every clause's risk, export the report."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from services import i18n, storage
from services.contracts import CONTRACT_TYPES, ROLES, analyse_text, guess_type, read_contract
from services.contracts.report import RISK_COLOURS, highlighted_html, summary_figure, to_docx, to_markdown
from ui import long_job
from ui.long_job import stopped_notice
from ui.session import connection, lang, show_error, uploads_dir

L = lang()


def t(key: str, **params) -> str:
    return i18n.t(key, L, **params)


@st.cache_data(show_spinner=False, max_entries=20)
def read_upload(data: bytes, name: str, folder: str) -> tuple[str, list]:
    """Text of an uploaded contract (cached per file content)."""
    path = storage.save_upload(Path(folder), name, data)  # a safe name of at most 200 bytes, inside folder
    return read_contract(path, name=name)


st.session_state.setdefault("contract.report", None)

st.title(t("contract.title"))
st.caption(t("contract.intro"))

uploaded = st.file_uploader(t("contract.upload"), type=["pdf", "docx", "txt", "md"], key="contract.file")
pasted = st.text_area(t("contract.paste"), key="contract.pasted", height=120)

left, middle, right = st.columns([1, 1, 1])
kind = left.selectbox(t("contract.type"), CONTRACT_TYPES, key="contract.kind",
                      format_func=lambda k: t(f"contract.type.{k}"))
role_a, role_b = ROLES[kind]
side = middle.selectbox(t("contract.side"), ["b", "a", "agency", "neutral"], key="contract.side",
                        format_func=lambda s: t(f"contract.role.{role_b if s == 'b' else role_a}") if s in ("a", "b")
                        else t(f"contract.side.{s}"))
use_model = right.toggle(t("contract.use_model"), value=True, key="contract.use_model", help=t("contract.use_model_help"))

stopped_notice("contract", L)
if st.button(t("contract.analyse"), type="primary", key="contract.run"):
    if uploaded is None and not pasted.strip():
        st.error(t("contract.no_file"))
    else:
        name = uploaded.name if uploaded is not None else t("contract.pasted_name")
        try:
            if uploaded is not None:
                text, notes = read_upload(uploaded.getvalue(), uploaded.name, str(uploads_dir()))
            else:
                text, notes = pasted, []
            if guess_type(text) not in (kind, "other"):
                st.info(t("contract.type_hint", kind=t(f"contract.type.{guess_type(text)}")))
            conn = connection() if use_model else None

            def review(job: long_job.Job):
                def progress(done: int, total: int) -> None:
                    job.report(done / max(total, 1), t("contract.progress", done=min(done + 1, total), total=total))
                return analyse_text(text, contract_type=kind, side=side, conn=conn, lang=L, file=name,
                                    progress=progress)

            report = long_job.run(review, key="contract", lang=L, label=t("contract.reading", file=name),
                                  what=t("contract.analyse"))
            report.notes = notes + report.notes
            st.session_state["contract.report"] = report
        except Exception as exc:  # noqa: BLE001 - shown as one message; the previous report is kept
            show_error(exc)

report = st.session_state["contract.report"]
if report is not None:
    for note in report.note_texts(L):
        (st.warning if note.startswith("⚠") else st.info)(note)
    st.caption(t("contract.model_used", model=report.model) if report.model else t("contract.rules_only"))
    summary = report.summary()
    if report.not_assessed_text(L):  # above the tabs: unrated clauses must not read as safe ones
        st.warning(report.not_assessed_text(L), icon=":material/help:")
    tab_summary, tab_clauses, tab_text, tab_export = st.tabs(
        [t("contract.tab.summary"), t("contract.tab.clauses"), t("contract.tab.text"), t("contract.tab.export")])

    with tab_summary:
        st.caption(t("contract.clauses_found", count=summary["clauses"], method=t(f"contract.method.{report.method}")))
        cols = st.columns(4)
        for col, risk in zip(cols, ("high", "medium", "low", "")):
            col.metric(t(f"contract.risk.{risk}"), summary["by_risk"][risk or "none"])
        st.plotly_chart(summary_figure(report, L), key="contract.chart")
        st.subheader(t("contract.top_risks"))
        top = report.top_risks()
        if not top:
            (st.success if not report.not_assessed() else st.warning)(report.no_risk_text(L))
        for c in top:
            with st.expander(f"{'🔴' if c.risk == 'high' else '🟠'} {c.id} {c.title} · {t('contract.risk.' + c.risk)}"):
                st.write(c.reason)
                if c.suggestion:
                    st.markdown(f"**{t('contract.col.suggestion')}**")
                    st.text(c.suggestion)
                st.text(c.text)
        if report.one_sided():
            st.subheader(t("contract.one_sided"))
            for f in report.one_sided():
                st.write(f"{'、'.join(f.clause_ids)}：{report.finding_text(f, L)}")
        st.subheader(t("contract.missing"))
        missing = report.missing_texts(L)
        if missing:
            for item in missing:
                st.write(f"- {item}")
        else:
            st.success(t("contract.none_missing"))

    with tab_clauses:
        table = pd.DataFrame([{
            t("contract.col.id"): c.id,
            t("contract.col.title"): c.title,
            t("contract.col.favours"): report.favours_label(c.favours, L),
            t("contract.col.risk"): t(f"contract.risk.{c.risk}"),
            t("contract.col.reason"): c.reason,
            t("contract.col.suggestion"): c.suggestion,
            t("contract.col.flags"): "；".join(i18n.t(f"contract.flag.{f}", L) for f in c.flags),
        } for c in report.clauses])
        colour = {t(f"contract.risk.{r}"): RISK_COLOURS[r] for r in RISK_COLOURS}
        styled = table.style.map(lambda v: f"background-color: {colour.get(v, '')}" if v in colour else "",
                                 subset=[t("contract.col.risk")])
        st.dataframe(styled, hide_index=True, key="contract.table")

    with tab_text:
        st.caption(t("contract.legend"))
        # Every piece of contract text inside is passed through html.escape by highlighted_html.
        st.markdown(highlighted_html(report, L), unsafe_allow_html=True)

    with tab_export:
        base = re.sub(r"\.\w+$", "", report.file) or "contract"
        st.download_button(t("contract.download.md"), to_markdown(report, L), file_name=f"{base}-review.md",
                           mime="text/markdown", key="contract.dl_md", on_click="ignore")
        st.download_button(t("contract.download.docx"), to_docx(report, L), file_name=f"{base}-review.docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           key="contract.dl_docx", on_click="ignore")
        st.download_button(t("contract.download.json"),
                           json.dumps(report.to_json(), ensure_ascii=False, indent=2),
                           file_name=f"{base}-review.json", mime="application/json", key="contract.dl_json",
                           on_click="ignore")
