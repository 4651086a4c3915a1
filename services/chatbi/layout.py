"""How an office sheet is laid out: titles, one- or two-row headers, units, data, subtotal and total rows, notes,
and several tables one below the other. Works on a grid of cells, whether read from Excel or from a CSV."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field

_NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
_DASH = re.compile(r"^[-—–－/]+$")
_UNIT_WORD = (r"(?:[千万亿百]*元|[千万百]*(?:美元|港元|港币|欧元|日元|人民币)|[千万]?亿元?|万|千|百万|%|％|‰|"
              r"个|件|人|人次|万人|台|辆|套|箱|吨|万吨|千克|公斤|克|kg|t|米|千米|公里|km|平方米|㎡|m²|亩|公顷|"
              r"小时|天|次|户|家|张|元/\S{1,4}|USD|RMB|CNY|EUR|HKD|k|K|mn|bn)")
_UNIT_ONLY = re.compile(rf"^[（(]?\s*(?:单位\s*[:：]\s*)?({_UNIT_WORD})\s*[)）]?$", re.I)
_UNIT_IN_TEXT = re.compile(rf"[（(]?\s*单位\s*[:：]\s*({_UNIT_WORD})\s*[)）]?", re.I)
_UNIT_SUFFIX = re.compile(rf"^(.+?)\s*[（(]\s*(?:单位\s*[:：]\s*)?({_UNIT_WORD})\s*[)）]\s*$", re.I)
_NOTE = re.compile(r"^\s*(注|备注|说明|附注|数据来源|资料来源|来源|制表|制表人|填表|填报|审核|notes?|source)"
                   r"\s*(\d+|[一二三四五六七八九十]+)?\s*[:：.、]", re.I)
_COUNT_NAME = re.compile(r"(数|数量|率|比|比例|占比|比重|次|笔|个|件|人|count|qty|rate|ratio|%)$", re.I)
# Labels that always mark a subtotal or total row; the weaker words (总额, 累计, 汇总) also need the sum to agree.
_TOTAL_STRONG = re.compile(r"^(?:(?P<pre>.{0,30}?)\s*(?P<zh>小计|合计|总计|共计|总和)|"
                           r"(?P<en>sub[\s-]?totals?|grand\s+totals?|totals?|sum)\b(?P<post>.{0,30}))$", re.I)
_TOTAL_WEAK = re.compile(r"^(?:(.{0,30}?)(总额|累计|汇总|全部|全国|全省|全市)|(?:all|overall)\b.*)$", re.I)


@dataclass
class TotalCheck:
    """An excluded subtotal/total row compared with the sum of the kept rows it covers."""

    label: str
    column: str
    stated: float
    computed: float

    @property
    def agrees(self) -> bool:
        """Whether the stated total equals the computed sum (to rounding)."""
        return _close(self.stated, self.computed)


@dataclass
class Block:
    """One table found on a sheet: its title, column names and units, data rows and excluded total rows."""

    title: str | None
    names: list[str]
    units: dict[str, str]
    rows: list[list]                  # every data row, totals included, in sheet order
    total_rows: list[int]             # positions in rows of the subtotal/total rows
    checks: list[TotalCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    header_rows: int = 1
    preamble: int = 0                 # title and unit lines above the header

    @property
    def plain(self) -> bool:
        """A single header row, nothing above or below, no totals or units: a reader for plain files will do."""
        return (self.header_rows <= 1 and not self.preamble and not self.total_rows and not self.notes
                and not self.units)

    def total_labels(self) -> list[str]:
        """The labels of the excluded rows (first text cell)."""
        return [_row_label(self.rows[i]) or "∑" for i in self.total_rows]


def filled(value: object) -> bool:
    """Whether a cell holds something."""
    return value is not None and not (isinstance(value, str) and not value.strip()) and not (
        isinstance(value, float) and math.isnan(value))


def is_number(value: object) -> bool:
    """A number cell, or text written as a number (thousands separators allowed)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None


