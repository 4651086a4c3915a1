"""Results as tables and files: comparison across reports, figure-by-figure detail, JSON / CSV / Excel."""
from __future__ import annotations

import io
import json

import pandas as pd

from services.financials import labels as L
from services.financials.messages import field_name, status_name
from services import i18n

from services.exports import csv_bytes
from services.exports import safe_frame as _safe_frame


def debt_ratio(d: dict) -> float | None:
    """Total liabilities / total assets, None when either is missing."""
    f = d.get("fields", {})
    a = (f.get("total_assets") or {}).get("value")
    li = (f.get("total_liabilities") or {}).get("value")
    if a in (None, 0) or li is None:
        return None
    return li / a


def comparison_frame(reports: list[dict], lang: str) -> pd.DataFrame:
    """One row per report: company, period and the seven figures (currency units)."""
    rows = []
    for d in reports:
        row = {
            i18n.t("fin.col.file", lang): d.get("file"),
            i18n.t("fin.col.company", lang): d.get("company_name"),
            i18n.t("fin.col.code", lang): d.get("stock_code"),
            i18n.t("fin.col.year", lang): d.get("fiscal_year"),
            i18n.t("fin.col.currency", lang): d.get("currency"),
        }
        for k in L.FIELDS:
            row[field_name(k, lang)] = (d.get("fields", {}).get(k) or {}).get("value")
        ratio = debt_ratio(d)
        row[i18n.t("fin.col.debt_ratio", lang)] = None if ratio is None else round(ratio, 4)
        rows.append(row)
    return pd.DataFrame(rows)


def detail_frame(reports: list[dict], lang: str) -> pd.DataFrame:
    """One row per figure: value, page, source line, status, and the model's value beside the table's."""
    rows = []
    for d in reports:
        for k in L.FIELDS:
            f = d.get("fields", {}).get(k) or {}
            rows.append({
                i18n.t("fin.col.file", lang): d.get("file"),
                i18n.t("fin.col.field", lang): field_name(k, lang),
                i18n.t("fin.col.value", lang): f.get("value"),
                i18n.t("fin.col.page", lang): f.get("page"),
                i18n.t("fin.col.source", lang): f.get("source_text"),
                i18n.t("fin.col.status", lang): status_name(f.get("status", "missing"), lang),
                i18n.t("fin.col.table_value", lang): f.get("table_value", f.get("value")),
                i18n.t("fin.col.model_value", lang): f.get("model_value"),
                i18n.t("fin.col.model_status", lang): status_name(f["model_status"], lang) if f.get("model_status") else None,
                i18n.t("fin.col.note", lang): f.get("note"),
            })
    return pd.DataFrame(rows)


def to_json(reports: list[dict]) -> str:
    """Pretty JSON of all reports (the CLI --json format)."""
    return json.dumps(reports, ensure_ascii=False, indent=2)


def to_csv(reports: list[dict], lang: str) -> bytes:
    """Figure-by-figure CSV (UTF-8 with BOM so Excel shows Chinese), formula-safe."""
    return csv_bytes(detail_frame(reports, lang))


def to_xlsx(reports: list[dict], lang: str) -> bytes:
    """Excel workbook: comparison sheet and detail sheet, formula-safe."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        _safe_frame(comparison_frame(reports, lang)).to_excel(writer, sheet_name="comparison", index=False)
        _safe_frame(detail_frame(reports, lang)).to_excel(writer, sheet_name="detail", index=False)
    return buf.getvalue()
