"""Deterministic extraction: locate the statements, read the standard line items, apply the unit."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.financials import labels as L
from services.financials import units as U
from services.financials.layout import Amount, Row, group_rows, words_from_page

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
    note: str = ""  # an i18n key (fin.note.*), shown in the user's language
    note_params: dict = field(default_factory=dict)
    second_value: float | None = None  # the independent reading it was checked against
    second_page: int | None = None
    second_source: str = ""
    table_value: float | None = None  # what the table parse read, kept when a model disagrees
    model_value: float | None = None
    model_page: int | None = None
    model_status: str | None = None
    conflict: bool = False

    def note_text(self, lang: str = "en") -> str:
        """The note in the user's language ("" when there is none)."""
        if not self.note:
            return ""
        from services import i18n
        from services.financials import messages  # noqa: F401 - registers the fin.* texts
        return i18n.t(self.note, lang, **{k: (i18n.t(f"fin.field.{v}", lang) if k == "field" else
                                              i18n.t(f"fin.industry.{v}", lang) if k == "industry" else v)
                                          for k, v in self.note_params.items()})

    def as_dict(self, lang: str = "en") -> dict:
        """JSON-ready dict; the four contract keys first."""
        d = {"value": self.value, "page": self.page, "source_text": self.source_text, "status": self.status}
        if self.raw is not None:
            d["raw"] = self.raw
        if self.note:
            d["note"] = self.note_text(lang)
        if self.second_value is not None or self.second_page is not None:
            d.update(second_value=self.second_value, second_page=self.second_page, second_source=self.second_source)
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
    before: list[Row] = field(default_factory=list)  # lines above the title on its page (unit, 首次执行… captions)

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
    industry: str = "general"  # general | bank | insurer | securities, recognised from the statements
    unit_known: bool = False  # False when no unit was printed anywhere and 元 / units were assumed

    @property
    def is_financial_institution(self) -> bool:
        """A bank, insurer or securities firm (their statements have no 营业成本)."""
        return self.industry != "general"


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
            above: list[Row] = []
            for row in source.rows(page):
                title = None if row.amounts else L.statement_title(row.text)
                if title:
                    kind, consolidated = title
                    last = current or (sections[-1] if sections else None)
                    if L.is_continuation_title(row.text) and last is not None and last.kind == kind \
                            and last.consolidated == consolidated:
                        current = last  # 合并资产负债表（续）: the same statement, same unit
                        continue
                    current = Section(kind, consolidated, L.title_is_explicit(row.text), row.text,
                                      before=above[-6:])
                    sections.append(current)
                    started_on = page
                    above = []
                    continue
                above = [] if row.amounts else above + [row]
                if current is not None:
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


_PERIOD = re.compile(r"(?P<year>(?:19|20)\d\d)年(?:(?P<month>\d{1,2})月(?P<day>\d{1,2})日|度|末)?"
                     r"|(?P<now>本期|期末|本年|本报告期)|(?P<then>上期|期初|上年)")


def header_periods(row: Row) -> list[tuple[tuple[int, int, int], float]]:
    """Column headers of a row as ((year, month, day), x centre): 2019年12月31日, 2019年度, 本期发生额, 期初余额."""
    chars: list[tuple[str, float, float]] = []
    for x0, x1, text in row.words:
        t = L.compact(text)
        for ch in t:
            chars.append((ch, x0, x1))
    flat = "".join(c for c, _, _ in chars)
    out = []
    for m in _PERIOD.finditer(flat):
        if m.group("now"):
            key = (9999, 12, 31)
        elif m.group("then"):
            key = (0, 1, 1)
        else:
            key = (int(m.group("year")), int(m.group("month") or 12), int(m.group("day") or 31))
        x0, x1 = chars[m.start()][1], chars[m.end() - 1][2]
        out.append((key, (x0 + x1) / 2))
    return out


def period_header(rows: list[Row]) -> list[tuple[tuple[int, int, int], float]]:
    """The first row that heads two or more period columns (a caption date under the title is not one)."""
    for r in rows:
        if len(r.years) >= 2:
            return [((y, 12, 31), x) for y, x in r.years]
        if r.amounts:
            continue
        periods = header_periods(r)
        if len(periods) >= 2:
            return periods
    return []