def as_number(value: object) -> float:
    """The number in a cell that is_number accepts."""
    return float(value.strip().replace(",", "")) if isinstance(value, str) else float(value)


def is_dash(value: object) -> bool:
    """A dash or slash standing for "none" in a number column."""
    return isinstance(value, str) and _DASH.match(value.strip()) is not None


def split_sheet(grid: list[list]) -> list[Block]:
    """The tables on a sheet, top to bottom (several when separated by blank rows, each with its title)."""
    grid = [[(v.strip() if isinstance(v, str) else v) for v in row] for row in grid]
    width = max((len(r) for r in grid), default=0)
    grid = [list(r) + [None] * (width - len(r)) for r in grid]
    runs: list[list[list]] = []
    current: list[list] = []
    for row in grid:
        if any(filled(v) for v in row):
            current.append(row)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    if not runs:
        return []
    wide = _wide_threshold(grid)
    blocks: list[Block] = []
    pending: list[list] = []          # title/unit lines waiting for their table
    parts: list[list[list]] = []
    for run in runs:
        if all(_count(r) < wide for r in run):
            if parts and all(_is_note(r) for r in run):
                parts[-1].extend(run)  # notes belong to the table above
            else:
                pending.extend(run)
            continue
        first_wide = next(r for r in run if _count(r) >= wide)
        if parts and not pending and not _header_like(first_wide):
            parts[-1].extend(run)      # a blank row inside a table, not a new table
            continue
        parts.append(pending + run)
        pending = []
    for part in parts:
        block = _read_block(part, wide)
        if block is not None:
            blocks.append(block)
    return blocks


