"""Deterministic clause segmentation: the contract's own numbering decides where clauses start, never a model."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
ZH_NUM = r"[一二三四五六七八九十百零〇两]+"
ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


@dataclass
class Clause:
    """One clause as the contract numbers it; start/end are offsets into the normalised text."""

    id: str
    title: str
    text: str
    start: int
    end: int
    number: str = ""
    part: str = ""  # enclosing chapter / article heading, when the contract groups clauses


@dataclass
class Segmentation:
    """The clauses of a contract and how they were found."""

    clauses: list[Clause]
    method: str  # "numbered" or "paragraphs"
    scheme: str  # e.g. "zh_article", "dotted", "article", "zh_enum", "paragraphs"
    preamble: str = ""
    tail: str = ""
    text: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class _Marker:
    start: int  # where the clause starts (the marker itself)
    key: tuple[int, ...]
    label: str
    family: str
    line_start: bool
    after: int  # offset just after the marker


def zh_number(token: str) -> int | None:
    """Value of a Chinese numeral such as 十七 or 一百零二 (or ASCII digits)."""
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in ZH_DIGITS:
            current = ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def roman_number(token: str) -> int | None:
    """Value of a Roman numeral (I..CC) or None."""
    token = token.upper()
    if not token or any(ch not in ROMAN for ch in token):
        return None
    total = 0
    for i, ch in enumerate(token):
        value = ROMAN[ch]
        if i + 1 < len(token) and ROMAN[token[i + 1]] > value:
            total -= value
        else:
            total += value
    return total


def normalise(text: str) -> str:
    """Unify line endings and odd spaces so offsets are stable."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    # Headings read from DOCX (and Markdown contracts) arrive as "## 第二条 …": the marks are not part of the clause.
    text = re.sub(r"(?m)^[ \t]*#{1,6}[ \t]+", "", text)
    return text.replace("\ufeff", "")


# A marker may start a line, or (in text flattened from PDF) follow the end of a sentence.
_LINE = r"(?:(?<=\n)|^)[ \t]*"
_INLINE = r"(?:(?<=[.;:。；：\)\]\"”])[ \t]+|(?<=\S)[ \t]{2,}|(?<=[A-Z&]{2})[ \t]+)"
_HEAD = rf"(?:{_LINE}|{_INLINE})"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "zh_article": re.compile(rf"(?:{_LINE}|(?<=[。；]))[ \t]*(第({ZH_NUM}|\d+)条)[ \t]*", re.M),
    "zh_chapter": re.compile(rf"{_LINE}(第({ZH_NUM}|\d+)[章节部分]+)[ \t]*", re.M),
    "zh_enum": re.compile(rf"{_LINE}(({ZH_NUM})[、．.])[ \t]*", re.M),
    "zh_paren": re.compile(rf"{_LINE}([（(]({ZH_NUM})[）)])[ \t、]*", re.M),
    "article": re.compile(rf"{_HEAD}((?:ARTICLE|Article)[ \t]+([IVXLC]+|\d+)\b\.?)[ \t:\-–—]*(?=[A-Z\[\n(\"“]|$)", re.M),
    # 1.  1.1  1、 Section 2.01  Clause 3  — followed by a capitalised word, a bracket, a quote or CJK text.
    "dotted": re.compile(
        rf"{_HEAD}((?:(?:SECTION|Section|Clause|CLAUSE)[ \t]+)?(\d{{1,3}}(?:\.\d{{1,3}})?)(?:[.、．)]|(?<=\.\d)|(?<=\.\d\d)|(?<=\.\d\d\d))(?!\d))"
        r"[ \t]*(?=[A-Z\[(\"“\u4e00-\u9fff]|\n)",
        re.M,
    ),
}

