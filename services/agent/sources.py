"""Sources for an agent's answer: each figure it states that a retrieved passage holds, traced to that file and page."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from services import i18n

# A figure worth tracing: a decimal, or at least four digits (years alone are not figures).
_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|(?<![\d.,])\d+\.\d+|(?<![\d.,])\d{5,}")
MAX_SOURCES = 3


def _plain(number: str) -> str:
    return number.replace(",", "").replace("，", "")


def figures_in(text: str) -> list[str]:
    """The figures a text states, in order, without thousands separators."""
    out = []
    for m in _NUMBER.finditer(text or ""):
        value = _plain(m.group())
        if value not in out and not (len(value) == 4 and value.isdigit()):
            out.append(value)
    return out


def trace_figures(answer: str, passages: Iterable[dict]) -> list[dict]:
    """[{figure, file, page}] for each figure of the answer found as the same number in a passage."""
    passages = list(passages)
    found, pages = [], set()
    for figure in figures_in(answer):
        pattern = re.compile(r"(?<![\d.])" + re.escape(figure) + r"(?![\d]|\.\d)")
        for p in passages:
            if pattern.search(_plain(str(p.get("text") or ""))):
                if (p.get("file"), p.get("page")) not in pages:
                    found.append({"figure": figure, "file": p.get("file"), "page": p.get("page")})
                    pages.add((p.get("file"), p.get("page")))
                break
        if len(found) >= MAX_SOURCES:
            break
    return found


def with_sources(events: Iterator, lang: str) -> Iterator:
    """The run's events, with the answer's figures traced to the knowledge-base passages the run retrieved."""
    passages: list[dict] = []
    for event in events:
        if event.kind == "observation" and event.tool == "kb_search" and not event.error:
            passages += list((event.data or {}).get("passages") or [])
        if event.kind == "answer" and not event.error and passages:
            sources = trace_figures(event.text, passages)
            if sources:
                # The small model states the figure and leaves out the page; the page is where the figure stands.
                event.data = {**(event.data or {}), "sources": sources}
                event.text += "\n\n" + i18n.t("agent.sources", lang, sources=("；" if lang == "zh" else "; ").join(
                    i18n.t("agent.source", lang, file=s["file"], page=s["page"], figure=s["figure"])
                    for s in sources))
        yield event
