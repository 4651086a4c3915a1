"""Knowledge base: create a base, upload files, see files and chunks, ask questions with cited answers."""
import pandas as pd
import streamlit as st

from services import kb, llm, storage
from services.errors import AppError, user_message
from services.kb import embeddings, evidence, jobs
from services.kb.answering import postprocess
from services.kb.indexing import warning_texts
from ui import session
from ui.session import t

st.session_state.setdefault("kb.selected", None)
st.session_state.setdefault("kb.outcomes", [])
st.session_state.setdefault("kb.answer", None)
st.session_state.setdefault("kb.notice", None)
lang = session.lang()


@st.cache_resource(show_spinner=False)
def knowledge_store() -> kb.KBStore:
    """One Chroma client for every session (embedded store, or the server named by CHROMA_HOST)."""
    return kb.KBStore()


def embedder_options(conn) -> dict[str, str]:
    """Embedding models offered for a new base: id -> label."""
    options = {}
    if embeddings.e5_available():
        options[embeddings.LOCAL_E5] = t("kb.embedder.e5")
    options[embeddings.BM25_ONLY] = t("kb.embedder.bm25")
    if embeddings.local_model_available():
        options[embeddings.LOCAL_MINILM] = t("kb.embedder.local")
    if conn is not None:
        from services.providers import get_provider
        provider = get_provider(conn.provider)
        if provider.capabilities.embeddings:
            options["provider"] = t("kb.embedder.provider", provider=provider.label)
    return options


def create_base_form(store, conn) -> None:
    with st.form("kb.create_form", clear_on_submit=True):
        name = st.text_input(t("kb.create.name"), max_chars=80)
        options = embedder_options(conn)
        choice = st.selectbox(t("kb.create.embedder"), list(options), format_func=options.get)
        c1, c2 = st.columns(2)
        size = c1.number_input(t("kb.create.chunk_size"), 200, 4000, 800, step=100)
        overlap = c2.number_input(t("kb.create.overlap"), 0, 1000, 120, step=20)
        shared = st.checkbox(t("kb.create.shared"), value=False, help=t("kb.create.shared_help"))
        if st.form_submit_button(t("kb.create.button"), icon=":material/add:"):
            try:
                emb_id = embeddings.provider_embedder(conn).id if choice == "provider" else choice
                if overlap >= size:
                    overlap = size // 5
                info = store.create_base(name, embedder=emb_id, chunk_size=int(size), overlap=int(overlap),
                                         owner=viewer, shared=shared)
            except AppError as exc:
                session.show_error(exc)
            else:
                st.session_state["kb.selected"] = info.name
                st.session_state["kb.view"] = "files"   # the next step is adding files
                st.session_state["kb.notice"] = t("kb.create.done", name=info.name)
                st.rerun()


def show_outcomes(outcomes) -> None:
    for o in outcomes:
        if o["status"] == "added":
            st.success(o["message"])
        elif o["status"] == "duplicate":
            st.warning(o["message"])
        elif o["status"] == "stopped":
            st.info(o["message"], icon=":material/stop_circle:")
        else:
            st.error(o["message"])
        for w in o.get("warnings", []):
            st.caption(w)


def upload_section(store, base, conn) -> None:
    st.subheader(t("kb.upload.header"))
    files = st.file_uploader(t("kb.upload.files"), accept_multiple_files=True, key="kb.uploader")
    if files and st.button(t("kb.upload.button"), type="primary", icon=":material/upload:"):
        folder = session.uploads_dir()
        saved = []
        for f in files:
            try:
                saved.append((storage.save_upload(folder, f.name, f.getvalue()), f.name))
            except ValueError:
                saved.append((folder / "__invalid__", f.name))
        try:
            emb = embeddings.embedder_for(base.embedder, conn)
        except AppError as exc:
            for path, _ in saved:
                path.unlink(missing_ok=True)
            session.show_error(exc)
            return
        jobs.start(base.name, saved, store=store, embedder=emb, owner=viewer)
        st.rerun()
    indexing_progress(base.name)
    show_outcomes(st.session_state["kb.outcomes"])


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


def indexing_progress(kb_name: str) -> None:
    """Live progress while the base has a running job (the part refreshes every second), else the outcomes."""
    if any(not job.done for job in jobs.jobs_for(kb_name)):
        live_job_status(kb_name)
    else:
        job_status(kb_name)