def section_columns(section: Section) -> dict[int, float]:
    """Report-period column of a statement on each of its pages, chosen by the header's newest period."""
    periods = period_header(section.rows)
    target = None
    if periods:
        newest_key = max(k for k, _ in periods)
        # The leftmost of the newest columns: 本集团 before 本行 when both are printed side by side.
        newest_x = min(x for k, x in periods if k == newest_key)
        # Newest first is the rule (leftmost column); only a header putting it elsewhere moves the choice.
        if newest_x > min(x for _, x in periods) + 1:
            target = newest_x
    return _current_column(section.rows, target)


def _current_column(rows: list[Row], target: float | None = None) -> dict[int, float]:
    """Right edge of the report-period column on each page: the column under the newest period header, else the
    leftmost well-filled amount column."""
    per_page: dict[int, list[Amount]] = {}
    for r in rows:
        for a in r.amounts:
            per_page.setdefault(r.page, []).append(a)
    result = {}
    for page, amounts in per_page.items():
        amounts.sort(key=lambda a: a.x1)
        clusters: list[list[Amount]] = []
        for a in amounts:
            if clusters and a.x1 - clusters[-1][-1].x1 <= _COLUMN_TOLERANCE:
                clusters[-1].append(a)
            else:
                clusters.append([a])
        biggest = max(len(c) for c in clusters)
        good = [c for c in clusters if len(c) >= max(2, 0.25 * biggest)] or clusters
        # A 附注 / note column of bare integers ("5", "32") is not money: amounts have separators or decimals.
        good = [c for c in good if _money_share(c) >= 0.3] or good
        right = lambda c: sum(a.x1 for a in c) / len(c)  # noqa: E731
        result[page] = right(good[0])
        if target is not None and len(good) >= 2:
            centre = lambda c: sum(((a.x0 if a.x0 is not None else a.x1) + a.x1) / 2 for a in c) / len(c)  # noqa: E731
            best = min(good, key=lambda c: abs(centre(c) - target))
            result[page] = right(best)
    return result


def _money_share(cluster) -> float:
    raws = [a.raw for a in cluster]
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


def label_candidates(rows: list[Row], i: int) -> list[str]:
    """Possible full labels of the figure row i, most likely first: its own text, or joined with the figure-less
    lines a wrapped label spills onto."""
    row = rows[i]
    before = rows[i - 1].label if i > 0 and not rows[i - 1].amounts and rows[i - 1].label else None
    after = rows[i + 1].label if i + 1 < len(rows) and not rows[i + 1].amounts else None
    out = []
    if not row.label.strip() and before and after:
        # Figures set between the two lines of a wrapped label (五、净利润（净亏损以“－”号 / figures / 填列）):
        # the lower line alone (净利润) is only the tail of the label above it.
        out.append(before + after)
    out.append(row.label)
    if after is not None:
        out.append(row.label + after)
        if i + 2 < len(rows) and not rows[i + 2].amounts:
            out.append(row.label + after + rows[i + 2].label)
    if before:
        out.append(before + row.label)
        if after is not None:
            out.append(before + row.label + after)
    return out


def find_line_item(section: Section, field_name: str, columns: dict[int, float]) -> LineHit | None:
    """Best-matching row for a field, labels broken across lines joined with their neighbours."""
    best: LineHit | None = None
    rows = section.rows
    for i, row in enumerate(rows):
        if not row.amounts:
            continue
        for order, label in enumerate(label_candidates(rows, i)):
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


def detect_unit(rows: list[Row], language: str = "zh") -> tuple[float, str] | None:
    """Unit multiplier stated in a table's heading lines (every spelling: 单位：人民币百万元, 金额单位均为…,
    (in thousands of RMB), RMB'000 …)."""
    return U.unit_in_lines([row.text for row in rows[:40]])


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
    for i in range(min(len(texts), KEY_FIGURE_PAGES)):
        if i >= HEAD_PAGES and ("key_figures" in found or language != "zh"):
            break
        c = L.compact(texts[i])
        if language == "zh":
            if "公司简介" in c and ("中文名称" in c or "股票代码" in c or "公司代码" in c) and "profile" not in found:
                found["profile"] = [i + 1]
            if _KEY_FIGURES_TITLE.search(c) and "营业收入" in c and re.search(r"\d{1,3}(,\d{3})+", c) \
                    and "key_figures" not in found:
                found["key_figures"] = [i + 1]
    return found


KEY_FIGURE_PAGES = 30  # a bank's 会计数据和财务指标摘要 can stand after a long chairman's statement
# 主要会计数据 (general format) · 会计数据和财务指标摘要 / 财务摘要 / 财务概要 (banks, insurers)
_KEY_FIGURES_TITLE = re.compile(r"主要会计数据|会计数据和(?:业务数据|财务指标)摘要|财务摘要|财务概要|主要财务数据")


