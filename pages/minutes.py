"""Meeting minutes page: upload a transcript or recording, pick a template, read, edit and export the minutes."""
from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from services import storage
from services.i18n import t
from services.minutes import (AUDIO_SUFFIXES, TRANSCRIPT_SUFFIXES, action_items_csv, can_transcribe, load_meeting,
                              make_minutes, parse_transcript_text, template_names,
                              to_docx, to_markdown)
from services.minutes.export import apply_edits, editable_rows, flag_texts, source_label
from services.minutes.audio import LOCAL
from services.minutes.generate import planned_parts
from services.minutes.recording import TranscriptionJob, describe, to_srt, to_txt
from services.providers import get_provider
from ui import long_job
from ui.long_job import stopped_notice
from ui.session import connection, lang, owner, provider_name, show_error, uploads_dir

L = lang()
st.session_state.setdefault("minutes.result", None)
st.session_state.setdefault("minutes.transcript", None)
st.session_state.setdefault("minutes.error", None)
st.session_state.setdefault("minutes.job", None)  # the recording being transcribed in the background


def plain(text: str) -> str:
    """Untrusted text shown as Markdown without becoming links, images or formatting."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text or "")


def read_input(conn, uploaded, pasted: str):
    """The transcript from the uploaded file (transcribed if audio) or from the pasted text."""
    if uploaded is not None:
        target = storage.save_upload(Path(uploads_dir()), f"minutes_{uploaded.name}", uploaded.getvalue())
        return load_meeting(conn, target, name=uploaded.name)
    return parse_transcript_text(pasted, t("minutes.page.pasted_name", L))


def start_transcription(uploaded, asr: str) -> TranscriptionJob:
    """A background job for the uploaded recording, kept per user and content so a re-upload resumes it."""
    data = uploaded.getvalue()
    key = hashlib.sha256(data + f"|{asr}|{L}".encode()).hexdigest()[:24]
    folder = storage.session_dir(hashlib.sha256(owner().encode()).hexdigest()[:32], "transcripts", key)
    audio = storage.save_upload(folder, "audio" + Path(uploaded.name).suffix.lower(), data)
    job = TranscriptionJob.create(folder, audio, uploaded.name, provider=asr, simplified=L == "zh")
    if job.state != "done":  # the same recording transcribed before is not done again
        job.start(None if asr == LOCAL else connection(asr))
    return job


def write_minutes(transcript) -> None:
    """Minutes of the transcript by the sidebar's model, with a progress bar; failures become a message."""
    bar = st.progress(0.0, text=t("minutes.progress.parse", L))
    try:
        conn = connection()
        st.session_state["minutes.transcript"] = transcript
        parts = planned_parts(conn, transcript)
        st.caption(t("minutes.page.stats", L, lines=len(transcript.lines), speakers=len(transcript.speakers),
                     chars=transcript.char_count, parts=parts))
        out = st.session_state.get("minutes.out_lang", "auto")
        result = make_minutes(conn, transcript, template=st.session_state.get("minutes.template", "general"),
                              lang=None if out == "auto" else out, ui_lang=L,
                              progress=lambda f, text: bar.progress(min(1.0, f), text=text))
        st.session_state["minutes.result"] = result
    except Exception as exc:  # every failure becomes a message; earlier minutes stay on screen
        show_error(exc)
    finally:
        bar.empty()


def follow_transcription(job: TranscriptionJob) -> None:
    """Progress and time left while the job runs (with a stop button); resume or use the part kept after a stop."""
    status = job.status()
    if status.state == "running":
        bar = st.progress(status.fraction, text=t("minutes.progress.stt", L, **describe(status)))
        if st.button(t("minutes.page.stt_stop", L), key="minutes.stt_stop"):
            job.stop()
        while job.is_alive():
            time.sleep(0.5)
            status = job.status()
            bar.progress(status.fraction, text=t("minutes.progress.stt", L, **describe(status)))
        bar.empty()
        status = job.status()
    if status.state == "failed":
        st.session_state["minutes.job"] = None
        st.error(t(status.error["key"], L, **status.error["params"]), icon=":material/error:")
    elif status.state in ("stopped", "interrupted"):
        st.warning(t("minutes.page.stt_stopped", L, **describe(status)))
        resume, use = st.columns(2)
        if resume.button(t("minutes.page.stt_resume", L), key="minutes.stt_resume"):
            job.start(None if job.provider == LOCAL else connection(job.provider))
            st.rerun()
        if status.segments and use.button(t("minutes.page.stt_use_part", L), key="minutes.stt_use"):
            write_minutes(job.transcript())
    elif status.state == "done" and st.session_state.get("minutes.job_written") != str(job.folder):
        st.session_state["minutes.job_written"] = str(job.folder)  # minutes once; the downloads stay
        try:
            transcript = job.transcript()
        except Exception as exc:  # a recording with no speech
            st.session_state["minutes.job"] = None
            show_error(exc)
            return
        write_minutes(transcript)
    segments = job.segments()
    if segments:
        stem = Path(job.name).stem or "transcript"
        txt, srt = st.columns(2)
        txt.download_button(t("minutes.page.download_txt", L), to_txt(segments).encode("utf-8"),
                            file_name=f"{stem}.txt", mime="text/plain", key="minutes.dl_txt")
        srt.download_button(t("minutes.page.download_srt", L), to_srt(segments).encode("utf-8"),
                            file_name=f"{stem}.srt", mime="application/x-subrip", key="minutes.dl_srt")