def job_status(kb_name: str) -> None:
    """The base's indexing jobs: pages done, elapsed and time left while running; outcomes once finished."""
    running = False
    for job in jobs.jobs_for(kb_name):
        if not job.done:
            running = True
            left = job.seconds_left()
            left_text = t("kb.job.left", left=duration(left)) if left is not None else t("kb.job.estimating")
            st.progress(job.fraction, text=t("kb.job.running", done=job.pages_done, total=job.total_pages,
                                             elapsed=duration(job.elapsed), left=left_text, file=job.current))
            if job.stopping:
                st.caption(t("kb.job.stopping"))
            elif job.owner == viewer:
                st.button(t("kb.job.stop"), key=f"kb.job.stop.{job.id}", on_click=job.stop,
                          icon=":material/stop_circle:")
            continue
        if job.owner != viewer:   # the outcomes belong to the session that uploaded
            continue
        if job.error is not None:
            st.error(user_message(job.error, lang))
        outcomes = [{"status": o.status, "message": o.message(lang), "warnings": warning_texts(o.warnings, lang)}
                    for o in job.outcomes]
        counts = {k: sum(1 for o in job.outcomes if o.status == k) for k in ("added", "duplicate", "error", "stopped")}
        st.session_state["kb.outcomes"] = outcomes
        if counts["stopped"]:
            st.session_state["kb.notice"] = t("kb.upload.stopped", added=counts["added"], stopped=counts["stopped"])
        else:
            st.session_state["kb.notice"] = (t("kb.upload.summary", added=counts["added"], dup=counts["duplicate"],
                                               failed=counts["error"]) + " "
                                             + t("kb.job.finished", pages=job.total_pages, elapsed=duration(job.elapsed)))
        jobs.dismiss(job.id)
        st.rerun(scope="app")
    if running:
        st.caption(t("kb.job.background"))


live_job_status = st.fragment(run_every=1.0)(job_status)


def files_section(store, base) -> None:
    records = store.files(base.name)
    st.subheader(t("kb.files.header", count=len(records)))
    if not records:
        st.caption(t("kb.files.empty"))
        return
    table = pd.DataFrame([{t("kb.files.col.file"): r.file, t("kb.files.col.pages"): r.pages,
                           t("kb.files.col.chunks"): r.chunks, t("kb.files.col.size"): round(r.size / 1024, 1),
                           t("kb.files.col.added"): pd.Timestamp(r.added_at, unit="s").strftime("%Y-%m-%d %H:%M")}
                          for r in records])
    st.dataframe(table, hide_index=True, width="stretch")
    for r in records:
        with st.expander(t("kb.files.chunks", file=r.file)):
            notes = warning_texts(r.warnings, lang)
            if notes:
                st.caption(t("kb.files.warnings", warnings="; ".join(notes)))
            for c in store.chunks(base.name, sha256=r.sha256)[:200]:
                st.markdown(f"**{t('kb.chunk.label', index=c.index + 1, page=c.page, heading=c.heading or '—')}**")
                st.text(c.text)
            if st.button(t("kb.files.delete"), key=f"kb.delete.{r.sha256}", icon=":material/delete:"):
                kb.delete_file(base.name, r.sha256, store=store)
                st.session_state["kb.notice"] = t("kb.files.deleted", file=r.file)
                st.rerun()


def manage_section(store, base, conn) -> None:
    st.caption(t("kb.manage.info", embedder=base.embedder, size=base.chunk_size, overlap=base.overlap))
    if st.button(t("kb.manage.rebuild"), icon=":material/refresh:"):
        bar = st.progress(0.0)
        try:
            outcomes = kb.rebuild(base.name, store=store, conn=conn,
                                  progress=lambda f, name: bar.progress(min(1.0, f), text=name or None))
        except AppError as exc:
            session.show_error(exc)
        else:
            st.session_state["kb.notice"] = t("kb.manage.rebuilt", count=len(outcomes))
            st.rerun()
    if base.owner and base.owner == viewer:
        shared = st.toggle(t("kb.create.shared"), value=base.shared, key=f"kb.shared.{base.collection}",
                           help=t("kb.create.shared_help"))
        if shared != base.shared:
            store.set_shared(base.name, shared)
            st.rerun()
    confirm = st.checkbox(t("kb.manage.confirm", name=base.name), key=f"kb.confirm.{base.collection}")
    if st.button(t("kb.manage.delete_base"), disabled=not confirm, icon=":material/delete_forever:"):
        kb.delete_base(base.name, store=store)
        st.session_state["kb.selected"] = None
        st.session_state["kb.notice"] = t("kb.manage.deleted", name=base.name)
        st.rerun()