def _wide_threshold(grid: list[list]) -> int:
    counts = [_count(r) for r in grid if _count(r)]
    tail = counts[len(counts) // 3:] or counts
    mode = Counter(tail).most_common(1)[0][0]
    return max(2, math.ceil(mode * 0.5))


def _count(row: list) -> int:
    return sum(1 for v in row if filled(v))


def _is_note(row: list) -> bool:
    cells = [v for v in row if filled(v)]
    return bool(cells) and isinstance(cells[0], str) and _NOTE.match(cells[0]) is not None


def _header_like(row: list) -> bool:
    """Only labels: no numbers other than years."""
    return all(not is_number(v) or _year(v) for v in row if filled(v)) and not all(
        isinstance(v, (dt.date, dt.datetime)) for v in row if filled(v))


def _year(v: object) -> bool:
    try:
        f = as_number(v)
    except (TypeError, ValueError):
        return False
    return f.is_integer() and 1900 <= f <= 2100 and not (isinstance(v, str) and "," in v)


def _unit_row(row: list) -> bool:
    cells = [v for v in row if filled(v)]
    return bool(cells) and all(isinstance(v, str) and _UNIT_ONLY.match(v) for v in cells)


def _read_block(rows: list[list], wide: int) -> Block | None:
    start = next(i for i, r in enumerate(rows) if _count(r) >= wide)
    preamble = rows[:start]
    title, table_unit = None, None
    for r in preamble:
        for v in r:
            if not filled(v):
                continue
            text = str(v)
            if m := _UNIT_IN_TEXT.search(text):
                table_unit = table_unit or m.group(1)
                text = (text[: m.start()] + text[m.end():]).strip(" ，,;；:：")
            elif _UNIT_ONLY.match(text):
                table_unit = table_unit or _UNIT_ONLY.match(text).group(1)
                text = ""
            if text and title is None and not _NOTE.match(text):
                title = text
    if all(is_number(v) for v in rows[start] if filled(v)):
        # No header at all: the first wide row is already data.
        width = len(rows[0])
        used = [j for j in range(width) if any(filled(r[j]) for r in rows[start:])]
        body = [[r[j] for j in used] for r in rows[start:]]
        block = Block(title=title, names=[f"column{j + 1}" for j in range(len(used))], units={}, rows=body,
                      total_rows=[], header_rows=0, preamble=len(preamble))
        _find_totals(block)
        return block
    header = [rows[start]]
    i = start + 1
    column_units: dict[int, str] = {}
    while i < len(rows):
        row = rows[i]
        if _unit_row(row):
            cells = [str(v) for v in row if filled(v)]
            if len(cells) == 1 and "单位" in cells[0]:
                table_unit = table_unit or _UNIT_ONLY.match(cells[0]).group(1)  # one line for the whole table
            else:
                for j, v in enumerate(row):
                    if filled(v):
                        column_units[j] = _UNIT_ONLY.match(str(v)).group(1)
            i += 1
            continue
        if len(header) == 1 and _header_like(row) and _spans(header[0], row) and i + 1 < len(rows):
            header.append(row)
            i += 1
            continue
        break
    body = rows[i:]
    notes: list[str] = []
    cut = len(body)
    for k, row in enumerate(body):
        if _is_note(row) and _count(row) <= 2:
            cut = k
            break
    notes = [" ".join(str(v) for v in r if filled(v)) for r in body[cut:]]
    body = body[:cut]
    # Trailing one-cell text rows (signatures, stray remarks) are not data either.
    while body and _count(body[-1]) == 1 and wide > 2 and not any(is_number(v) for v in body[-1] if filled(v)):
        notes.insert(0, " ".join(str(v) for v in body.pop() if filled(v)))
    width = len(rows[0])
    used = [j for j in range(width) if any(filled(r[j]) for r in header + body)]
    names, units = _names(header, used, column_units)
    body = [[r[j] for j in used] for r in body]
    for k, n in enumerate(names):
        values = [r[k] for r in body if filled(r[k])]
        numeric = bool(values) and sum(1 for v in values if is_number(v) or is_dash(v)) >= 0.8 * len(values)
        if not numeric:
            units.pop(n, None)  # a unit over a label column is the table's, not the column's
        elif table_unit and n not in units and not (_COUNT_NAME.search(n) and "元" in table_unit):
            units[n] = table_unit  # a money unit over the table is not the unit of its counts (订单数, 人数)
    block = Block(title=title, names=names, units=units, rows=body, total_rows=[], notes=notes,
                  header_rows=len(header), preamble=len(preamble))
    _find_totals(block)
    return block


def _spans(top: list, below: list) -> bool:
    """Whether a header row has merged cells over the row below: a gap above a filled cell, or repeated labels."""
    for a, b in zip(top, below):
        if not filled(a) and filled(b):
            return True
    labels = [v for v in top if filled(v)]
    return len(set(map(str, labels))) < len(labels)


def _names(header: list[list], used: list[int], column_units: dict[int, str]) -> tuple[list[str], dict[str, str]]:
    top = header[0]
    if len(header) == 2:
        # A merged label over several columns is filled in only in its first cell: carry it right.
        carried, last = [], None
        for j, v in enumerate(top):
            if filled(v):
                last = v
                carried.append(v)
            elif filled(header[1][j]) and last is not None:
                carried.append(last)
            else:
                last = None
                carried.append(None)
    else:
        carried = list(top)
    raw_names: list[str] = []
    units: dict[str, str] = {}
    unit_of: dict[int, str] = {}
    for j in used:
        parts = [carried[j]] + ([header[1][j]] if len(header) == 2 else [])
        texts = []
        for p in parts:
            if not filled(p):
                continue
            text = _text(p)
            if m := _UNIT_SUFFIX.match(text):
                text, unit_of[j] = m.group(1).strip(), m.group(2)
            elif _UNIT_ONLY.match(text) and len(parts) == 2:
                unit_of[j] = _UNIT_ONLY.match(text).group(1)
                continue
            if text and text not in texts:
                texts.append(text)
        raw_names.append("_".join(texts))
    names = unique_names(raw_names)
    for k, j in enumerate(used):
        unit = unit_of.get(j) or column_units.get(j)
        if unit:
            units[names[k]] = unit
    return names, units


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value).strip()


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique (case-insensitively) with _2, _3…; blanks become column1, column2…"""
    seen: dict[str, int] = {}
    out = []
    for j, n in enumerate(names):
        n = n or f"column{j + 1}"
        if n.lower() in seen:
            seen[n.lower()] += 1
            n = f"{n}_{seen[n.lower()]}"
        seen.setdefault(n.lower(), 1)
        out.append(n)
    return out


# ---------------------------------------------------------------- subtotal and total rows

def _row_label(row: list) -> str:
    return next((str(v) for v in row if filled(v) and isinstance(v, str) and not is_number(v)), "")


def _find_totals(block: Block) -> None:
    """Mark subtotal and total rows (by label, or by numbers equal to the sum above) and check their sums."""
    body = block.rows
    if len(body) < 2:
        return
    ncol = len(block.names)
    numeric = [k for k in range(ncol) if (vals := [r[k] for r in body if filled(r[k])])
               and sum(1 for v in vals if is_number(v) or is_dash(v)) >= max(1, 0.8 * len(vals))
               and any(is_number(v) for v in vals)]
    label_cols = [k for k in range(ncol) if k not in numeric][:2]
    if not numeric:
        return
    since = _Sums()        # kept rows since the last subtotal or total
    every = _Sums()        # every kept row
    subs = _Sums()         # the subtotals so far
    last = len(body) - 1
    for i, row in enumerate(body):
        labels = [str(row[k]).replace(" ", "").replace("\u3000", "") for k in label_cols if filled(row[k])]
        values = {k: as_number(row[k]) for k in numeric if is_number(row[k])}
        strong = next((m for t in labels if (m := _TOTAL_STRONG.match(t))), None)
        weak = next((t for t in labels if _TOTAL_WEAK.match(t)), None)
        is_sub = bool(strong) and bool(re.search(r"小计|sub", strong.group(0), re.I) or (strong.group("pre") or "")
                                       .strip() or (strong.group("post") or "").strip())
        total = bool(strong)
        # A row without a label counts as a sum only where sums stand: last, or just above a labelled total row;
        # and with two numbers, or one number over at least three rows, so that a coincidence is unlikely.
        unlabelled = (not labels and bool(label_cols) and (i == last or _strong_label(body[i + 1], label_cols))
                      and (len(values) >= 2 or all(since.counts.get(k, 0) >= 3 for k in values)))
        if not total and values and (weak or unlabelled or (labels and len(values) >= 2 and i == last)):
            covered_sub = since.rows >= 2 and since.match(values)
            covered_all = every.rows >= 2 and (every.match(values) or (subs.rows >= 2 and subs.match(values)))
            if weak or unlabelled:
                total, is_sub = covered_sub or covered_all, not covered_all
            else:
                total = covered_all  # a last row whose every number is the sum of all the rows above
        if not total:
            since.add(row, numeric)
            every.add(row, numeric)
            continue
        block.total_rows.append(i)
        label = _row_label(row) or "∑"
        cover = since if is_sub else every
        for k, v in values.items():
            block.checks.append(TotalCheck(label=label, column=block.names[k], stated=v, computed=cover.sums.get(k, 0)))
        if is_sub:
            subs.add(row, numeric)
        since = _Sums()


def _strong_label(row: list, label_cols: list[int]) -> bool:
    return any(filled(row[k]) and _TOTAL_STRONG.match(str(row[k]).replace(" ", "")) for k in label_cols)


class _Sums:
    """Running column sums of some rows."""

    def __init__(self) -> None:
        self.rows = 0
        self.sums: dict[int, float] = {}
        self.counts: dict[int, int] = {}   # how many numbers each sum adds up

    def add(self, row: list, numeric: list[int]) -> None:
        self.rows += 1
        for k in numeric:
            if is_number(row[k]):
                self.sums[k] = self.sums.get(k, 0.0) + as_number(row[k])
                self.counts[k] = self.counts.get(k, 0) + 1

    def match(self, values: dict[int, float]) -> bool:
        return bool(values) and all(_close(v, self.sums.get(k, 0.0)) for k, v in values.items())


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(0.011, 1e-6 * max(abs(a), abs(b)))
