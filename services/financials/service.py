"""One report in, key figures out: open, locate, parse the tables, optionally ask the model, verify."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services import i18n
from services.errors import AppError, InputError, user_message
from services.financials import labels as L
from services.financials import messages  # noqa: F401 - registers the fin.* texts
from services.financials.messages import check_name
from services.financials.extract import (HEAD_PAGES, Extraction, LazyTexts, PageSource, extract, pymupdf_source,
                                        scan_order)
from services.financials.model import ModelReport, build_messages, conflicts, located_pages_text, merge_model
from services.financials.ocr import image_only_pages, is_scanned, ocr_source


@dataclass
class ReportResult:
    """The outcome for one file: figures (possibly partial), or the reason it could not be read."""
    file: str
    extraction: Extraction | None = None
    error: AppError | None = None
    pages_total: int = 0
    ocr_pages: list[int] = field(default_factory=list)
    prompt_pages: list[int] = field(default_factory=list)
    tokens_sent: int = 0
    tokens_document: int = 0
    elapsed_s: float = 0.0  # open + locate + table parse
    model_elapsed_s: float | None = None
    model_used: bool = False
    model_error: AppError | None = None
    injection: list[str] = field(default_factory=list)
    notices: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.extraction is not None

    def warnings(self, lang: str) -> list[str]:
        """Per-file notices in the user's language."""
        out = [i18n.t(key, lang, **params) for key, params in self.notices]
        if self.extraction:
            out += [i18n.t(key, lang, **{k: i18n.t(f"fin.kind.{v}", lang) if k == "statement" else v
                                         for k, v in params.items()})
                    for key, params in self.extraction.warnings]
            out += [i18n.t("fin.warn.identity", lang, detail=f"{check_name(c.name, lang)}: {c.detail}")
                    for c in self.extraction.checks if not c.ok]
        if self.ocr_pages:
            out.append(i18n.t("fin.warn.scanned", lang, pages=len(self.ocr_pages)))
        if self.model_error is not None:
            out.append(i18n.t("fin.warn.model_failed", lang, detail=self.model_error.message(lang)))
        if self.injection:
            out.append(i18n.t("fin.warn.injection", lang, phrases="; ".join(self.injection[:3])))
        return out

    def to_dict(self, lang: str = "en") -> dict:
        """The CLI / download JSON for this file."""
        ext = self.extraction
        d: dict = {"file": self.file}
        if ext is None:
            d.update(error=self.error.message(lang) if self.error else None, fields={})
            return d
        d.update(
            company_name=ext.company_name, short_name=ext.short_name, stock_code=ext.stock_code,
            fiscal_year=ext.fiscal_year, period=ext.period, currency=ext.currency,
            unit_multiplier=ext.unit_multiplier, unit=ext.unit_label,
            fields={k: ext.fields[k].as_dict(lang) for k in L.FIELDS}, industry=ext.industry,
            checks=[{"name": check_name(c.name, lang), "ok": c.ok, "detail": c.detail} for c in ext.checks],
            located_pages=ext.located, pages_total=self.pages_total,
            tokens_sent=self.tokens_sent, tokens_document=self.tokens_document,
            elapsed_s=round(self.elapsed_s, 3), model_used=self.model_used,
            warnings=self.warnings(lang),
        )
        if self.model_elapsed_s is not None:
            d["model_elapsed_s"] = round(self.model_elapsed_s, 2)
        if ext.language:
            d["language"] = ext.language
        if self.error is not None:
            d["error"] = self.error.message(lang)
        return d


def _estimate_tokens(text: str) -> int:
    from services.llm import estimate_tokens
    return estimate_tokens(text)


