"""The unit amounts are printed in, read from the lines around a table, in every way reports print it."""
from __future__ import annotations

import re
import unicodedata

# Chinese unit words, longest first so 百万元 is never read as 万元 or 元.
CN_UNITS = {"千万元": 1e7, "百万元": 1e6, "亿元": 1e8, "万元": 1e4, "千元": 1e3, "元": 1.0}
_CN_WORD = "(?P<unit>千万元|百万元|亿元|万元|千元|元)"
_CURRENCY_CN = r"(?:人民币|美元|港币|港元|欧元)?"

# 单位：元 · 单位:人民币百万元 · 金额单位：千元 · 货币单位 元 · 单位均为人民币万元 · 以人民币百万元列示 · 除另有注明外…
_CN_PATTERNS = [
    re.compile(r"(?:金额|货币|计量)?单位(?:均|皆)?(?:为|是|:)*" + _CURRENCY_CN + _CN_WORD),
    re.compile(r"(?:以|按)" + _CURRENCY_CN + _CN_WORD + r"(?:列示|为单位|计|表述|填列)"),
]
# A short cell holding only the unit: 人民币百万元 / (人民币千元) / 元 under a heading.
_CN_ALONE = re.compile(r"^[(\[]?" + r"(?:人民币|RMB)" + _CN_WORD + r"[)\]]?$")

_EN_SCALE = {"thousand": 1e3, "thousands": 1e3, "'000": 1e3, "000": 1e3, "k": 1e3,
             "million": 1e6, "millions": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "billions": 1e9, "bn": 1e9}
_EN_CUR = r"(?:rmb|renminbi|cny|yuan|us\$|usd|\$|dollars|u\.s\.dollars|hk\$|hkd)"
_EN_PATTERNS = [
    # in thousands of RMB · (in millions of U.S. dollars) · expressed in millions of renminbi · in millions
    re.compile(r"(?:in|expressedin|amountsin|inunitsof)(?P<scale>thousands|millions|billions)(?:of" + _EN_CUR + r")?"),
    # in RMB millions · RMB million · RMB'000 · (RMB’000) · US$ in millions
    re.compile(_EN_CUR + r"(?:in)?(?P<scale>thousands|millions|billions|thousand|million|billion|'000|mn|bn)(?![a-z])"),
    re.compile(r"\((?P<scale>thousands|millions|billions)(?:,|\))"),
    re.compile(r"(?:dollars|\$)(?:and\w+)?in(?P<scale>thousands|millions|billions)"),
]


def normalize(text: str) -> str:
    """Full-width forms folded to half-width (：→: （→( ＇→'), quotes unified, all whitespace removed."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("＇", "'")
    return re.sub(r"\s+", "", text)


def unit_in_text(text: str) -> tuple[float, str] | None:
    """(multiplier, label) when a line states the unit of the amounts, else None."""
    flat = normalize(text)
    if not flat:
        return None
    for pattern in _CN_PATTERNS:
        m = pattern.search(flat)
        if m:
            return CN_UNITS[m.group("unit")], m.group("unit")
    if len(flat) <= 14:
        m = _CN_ALONE.match(flat)
        if m:
            return CN_UNITS[m.group("unit")], m.group("unit")
    low = flat.lower()
    for pattern in _EN_PATTERNS:
        m = pattern.search(low)
        if m:
            scale = m.group("scale")
            mult = _EN_SCALE[scale]
            return mult, {1e3: "thousands", 1e6: "millions", 1e9: "billions"}[mult]
    return None


def unit_in_lines(lines: list[str]) -> tuple[float, str] | None:
    """The first unit stated in a run of lines (a table's heading lines)."""
    for line in lines:
        unit = unit_in_text(line)
        if unit:
            return unit
    return None


# A report-wide convention, usually at the start of the financial report or its notes.
_CONVENTION = re.compile(r"(?:除(?:特别|另有|特殊)?(?:注明|说明|指明|列明)外|如无特别说明|未特别注明)")


def report_convention(texts) -> tuple[float, str, int] | None:
    """(multiplier, label, page) of a sentence such as 「除特别注明外，金额单位均为人民币百万元」 anywhere given."""
    for i, text in enumerate(texts):
        if text is None or not _CONVENTION.search(normalize(text)):
            continue
        for line in text.splitlines():
            flat = normalize(line)
            if _CONVENTION.search(flat):
                unit = unit_in_text(flat)
                if unit:
                    return unit[0], unit[1], i + 1
    return None
