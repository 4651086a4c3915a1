"""ChatBI: upload spreadsheets or connect a database, see each table's profile, ask questions, get SQL, a table,
a chart and a summary."""
import pandas as pd
import streamlit as st

from services import i18n, storage
from services.chatbi import KINDS, Workspace, figure, switch_kind, to_csv_bytes, to_excel_bytes
from services.chatbi.assistant import escape_markdown
from services.chatbi.display import cell_text, display_frame
from services.chatbi.external import masked_url
from services.chatbi.profile import format_range, format_top
from services.errors import AppError, InputError
from ui import ai_column_panel, session
from ui.chatbi_job import QuestionJob
from ui.session import t

if "bi.workspace" not in st.session_state:
    # Each browser session gets its own DuckDB connection; it is never shared (no cache_resource here).
    st.session_state["bi.workspace"] = Workspace()
st.session_state.setdefault("bi.pending_question", None)
st.session_state.setdefault("bi.uploader_round", 0)
ws: Workspace = st.session_state["bi.workspace"]
lang = session.lang()

st.header(t("bi.title"))
st.caption(t("bi.intro"))

# ---------------------------------------------------------------- data in
uploads = st.file_uploader(t("bi.upload"), type=["csv", "tsv", "txt", "xlsx", "xlsm"], accept_multiple_files=True,
                           key=f"bi.uploader.{st.session_state['bi.uploader_round']}")
for upload in uploads or []:
    size = upload.size
    if (upload.name, size) in ws.load_errors:
        session.show_error(ws.load_errors[(upload.name, size)])
    if (upload.name, size) in ws.loaded:
        continue
    # The browser's file name is untrusted: "../x.csv" or a NUL byte must not choose where the bytes go.
    path = storage.save_upload(session.uploads_dir(), f"bi-{upload.file_id}-{upload.name}", upload.getvalue())
    bar = st.progress(0.0, text=t("bi.loading", file=upload.name))
    report = ws.add_upload(path, upload.name, size,
                           progress=lambda f, _text, bar=bar, name=upload.name: bar.progress(
                               min(1.0, f), text=t("bi.loading", file=name)))
    bar.empty()
    if report is None:
        continue
    if report.error is not None:
        session.show_error(report.error)  # the other files and the conversation are untouched
    for info in report.tables:
        st.toast(t("bi.loaded", table=info.name, rows=info.rows, cols=len(info.columns)))
        for warning in info.warnings:
            st.warning(t("bi.warning", text=warning), icon=":material/warning:")

with st.expander(t("bi.db_section"), expanded=False):
    url = st.text_input(t("bi.db_url"), key="bi.db_url", type="password")
    left, right = st.columns(2)
    if left.button(t("bi.db_connect"), key="bi.db_connect_button", disabled=not url):
        try:
            database = ws.connect(url.strip())
            st.success(t("bi.db_connected", url=masked_url(url), count=len(database.tables)))
        except AppError as exc:
            session.show_error(exc)
    if ws.database is not None and right.button(t("bi.db_disconnect"), key="bi.db_disconnect_button"):
        ws.disconnect()
        st.rerun()

if ws.database is not None:
    choice = st.radio(t("bi.source"), ["files", "db"], index=1 if ws.source_name == "db" else 0, horizontal=True,
                      key="bi.source_choice",
                      format_func=lambda s, lang=lang, url=ws.database.url: i18n.t("bi.source_files", lang)
                      if s == "files" else f"{i18n.t('bi.source_db', lang)} · {url}")
    ws.source_name = choice

# ---------------------------------------------------------------- tables and profiles
source = ws.source
if not source.table_names():
    st.info(t("bi.no_tables"), icon=":material/upload_file:")
    st.stop()