def analyze(path: str | Path, *, name: str | None = None, conn=None, use_model: bool = False, lang: str = "zh",
            progress: Callable[[str, float], None] | None = None) -> ReportResult:
    """Extract the key figures of one report; never raises for a bad file (the error is in the result)."""
    from services.documents import looks_like_injection, open_pdf
    path = Path(path)
    name = name or path.name
    result = ReportResult(file=name)
    start = time.perf_counter()
    try:
        if path.suffix.lower() != ".pdf" and Path(name).suffix.lower() != ".pdf":
            raise InputError("fin.error.not_pdf", file=name)
        if not path.is_file():
            raise InputError("fin.error.not_found", file=name)
        doc = open_pdf(path, name)
    except AppError as exc:
        result.error = exc
        return result
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a per-file message, never a crash
        result.error = AppError("error.unexpected", detail=str(exc)[:200])
        return result
    try:
        with doc:
            result.pages_total = len(doc)
            texts = LazyTexts(doc)
            if progress:
                progress("parsed", 0.4)
            source: PageSource
            if is_scanned(texts[:HEAD_PAGES]) and is_scanned(texts):
                try:
                    source, result.ocr_pages = ocr_source(
                        doc, texts, (lambda i, n: progress("ocr", 0.4 + 0.4 * i / max(n, 1))) if progress else None)
                except Exception as exc:  # noqa: BLE001 - OCR engine missing or failing: say so, keep going
                    source = pymupdf_source(doc, texts)
                    result.notices.append(("fin.warn.ocr_unavailable", {"detail": str(exc)[:200]}))
            else:
                source = pymupdf_source(doc, texts)
            ext, sections = extract(source)
            if not sections and not result.ocr_pages:
                # Statements printed as images inside a text PDF: OCR the image-only pages and look again.
                pages = image_only_pages(texts, scan_order(len(texts)))
                if pages:
                    try:
                        source, result.ocr_pages = ocr_source(doc, list(texts), only=pages)
                        ext, sections = extract(source)
                    except Exception as exc:  # noqa: BLE001 - OCR missing: keep the text-layer result
                        result.notices.append(("fin.warn.ocr_unavailable", {"detail": str(exc)[:200]}))
            result.extraction = ext
            prompt_body, result.prompt_pages = located_pages_text(
                source, ext, sections, lang, _prompt_budget(conn, lang) if use_model and conn is not None else None)
            result.elapsed_s = time.perf_counter() - start
            messages = build_messages(name, prompt_body, lang)
            result.tokens_sent = _estimate_tokens(i18n.t("fin.system", lang) + messages[0]["content"])
            result.tokens_document = _estimate_tokens("\n".join(source.texts))
            result.injection = looks_like_injection(prompt_body)
            if progress:
                progress("located", 0.85)
            if use_model and conn is not None:
                _ask_model(result, conn, messages, source.texts, lang)
    except Exception as exc:  # noqa: BLE001 - a broken page keeps the other files going
        result.error = exc if isinstance(exc, AppError) else AppError("error.unexpected", detail=str(exc)[:200])
    if progress:
        progress("done", 1.0)
    return result


def _prompt_budget(conn, lang: str) -> int | None:
    """Tokens left for the pages in the model's context after the instructions, schema and the answer."""
    import json

    from services import llm, providers
    try:
        window = providers.model_info(conn).context_window
    except Exception:  # noqa: BLE001 - unknown model: no budget, the provider will say if it is too long
        return None
    if not window:
        return None
    fixed = llm.estimate_tokens(i18n.t("fin.system", lang) + json.dumps(ModelReport.model_json_schema(), ensure_ascii=False)
                                + i18n.t("fin.user", lang, name="", pages=""))
    return max(256, window - (conn.max_tokens or 512) - fixed - 200)


def _ask_model(result: ReportResult, conn, messages: list[dict], texts: list[str], lang: str) -> None:
    from services import llm
    start = time.perf_counter()
    result.model_used = True
    try:
        reply = llm.structured(conn, messages, ModelReport, system=i18n.t("fin.system", lang), lang=lang)
    except AppError as exc:
        result.model_error = exc
        return
    finally:
        result.model_elapsed_s = time.perf_counter() - start
    merge_model(result.extraction, reply, texts, result.prompt_pages)


def analyze_many(files: list[tuple[str | Path, str]], *, conn=None, use_model: bool = False, lang: str = "zh",
                 on_file: Callable[[int, int, str], None] | None = None) -> list[ReportResult]:
    """Each (path, display name) in turn; one bad file never stops the others."""
    results = []
    for i, (path, name) in enumerate(files):
        if on_file:
            on_file(i, len(files), name)
        results.append(analyze(path, name=name, conn=conn, use_model=use_model, lang=lang))
    return results


def error_text(result: ReportResult, lang: str) -> str | None:
    """The per-file error in the user's language."""
    return user_message(result.error, lang) if result.error is not None else None


__all__ = ["ReportResult", "analyze", "analyze_many", "conflicts", "error_text"]
