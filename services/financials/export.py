"""Results as tables and files: comparison across reports, figure-by-figure detail, JSON / CSV / Excel."""
from __future__ import annotations

import io
import json

import pandas as pd

from services.financials import labels as L
from services.financials.messages import field_name, status_name
from services import i18n

from services.exports import csv_bytes  # noqa: F401 - the summary CSV of a batch
from services.exports import safe_frame as _safe_frame


def debt_ratio(d: dict) -> float | None:
    """Total liabilities / total assets, None when either is missing."""
    f = d.get("fields", {})
    a = (f.get("total_assets") or {}).get("value")
    li = (f.get("total_liabilities") or {}).get("value")
    if a in (None, 0) or li is None:
        return None
    return li / a


STATUS_MARKS = {"verified": "✓", "derived": "≈", "unverified": "?", "conflict": "⚠", "not_applicable": "", "missing": ""}


def display_scale(values: list[float | None], lang: str, currency: str | None = None) -> tuple[float, str]:
    """(divisor, unit label) that suits the largest amount: 亿元 / 万元 / 元 in Chinese, billions / millions in English."""
    biggest = max((abs(v) for v in values if v is not None), default=0.0)
    cur = currency or ""
    if lang == "zh":
        suffix = "元" if cur in ("", "CNY") else f" {cur}"
        for divisor, word in ((1e8, "亿"), (1e4, "万")):
            if biggest >= divisor:
                return divisor, word + suffix
        return 1.0, suffix.strip()
    if biggest >= 1e9:
        return 1e9, f"{cur} billions".strip()
    if biggest >= 1e6:
        return 1e6, f"{cur} millions".strip()
    return 1.0, cur or "units"


def format_amount(value: float | None, lang: str, currency: str | None = None) -> str:
    """An amount as a reader says it: 11.75 亿元 / 3,205.40 万元 / 1.18 billions; "" for none."""
    if value is None:
        return ""
    scale, label = display_scale([value], lang, currency)
    return f"{value / scale:,.2f} {label}"


def cell_text(f: dict, lang: str, currency: str | None) -> str:
    """A figure with its status beside it, so an unverified or conflicting number never looks like a checked one."""
    status = f.get("status", "missing")
    if status in ("not_applicable", "missing"):
        return status_name(status, lang)
    mark = STATUS_MARKS.get(status, "")
    text = f"{format_amount(f.get('value'), lang, currency)} {mark}".strip()
    return text if status == "verified" else f"{text}（{status_name(status, lang)}）" if lang == "zh" \
        else f"{text} ({status_name(status, lang)})"


def comparison_view(reports: list[dict], lang: str) -> pd.DataFrame:
    """The page's comparison: one row per figure, one column per report, each cell with its status (narrow
    enough for the page, however many figures there are)."""
    from services.financials.charts import _unique_labels
    labels = _unique_labels(reports)
    rows = []
    for k in L.FIELDS:
        row = {i18n.t("fin.col.field", lang): field_name(k, lang)}
        for label, d in zip(labels, reports):
            row[label] = cell_text(d.get("fields", {}).get(k) or {"status": "missing"}, lang, d.get("currency"))
        rows.append(row)
    ratio_row = {i18n.t("fin.col.field", lang): i18n.t("fin.col.debt_ratio", lang)}
    for label, d in zip(labels, reports):
        ratio = debt_ratio(d)
        ratio_row[label] = "" if ratio is None else f"{ratio:.1%}"
    rows.append(ratio_row)
    return pd.DataFrame(rows)


def not_verified(d: dict, lang: str) -> str:
    """The figures of a report that are not verified, with their status (empty when all are)."""
    sep = "；" if lang == "zh" else "; "
    parts = [f"{field_name(k, lang)}：{status_name(f.get('status', 'missing'), lang)}" if lang == "zh" else
             f"{field_name(k, lang)}: {status_name(f.get('status', 'missing'), lang)}"
             for k in L.FIELDS if (f := d.get("fields", {}).get(k) or {}).get("status", "missing") not in ("verified", "derived")]
    return sep.join(parts)


def report_status(d: dict) -> str:
    """error | conflict | unverified | verified: the weakest status among a report's figures."""
    if d.get("error") and not d.get("fields"):
        return "error"
    statuses = {(f or {}).get("status", "missing") for f in d.get("fields", {}).values()}
    for s in ("conflict", "missing", "unverified"):
        if s in statuses:
            return s
    return "verified"