st.subheader(t("bi.tables"))
for info in source.describe():
    profile = ws.profiles.get(info.name) if source is ws.files else None
    rows = profile.rows if profile else info.rows
    label = f"{info.name}  ·  {t('bi.profile_rows', rows=rows if rows >= 0 else '?', cols=len(info.columns), source=info.source + (' / ' + info.sheet if info.sheet else ''))}"
    left_out = getattr(info, "total_labels", [])
    if left_out and not info.keep_totals:
        label += "  ·  " + t("bi.totals_excluded_short", count=len(left_out))  # seen without opening the table
    with st.expander(label, expanded=False):
        units = getattr(info, "units", {}) or {}
        if profile:
            st.dataframe(pd.DataFrame([{
                t("bi.col.column"): c.name, t("bi.col.type"): c.type, t("bi.col.unit"): units.get(c.name, ""),
                t("bi.col.missing"): c.missing, t("bi.col.distinct"): c.distinct, t("bi.col.range"): format_range(c),
                t("bi.col.top"): format_top(c),
            } for c in profile.columns]), hide_index=True)
        else:
            st.dataframe(pd.DataFrame([{t("bi.col.column"): c.name, t("bi.col.type"): c.type,
                                        t("bi.col.unit"): units.get(c.name, "")} for c in info.columns]),
                         hide_index=True)
        totals = getattr(info, "total_labels", [])
        if totals and source is ws.files:
            labels = "、".join(totals[:6]) + ("…" if len(totals) > 6 else "")
            if info.keep_totals:
                st.warning(t("bi.totals_kept", count=len(totals), labels=labels), icon=":material/functions:")
            else:
                st.info(t("bi.totals_excluded", count=len(totals), labels=labels), icon=":material/functions:")
            for check in info.checks:
                key = "bi.check_ok" if check.agrees else "bi.check_bad"
                text = t(key, label=check.label, column=check.column, stated=cell_text(check.stated),
                         computed=cell_text(check.computed), diff=cell_text(round(check.stated - check.computed, 4)))
                (st.caption if check.agrees else st.warning)(text)
            keep = st.toggle(t("bi.keep_totals"), value=info.keep_totals, key=f"bi.keep_totals.{info.name}")
            if keep != info.keep_totals:
                ws.keep_totals(info.name, keep)
                st.rerun()
        for warning in info.warnings:
            st.caption(t("bi.warning", text=warning))
        if source is ws.files and st.button(t("bi.remove_table"), key=f"bi.remove.{info.name}",
                                            icon=":material/delete:"):
            ws.remove_table(info.name)
            st.rerun()

suggestions = ws.suggestions(lang)
if suggestions:
    st.caption(t("bi.suggested"))
    for i, (column, text) in enumerate(zip(st.columns(len(suggestions)), suggestions)):
        if column.button(text, key=f"bi.suggestion.{i}", icon=":material/lightbulb:"):
            st.session_state["bi.pending_question"] = text


def _connection():
    try:
        return session.connection()
    except AppError:
        return None  # edited SQL still runs; the summary is then the automatic one


if source is ws.files and len(source.table_names()) > 1:
    if "bi.pick_tables" in st.session_state:  # a removed table leaves the choice
        st.session_state["bi.pick_tables"] = [n for n in st.session_state["bi.pick_tables"]
                                              if n in source.table_names()]
    st.multiselect(t("bi.pick_tables"), source.table_names(), key="bi.pick_tables")

# Open from the start for anyone who has begun typing SQL, so the box does not fold away on the next rerun.
with st.expander(t("bi.own_sql"), expanded=bool(st.session_state.get("bi.own_sql")), icon=":material/code:"):
    own_sql = st.text_area(t("bi.own_sql_box"), key="bi.own_sql", height=100,
                           placeholder=f'SELECT * FROM "{source.table_names()[0]}" LIMIT 10')
    if st.button(t("bi.own_sql_run"), key="bi.own_sql_run", icon=":material/play_arrow:"):
        if own_sql.strip():
            ws.run_sql(own_sql, _connection(), lang)
        else:
            session.show_error(InputError("bi.error.empty_sql"))