def is_restatement(section: Section) -> bool:
    """A table in the notes that restates opening balances (首次执行新准则调整…, columns 2018年12月31日 / 2019年1月1日
    / 调整数): titled like a statement, but not the statement."""
    header = [r for r in section.rows[:12] if not r.amounts]
    text = L.compact(" ".join(r.text for r in section.before + header))
    if re.search(r"调整数|调整金额|影响金额|首次执行", text):
        return True
    periods = period_header(section.rows)
    if section.kind == L.BALANCE and periods:
        newest = max(k for k, _ in periods)
        if newest[0] != 9999 and (newest[1], newest[2]) == (1, 1):
            return True  # the newest column is an opening balance (1月1日)
    return False


def section_unit(section: Section, sections: list[Section], texts, language: str) -> tuple[float, str] | None:
    """Unit of a statement: its own heading lines, else the statement it continues, else the report's convention
    (除特别注明外，金额单位均为人民币百万元), else an earlier statement's."""
    header = []
    for r in section.rows:
        if r.amounts:
            break
        header.append(r)
    unit = U.unit_in_lines([r.text for r in section.before] + [section.title] + [r.text for r in header])
    if unit:
        return unit
    # A unit printed at the top of a later page of the same statement (every page of a bank's statement).
    unit = detect_unit(section.rows, language)
    if unit:
        return unit
    idx = sections.index(section)
    earlier = sections[:idx][::-1]
    for other in earlier:
        if other.kind == section.kind and other.consolidated == section.consolidated:
            unit = detect_unit(other.before + other.rows, language)
            if unit:
                return unit
            break
    first = section.rows[0].page if section.rows else 1
    conv = U.report_convention(texts[max(0, first - 12):first])
    if conv:
        return conv[0], conv[1]
    for other in earlier:
        unit = detect_unit(other.before + other.rows, language)
        if unit:
            return unit
    return None


def recognise_industry(chosen: dict[str, Section]) -> str:
    """general | bank | insurer | securities, from the line items the statements fill in (MoF formats)."""
    filled = {L.normalize(r.label) for s in chosen.values() for r in s.rows
              if any(a.value not in (None, 0) for a in r.amounts)}
    if any(L.match_rank("operating_cost", label) is not None for label in filled):
        return "general"  # an industrial group with a finance arm still has 营业成本
    if any(m in filled for m in L.INDUSTRY_MARKERS["insurer"]):
        return "insurer"
    if any(m in filled for m in L.INDUSTRY_MARKERS["securities"]):
        return "securities"
    if any(m in filled for m in L.FINANCIAL_INCOME) or any(m in filled for m in L.INDUSTRY_MARKERS["bank"]):
        return "bank"
    return "general"


