"""Model extraction from the located pages only, and its check against the pages and the table parse."""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

from services import i18n
from services.financials import labels as L
from services.financials.extract import Extraction, Figure, PageSource, Section, number_on_page, value_to_printed

MODEL_FIELDS = ("revenue", "operating_cost", "net_profit", "net_profit_attributable", "total_assets", "total_liabilities")


class ModelFigure(BaseModel):
    """One line item as the model read it."""
    value: float | None = Field(None, description="the number exactly as printed for the current period (brackets → negative), null if absent")
    page: int | None = Field(None, description="page number where the number is printed")
    source_text: str | None = Field(None, description="the line of the statement the number was read from")


class ModelReport(BaseModel):
    """What the model is asked to return."""
    company_name: str | None = None
    stock_code: str | None = None
    fiscal_year: int | None = None
    currency: str | None = Field(None, description="ISO code, e.g. CNY or USD")
    unit: str | None = Field(None, description="unit amounts are printed in, e.g. 元, 千元, 万元, 百万元, millions, thousands")
    revenue: ModelFigure = ModelFigure()
    operating_cost: ModelFigure = ModelFigure()
    net_profit: ModelFigure = ModelFigure()
    net_profit_attributable: ModelFigure = ModelFigure()
    total_assets: ModelFigure = ModelFigure()
    total_liabilities: ModelFigure = ModelFigure()


_INFO_LINE = re.compile(r"公司|代码|简称|年度报告|单位|币种|registrant|fiscal year|period ended|trading symbol|"
                        r"commission file|in millions|in thousands|营业收入|净利润|总资产|总负债", re.I)


def located_pages_text(source: PageSource, ext: Extraction, sections: list[Section], lang: str,
                       budget_tokens: int | None = None) -> tuple[str, list[int]]:
    """The text sent to the model: the located pages only. Statement pages carry just the chosen statement's lines
    (not the parent-company one printed on the same page). When the model's context is small, the pages are
    tightened step by step: first lines without figures go, then every line but the key line items."""
    from services.llm import estimate_tokens
    body, pages = "", []
    for level in (0, 1, 2):
        body, pages = _render(source, ext, sections, lang, level)
        if budget_tokens is None or estimate_tokens(body) <= budget_tokens:
            break
    return body, pages


def _keep_row(row, level: int) -> bool:
    if level == 0:
        return bool(row.text)
    if level == 1:
        return bool(row.amounts) or bool(re.search(r"单位|币种|in millions|in thousands|\(millions", row.text, re.I))
    norm = L.normalize(row.label)
    return bool(row.amounts) and any(L.match_rank(f, norm) is not None for f in L.LINE_ITEMS)


def _render(source: PageSource, ext: Extraction, sections: list[Section], lang: str, level: int):
    parts: list[tuple[int, str]] = []
    statement_pages: dict[int, list[str]] = {}
    for s in sections:
        first = True
        for row in s.rows:
            if not _keep_row(row, level):
                continue
            lines = statement_pages.setdefault(row.page, [])
            if first:
                lines.append(s.title)
                first = False
            lines.append(row.text)
    info_pages = sorted({p for key in ("cover", "profile", "key_figures") for p in ext.located.get(key, [])})
    for p in info_pages:
        if p in statement_pages or p > len(source.texts):
            continue
        lines = [ln.strip() for ln in source.texts[p - 1].splitlines() if ln.strip()]
        if level > 0:
            # Keep lines naming the company, code, period and unit; a registrant's name is the line above
            # "(Exact name of registrant …)".
            keep = [i for i, ln in enumerate(lines) if _INFO_LINE.search(ln)]
            keep += [i - 1 for i, ln in enumerate(lines) if i and re.search(r"exact name of registrant", ln, re.I)]
            lines = [lines[i] for i in sorted(set(keep))][:12 if level == 1 else 7]
        if lines:
            parts.append((p, "\n".join(lines)))
    for p, lines in statement_pages.items():
        parts.append((p, "\n".join(lines)))
    parts.sort()
    body = "\n\n".join(i18n.t("fin.page_marker", lang, page=p) + "\n" + text for p, text in parts)
    return body, [p for p, _ in parts]