def answer_markdown(question: str, answer) -> str:
    lines = [f"## {question}", "", answer.text, ""]
    for c in answer.citations:
        lines.append(f"- [{c.n}] {c.file}, p.{c.page}: {c.quote}")
    return "\n".join(lines)


@st.cache_data(show_spinner=False, max_entries=64)
def page_image(path: str, page: int, passage: str) -> tuple[bytes, int]:
    shown = evidence.render_page(path, page, passage)
    return shown.png, shown.highlighted


def source_page(kb_name: str, file: str, page: int, passage: str, key: str) -> None:
    """The cited page rendered from the PDF, the passage highlighted, behind a toggle (rendering costs time)."""
    if not st.toggle(t("kb.evidence.show"), key=f"kb.evidence.{key}"):
        return
    path = evidence.original_of(knowledge_store(), kb_name, file)
    if path is None:
        st.caption(t("kb.evidence.unavailable"))
        return
    try:
        png, count = page_image(str(path), page, passage)
    except AppError as exc:
        session.show_error(exc)
        return
    caption = (t("kb.evidence.caption", file=file, page=page, count=count) if count
               else t("kb.evidence.not_found", file=file, page=page))
    st.image(png, caption=caption)


def show_answer(record) -> None:
    answer = record["answer"]
    st.markdown(answer.text)
    if record.get("cut"):
        st.warning(record["cut"], icon=":material/content_cut:")
    if answer.invented:
        st.warning(t("kb.answer.invented", numbers=", ".join(map(str, answer.invented))), icon=":material/warning:")
    if not answer.not_found and not answer.citations:
        st.warning(t("kb.answer.uncited"), icon=":material/warning:")
    for n, phrases in answer.injection.items():
        st.warning(t("kb.answer.injection", n=n, phrases="; ".join(phrases)), icon=":material/gpp_maybe:")
    if answer.citations:
        st.markdown(f"**{t('kb.ask.sources')}**")
        for c in answer.citations:
            with st.expander(t("kb.ask.source", n=c.n, file=c.file, page=c.page)):
                st.markdown(f"> {c.quote}")
                passage = next((p for p in answer.passages if p.n == c.n), None)
                if passage:
                    st.text(passage.text)
                source_page(record["base"], c.file, c.page, c.quote, key=f"cite.{c.n}")
    if answer.passages:
        with st.expander(t("kb.ask.passages", count=len(answer.passages))):
            for p in answer.passages:
                st.markdown(f"**[{p.n}] {p.file} · p.{p.page}** · {p.score:.4f}")
                st.text(p.text)
    st.download_button(t("kb.ask.download"), answer_markdown(record["question"], answer),
                       file_name="answer.md", mime="text/markdown", icon=":material/download:")


def ask_section(store, base, conn) -> None:
    with st.form("kb.ask_form"):
        question = st.text_area(t("kb.ask.input"), height=80)
        c1, c2 = st.columns(2)
        k = c1.slider(t("kb.ask.k"), 1, 10, 5)
        modes = ["hybrid", "bm25", "dense"] if base.embedder != embeddings.BM25_ONLY else ["bm25"]
        mode_labels = {m: t(f"kb.mode.{m}") for m in modes}
        mode = c2.selectbox(t("kb.ask.mode"), modes, format_func=mode_labels.get)
        submitted = st.form_submit_button(t("kb.ask.button"), type="primary", icon=":material/search:")
    if submitted:
        if not question.strip():
            st.error(t("kb.error.empty_question"))
        elif conn is not None:
            try:
                passages = kb.retrieve(base.name, question, k, mode=mode, conn=conn, store=store)
                cut = None
                if not passages:
                    answer = postprocess("", [], lang)
                else:
                    stream = llm.stream_chat(conn, kb.grounded_messages(question, passages, lang))
                    with st.chat_message("assistant"):
                        st.write_stream(stream)
                    result = stream.result
                    if result.error and not result.text:
                        raise result.error
                    answer = postprocess(result.text, passages, lang)
                    # A cut answer is kept, but must not pass for a complete one.
                    cut = result.error.message(lang) if result.status == "cut" and result.error else None
            except AppError as exc:
                session.show_error(exc)
            else:
                st.session_state["kb.answer"] = {"question": question, "answer": answer, "base": base.name,
                                                 "cut": cut}
                st.rerun()
    record = st.session_state["kb.answer"]
    if record and record["base"] == base.name:
        st.markdown(f"**{record['question']}**")
        show_answer(record)


