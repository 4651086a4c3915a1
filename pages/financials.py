"""Financial reports: upload PDFs, read the key figures with page and source line, compare, chart, download."""
import hashlib

import streamlit as st

from services.errors import AppError
from services.financials import batch, charts, export
from services.financials import messages as fin_messages  # noqa: F401 - registers the fin.* texts
from services.financials.messages import field_name
from services.financials.service import analyze
from ui import session
from ui.session import t

lang = session.lang()
results: dict = st.session_state.setdefault("fin.results", {})  # file name → result dict (JSON shape)
notices: dict = st.session_state.setdefault("fin.notices", {})  # file name → [(level, text)]
queue: list = st.session_state.setdefault("fin.queue", [])  # [(name, bytes)] waiting to be processed
st.session_state.setdefault("fin.use_model", False)
owner = session.owner()
if not results and not st.session_state.get("fin.restored"):
    # Reports finished earlier (before a reload or a server restart) come back for the same browser or account.
    for kept in batch.owner_results(owner):
        results[kept["file"]] = kept
    if results:
        notices["__restored__"] = [("info", t("fin.restored", n=len(results)))]
st.session_state["fin.restored"] = True


@st.cache_data(show_spinner=False, max_entries=64)
def table_parse(data: bytes, name: str, lang: str, _path: str) -> dict:
    """Result of the model-free extraction for one file's bytes (cached per content)."""
    result = analyze(_path, name=name, lang=lang)
    return {"dict": result.to_dict(lang), "ok": result.ok, "warnings": result.warnings(lang),
            "error": result.error.message(lang) if result.error else None}


def process(files: list[tuple[str, bytes]], use_model: bool) -> None:
    """Extract each file in turn with a progress bar; a failing file gets its message and the rest go on."""
    conn = None
    if use_model:
        try:
            conn = session.connection()
        except AppError as exc:
            session.show_error(exc)
            return
    bar = st.progress(0.0, text=t("fin.progress", name=files[0][0], i=1, n=len(files)))
    folder = session.uploads_dir()
    for i, (name, data) in enumerate(files):
        bar.progress(i / len(files), text=t("fin.progress", name=name, i=i + 1, n=len(files)))
        digest = hashlib.sha256(data).hexdigest()[:16]
        path = folder / f"fin-{digest}.pdf"
        path.write_bytes(data)
        if conn is None:
            out = table_parse(data, name, lang, str(path))
        else:
            r = analyze(path, name=name, conn=conn, use_model=True, lang=lang)
            out = {"dict": r.to_dict(lang), "ok": r.ok, "warnings": r.warnings(lang),
                   "error": r.error.message(lang) if r.error else None}
        file_notices = []
        if out["error"]:
            file_notices.append(("error", t("fin.file_failed", name=name, message=out["error"])))
        if out["dict"].get("fields"):
            results[name] = out["dict"]
            batch.keep_for_owner(owner, out["dict"])  # kept at once: a batch cut short keeps what finished
            found = sum(1 for f in out["dict"]["fields"].values() if f["value"] is not None or f["status"] == "not_applicable")
            statuses = [f["status"] for f in out["dict"]["fields"].values()]
            if not out["error"]:
                # A report with conflicting readings is not a success to skim past.
                level = "warning" if "conflict" in statuses else "success"
                file_notices.append((level, t("fin.file_ok", name=name, found=found,
                                              seconds=f"{out['dict'].get('elapsed_s', 0):.2f}",
                                              verified=statuses.count("verified"),
                                              conflict=statuses.count("conflict"))))
        file_notices += [("warning", f"{name}: {w}") for w in out["warnings"]]
        notices[name] = file_notices
    bar.progress(1.0, text=t("fin.progress_done", n=len(files)))


st.header(t("fin.title"))
st.caption(t("fin.intro"))

uploads = st.file_uploader(t("fin.upload"), type=["pdf"], accept_multiple_files=True, key="fin.uploader")
st.toggle(t("fin.use_model"), key="fin.use_model", help=t("fin.use_model_help"))
left, right = st.columns([1, 1])
run = left.button(t("fin.run"), type="primary", key="fin.run")
if right.button(t("fin.clear"), key="fin.clear"):
    results.clear()
    notices.clear()
    batch.forget_owner(owner)

if run:
    files = list(queue) + [(f.name, f.getvalue()) for f in uploads or []]
    queue.clear()
    if not files:
        st.error(t("fin.error.no_files"), icon=":material/error:")
    else:
        process(files, st.session_state["fin.use_model"])

for name, items in notices.items():
    for level, text in items:
        getattr(st, level)(text)

if not results:
    st.info(t("fin.no_results"))
    st.stop()

reports = list(results.values())

st.subheader(t("fin.compare"))
st.dataframe(export.comparison_view(reports, lang), hide_index=True, width="stretch")
st.caption(t("fin.compare_legend"))

st.subheader(t("fin.charts"))
currencies = sorted({d.get("currency") or "?" for d in reports})
if len(currencies) > 1:
    st.warning(t("fin.chart_mixed_currency", currencies=", ".join(currencies)))
st.caption(t("fin.chart_status_note"))
chart_left, chart_right = st.columns(2)
chart_left.plotly_chart(charts.revenue_profit_chart(reports, lang), key="fin.chart_rev")
chart_right.plotly_chart(charts.debt_ratio_chart(reports, lang), key="fin.chart_debt")

st.subheader(t("fin.details"))
for d in reports:
    title = " · ".join(str(x) for x in (d.get("file"), d.get("company_name"), d.get("stock_code"), d.get("fiscal_year"),
                                         d.get("currency")) if x)
    with st.expander(title, expanded=len(reports) == 1):
        st.dataframe(export.detail_rows(d, lang, for_display=True), hide_index=True, width="stretch")
        disagree = [field_name(k, lang) for k, f in d["fields"].items()
                    if f.get("conflict") or f.get("status") == "conflict"]
        if disagree:
            st.warning(t("fin.conflicts", fields="、".join(disagree) if lang == "zh" else ", ".join(disagree)))
        if d.get("checks"):
            st.markdown(f"**{t('fin.checks')}**")
            for c in d["checks"]:
                st.text(t("fin.check_ok" if c["ok"] else "fin.check_fail", name=c["name"], detail=c["detail"]))
        pages = sorted({p for ps in d.get("located_pages", {}).values() for p in ps})
        st.caption(t("fin.located", pages=", ".join(map(str, pages)), sent=d.get("tokens_sent"),
                     total=d.get("tokens_document")))

c1, c2, c3 = st.columns(3)
c1.download_button(t("fin.download_json"), export.to_json(reports).encode("utf-8"), "financials.json",
                   "application/json", key="fin.dl_json")
c2.download_button(t("fin.download_csv"), export.to_csv(reports, lang), "financials.csv", "text/csv", key="fin.dl_csv")
c3.download_button(t("fin.download_xlsx"), export.to_xlsx(reports, lang), "financials.xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="fin.dl_xlsx")
