"""Deterministic extraction: locate the statements, read the standard line items, apply the unit."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.financials import labels as L
from services.financials.layout import Row, group_rows, words_from_page

_TITLE_HINT = re.compile(r"表|balance|statement|sheet", re.I)
_COLUMN_TOLERANCE = 14.0  # points: amounts in one column are right-aligned within this distance
_SECTION_MAX_PAGES = 4  # a statement never runs longer; stops a missing end title from swallowing the notes


@dataclass
class Figure:
    """One key figure with where it was read and how far it can be trusted."""
    value: float | None = None  # in currency units (yuan, dollars)
    page: int | None = None  # 1-based
    source_text: str = ""
    status: str = "missing"  # verified | derived | unverified | not_applicable | missing
    raw: str | None = None  # the number as printed
    note: str = ""
    table_value: float | None = None  # what the table parse read, kept when a model disagrees
    model_value: float | None = None
    model_page: int | None = None
    model_status: str | None = None
    conflict: bool = False

    def as_dict(self) -> dict:
        """JSON-ready dict; the four contract keys first."""
        d = {"value": self.value, "page": self.page, "source_text": self.source_text, "status": self.status}
        if self.raw is not None:
            d["raw"] = self.raw
        if self.note:
            d["note"] = self.note
        if self.model_status is not None:
            d.update(table_value=self.table_value, model_value=self.model_value, model_page=self.model_page,
                     model_status=self.model_status, conflict=self.conflict)
        return d


@dataclass
class Section:
    """Rows of one statement, from its title to the next statement title."""
    kind: str
    consolidated: bool
    explicit_scope: bool
    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def pages(self) -> list[int]:
        return sorted({r.page for r in self.rows if r.amounts})


@dataclass
class Check:
    """An accounting identity and whether the figures satisfy it."""
    name: str
    ok: bool
    detail: str


@dataclass
class Extraction:
    """Everything read from one report without a model."""
    language: str = "zh"
    company_name: str | None = None
    short_name: str | None = None
    stock_code: str | None = None
    fiscal_year: int | None = None
    period: str | None = None
    currency: str | None = None
    unit_multiplier: float | None = None
    unit_label: str | None = None
    fields: dict[str, Figure] = field(default_factory=dict)
    extra: dict[str, Figure] = field(default_factory=dict)  # equity etc., for the identity checks
    checks: list[Check] = field(default_factory=list)
    located: dict[str, list[int]] = field(default_factory=dict)
    warnings: list[tuple[str, dict]] = field(default_factory=list)
    is_financial_institution: bool = False


class PageSource:
    """Text and rows of a PDF's pages, computed once each and only when needed."""

    def __init__(self, texts: list[str], row_reader):
        self.texts = texts
        self._row_reader = row_reader
        self._rows: dict[int, list[Row]] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def rows(self, page_number: int) -> list[Row]:
        """Rows of a 1-based page."""
        if page_number not in self._rows:
            self._rows[page_number] = self._row_reader(page_number)
        return self._rows[page_number]


class LazyTexts(Sequence):
    """Page texts read from the PDF only when first asked for: locating stops before most pages are touched."""

    def __init__(self, doc):
        self._doc = doc
        self._texts: list[str | None] = [None] * len(doc)

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if self._texts[index] is None:
            self._texts[index] = self._doc[index].get_text()
        return self._texts[index]

    @property
    def read_count(self) -> int:
        """How many pages' text has been extracted so far."""
        return sum(t is not None for t in self._texts)


def pymupdf_source(doc, texts=None) -> PageSource:
    """A PageSource over an open PyMuPDF document (texts read lazily unless given)."""
    return PageSource(texts if texts is not None else LazyTexts(doc), lambda n: group_rows(words_from_page(doc[n - 1]), n))


def detect_language(texts: list[str]) -> str:
    """zh when the opening pages are mostly Chinese."""
    sample = "".join(texts[:8])
    cjk = len(re.findall(r"[\u4e00-\u9fff]", sample))
    latin = len(re.findall(r"[A-Za-z]", sample))
    return "zh" if cjk * 3 >= latin else "en"