def retrieval_test_section(store, base, conn) -> None:
    st.caption(t("kb.test.help"))
    with st.form("kb.test_form"):
        query = st.text_input(t("kb.test.query"), key="kb.test.query")
        c1, c2 = st.columns(2)
        k = c1.slider(t("kb.ask.k"), 1, 20, 10)
        modes = ["hybrid", "bm25", "dense"] if base.embedder != embeddings.BM25_ONLY else ["bm25"]
        mode_labels = {m: t(f"kb.mode.{m}") for m in modes}
        mode = c2.selectbox(t("kb.ask.mode"), modes, format_func=mode_labels.get, key="kb.test.mode")
        submitted = st.form_submit_button(t("kb.test.button"), icon=":material/manage_search:")
    if submitted:
        if not query.strip():
            st.error(t("kb.error.empty_question"))
            return
        try:
            passages = kb.retrieve(base.name, query, k, mode=mode, conn=conn, store=store)
        except AppError as exc:
            session.show_error(exc)
            return
        translation = kb.translation_for(base.name, query, conn, store) if not passages else passages[0].translation
        st.session_state["kb.test"] = {"base": base.name, "passages": passages, "translation": translation}
    result = st.session_state.get("kb.test")
    if not result or result["base"] != base.name:
        return
    translation = result.get("translation")
    if translation:
        st.caption(t("kb.test.translated", text=translation))
    if not result["passages"]:
        st.info(t("kb.test.none"))
        return
    st.dataframe(pd.DataFrame([{t("kb.test.col.rank"): p.n, t("kb.test.col.file"): p.file,
                                t("kb.test.col.page"): p.page, t("kb.test.col.score"): round(p.score, 4),
                                t("kb.test.col.bm25"): p.bm25_rank, t("kb.test.col.dense"): p.dense_rank,
                                t("kb.test.col.similarity"): None if p.similarity is None else round(p.similarity, 3),
                                **({t("kb.test.col.translated"): "✓" if p.by_translation else ""} if translation else {}),
                                t("kb.test.col.text"): p.text[:80].replace("\n", " ")}
                               for p in result["passages"]]), hide_index=True, width="stretch")
    for p in result["passages"]:
        with st.expander(f"[{p.n}] {p.file} · p.{p.page} · {p.score:.4f}"):
            st.text(p.text)
            source_page(base.name, p.file, p.page, p.text, key=f"test.{p.n}")


st.header(t("kb.title"))
st.caption(t("kb.intro"))
if st.session_state["kb.notice"]:
    st.toast(st.session_state["kb.notice"])
    st.session_state["kb.notice"] = None

viewer = session.owner()  # private bases are listed only for the browser (or account) that made them
try:
    store = knowledge_store()
    bases = store.bases(viewer)
except AppError as exc:
    session.show_error(exc)
    st.stop()

try:
    conn = session.connection()
except AppError as exc:
    conn = None
    session.show_error(exc)

names = [b.name for b in bases]
with st.expander(t("kb.create.header"), expanded=not names, icon=":material/library_add:"):
    create_base_form(store, conn)
if not names:
    st.info(t("kb.none_yet"))
    st.stop()
if st.session_state["kb.selected"] not in names:
    st.session_state["kb.selected"] = names[0]
selected = st.selectbox(t("kb.select"), names, key="kb.selected")
base = next(b for b in bases if b.name == selected)

views = ["ask", "files", "test", "manage"]
if st.session_state.get("kb.view") not in views:
    # A view that came back empty (deselected) stays the one shown: jumping elsewhere dropped a chosen file.
    st.session_state["kb.view"] = st.session_state.get("kb.view_shown") or (
        "ask" if store.files(base.name) else "files")
view_labels = {v: t(f"kb.view.{v}") for v in views}
# required: clicking the view already shown does nothing. Without it the click deselected the view and reran the
# page, and a file being chosen on the uploader during that rerun never arrived (docs/reliability/load.md).
view = st.segmented_control(t("kb.select"), views, format_func=view_labels.get, key="kb.view", required=True,
                            label_visibility="collapsed")
st.session_state["kb.view_shown"] = view
if view == "ask":
    ask_section(store, base, conn)
elif view == "files":
    upload_section(store, base, conn)
    files_section(store, base)
elif view == "test":
    retrieval_test_section(store, base, conn)
elif view == "manage":
    manage_section(store, base, conn)
