"""Word's automatic paragraph numbering ("第%1条", "%1.%2") rendered back into the text it shows on screen.

python-docx returns a paragraph's words without the number Word draws in front of it, so a lease whose clauses are
a numbered list (or headings numbered through their style) loses its clause numbers; segmentation needs them.
"""
from __future__ import annotations

import re
from pathlib import Path

from docx.oxml.ns import qn

_ZH = "零一二三四五六七八九"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"


def _zh_number(n: int) -> str:
    if n < 10:
        return _ZH[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _ZH[tens]) + "十" + (_ZH[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    return _ZH[hundreds] + "百" + ("" if not rest else ("零" + _zh_number(rest) if rest < 10
                                                         else ("一" + _zh_number(rest) if rest < 20
                                                               else _zh_number(rest))))


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letters(n: int) -> str:
    # Word repeats the letter past z: aa, bb, ...
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """One counter value in a Word number format (w:numFmt); unknown formats fall back to digits."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographDigital",
               "japaneseCounting", "taiwaneseCounting"):
        return _zh_number(n)
    if fmt == "ideographTraditional":
        return _TIANGAN[(n - 1) % 10]
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


def _val(element, tag: str, default: str | None = None) -> str | None:
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val")) if child is not None else default


def _levels(numbering) -> dict[str, dict[int, tuple[int, str, str]]]:
    """numId -> level -> (start, format, level text), with the num's own overrides applied."""
    abstract = {}
    for node in numbering.findall(qn("w:abstractNum")):
        levels = {}
        for lvl in node.findall(qn("w:lvl")):
            levels[int(lvl.get(qn("w:ilvl"), "0"))] = (int(_val(lvl, "w:start", "1") or 1),
                                                       _val(lvl, "w:numFmt", "decimal") or "decimal",
                                                       _val(lvl, "w:lvlText", "") or "")
        abstract[node.get(qn("w:abstractNumId"))] = levels
    nums = {}
    for node in numbering.findall(qn("w:num")):
        levels = dict(abstract.get(_val(node, "w:abstractNumId"), {}))
        for override in node.findall(qn("w:lvlOverride")):
            ilvl = int(override.get(qn("w:ilvl"), "0"))
            start = _val(override, "w:startOverride")
            if start is not None and ilvl in levels:
                levels[ilvl] = (int(start), *levels[ilvl][1:])
        nums[node.get(qn("w:numId"))] = levels
    return nums


def _num_pr(paragraph) -> tuple[str | None, int | None]:
    """The paragraph's (numId, level): its own numbering, else its style's (numbered headings)."""
    p_pr = paragraph._p.pPr
    num_pr = p_pr.find(qn("w:numPr")) if p_pr is not None else None
    num_id, ilvl = (_val(num_pr, "w:numId"), _val(num_pr, "w:ilvl")) if num_pr is not None else (None, None)
    style = paragraph.style
    while num_id is None and style is not None:
        s_pr = style.element.find(qn("w:pPr"))
        s_num = s_pr.find(qn("w:numPr")) if s_pr is not None else None
        if s_num is not None:
            num_id, ilvl = _val(s_num, "w:numId"), ilvl if ilvl is not None else _val(s_num, "w:ilvl")
        style = style.base_style
    return num_id, int(ilvl) if ilvl is not None else (0 if num_id else None)


def paragraph_labels(document) -> list[tuple[str, str]]:
    """(label, paragraph text) for every numbered paragraph with text, in document order (bullets left out)."""
    try:
        numbering = document.part.numbering_part.element
    except (NotImplementedError, KeyError, AttributeError):
        return []
    nums = _levels(numbering)
    counters: dict[str, dict[int, int]] = {}
    out = []
    for paragraph in document.paragraphs:
        num_id, ilvl = _num_pr(paragraph)
        if not num_id or num_id == "0" or num_id not in nums or ilvl is None:
            continue
        levels = nums[num_id]
        if ilvl not in levels:
            continue
        count = counters.setdefault(num_id, {})
        count[ilvl] = count.get(ilvl, levels[ilvl][0] - 1) + 1
        for deeper in [k for k in count if k > ilvl]:
            del count[deeper]  # a new item at this level restarts the levels below it
        start, fmt, text = levels[ilvl]
        if fmt in ("bullet", "none") or not paragraph.text.strip():
            continue

        def render(m: re.Match[str]) -> str:
            level = int(m.group(1)) - 1
            value = count.get(level, levels.get(level, (1,))[0])
            return format_number(value, levels.get(level, (1, "decimal"))[1])

        label = re.sub(r"%(\d)", render, text).strip()
        if label:
            out.append((label, paragraph.text.strip()))
    return out


def with_numbering(text: str, path: str | Path) -> str:
    """The document's text (one paragraph a line, as read) with Word's automatic numbers put back in front."""
    import docx
    labels = paragraph_labels(docx.Document(str(path)))
    if not labels:
        return text
    lines = text.split("\n")
    at = 0
    for label, para in labels:
        for i in range(at, len(lines)):
            # A heading line may carry Markdown "## " from the reader; the label goes after it.
            m = re.match(r"^(#{1,6} )?(.*)$", lines[i])
            if m.group(2).strip() == para:
                if not m.group(2).startswith(label):
                    lines[i] = (m.group(1) or "") + f"{label} {m.group(2)}".replace("  ", " ")
                at = i + 1
                break
    return "\n".join(lines)