HEAD_PAGES = 15  # cover, contents, company profile and key figures live here


def scan_order(n: int) -> list[int]:
    """Pages in the order to look for statements: the opening pages (interim reports), then from 30 % of the
    way in to the end (annual statements follow the management report), then the rest."""
    head = list(range(1, min(n, HEAD_PAGES) + 1))
    start = max(HEAD_PAGES + 1, int(n * 0.3))
    return head + list(range(start, n + 1)) + list(range(HEAD_PAGES + 1, min(start, n + 1)))


def _has_title(text: str) -> bool:
    return bool(_TITLE_HINT.search(text)) and any(
        L.statement_title(line) for line in text.splitlines() if len(line) < 90 and _TITLE_HINT.search(line))


def find_sections(source: PageSource, *, stop_when_found: bool = True) -> list[Section]:
    """Statement sections, from title to next title (across pages); stops once both consolidated statements
    with their totals are found, so most pages of a long report are never read."""
    sections: list[Section] = []
    visited: set[int] = set()
    for start in scan_order(len(source)):
        if start in visited or not _has_title(source.texts[start - 1]):
            continue
        current: Section | None = None
        started_on = start
        page = start
        while page <= len(source) and page not in visited:
            visited.add(page)
            for row in source.rows(page):
                title = None if row.amounts else L.statement_title(row.text)
                if title:
                    kind, consolidated = title
                    explicit = bool(re.match(r"(合并|consolidated|condensed|combined)", L.compact(row.text).lower()))
                    current = Section(kind, consolidated, explicit, row.text)
                    sections.append(current)
                    started_on = page
                elif current is not None:
                    current.rows.append(row)
            # A statement still open at the page end continues on the next page, up to a limit.
            if current is None or page - started_on + 1 >= _SECTION_MAX_PAGES:
                break
            page += 1
        if stop_when_found and _both_statements(sections):
            break
    sections.sort(key=lambda s: (s.rows[0].page, s.rows[0].y) if s.rows else (0, 0))
    return sections


def _both_statements(sections: list[Section]) -> bool:
    def has(kind, field_name):
        return any(s.kind == kind and s.consolidated and find_line_item(s, field_name, {}) for s in sections)
    return has(L.BALANCE, "total_assets") and has(L.INCOME, "net_profit")


def _current_column(rows: list[Row]) -> dict[int, float]:
    """Right edge of the report-period column on each page: the leftmost well-filled amount column."""
    per_page: dict[int, list[float]] = {}
    for r in rows:
        for a in r.amounts:
            per_page.setdefault(r.page, []).append(a.x1)
    result = {}
    for page, xs in per_page.items():
        xs.sort()
        clusters: list[list[float]] = []
        for x in xs:
            if clusters and x - clusters[-1][-1] <= _COLUMN_TOLERANCE:
                clusters[-1].append(x)
            else:
                clusters.append([x])
        biggest = max(len(c) for c in clusters)
        good = [c for c in clusters if len(c) >= max(2, 0.25 * biggest)] or clusters
        # A 附注 / note column of bare integers ("5", "32") is not money: amounts have separators or decimals.
        money = [c for c in good if _money_share(rows, page, c) >= 0.3] or good
        good = money
        result[page] = sum(good[0]) / len(good[0])
        # Headers in ascending year order (old → new) put the report year on the right.
        years = [y for r in rows if r.page == page for y in r.years]
        if len(years) >= 2 and years[0][0] < years[-1][0] and len(good) >= 2:
            target = max(years)[1]
            best = min(good, key=lambda c: abs(sum(c) / len(c) - target))
            result[page] = sum(best) / len(best)
    return result


def _money_share(rows: list[Row], page: int, cluster: list[float]) -> float:
    lo, hi = min(cluster), max(cluster)
    raws = [a.raw for r in rows if r.page == page for a in r.amounts if lo <= a.x1 <= hi]
    if not raws:
        return 0.0
    return sum(1 for raw in raws if "," in raw or "." in raw or a_dash(raw)) / len(raws)