# Lines that start the signature block or the schedules after the last clause.
_TAIL = re.compile(
    r"^[ \t]*(?:(?:甲方|乙方|丙方|出租方|承租方|出租人|承租人|买方|卖方|委托方|受托方|用人单位|劳动者|用工单位|披露方|接收方)"
    r"[^\n：:]{0,12}[（(](?:签字|盖章|签章|签名|公章)|(?:甲方|乙方)[ \t]*[：:][ \t]*[（(]?(?:签字|盖章)|"
    r"IN WITNESS WHEREOF|\[?Signature [Pp]age [Ff]ollows|附件[一二三四五六七八九十\d]*[：:]|"
    r"(?:SCHEDULE|EXHIBIT|ANNEX|APPENDIX)[ \t]+[A-Z0-9]{1,3}\b)",
    re.M,
)


def _key_for(family: str, m: re.Match[str]) -> tuple[int, ...] | None:
    token = m.group(2)
    if family in ("zh_article", "zh_chapter", "zh_enum", "zh_paren"):
        value = zh_number(token)
        return None if value is None or value == 0 else (value,)
    if family == "article":
        value = int(token) if token.isdigit() else roman_number(token)
        return None if not value else (value,)
    parts = tuple(int(p) for p in token.split("."))
    if parts[0] == 0 or parts[0] > 300:
        return None
    return parts


def _markers(text: str, family: str) -> list[_Marker]:
    found: dict[int, _Marker] = {}
    for m in _PATTERNS[family].finditer(text):
        key = _key_for(family, m)
        if key is None:
            continue
        start = m.start(1)
        line_start = start == 0 or text[:start].rstrip(" \t").endswith("\n") or text[:start].strip() == ""
        label = m.group(1).strip()
        found.setdefault(start, _Marker(start, key, label, family, line_start, m.end()))
    return sorted(found.values(), key=lambda mk: mk.start)


def _successor_gap(prev: tuple[int, ...], nxt: tuple[int, ...]) -> int | None:
    """How many numbers were skipped going from prev to nxt, or None when nxt cannot follow prev."""
    if len(prev) == 1 and len(nxt) == 1:
        d = nxt[0] - prev[0]
        return d - 1 if 1 <= d <= 3 else None
    if len(prev) == 1 and len(nxt) == 2:
        if nxt[0] == prev[0]:
            return nxt[1] - 1 if 0 <= nxt[1] <= 3 else None
        d = nxt[0] - prev[0]
        return (d - 1) + max(nxt[1] - 1, 0) if 1 <= d <= 3 and nxt[1] <= 2 else None
    if len(prev) == 2 and len(nxt) == 2:
        if nxt[0] == prev[0]:
            d = nxt[1] - prev[1]
            return d - 1 if 1 <= d <= 3 else None
        d = nxt[0] - prev[0]
        return (d - 1) + max(nxt[1] - 1, 0) if 1 <= d <= 3 and nxt[1] <= 2 else None
    if len(prev) == 2 and len(nxt) == 1:
        d = nxt[0] - prev[0]
        return d - 1 if 1 <= d <= 3 else None
    return None


def _best_chain(markers: list[_Marker], lookback: int = 400) -> list[_Marker]:
    """The most plausible run of markers that counts upward (longest path; gaps and inline hits cost a little)."""
    if not markers:
        return []
    n = len(markers)
    score = [0.0] * n
    back = [-1] * n
    for i, mk in enumerate(markers):
        weight = 1.0 if mk.line_start else 0.8
        first = mk.key[0] if len(mk.key) == 1 else mk.key[0] + max(mk.key[1] - 1, 0)
        best, arg = weight - 0.5 * max(first - 1, 0) ** 0.5, -1
        for j in range(max(0, i - lookback), i):
            gap = _successor_gap(markers[j].key, mk.key)
            if gap is None:
                continue
            s = score[j] + weight - 0.6 * gap
            if s > best:
                best, arg = s, j
        score[i], back[i] = best, arg
    i = max(range(n), key=lambda k: score[k])
    chain = []
    while i != -1:
        chain.append(markers[i])
        i = back[i]
    return chain[::-1]