st.title(t("minutes.page.title", L))
st.caption(t("minutes.page.intro", L))

left, right = st.columns([3, 2])
with left:
    kinds = sorted(s.lstrip(".") for s in TRANSCRIPT_SUFFIXES | AUDIO_SUFFIXES)
    uploaded = st.file_uploader(t("minutes.page.upload", L), type=kinds, key="minutes.upload")
    pasted = st.text_area(t("minutes.page.paste", L), key="minutes.paste", height=140,
                          placeholder=t("minutes.page.paste_help", L))
with right:
    template = st.selectbox(t("minutes.page.template", L), template_names(), key="minutes.template",
                            format_func=lambda k: t(f"minutes.template.{k}", L))
    out_lang = st.selectbox(t("minutes.page.out_lang", L), ["auto", "zh", "en"], key="minutes.out_lang",
                            format_func=lambda k: t("minutes.page.out_lang.auto", L) if k == "auto"
                            else {"zh": "中文", "en": "English"}[k])
    engines = [p for p in dict.fromkeys([provider_name(), LOCAL]) if can_transcribe(p)]
    asr = st.selectbox(t("minutes.page.asr", L), engines, key="minutes.asr",
                       format_func=lambda p: t("minutes.page.asr_local", L) if p == LOCAL
                       else get_provider(p).label or p) if engines else None
    if asr is None:
        st.caption(t("minutes.page.no_asr_hint", L))
    elif asr == LOCAL:
        st.caption(t("minutes.page.local_asr_hint", L))
    if provider_name() == "local":
        st.caption(t("minutes.page.local_hint", L))
    go = st.button(t("minutes.page.generate", L), type="primary", key="minutes.go")

stopped_notice("minutes", L)
stopped_notice("minutes.read", L)
if go:
    if uploaded is None and not pasted.strip():
        st.error(t("minutes.page.need_input", L))
    elif uploaded is not None and Path(uploaded.name).suffix.lower() in AUDIO_SUFFIXES and asr is not None:
        try:  # the recording is transcribed in the background; follow_transcription below shows how far it is
            st.session_state["minutes.job"] = start_transcription(uploaded, asr)
            st.session_state["minutes.job_written"] = None
        except Exception as exc:
            show_error(exc)
    else:
        try:
            conn = connection()  # a missing key becomes a message here, not a traceback
            audio = uploaded is not None and Path(uploaded.name).suffix.lower() in AUDIO_SUFFIXES
            if audio:  # speech to text takes minutes on a CPU: the same bar, clock and Stop button
                transcript = long_job.run(lambda job: read_input(conn, uploaded, pasted), key="minutes.read", lang=L,
                                          label=t("minutes.progress.transcribe", L), what=t("minutes.page.generate", L))
            else:
                transcript = read_input(conn, uploaded, pasted)
            st.session_state["minutes.transcript"] = transcript
            parts = planned_parts(conn, transcript)
            st.caption(t("minutes.page.stats", L, lines=len(transcript.lines), speakers=len(transcript.speakers),
                         chars=transcript.char_count, parts=parts))
            out_language = None if out_lang == "auto" else out_lang
            result = long_job.run(
                lambda job: make_minutes(conn, transcript, template=template, lang=out_language, ui_lang=L,
                                         progress=job.report),
                key="minutes", lang=L, label=t("minutes.progress.part", L, part=1, parts=parts),
                what=t("minutes.page.generate", L))
            st.session_state["minutes.result"] = result
        except Exception as exc:  # every failure becomes a message; earlier minutes stay on screen
            show_error(exc)

if st.session_state["minutes.job"] is not None:
    follow_transcription(st.session_state["minutes.job"])