def build_messages(name: str, pages_text: str, lang: str) -> list[dict]:
    """Chat messages for the extraction request."""
    return [{"role": "user", "content": i18n.t("fin.user", lang, name=name, pages=pages_text)}]


_UNIT_WORDS = [("百万元", 1e6), ("千万元", 1e7), ("亿元", 1e8), ("万元", 1e4), ("千元", 1e3), ("元", 1.0),
               ("billion", 1e9), ("million", 1e6), ("thousand", 1e3)]


def unit_multiplier(unit: str | None) -> float | None:
    """Multiplier for a unit named by the model, None when unrecognised."""
    if not unit:
        return None
    u = unit.lower()
    for word, mult in _UNIT_WORDS:
        if word in u:
            return mult
    if u.strip() in {"yuan", "rmb", "cny", "usd", "dollars", "$", "units"}:
        return 1.0
    return None


def merge_model(ext: Extraction, reply: ModelReport, texts: list[str], allowed_pages: list[int]) -> None:
    """Check each model figure against its cited page and set it beside the table parse (never silently merged)."""
    model_unit_named = unit_multiplier(reply.unit) is not None
    mult = unit_multiplier(reply.unit) or ext.unit_multiplier or 1.0
    for key in MODEL_FIELDS:
        mf: ModelFigure = getattr(reply, key)
        fig = ext.fields[key]
        model_value = None if mf.value is None else round(mf.value * mult, 2)
        status = "missing"
        if model_value is not None:
            page_ok = mf.page in allowed_pages and 1 <= (mf.page or 0) <= len(texts)
            on_page = page_ok and any(number_on_page(v, texts[mf.page - 1]) for v in value_to_printed(model_value, mult))
            status = "verified" if on_page else "unverified"
        fig.table_value = fig.value
        fig.model_value = model_value
        fig.model_page = mf.page
        fig.model_status = status
        if fig.status in ("missing",) and model_value is not None:
            # The table parse found nothing: the model's figure stands, with its own verification status.
            fig.value, fig.page, fig.status = model_value, mf.page, status
            fig.source_text = (mf.source_text or "")[:300]
            fig.note = "fin.note.from_model"
            continue
        if fig.status == "not_applicable":
            fig.conflict = model_value is not None
            continue
        if model_value is None or fig.value is None:
            # Only two numbers can disagree; a figure the model did not give is shown as missing beside it.
            fig.conflict = False
            continue
        tolerance = max(mult, ext.unit_multiplier or 1.0) * 0.01 + 0.005
        fig.conflict = abs(model_value - fig.value) > tolerance
        if fig.conflict and fig.status in ("verified", "unverified", "derived"):
            # Two readings disagree: shown as a conflict with both, even where the table parse had a check.
            fig.status = "conflict"
        elif not fig.conflict and fig.status == "unverified" and status == "verified" and model_unit_named \
                and ext.unit_known:
            # The model read the located pages on its own, unit included, and found the same number.
            fig.status = "verified"
            fig.second_value, fig.second_page = model_value, mf.page
            fig.second_source = (mf.source_text or "")[:300]
    for attr in ("company_name", "stock_code", "fiscal_year", "currency"):
        if getattr(ext, attr) in (None, "") and getattr(reply, attr):
            value = getattr(reply, attr)
            if attr == "stock_code" and not re.fullmatch(r"[0-9A-Za-z.]{1,10}", str(value)):
                continue
            setattr(ext, attr, value)
    rev, cost = ext.fields["revenue"], ext.fields["operating_cost"]
    gp = ext.fields["gross_profit"]
    if gp.status == "missing" and rev.value is not None and cost.value is not None:
        ext.fields["gross_profit"] = Figure(value=round(rev.value - cost.value, 2), page=rev.page, status="derived",
                                            source_text="= revenue − operating cost", note="fin.note.gross_profit")


def conflicts(ext: Extraction) -> list[str]:
    """Fields where the table parse and the model disagree."""
    return [k for k in L.FIELDS if ext.fields[k].conflict]