def extract(source: PageSource) -> tuple[Extraction, list[Section]]:
    """Read company facts and the key line items of the consolidated statements, then check each against a
    second, independent reading."""
    texts = source.texts
    ext = Extraction(language=detect_language(texts))
    read_metadata(texts, ext)
    sections = find_sections(source)
    ext.located.update(locate_info_pages(texts, ext.language))
    ext.currency = detect_currency(texts, sections, ext.language)

    chosen: dict[str, Section] = {}
    for kind, anchor in ((L.BALANCE, "total_assets"), (L.INCOME, "net_profit")):
        candidates = [s for s in sections if s.kind == kind and s.consolidated and not is_restatement(s)]
        # An explicit 合并 / consolidated title beats an unqualified one (a company without subsidiaries).
        candidates.sort(key=lambda s: (not s.explicit_scope, sections.index(s)))
        for s in candidates:
            if find_line_item(s, anchor, section_columns(s)):
                chosen[kind] = s
                break
    if L.BALANCE in chosen:
        ext.located["balance_sheet"] = chosen[L.BALANCE].pages
    if L.INCOME in chosen:
        ext.located["income_statement"] = chosen[L.INCOME].pages

    units: dict[str, tuple[float, str]] = {}
    known: dict[str, bool] = {}
    for kind, s in chosen.items():
        unit = section_unit(s, sections, texts, ext.language)
        known[kind] = unit is not None
        if unit is None:
            unit = (1.0, "元" if ext.language == "zh" else "units")
            ext.warnings.append(("fin.warn.no_unit", {"statement": kind}))
        units[kind] = unit
    main_unit = units.get(L.INCOME) or units.get(L.BALANCE)
    if main_unit:
        ext.unit_multiplier, ext.unit_label = main_unit
    ext.unit_known = bool(known) and all(known.values())
    ext.industry = recognise_industry(chosen)

    wanted = list(L.FIELDS) + ["total_equity", "liabilities_and_equity", "minority_net_profit"]
    for name in wanted:
        if name == "gross_profit":
            continue
        kind, _ = L.LINE_ITEMS[name]
        fig = Figure()
        s = chosen.get(kind)
        if s is not None:
            hit = find_line_item(s, name, section_columns(s))
            if hit is not None:
                mult = units[kind][0]
                fig = Figure(value=None if hit.value is None else round(hit.value * mult, 2), page=hit.row.page,
                             source_text=_source_line(hit), raw=hit.raw, status="unverified")
                if hit.value is None:
                    fig.note = "fin.note.empty_cell"
                elif not known[kind]:
                    fig.note = "fin.note.unit_unknown"
        (ext.fields if name in L.FIELDS else ext.extra)[name] = fig

    summary = read_key_figures(source, ext)
    _prefer_line_the_summary_confirms(ext, summary, chosen, units, known)
    _fill_derived(ext)
    ext.checks = identity_checks(ext)
    cross_check(ext, summary, known, units, texts, chosen)
    if not chosen:
        ext.warnings.append(("fin.warn.no_statements", {}))
    return ext, list(chosen.values())


def _prefer_line_the_summary_confirms(ext: Extraction, summary: dict, chosen: dict, units: dict, known: dict) -> None:
    """营业总收入 and 营业收入 differ in a group with a finance arm (利息收入, 已赚保费): when the summary's revenue
    is the other of the two lines, that line is the revenue both readings agree on."""
    reading, fig, s = summary.get("revenue"), ext.fields.get("revenue"), chosen.get(L.INCOME)
    if reading is None or fig is None or s is None or fig.value is None or not known.get(L.INCOME):
        return
    mult = units[L.INCOME][0]
    if abs(fig.value - reading.value) <= _tolerance((fig.raw, mult), (reading.raw, reading.multiplier)):
        return
    columns = section_columns(s)
    for i, row in enumerate(s.rows):
        if not row.amounts or not any(L.normalize(c) in ("营业总收入", "营业收入")
                                      for c in label_candidates(s.rows, i)):
            continue
        raw, value = _value_in_column(row, columns.get(row.page))
        if value is not None and abs(value * mult - reading.value) <= _tolerance((raw, mult), (reading.raw, reading.multiplier)):
            label = next(c for c in label_candidates(s.rows, i) if L.normalize(c) in ("营业总收入", "营业收入"))
            ext.fields["revenue"] = Figure(value=round(value * mult, 2), page=row.page, raw=raw, status="unverified",
                                           source_text=_source_line(LineHit(0, row, label, raw, value)))
            return


@dataclass
class Reading:
    """A figure read a second time, somewhere else than the statement (the 主要会计数据 summary)."""
    value: float
    page: int
    raw: str
    source_text: str
    unit_known: bool
    multiplier: float = 1.0


# Labels of the 主要会计数据 / 主要财务指标 summary, normalised, for each figure it repeats.
_KEY_FIGURE_ITEMS = {
    "revenue": ("营业收入", "营业总收入", "营业收入合计"),
    "net_profit": ("净利润",),
    "net_profit_attributable": ("归属于上市公司股东的净利润", "归属于母公司股东的净利润", "归属于本行股东的净利润",
                                "归属于母公司所有者的净利润", "归属于本公司股东的净利润", "归属于母公司普通股股东的净利润"),
    "total_assets": ("总资产", "资产总额", "资产总计", "资产合计"),
    "total_liabilities": ("总负债", "负债总额", "负债合计"),
}


def _unit_free(label: str) -> str:
    """A summary label without its unit in brackets: 营业收入（元） → 营业收入."""
    return L.normalize(re.sub(r"[（(][^（）()]*[元)）]*[)）]\s*$", "", label.strip()))


