"""Page words grouped into table rows: a label on the left, amounts in columns on the right."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# One amount as printed: optional sign or brackets, digits with thousands separators, optional decimals.
_AMOUNT = re.compile(r"^[\$¥￥]?(?P<neg1>[-−－–])?[\$¥￥]?(?P<open>[(（])?[\$¥￥]?(?P<num>\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<close>[)）])?%?$")
_DASH = {"-", "—", "–", "－", "--", "——", "−"}
_CURRENCY_ONLY = {"$", "¥", "￥", "US$", "RMB"}


@dataclass(frozen=True)
class Word:
    """A word on a page with its box (PDF points, origin top-left)."""
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass
class Amount:
    """A number found in a row, as printed and as a value in the statement's unit (None for a dash)."""
    raw: str
    value: float | None
    x1: float
    x0: float | None = None


@dataclass
class Row:
    """One visual line of a statement: label text and the amounts at its right."""
    page: int
    y: float
    label: str
    amounts: list[Amount] = field(default_factory=list)
    text: str = ""
    label_x0: float = 0.0
    years: list[tuple[int, float]] = field(default_factory=list)
    words: list[tuple[float, float, str]] = field(default_factory=list)  # (x0, x1, text), for column headers


def parse_amount(token: str) -> float | None | bool:
    """Value of an amount token; None for a dash placeholder; False when the token is not an amount."""
    tok = token.strip().rstrip("*")
    if tok in _DASH:
        return None
    m = _AMOUNT.match(tok)
    if not m:
        return False
    if bool(m.group("open")) != bool(m.group("close")):
        return False
    value = float(m.group("num").replace(",", "").replace("，", ""))
    if m.group("neg1") or m.group("open"):
        value = -value
    return value


def is_year(token: str) -> bool:
    """A bare four-digit year (column headers), not an amount."""
    return bool(re.fullmatch(r"(19|20)\d\d", token.strip()))


def words_from_page(page) -> list[Word]:
    """Words of a PyMuPDF page."""
    return [Word(w[0], w[1], w[2], w[3], w[4]) for w in page.get_text("words")]


def group_rows(words: list[Word], page_number: int) -> list[Row]:
    """Cluster words into visual lines by vertical centre, then split each line into label and trailing amounts."""
    if not words:
        return []
    ordered = sorted(words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0))
    lines: list[list[Word]] = []
    current: list[Word] = []
    current_mid = None
    for w in ordered:
        mid = (w.y0 + w.y1) / 2
        height = max(w.y1 - w.y0, 4.0)
        if current and abs(mid - current_mid) <= height * 0.45:
            current.append(w)
        else:
            if current:
                lines.append(current)
            current = [w]
            current_mid = mid
    if current:
        lines.append(current)
    rows = []
    for line in lines:
        line.sort(key=lambda w: w.x0)
        rows.append(_row_from_line(line, page_number))
    return rows


def _row_from_line(line: list[Word], page_number: int) -> Row:
    tokens = [w for w in line if w.text.strip() not in _CURRENCY_ONLY]
    amounts: list[Amount] = []
    cut = len(tokens)
    for i in range(len(tokens) - 1, -1, -1):
        # A currency sign can be glued to a number ("32,765 $" is one word in some filings).
        text = tokens[i].text.strip().strip("$").strip()
        value = parse_amount(text)
        if value is False:
            break
        amounts.append(Amount(text, value, tokens[i].x1, tokens[i].x0))
        cut = i
    amounts.reverse()
    years: list[tuple[int, float]] = []
    if amounts and all(is_year(a.raw) for a in amounts):
        # A column header such as "2019 2018", not figures.
        years = [(int(a.raw), a.x1) for a in amounts]
        amounts = []
        cut = len(tokens)
    label_words = tokens[:cut]
    label = " ".join(w.text for w in label_words).strip()
    text = " ".join(w.text for w in line).strip()
    label_x0 = label_words[0].x0 if label_words else line[0].x0
    return Row(page=page_number, y=(line[0].y0 + line[0].y1) / 2, label=label, amounts=amounts, text=text,
               label_x0=label_x0, years=years, words=[(w.x0, w.x1, w.text) for w in line])
