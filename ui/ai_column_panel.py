"""The AI column on the ChatBI page: a prompt over every row of a loaded table, run as a background job.

The job survives reruns (it lives in session state) and writes each finished row to a checkpoint in the session's
own folder, so Stop, a click elsewhere or a killed server loses no finished row: the same settings resume. When
every row is done the table is replaced by the table with the new column, so ChatBI questions see it at once.
"""
from __future__ import annotations

import hashlib
import threading
import time

import pandas as pd
import streamlit as st

from services import ai_column, i18n
from services.chatbi import to_csv_bytes, to_excel_bytes
from services.errors import AppError
from ui import session
from ui.chatbi_job import StopRequest
from ui.session import t

i18n.register({
    "col.section": {"zh": "AI 列：让模型逐行回答（如舆情分析）", "en": "AI column: the model answers for every row (e.g. sentiment)"},
    "col.table": {"zh": "表", "en": "Table"},
    "col.column": {"zh": "模型读取的列", "en": "Column the model reads"},
    "col.prompt": {"zh": "对每一行的提示词", "en": "Prompt for every row"},
    "col.prompt_default": {"zh": "判断这条评论的情感：正向 或 负向", "en": "Is this review positive or negative?"},
    "col.choices": {"zh": "可选标签（逗号分隔，留空则自由回答）", "en": "Labels (comma-separated; empty for free text)"},
    "col.name": {"zh": "新列名", "en": "New column name"},
    "col.run": {"zh": "运行 AI 列（{rows} 行）", "en": "Run the AI column ({rows} rows)"},
    "col.resume": {"zh": "继续（已完成 {done}/{rows} 行）", "en": "Resume ({done}/{rows} rows done)"},
    "col.confirm": {"zh": "我已看到费用估算，继续运行", "en": "I have seen the cost estimate; run it"},
    "col.progress": {"zh": "已完成 {done}/{total} 行 · 预计还需 {left}", "en": "{done}/{total} rows done · {left} left"},
    "col.left_unknown": {"zh": "估算中", "en": "estimating"},
    "col.seconds": {"zh": "{s} 秒", "en": "{s} s"},
    "col.failed_rows": {"zh": "{n} 行失败（留空），再运行一次会只重做这些行。",
                        "en": "{n} rows failed (left empty); running again redoes only those rows."},
    "col.stopped": {"zh": "已停止：完成的 {done}/{total} 行已保存，点「继续」接着做。",
                    "en": "Stopped: the {done}/{total} finished rows are kept; press Resume to go on."},
    "col.done": {"zh": "新列「{name}」已加入表「{table}」，可以直接提问。", "en": "Column '{name}' added to table '{table}'; ask about it now."},
    "col.counts": {"zh": "标签分布", "en": "Label counts"},
    "col.label": {"zh": "标签", "en": "Label"},
    "col.count": {"zh": "行数", "en": "Rows"},
    "col.download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "col.download_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
})


class ColumnJob:
    """One AI column run in a worker thread: progress, a stop request, and the table it produced."""

    def __init__(self, df: pd.DataFrame, table: str, column: str, prompt: str, choices: list[str] | None,
                 name: str, conn, checkpoint, lang: str) -> None:
        self.table, self.name = table, name
        self.progress = ai_column.ColumnProgress(0, len(df), 0.0, None)
        self.seen = time.monotonic()
        self.stop = StopRequest(self)
        self.result: pd.DataFrame | None = None
        self.error: AppError | None = None
        self.stopped = False
        self._thread = threading.Thread(
            target=self._run, args=(df, column, prompt, choices, name, conn, checkpoint, lang), daemon=True)
        self._thread.start()

    def _run(self, df, column, prompt, choices, name, conn, checkpoint, lang) -> None:
        from services.llm import cancellable
        try:
            with cancellable(self.stop):  # a stop also ends the model request under way
                self.result = ai_column.run_column(df, column, prompt, conn, choices=choices, new_column=name,
                                                   checkpoint=checkpoint, lang=lang, stop_event=self.stop,
                                                   progress=self._report)
        except AppError as exc:
            self.error = exc
        self.stopped = self.stop.is_set() and self.progress.done < self.progress.total

    def _report(self, p: ai_column.ColumnProgress) -> None:
        self.progress = p

    def touch(self) -> None:
        """A page is still showing the job."""
        self.seen = time.monotonic()

    @property
    def running(self) -> bool:
        """Whether the run has not ended yet."""
        return self._thread.is_alive()

    def wait(self, seconds: float) -> None:
        """Wait up to seconds for the run to end."""
        self._thread.join(seconds)


def checkpoint_path(table: str, column: str):
    """Where this session keeps the finished rows of an AI column over table.column."""
    digest = hashlib.sha256(f"{table}\0{column}".encode("utf-8")).hexdigest()[:16]
    return session.uploads_dir() / f"ai-column-{digest}.jsonl"


def _choices(text: str) -> list[str] | None:
    parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    return parts or None