def a_dash(raw: str) -> bool:
    """A dash standing for zero / nothing in an amount column."""
    return raw.strip() in {"-", "—", "–", "－", "--", "——", "−"}


@dataclass
class LineHit:
    """A line item found in a section."""
    rank: int
    row: Row
    label: str
    raw: str | None
    value: float | None  # in the statement unit


def find_line_item(section: Section, field_name: str, columns: dict[int, float]) -> LineHit | None:
    """Best-matching row for a field, labels broken across lines joined with their neighbours."""
    best: LineHit | None = None
    rows = section.rows
    for i, row in enumerate(rows):
        if not row.amounts:
            continue
        candidates = [row.label]
        if i + 1 < len(rows) and not rows[i + 1].amounts:
            candidates.append(row.label + rows[i + 1].label)
            if i + 2 < len(rows) and not rows[i + 2].amounts:
                candidates.append(row.label + rows[i + 1].label + rows[i + 2].label)
        if i > 0 and not rows[i - 1].amounts and rows[i - 1].label:
            candidates.append(rows[i - 1].label + row.label)
        for order, label in enumerate(candidates):
            rank = L.match_rank(field_name, L.normalize(label))
            if rank is None:
                continue
            key = rank * 10 + order
            if best is None or key < best.rank:
                raw, value = _value_in_column(row, columns.get(row.page))
                best = LineHit(key, row, label, raw, value)
    return best


def _value_in_column(row: Row, column_x: float | None) -> tuple[str | None, float | None]:
    if column_x is None:
        first = row.amounts[0]
        return first.raw, first.value
    near = [a for a in row.amounts if abs(a.x1 - column_x) <= _COLUMN_TOLERANCE]
    if not near:
        return None, None
    a = min(near, key=lambda a: abs(a.x1 - column_x))
    return a.raw, a.value


_CN_UNITS = [("百万元", 1e6), ("千万元", 1e7), ("亿元", 1e8), ("万元", 1e4), ("千元", 1e3), ("元", 1.0)]


def detect_unit(rows: list[Row], language: str) -> tuple[float, str] | None:
    """Unit multiplier stated in a statement's heading lines."""
    for row in rows[:40]:
        text = L.compact(row.text)
        if language == "zh":
            m = re.search(r"(?:单位|金额单位)[:：]?(?:人民币)?(百万元|千万元|亿元|万元|千元|元)", text)
            if m:
                return dict(_CN_UNITS)[m.group(1)], m.group(1)
        else:
            low = text.lower()
            if re.search(r"inmillions|\(millions|millionsofdollars|dollarsinmillions|\$inmillions|\$andsharesinmillions", low):
                return 1e6, "millions"
            if re.search(r"inthousands|\(thousands|thousandsofdollars|dollarsinthousands|\$inthousands", low):
                return 1e3, "thousands"
            if re.search(r"inbillions|\(billions", low):
                return 1e9, "billions"
    return None


def detect_currency(texts: list[str], sections: list[Section], language: str) -> str:
    """ISO currency of the statements (币种 in Chinese headings; dollars in SEC filings)."""
    for s in sections:
        for row in s.rows[:40]:
            m = re.search(r"币种[:：]?\s*(人民币|美元|港币|港元|欧元)", L.compact(row.text))
            if m:
                return {"人民币": "CNY", "美元": "USD", "港币": "HKD", "港元": "HKD", "欧元": "EUR"}[m.group(1)]
    return "CNY" if language == "zh" else "USD"