def comparison_frame(reports: list[dict], lang: str) -> pd.DataFrame:
    """One row per report for downloads: company, period, the seven figures (currency units, numbers) each
    followed by its status, and the report's overall status."""
    rows = []
    for d in reports:
        row = {
            i18n.t("fin.col.file", lang): d.get("file"),
            i18n.t("fin.col.company", lang): d.get("company_name") or "",
            i18n.t("fin.col.code", lang): d.get("stock_code") or "",
            i18n.t("fin.col.year", lang): d.get("fiscal_year"),
            i18n.t("fin.col.currency", lang): d.get("currency") or "",
            i18n.t("fin.col.report_status", lang): status_name(report_status(d), lang),
        }
        for k in L.FIELDS:
            f = d.get("fields", {}).get(k) or {}
            row[field_name(k, lang)] = f.get("value")
            row[f"{field_name(k, lang)} · {i18n.t('fin.col.status', lang)}"] = status_name(f.get("status", "missing"), lang)
        ratio = debt_ratio(d)
        row[i18n.t("fin.col.debt_ratio", lang)] = None if ratio is None else round(ratio, 4)
        row[i18n.t("fin.col.error", lang)] = d.get("error") or ""
        rows.append(row)
    frame = pd.DataFrame(rows)
    year = i18n.t("fin.col.year", lang)
    if year in frame:
        frame[year] = frame[year].astype("Int64")
    return frame


def detail_rows(d: dict, lang: str, *, for_display: bool = False) -> list[dict]:
    """One report's figures; for the page (for_display) every cell is text, so an empty one is empty, never
    "None"; for downloads amounts stay numbers."""
    num = (lambda v: "" if v is None else f"{v:,.2f}") if for_display else (lambda v: v)  # noqa: E731
    page = (lambda p: "" if p is None else str(int(p))) if for_display else (lambda p: p)  # noqa: E731
    rows = []
    for k in L.FIELDS:
        f = d.get("fields", {}).get(k) or {}
        row = {
            i18n.t("fin.col.field", lang): field_name(k, lang),
            i18n.t("fin.col.value", lang): num(f.get("value")),
            i18n.t("fin.col.page", lang): page(f.get("page")),
            i18n.t("fin.col.source", lang): f.get("source_text") or "",
            i18n.t("fin.col.status", lang): status_name(f.get("status", "missing"), lang),
            i18n.t("fin.col.second_value", lang): num(f.get("second_value")),
            i18n.t("fin.col.second_page", lang): page(f.get("second_page")),
            i18n.t("fin.col.note", lang): f.get("note") or "",
        }
        if "model_status" in f:
            row[i18n.t("fin.col.table_value", lang)] = num(f.get("table_value"))
            row[i18n.t("fin.col.model_value", lang)] = num(f.get("model_value"))
            row[i18n.t("fin.col.model_status", lang)] = status_name(f["model_status"], lang) if f.get("model_status") else ""
        rows.append(row)
    return rows


def _pages_as_integers(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    # A column of pages with gaps would otherwise be float ("70.0").
    for key in ("fin.col.page", "fin.col.second_page"):
        col = i18n.t(key, lang)
        if col in frame:
            frame[col] = frame[col].astype("Int64")
    return frame


def detail_frame(reports: list[dict], lang: str) -> pd.DataFrame:
    """One row per figure: value, page, source line, status, the second reading, and the model's value."""
    rows = []
    for d in reports:
        for row in detail_rows(d, lang):
            rows.append({i18n.t("fin.col.file", lang): d.get("file"), **row})
    return _pages_as_integers(pd.DataFrame(rows), lang)


def to_json(reports: list[dict]) -> str:
    """Pretty JSON of all reports (the CLI --json format)."""
    return json.dumps(reports, ensure_ascii=False, indent=2)


def to_csv(reports: list[dict], lang: str) -> bytes:
    """Figure-by-figure CSV (UTF-8 with BOM so Excel shows Chinese), formula-safe."""
    return csv_bytes(detail_frame(reports, lang))


def frame_xlsx(frame: pd.DataFrame, sheet: str = "summary") -> bytes:
    """One formula-safe sheet as an Excel workbook."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        _safe_frame(frame).to_excel(writer, sheet_name=sheet, index=False)
    return buf.getvalue()


def to_xlsx(reports: list[dict], lang: str) -> bytes:
    """Excel workbook: comparison sheet and detail sheet, formula-safe."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        _safe_frame(comparison_frame(reports, lang)).to_excel(writer, sheet_name="comparison", index=False)
        _safe_frame(detail_frame(reports, lang)).to_excel(writer, sheet_name="detail", index=False)
    return buf.getvalue()