# ---------------------------------------------------------------- the conversation
def show_answer(index: int, answer) -> None:
    """One question with its attempts, table, chart, summary, editable SQL and downloads."""
    with st.chat_message("user"):
        st.markdown(escape_markdown(answer.question))
    with st.chat_message("assistant"):
        for n, attempt in enumerate(answer.attempts, 1):
            if attempt.error is None:
                continue
            with st.expander(t("bi.attempt_failed", n=n, error=attempt.error.message(lang)), expanded=False):
                st.code(attempt.sql or attempt.reply, language="sql")
        if answer.error is not None:
            session.show_error(answer.error)
        result = answer.result
        if answer.tables and len(source.table_names()) > 1:
            st.caption(t("bi.tables_used", tables="、".join(answer.tables)))
        if result is not None:
            frame = result.to_frame()
            st.caption(t("bi.result") + " · " + t("bi.rows_shown", rows=len(frame), seconds=f"{result.elapsed_s:.3f}"))
            if answer.units:
                st.caption(t("bi.units", units="；".join(f"{c} {u}" for c, u in answer.units.items())))
            if result.truncated:
                st.warning(t("bi.truncated", limit=len(frame)), icon=":material/content_cut:")
            st.dataframe(display_frame(frame), hide_index=True)
            spec = answer.chart
            if spec is not None and len(frame):
                kind = st.selectbox(t("bi.chart_type"), KINDS, index=KINDS.index(spec.kind), key=f"bi.kind.{index}",
                                    format_func=lambda k, lang=lang: i18n.t(f"bi.chart.{k}", lang))
                shown = switch_kind(spec, kind, result.columns, result.rows)
                fig = figure(frame, shown, lang, units=answer.units)
                if fig is not None:
                    st.plotly_chart(fig, key=f"bi.fig.{index}")
            st.markdown(f"**{t('bi.summary')}**")
            if answer.summary_pending:
                # The result and chart are already on the screen; the model's words come after.
                with st.spinner(t("bi.summary_pending")):
                    ws.summarize(index, _connection(), lang)
            st.markdown(escape_markdown(answer.summary))  # model text: no links or images
            left, right = st.columns(2)
            left.download_button(t("bi.download_csv"), to_csv_bytes(frame), file_name="chatbi_result.csv",
                                 mime="text/csv", key=f"bi.csv.{index}", icon=":material/download:")
            right.download_button(t("bi.download_xlsx"), to_excel_bytes(frame), file_name="chatbi_result.xlsx",
                                  mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                  key=f"bi.xlsx.{index}", icon=":material/download:")
        if answer.sql:
            edited = st.text_area(t("bi.sql"), value=answer.sql, key=f"bi.sql.{index}", height=120)
            if st.button(t("bi.rerun"), key=f"bi.rerun.{index}", icon=":material/play_arrow:"):
                new = ws.rerun(index, edited, _connection(), lang)
                if new.error is not None:
                    session.show_error(new.error)
                else:
                    st.session_state.pop(f"bi.kind.{index}", None)
                    st.rerun()


for index, answer in enumerate(ws.conversation):
    show_answer(index, answer)


def _step_text(job: QuestionJob) -> str:
    step, n, total = job.step
    return t(f"bi.step.{step}", n=n, total=total)


def follow(job: QuestionJob) -> None:
    """Show what the question's work is doing and for how long, with a stop button, until it ends."""
    with st.status(t("bi.thinking"), expanded=True) as status:
        stop_slot = st.empty()
        stop_slot.button(t("bi.stop"), key="bi.stop", icon=":material/stop_circle:", on_click=job.stop.set)
        while job.running:
            job.touch()
            status.update(label=t("bi.elapsed", step=_step_text(job), seconds=f"{job.elapsed:.0f}"))
            job.wait(0.5)
        stop_slot.empty()
        attempts = len(job.answer.attempts) if job.answer is not None else 0
        status.update(label=t("bi.done_in", attempts=attempts, seconds=f"{job.elapsed:.1f}"), state="complete",
                      expanded=False)
    st.session_state.pop("bi.job", None)
    if job.error is None:
        st.rerun()  # draw the new answer with the rest of the conversation
    session.show_error(job.error)


typed = st.chat_input(t("bi.question"), key="bi.chat_input")
question = typed or st.session_state.pop("bi.pending_question", None)
job = st.session_state.get("bi.job")
if job is not None:
    follow(job)  # a question still being worked on when the page was drawn again (after Stop, or a click)
elif question:
    try:
        conn = session.connection()
    except AppError as exc:
        session.show_error(exc)
    else:
        picked = st.session_state.get("bi.pick_tables") or None
        job = QuestionJob(lambda j, q=question, c=conn, p=picked: ws.ask(c, q, lang, tables=p, progress=j.progress,
                                                                         stop=j.stop))
        st.session_state["bi.job"] = job
        follow(job)

if source is ws.files:
    # Open while a run is going or its result is fresh, so its progress and chart are not folded away.
    busy = any(k in st.session_state for k in ("bi.col.job", "bi.col.last", "bi.col.stopped", "bi.col.error"))
    # A switch, not an expander: an expander's body runs on every rerun, and the form reads the whole table.
    if st.toggle(t("col.section"), value=busy, key="bi.col.open"):
        with st.container(border=True):
            ai_column_panel.panel(ws, lang)

if ws.conversation and st.button(t("bi.clear"), key="bi.clear_button", icon=":material/delete:"):
    ws.clear()
    st.rerun()