def read_metadata(texts: list[str], ext: Extraction) -> None:
    """Company name, stock code and period from the cover and company-profile pages."""
    texts = [t.replace("\xa0", " ") for t in texts[:15]]
    head = texts
    joined = "\n".join(head)
    if ext.language == "zh":
        m = re.search(r"(?:公司的中文名称|中文名称|公司名称)[ \t:：]*\n?\s*([^\s:：]{2,40}(?:公司|银行))", joined)
        if m:
            ext.company_name = m.group(1)
        else:
            for line in "\n".join(texts[:2]).splitlines():
                line = line.strip()
                if 4 <= len(line) <= 40 and re.search(r"(股份有限公司|有限公司|银行)$", line):
                    ext.company_name = line
                    break
        m = re.search(r"(?:公司代码|股票代码|证券代码|A股代码)[ \t:：]*\n?\s*(\d{6})", joined)
        ext.stock_code = m.group(1) if m else None
        m = re.search(r"(?:公司简称|股票简称|证券简称|A股简称)[ \t:：]*\n?\s*([^\s:：]{2,12})", joined)
        ext.short_name = m.group(1) if m else None
        cover = L.compact("\n".join(texts[:2]))
        m = re.search(r"(20\d\d)年(年度报告|年报|半年度报告|第一季度报告|第三季度报告)", cover)
        if m:
            ext.fiscal_year = int(m.group(1))
            ext.period = m.group(2)
    else:
        cover = "\n".join(texts[:3])
        m = re.search(r"for the (fiscal year|quarterly period|year|quarter) ended\s+([A-Z][a-z]+\s+\d{1,2},?\s+(\d{4}))",
                      cover, re.I)
        if m:
            ext.fiscal_year = int(m.group(3))
            ext.period = ("quarter ended " if "quarter" in m.group(1).lower() else "year ended ") + \
                re.sub(r"\s+", " ", m.group(2))
        lines = [ln.strip() for ln in cover.splitlines()]
        for i, ln in enumerate(lines):
            if re.match(r"\(exact name of registrant", ln, re.I):
                prev = [p for p in lines[max(0, i - 3):i] if p]
                if prev:
                    ext.company_name = prev[-1]
                break
        if not ext.company_name:
            for i, ln in enumerate(lines):
                if re.match(r"commission file number", ln, re.I):
                    nxt = [p for p in lines[i + 1:i + 4] if p and not p.startswith("(")]
                    if nxt:
                        ext.company_name = nxt[0]
                    break
        for i, ln in enumerate(lines):
            if re.match(r"trading symbol", ln, re.I):
                for cand in lines[i + 1:i + 12]:
                    if re.fullmatch(r"[A-Z]{1,5}(\.[A-Z])?", cand) and cand not in {"NYSE", "LLC", "INC"}:
                        ext.stock_code = cand
                        break
                break


def locate_info_pages(texts: list[str], language: str) -> dict[str, list[int]]:
    """Cover, company-profile and key-figures pages (1-based)."""
    found: dict[str, list[int]] = {"cover": [1]}
    for i, text in enumerate(texts[:HEAD_PAGES]):
        c = L.compact(text)
        if language == "zh":
            if "公司简介" in c and ("中文名称" in c or "股票代码" in c or "公司代码" in c) and "profile" not in found:
                found["profile"] = [i + 1]
            if "主要会计数据" in c and "营业收入" in c and re.search(r"\d{1,3}(,\d{3}){2,}", c) and "key_figures" not in found:
                found["key_figures"] = [i + 1]
    return found