def read_key_figures(source: PageSource, ext: Extraction) -> dict[str, Reading]:
    """The report's own summary table (主要会计数据), each figure with the unit printed for that table or row."""
    pages = ext.located.get("key_figures")
    if not pages:
        return {}
    pages = [p for p in (pages[0], pages[0] + 1) if p <= len(source)]
    rows = [r for p in pages for r in source.rows(p)]
    out: dict[str, Reading] = {}
    table_unit = None
    conv = U.report_convention(source.texts[max(0, pages[0] - 3):pages[0]])
    for i, row in enumerate(rows):
        if re.search(r"分季度|第一季度|第[一二三四]季度|境内外会计准则", L.compact(row.text)):
            break  # the quarterly table below repeats the labels with quarter figures
        if not row.amounts:
            table_unit = U.unit_in_text(row.text) or table_unit
            continue
        candidates = label_candidates(rows, i)
        first = next((a for a in row.amounts if a.value is not None), None)
        if first is None:
            continue
        for label in candidates:
            norm = _unit_free(label)
            key = next((k for k, names in _KEY_FIGURE_ITEMS.items() if norm in names), None)
            if key is None or key in out:
                continue
            unit = U.unit_in_text("单位" + m.group(1)) if (m := re.search(r"[（(]([^（）()]*元)[)）]", label)) else None
            unit = unit or table_unit or (conv[:2] if conv else None)
            out[key] = Reading(value=round(first.value * (unit[0] if unit else 1.0), 2), page=row.page, raw=first.raw,
                               source_text=re.sub(r"\s+", " ", f"{label} {first.raw}").strip(),
                               unit_known=unit is not None, multiplier=unit[0] if unit else 1.0)
            break
    return out


def _tolerance(*readings: tuple[str | None, float]) -> float:
    """Rounding allowed between two readings: half a unit of the last printed digit of the coarser one."""
    tol = 0.01
    for raw, mult in readings:
        decimals = len(raw.split(".", 1)[1]) if raw and "." in raw else 0
        tol = max(tol, 0.5 * 10 ** -decimals * mult + 0.005)
    return tol


def _printed(raw: str) -> float:
    """A printed amount's number, sign ignored: (1,234.5) → 1234.5."""
    return float(re.sub(r"[^\d.]", "", raw) or 0)


def _agree(fig: Figure, value: float, page: int, source: str, tol: float) -> bool:
    fig.second_value, fig.second_page, fig.second_source = value, page, source
    return fig.value is not None and abs(fig.value - value) <= tol


