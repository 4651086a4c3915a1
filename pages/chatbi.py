"""ChatBI: upload spreadsheets or connect a database, see each table's profile, ask questions, get SQL, a table,
a chart and a summary."""
import pandas as pd
import streamlit as st

from services import i18n, storage
from services.chatbi import KINDS, Workspace, figure, switch_kind, to_csv_bytes, to_excel_bytes
from services.chatbi.assistant import escape_markdown
from services.chatbi.external import masked_url
from services.chatbi.profile import format_range, format_top
from services.errors import AppError
from ui import session
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
    path = storage.save_upload(session.uploads_dir(), upload.name, bytes(upload.getbuffer()))  # never outside it
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
    with st.expander(label, expanded=False):
        if profile:
            st.dataframe(pd.DataFrame([{
                t("bi.col.column"): c.name, t("bi.col.type"): c.type, t("bi.col.missing"): c.missing,
                t("bi.col.distinct"): c.distinct, t("bi.col.range"): format_range(c), t("bi.col.top"): format_top(c),
            } for c in profile.columns]), hide_index=True)
        else:
            st.dataframe(pd.DataFrame([{t("bi.col.column"): c.name, t("bi.col.type"): c.type} for c in info.columns]),
                         hide_index=True)
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
        if result is not None:
            frame = result.to_frame()
            st.caption(t("bi.result") + " · " + t("bi.rows_shown", rows=len(frame), seconds=f"{result.elapsed_s:.3f}"))
            if result.truncated:
                st.warning(t("bi.truncated", limit=len(frame)), icon=":material/content_cut:")
            st.dataframe(frame, hide_index=True)
            spec = answer.chart
            if spec is not None and len(frame):
                kind = st.selectbox(t("bi.chart_type"), KINDS, index=KINDS.index(spec.kind), key=f"bi.kind.{index}",
                                    format_func=lambda k, lang=lang: i18n.t(f"bi.chart.{k}", lang))
                shown = switch_kind(spec, kind, result.columns, result.rows)
                fig = figure(frame, shown, lang)
                if fig is not None:
                    st.plotly_chart(fig, key=f"bi.fig.{index}")
            st.markdown(f"**{t('bi.summary')}**")
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


def _connection():
    try:
        return session.connection()
    except AppError:
        return None  # edited SQL still runs; the summary is then the automatic one


for index, answer in enumerate(ws.conversation):
    show_answer(index, answer)

typed = st.chat_input(t("bi.question"), key="bi.chat_input")
question = typed or st.session_state.pop("bi.pending_question", None)
if question:
    try:
        conn = session.connection()
    except AppError as exc:
        session.show_error(exc)
    else:
        with st.status(t("bi.thinking"), expanded=False) as status:
            def on_attempt(n, attempt):
                if attempt.error is not None:
                    status.write(t("bi.attempt_failed", n=n, error=attempt.error.message(lang)))
                else:
                    status.write(t("bi.attempt", n=n))

            try:
                ws.ask(conn, question, lang, on_attempt=on_attempt)
                failed = None
            except AppError as exc:
                failed = exc
            status.update(state="complete")
        if failed is None:
            st.rerun()  # draw the new answer with the rest of the conversation
        session.show_error(failed)

if ws.conversation and st.button(t("bi.clear"), key="bi.clear_button", icon=":material/delete:"):
    ws.clear()
    st.rerun()