def _title_and_body(text: str, after: int, end: int, family: str) -> tuple[str, str]:
    """Split the clause after its marker into a short heading (if any) and the body."""
    rest = text[after:end]
    first_line, nl, remainder = rest.partition("\n")
    stripped = first_line.strip()
    if family.startswith("zh"):
        if nl and stripped and len(stripped) <= 30 and not re.search(r"[。；，,;]", stripped):
            return stripped, remainder.strip()
        return "", rest.strip()
    stripped = re.sub(r"^[\]\[.:\-–— ]+", "", stripped)
    if nl and stripped and len(stripped) <= 80 and not stripped.endswith((",", ";")) and (
        len(stripped.split()) <= 10 and not re.search(r"\.\s+\S", stripped)
    ):
        return stripped.rstrip(".: ").strip(), remainder.strip()
    # "Term. The term of this Agreement ..." — a short first sentence in Title Case is the heading.
    m = re.match(r"\s*(\[[^\]]{1,80}\]\.?\s*)?([A-Z][^.\n]{0,70}?)(?:\.|:)(?:\s+|$)", rest)
    if m:
        candidate = m.group(2).strip()
        words = candidate.split()
        if 0 < len(words) <= 10 and sum(w[:1].isupper() or not w[:1].isalpha() for w in words) >= len(words) * 0.6:
            return candidate, rest[m.end():].strip()
    if m and m.group(1):
        return m.group(1).strip(" []."), rest[m.end(1):].strip()
    return "", rest.strip()


def _clause_id(label: str, family: str) -> str:
    label = re.sub(r"\s+", " ", label).strip()
    if family == "zh_enum":
        return label.rstrip("、．.")
    if family == "zh_paren":
        return "（" + label.strip("（）()") + "）"
    if family == "dotted":
        return label.rstrip(".、．)")
    if family == "article":
        return label.rstrip(".")
    return label


def _tail_start(text: str, after: int) -> int:
    m = _TAIL.search(text, after)
    return m.start() if m else len(text)


def segment_text(text: str) -> Segmentation:
    """Split contract text into clauses by its numbering; paragraphs when it has none (the result says so)."""
    text = normalise(text)
    families = {f: _markers(text, f) for f in _PATTERNS}
    zh_chain = _best_chain(families["zh_article"])
    if len(zh_chain) >= 2:
        parts = _best_chain(families["zh_chapter"])
        return _build(text, zh_chain, "zh_article", parts if len(parts) >= 2 else [])
    dotted = _best_chain(families["dotted"])
    article = _best_chain(families["article"])
    zh_enum = _best_chain(families["zh_enum"])
    if len(zh_enum) >= 2 and len(zh_enum) >= len([m for m in dotted if len(m.key) == 1]):
        subs = _best_within(families["zh_paren"], zh_enum, text)
        chain = sorted(zh_enum + subs, key=lambda mk: mk.start)
        return _build(text, chain, "zh_enum", [])
    if len(dotted) >= 2 and len(dotted) >= len(article):
        if _detached(text, dotted):
            seg = paragraphs(text)
            seg.notes.append("numbering_detached")
            return seg
        return _build(text, dotted, "dotted", article if len(article) >= 2 else [])
    if len(article) >= 2:
        return _build(text, article, "article", [])
    return paragraphs(text)


def _detached(text: str, chain: list[_Marker]) -> bool:
    """True when most numbers stand alone, away from their text (columns lost in PDF extraction)."""
    empty = sum(
        1 for i, mk in enumerate(chain)
        if not text[mk.after:(chain[i + 1].start if i + 1 < len(chain) else len(text))].strip()
    )
    return empty >= 0.4 * len(chain)


def _best_within(subs: list[_Marker], tops: list[_Marker], text: str) -> list[_Marker]:
    """Sub-markers such as （一） that count from one inside each top-level clause."""
    chosen: list[_Marker] = []
    bounds = [mk.start for mk in tops] + [len(text)]
    for i, top in enumerate(tops):
        inside = [mk for mk in subs if bounds[i] < mk.start < bounds[i + 1]]
        chain = _best_chain(inside)
        if len(chain) >= 2 and chain[0].key == (1,):
            chosen.extend(chain)
    return chosen