def cross_check(ext: Extraction, summary: dict[str, Reading], known: dict[str, bool], units: dict, texts,
                chosen: dict[str, Section]) -> None:
    """"Verified" only where two independent readings agree, magnitude included; disagreement is a conflict."""
    f, x = ext.fields, ext.extra
    stmt_mult = {k: units.get(k, (ext.unit_multiplier or 1.0,))[0] for k in (L.INCOME, L.BALANCE)}

    def settle(name: str, value: float, page: int, source: str, tol: float, magnitude_ok: bool) -> None:
        fig = f[name]
        if fig.status != "unverified" or fig.value is None:
            return
        if _agree(fig, value, page, source, tol):
            if magnitude_ok:
                fig.status = "verified"
            else:
                fig.note = fig.note or "fin.note.unit_unknown"
        else:
            fig.status = "conflict"
            fig.note = "fin.note.conflict"
            fig.note_params = {"value": f"{value:,.2f}", "page": page}

    # 1. The summary table (its own unit) against the statements (theirs).
    for name, reading in summary.items():
        fig = f.get(name)
        if fig is None:
            continue
        kind = L.LINE_ITEMS[name][0]
        if fig.status == "missing" and name in ("revenue", "net_profit_attributable", "total_assets"):
            f[name] = Figure(value=reading.value, page=reading.page, raw=reading.raw, source_text=reading.source_text,
                             status="unverified", note="fin.note.from_summary")
            continue
        tol = _tolerance((fig.raw, stmt_mult[kind]), (reading.raw, reading.multiplier))
        if not reading.unit_known and fig.value is not None and fig.raw:
            # The summary states no unit: only its digits can be compared; the magnitude stays unconfirmed.
            same = abs(_printed(fig.raw) - _printed(reading.raw)) <= _tolerance((fig.raw, 1.0), (reading.raw, 1.0))
            fig.second_value, fig.second_page, fig.second_source = reading.value, reading.page, reading.source_text
            if same and fig.status == "unverified":
                fig.note = "fin.note.unit_unknown"
            elif not same:
                fig.status, fig.note = "conflict", "fin.note.conflict"
                fig.note_params = {"value": reading.source_text, "page": reading.page}
            continue
        settle(name, reading.value, reading.page, reading.source_text, tol,
               magnitude_ok=known.get(kind, False) and reading.unit_known)

    # 2. Identities inside the statements, magnitude taken from a figure verified against the summary.
    assets, liab, eq = f["total_assets"], f["total_liabilities"], x["total_equity"]
    if liab.status == "unverified" and assets.value is not None and eq.value is not None:
        tol = _tolerance((assets.raw, stmt_mult[L.BALANCE])) * 3
        settle("total_liabilities", round(assets.value - eq.value, 2), assets.page,
               f"= {assets.raw} − {eq.raw}", tol, magnitude_ok=assets.status == "verified")
    npf, attr, minority = f["net_profit"], f["net_profit_attributable"], x["minority_net_profit"]
    # Without a 少数股东损益 line (or with it empty) net profit must equal the attributable net profit.
    if npf.status == "unverified" and attr.value is not None and attr.status != "derived" \
            and attr.note != "fin.note.from_summary":
        tol = _tolerance((npf.raw, stmt_mult[L.INCOME])) * 3
        settle("net_profit", round(attr.value + (minority.value or 0.0), 2), attr.page,
               f"= {attr.raw} + {minority.raw or '0'}", tol, magnitude_ok=attr.status == "verified")

    # 3. Operating cost printed again beside revenue elsewhere (the note 营业收入和营业成本).
    cost, rev = f["operating_cost"], f["revenue"]
    if cost.status == "unverified" and cost.raw and rev.raw and rev.status == "verified" and cost.value:
        statement_pages = set(chosen[L.INCOME].pages) if L.INCOME in chosen else set()
        start = max(statement_pages or {0})
        for p in range(start + 1, len(texts) + 1):
            page_text = texts[p - 1]
            if number_on_page(cost.raw, page_text) and number_on_page(rev.raw, page_text):
                cost.second_value, cost.second_page = cost.value, p
                cost.second_source = f"{rev.raw} … {cost.raw}"
                cost.status = "verified"
                break

    # Derived figures inherit the weakest status of their inputs.
    gp = f["gross_profit"]
    if gp.status == "derived" and "conflict" in (rev.status, cost.status):
        gp.status = "conflict"
    if assets.value and rev.value and not 1e-4 <= abs(rev.value) / abs(assets.value) <= 50:
        ext.checks.append(Check("revenue / total assets", False,
                                f"{rev.value:,.2f} / {assets.value:,.2f} = {abs(rev.value) / abs(assets.value):.6f}"))
        for name in ("revenue", "total_assets"):
            if f[name].status == "verified":
                f[name].status = "unverified"


def _source_line(hit: LineHit) -> str:
    nums = " ".join(a.raw for a in hit.row.amounts)
    return re.sub(r"\s+", " ", f"{hit.label} {nums}").strip()


def _fill_derived(ext: Extraction) -> None:
    f = ext.fields
    if f["operating_cost"].status == "missing" and ext.is_financial_institution:
        f["operating_cost"] = Figure(status="not_applicable", note="fin.note.no_cost_line",
                                     note_params={"industry": ext.industry})
    rev, cost = f["revenue"], f["operating_cost"]
    if cost.status == "not_applicable":
        f["gross_profit"] = Figure(status="not_applicable", note="fin.note.no_gross_profit",
                                   note_params={"industry": ext.industry})
    elif rev.value is not None and cost.value is not None:
        f["gross_profit"] = Figure(value=round(rev.value - cost.value, 2), page=rev.page, status="derived",
                                   source_text=f"= {rev.raw} − {cost.raw}", note="fin.note.gross_profit")
    else:
        f["gross_profit"] = Figure(status="missing")
    if f["net_profit_attributable"].status == "missing" and f["net_profit"].value is not None \
            and ext.extra["minority_net_profit"].status == "missing":
        npf = f["net_profit"]
        f["net_profit_attributable"] = Figure(value=npf.value, page=npf.page, source_text=npf.source_text,
                                              raw=npf.raw, status="derived", note="fin.note.no_minority")
    liab, le, eq = f["total_liabilities"], ext.extra["liabilities_and_equity"], ext.extra["total_equity"]
    if liab.status == "missing" and le.value is not None and eq.value is not None:
        f["total_liabilities"] = Figure(value=round(le.value - eq.value, 2), page=le.page, status="derived",
                                        source_text=f"= {le.raw} − {eq.raw}", note="fin.note.liabilities_derived")


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