def extract(source: PageSource) -> tuple[Extraction, list[Section]]:
    """Read company facts and the key line items of the consolidated statements."""
    texts = source.texts
    ext = Extraction(language=detect_language(texts))
    read_metadata(texts, ext)
    sections = find_sections(source)
    ext.located.update(locate_info_pages(texts, ext.language))
    ext.currency = detect_currency(texts, sections, ext.language)

    chosen: dict[str, Section] = {}
    for kind, anchor in ((L.BALANCE, "total_assets"), (L.INCOME, "net_profit")):
        candidates = [s for s in sections if s.kind == kind and s.consolidated]
        # An explicit 合并 / consolidated title beats an unqualified one (a company without subsidiaries).
        candidates.sort(key=lambda s: (not s.explicit_scope, sections.index(s)))
        for s in candidates:
            if find_line_item(s, anchor, _current_column(s.rows)):
                chosen[kind] = s
                break
    if L.BALANCE in chosen:
        ext.located["balance_sheet"] = chosen[L.BALANCE].pages
    if L.INCOME in chosen:
        ext.located["income_statement"] = chosen[L.INCOME].pages

    units: dict[str, tuple[float, str]] = {}
    for kind, s in chosen.items():
        idx = sections.index(s)
        unit = detect_unit(s.rows, ext.language)
        if unit is None:
            # Some reports print the unit once, above the first statement.
            for other in sections[:idx][::-1]:
                unit = detect_unit(other.rows, ext.language)
                if unit:
                    break
        if unit is None:
            unit = (1.0, "元" if ext.language == "zh" else "units")
            ext.warnings.append(("fin.warn.no_unit", {"statement": kind}))
        units[kind] = unit
    main_unit = units.get(L.INCOME) or units.get(L.BALANCE)
    if main_unit:
        ext.unit_multiplier, ext.unit_label = main_unit

    ext.is_financial_institution = any(
        re.search(r"利息净收入|已赚保费|手续费及佣金净收入|net interest income|premiums earned", L.normalize(r.label))
        for s in chosen.values() for r in s.rows)

    wanted = list(L.FIELDS) + ["total_equity", "liabilities_and_equity", "minority_net_profit"]
    for name in wanted:
        if name == "gross_profit":
            continue
        kind, _ = L.LINE_ITEMS[name]
        fig = Figure()
        s = chosen.get(kind)
        if s is not None:
            hit = find_line_item(s, name, _current_column(s.rows))
            if hit is not None:
                mult = units[kind][0]
                fig = Figure(value=None if hit.value is None else round(hit.value * mult, 2), page=hit.row.page,
                             source_text=_source_line(hit), raw=hit.raw)
                fig.status = "verified" if hit.raw and number_on_page(hit.raw, texts[hit.row.page - 1]) else "unverified"
                if hit.value is None:
                    fig.status = "unverified"
                    fig.note = "empty in the report-period column"
        (ext.fields if name in L.FIELDS else ext.extra)[name] = fig

    _fill_from_key_figures(source, ext)
    _fill_derived(ext)
    ext.checks = identity_checks(ext)
    if not chosen:
        ext.warnings.append(("fin.warn.no_statements", {}))
    return ext, list(chosen.values())


_KEY_FIGURE_ITEMS = {
    "revenue": ("营业收入",),
    "net_profit_attributable": ("归属于上市公司股东的净利润", "归属于母公司股东的净利润", "归属于本行股东的净利润"),
    "total_assets": ("总资产", "资产总额", "资产总计"),
}


def _fill_from_key_figures(source: PageSource, ext: Extraction) -> None:
    """Figures the statements did not give, read from the 主要会计数据 table (an unusual statement layout)."""
    pages = ext.located.get("key_figures")
    missing = [k for k in _KEY_FIGURE_ITEMS if ext.fields.get(k, Figure()).status == "missing"]
    if not pages or not missing:
        return
    rows = [r for p in pages for r in source.rows(p)]
    unit = detect_unit(rows, ext.language) or (1.0, "元")
    columns = _current_column(rows)
    for key in missing:
        for row in rows:
            if row.amounts and L.normalize(row.label) in _KEY_FIGURE_ITEMS[key]:
                raw, value = _value_in_column(row, columns.get(row.page))
                if value is None:
                    continue
                ok = number_on_page(raw, source.texts[row.page - 1])
                ext.fields[key] = Figure(value=round(value * unit[0], 2), page=row.page, raw=raw,
                                         source_text=_source_line(LineHit(0, row, row.label, raw, value)),
                                         status="verified" if ok else "unverified",
                                         note="from the key-figures table (主要会计数据); statement not read")
                break
    if ext.unit_multiplier is None:
        ext.unit_multiplier, ext.unit_label = unit


def _source_line(hit: LineHit) -> str:
    nums = " ".join(a.raw for a in hit.row.amounts)
    return re.sub(r"\s+", " ", f"{hit.label} {nums}").strip()