def _progress_text(p: ai_column.ColumnProgress) -> str:
    left = t("col.left_unknown") if p.left_s is None else t("col.seconds", s=f"{p.left_s:.0f}")
    return t("col.progress", done=p.done, total=p.total, left=left)


def follow(job: ColumnJob, ws) -> None:
    """Show rows done and time left with a Stop button until the run ends; then put the column in the table."""
    bar = st.progress(0.0, text=_progress_text(job.progress))
    stop_slot = st.empty()
    stop_slot.button(t("bi.stop"), key="bi.col.stop", icon=":material/stop_circle:", on_click=job.stop.set)
    while job.running:
        job.touch()
        p = job.progress
        bar.progress(p.done / p.total if p.total else 1.0, text=_progress_text(p))
        job.wait(0.5)
    st.session_state.pop("bi.col.job", None)
    if job.error is not None:
        st.session_state["bi.col.error"] = job.error
    elif job.stopped:
        st.session_state["bi.col.stopped"] = (job.progress.done, job.progress.total)
    elif job.result is not None:
        if job.table in ws.files.tables:
            ws.replace_table(job.table, job.result)
        st.session_state["bi.col.last"] = {"table": job.table, "name": job.name, "frame": job.result,
                                           "failed": job.progress.failed}
    st.rerun()


def panel(ws, lang: str) -> None:
    """The AI column form, its running job, and the last result with its chart and downloads."""
    job = st.session_state.get("bi.col.job")
    if job is not None:
        follow(job, ws)
        return
    error = st.session_state.pop("bi.col.error", None)
    if error is not None:
        session.show_error(error)
    stopped = st.session_state.pop("bi.col.stopped", None)
    if stopped:
        st.info(t("col.stopped", done=stopped[0], total=stopped[1]), icon=":material/stop_circle:")
    last = st.session_state.get("bi.col.last")
    if last is not None:
        _result(last, lang)

    tables = ws.files.table_names()
    table = st.selectbox(t("col.table"), tables, key="bi.col.table")
    if table is None:
        return
    df = ws.files.frame(table)
    column = st.selectbox(t("col.column"), list(df.columns), key="bi.col.column")
    prompt = st.text_area(t("col.prompt"), value=t("col.prompt_default"), key="bi.col.prompt", height=80)
    choices_text = st.text_input(t("col.choices"), value="正向,负向" if lang == "zh" else "positive,negative",
                                 key="bi.col.choices")
    name = st.text_input(t("col.name"), value="AI", key="bi.col.name").strip() or "AI"
    choices = _choices(choices_text)
    try:
        conn = session.connection()
    except AppError as exc:
        session.show_error(exc)
        return
    values = ["" if v is None else str(v) for v in df[column].tolist()]
    path = checkpoint_path(table, column)
    done = ai_column.checkpoint_rows(path, column, prompt, choices, conn, values)
    estimate = ai_column.estimate(conn, values, prompt, choices, lang, done=done)
    allowed = True
    if estimate.priced:
        st.info(estimate.text(lang), icon=":material/payments:")
        if estimate.rows >= ai_column.LARGE_RUN_ROWS:
            allowed = st.checkbox(t("col.confirm"), key="bi.col.confirm")
    label = t("col.resume", done=done, rows=len(values)) if 0 < done < len(values) else t("col.run", rows=len(values))
    if st.button(label, key="bi.col.run", icon=":material/play_arrow:", disabled=not allowed):
        if name in df.columns and name != column:
            df = df.drop(columns=[name])  # running again on a table that has the column: the new answers replace it
        st.session_state.pop("bi.col.last", None)
        job = ColumnJob(df, table, column, prompt, choices, name, conn, path, lang)
        st.session_state["bi.col.job"] = job
        follow(job, ws)


def _result(last: dict, lang: str) -> None:
    frame: pd.DataFrame = last["frame"]
    name = last["name"]
    st.success(t("col.done", name=name, table=last["table"]), icon=":material/check_circle:")
    if last.get("failed"):
        st.warning(t("col.failed_rows", n=last["failed"]), icon=":material/warning:")
    counts = pd.DataFrame(ai_column.label_counts(frame[name].replace("", pd.NA).dropna()),
                          columns=[t("col.label"), t("col.count")])
    if 0 < len(counts) <= 30:  # free-text answers have as many labels as rows: no chart then
        st.caption(t("col.counts"))
        st.bar_chart(counts, x=t("col.label"), y=t("col.count"))
    st.dataframe(frame.head(50), hide_index=True)
    left, right = st.columns(2)
    left.download_button(t("col.download_csv"), to_csv_bytes(frame), file_name=f"{last['table']}_ai.csv",
                         mime="text/csv", key="bi.col.csv", icon=":material/download:")
    right.download_button(t("col.download_xlsx"), to_excel_bytes(frame), file_name=f"{last['table']}_ai.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key="bi.col.xlsx", icon=":material/download:")