minutes = st.session_state["minutes.result"]
transcript = st.session_state["minutes.transcript"]
if minutes is not None:
    st.divider()
    st.header(plain(minutes.title))
    st.caption(t("minutes.page.elapsed", L, seconds=minutes.elapsed_s, parts=minutes.parts))
    st.markdown(f"**{t('minutes.h.date', L)}**: {plain(minutes.date) or t('minutes.unknown_date', L)}  \n"
                f"**{t('minutes.h.attendees', L)}**: {plain('、'.join(minutes.attendees)) or t('minutes.none', L)}")
    for warning in minutes.warnings:
        st.warning(warning)

    st.subheader(t("minutes.h.summary", L))
    st.markdown(plain(minutes.summary) or t("minutes.none", L))

    st.subheader(t("minutes.h.topics", L))
    for topic in minutes.topics:
        st.markdown(f"**{plain(topic.title)}** — {plain(topic.summary)}")
    if not minutes.topics:
        st.caption(t("minutes.none", L))

    st.subheader(t("minutes.h.decisions", L))
    for decision in minutes.decisions:
        flags = "; ".join(flag_texts(decision, L))
        st.markdown(f"- {plain(decision.text)}  `{source_label(decision)}`" + (f"  \n  ⚠ {plain(flags)}" if flags else ""))
    if not minutes.decisions:
        st.caption(t("minutes.none", L))

    st.subheader(t("minutes.h.actions", L))
    flagged = sum(1 for a in minutes.action_items if a.flags)
    if flagged:
        st.warning(t("minutes.page.flagged", L, count=flagged))
    st.caption(t("minutes.page.edit_hint", L))
    priorities = [t(f"minutes.priority.{p}", L) for p in ("high", "medium", "low")]
    table = pd.DataFrame(editable_rows(minutes, L), columns=["id", "task", "owner", "due", "priority", "source",
                                                              "check"])
    edited = st.data_editor(
        table, key="minutes.editor", num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "id": None,
            "task": st.column_config.TextColumn(t("minutes.col.task", L), required=True),
            "owner": st.column_config.TextColumn(t("minutes.col.owner", L)),
            "due": st.column_config.TextColumn(t("minutes.col.due", L)),
            "priority": st.column_config.SelectboxColumn(t("minutes.col.priority", L), options=priorities),
            "source": st.column_config.TextColumn(t("minutes.h.source", L), disabled=True),
            "check": st.column_config.TextColumn(t("minutes.h.flags", L), disabled=True),
        })
    final = apply_edits(minutes, edited.to_dict("records"), L)

    st.subheader(t("minutes.h.questions", L))
    for question in minutes.open_questions:
        st.markdown(f"- {plain(question)}")
    if not minutes.open_questions:
        st.caption(t("minutes.none", L))

    cited = sorted({d.source_line for d in minutes.decisions} | {a.source_line for a in final.action_items}
                   - {0})
    if transcript is not None and cited:
        line_number = st.selectbox(t("minutes.page.jump", L), cited, key="minutes.jump",
                                   format_func=lambda n: transcript.line(n).label() if transcript.line(n)
                                   else f"L{n} ✗")
        context = transcript.context(line_number) if transcript.line(line_number) else []
        if context:
            st.dataframe(pd.DataFrame([{t("minutes.col.line", L): ("▶ " if ln.number == line_number else "")
                                        + f"L{ln.number}",
                                        t("minutes.col.speaker", L): ln.speaker or "",
                                        t("minutes.col.time", L): ln.timestamp,
                                        t("minutes.col.text", L): ln.text} for ln in context]),
                         hide_index=True, width="stretch")

    columns = st.columns(3)
    stem = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", minutes.title)[:40] or "minutes"
    columns[0].download_button(t("minutes.page.download_md", L), to_markdown(final, L).encode("utf-8"),
                               file_name=f"{stem}.md", mime="text/markdown", key="minutes.dl_md")
    columns[1].download_button(t("minutes.page.download_docx", L), to_docx(final, L), file_name=f"{stem}.docx",
                               mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                               key="minutes.dl_docx")
    columns[2].download_button(t("minutes.page.download_csv", L), action_items_csv(final.action_items, L),
                               file_name=f"{stem}_actions.csv", mime="text/csv", key="minutes.dl_csv")

if transcript is not None:
    with st.expander(t("minutes.page.transcript", L)):
        no_speaker = t("minutes.page.no_speaker", L)
        shares: dict[str, int] = {}
        for ln in transcript.lines:
            shares[ln.speaker or no_speaker] = shares.get(ln.speaker or no_speaker, 0) + len(ln.text)
        if len(shares) > 1:
            chart = px.bar(x=list(shares.values()), y=list(shares), orientation="h",
                           labels={"x": t("minutes.page.speaking", L), "y": t("minutes.col.speaker", L)})
            st.plotly_chart(chart, width="stretch", key="minutes.speaking")
        st.dataframe(pd.DataFrame([{t("minutes.col.line", L): ln.number,
                                    t("minutes.col.speaker", L): ln.speaker or "",
                                    t("minutes.col.time", L): ln.timestamp,
                                    t("minutes.col.text", L): ln.text} for ln in transcript.lines]),
                     hide_index=True, width="stretch", height=320)