def _fill_derived(ext: Extraction) -> None:
    f = ext.fields
    if f["operating_cost"].status == "missing" and ext.is_financial_institution:
        f["operating_cost"] = Figure(status="not_applicable", note="no operating cost line (financial institution)")
    rev, cost = f["revenue"], f["operating_cost"]
    if cost.status == "not_applicable":
        f["gross_profit"] = Figure(status="not_applicable", note="no operating cost line")
    elif rev.value is not None and cost.value is not None:
        f["gross_profit"] = Figure(value=round(rev.value - cost.value, 2), page=rev.page, status="derived",
                                   source_text=f"= {rev.raw} − {cost.raw}",
                                   note="revenue − operating cost")
    else:
        f["gross_profit"] = Figure(status="missing")
    if f["net_profit_attributable"].status == "missing" and f["net_profit"].value is not None \
            and ext.extra["minority_net_profit"].status == "missing" and ext.language == "en":
        npf = f["net_profit"]
        f["net_profit_attributable"] = Figure(value=npf.value, page=npf.page, source_text=npf.source_text,
                                              raw=npf.raw, status="derived",
                                              note="no non-controlling interests: equals net income")
    liab, le, eq = f["total_liabilities"], ext.extra["liabilities_and_equity"], ext.extra["total_equity"]
    if liab.status == "missing" and le.value is not None and eq.value is not None:
        f["total_liabilities"] = Figure(value=round(le.value - eq.value, 2), page=le.page, status="derived",
                                        source_text=f"= {le.raw} − {eq.raw}",
                                        note="total liabilities and equity − total equity")


def identity_checks(ext: Extraction) -> list[Check]:
    """Balance-sheet identities; a failure is shown, not corrected."""
    checks = []
    f, x = ext.fields, ext.extra
    tol = max(ext.unit_multiplier or 1.0, 0.01) * 1.5
    a, li, eq, le = f["total_assets"].value, f["total_liabilities"].value, x["total_equity"].value, x["liabilities_and_equity"].value
    if a is not None and li is not None and eq is not None and f["total_liabilities"].status != "derived":
        diff = a - (li + eq)
        checks.append(Check("assets = liabilities + equity", abs(diff) <= tol,
                            f"{a:,.2f} − ({li:,.2f} + {eq:,.2f}) = {diff:,.2f}"))
    if a is not None and le is not None:
        diff = a - le
        checks.append(Check("assets = liabilities and equity", abs(diff) <= tol, f"{a:,.2f} − {le:,.2f} = {diff:,.2f}"))
    return checks


def number_variants(raw: str) -> list[str]:
    """Ways the same number can be printed: with or without separators, sign or brackets."""
    core = re.sub(r"[^\d.,]", "", raw).strip(",")
    plain = core.replace(",", "")
    out = {core, plain}
    if "." in plain:
        whole, frac = plain.split(".", 1)
        if whole:
            out.add(f"{int(whole):,}.{frac}")
    elif plain.isdigit():
        out.add(f"{int(plain):,}")
    return [v for v in out if v]


def number_on_page(raw: str, page_text: str) -> bool:
    """True when the printed number occurs on the page (digits not part of a longer number)."""
    text = re.sub(r"\s+", " ", page_text)
    for v in number_variants(raw):
        if re.search(r"(?<![\d,.])" + re.escape(v) + r"(?![\d]|[,.]\d)", text):
            return True
    return False


def value_to_printed(value: float, multiplier: float) -> list[str]:
    """Candidate printed forms of a value in currency units, for checking a model's figure against a page."""
    v = abs(value) / multiplier
    forms = set()
    for decimals in (2, 0, 1):
        r = round(v, decimals)
        if abs(r - v) <= 0.005 + 1e-9 * abs(v) or decimals == 0 and abs(r - v) < 0.5 and multiplier > 1:
            s = f"{r:,.{decimals}f}"
            forms.add(s)
            forms.add(s.replace(",", ""))
    return sorted(forms)