def _build(text: str, chain: list[_Marker], scheme: str, parts: list[_Marker]) -> Segmentation:
    tail_at = _tail_start(text, chain[-1].after)
    clauses: list[Clause] = []
    seen: dict[str, int] = {}
    part_marks = sorted(parts, key=lambda mk: mk.start)
    current_parent = ""
    for i, mk in enumerate(chain):
        end = chain[i + 1].start if i + 1 < len(chain) else tail_at
        # A chapter / article heading between clauses is context, not part of the previous clause.
        heading_here = [p for p in part_marks if mk.start < p.start < end]
        clause_end = heading_here[0].start if heading_here else end
        part_title = ""
        for p in part_marks:
            if p.start <= mk.start:
                part_title = _part_heading(text, p, mk.start)
        title, body = _title_and_body(text, mk.after, clause_end, mk.family)
        if mk.family == "zh_enum":
            current_parent = _clause_id(mk.label, mk.family)
        cid = _clause_id(mk.label, mk.family)
        if mk.family == "zh_paren" and current_parent:
            cid = current_parent + cid
        if cid in seen:
            seen[cid] += 1
            cid = f"{cid}#{seen[cid]}"
        else:
            seen[cid] = 1
        span = text[mk.start:clause_end]
        stripped_end = mk.start + len(span.rstrip())
        number = ".".join(str(k) for k in mk.key)
        clauses.append(Clause(cid, title, text[mk.start:stripped_end], mk.start, stripped_end, number, part_title))
    # A numbered heading with no body (e.g. "1. Definitions" before 1.1) is kept: its id is real numbering.
    return Segmentation(
        clauses=clauses,
        method="numbered",
        scheme=scheme,
        preamble=text[: chain[0].start].strip(),
        tail=text[tail_at:].strip(),
        text=text,
    )


def _part_heading(text: str, mk: _Marker, limit: int) -> str:
    line_end = text.find("\n", mk.start)
    end = min(limit, line_end if line_end != -1 else len(text))
    return re.sub(r"\s+", " ", text[mk.start:end]).strip()[:120]


# Lines that are only a page number, a lone clause number or a filing footer: never a paragraph's title.
_STRAY = re.compile(r"^\s*(\d+(\.\d+)*\.?|(\([a-z]\)\s*)+|Source:.*|-?\s*\d+\s*-?)\s*$")


def paragraphs(text: str, *, max_chars: int = 1500) -> Segmentation:
    """Fallback for contracts without numbering: blank-line paragraphs (short heading lines join the next one)."""
    text = normalise(text)
    blocks: list[tuple[int, int]] = []
    splitter = r"\n[ \t]*\n" if re.search(r"\n[ \t]*\n", text.strip()) else r"\n"
    pos = 0
    for m in re.finditer(splitter, text + "\n\n"):
        if text[pos:m.start()].strip():
            blocks.append((pos, m.start()))
        pos = m.end()
    merged: list[list[int]] = []
    carry: int | None = None
    for start, end in blocks:
        chunk = text[start:end].strip()
        if carry is None and len(chunk) < 25 and not re.search(r"[。.;；]$", chunk):
            carry = start  # a heading line: attach it to the paragraph that follows
            continue
        s = carry if carry is not None else start
        carry = None
        previous = text[merged[-1][0]:merged[-1][1]].strip() if merged else ""
        if merged and end - merged[-1][0] <= max_chars and len(previous) < 60 and \
                not re.search(r"[。.;；:：!?！？]$", previous):
            merged[-1][1] = end
        else:
            merged.append([s, end])
    if carry is not None:
        if merged:
            merged[-1][1] = blocks[-1][1]
        else:
            merged.append([carry, blocks[-1][1]])
    clauses = []
    for i, (start, end) in enumerate(merged, 1):
        span = text[start:end]
        lead = len(span) - len(span.lstrip())
        s, e = start + lead, start + len(span.rstrip())
        lines = [ln.strip() for ln in text[s:e].split("\n") if ln.strip() and not _STRAY.match(ln)]
        title = lines[0] if len(lines) > 1 and len(lines[0]) <= 30 else ""
        clauses.append(Clause(f"P{i}", title, text[s:e], s, e, str(i)))
    return Segmentation(clauses=clauses, method="paragraphs", scheme="paragraphs", text=text,
                        notes=["no_numbering"])
