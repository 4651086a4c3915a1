"""Chat answers grounded in a knowledge base: passages in, citations checked on the way out."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from services import i18n, kb

i18n.register({
    "chat.use_kb": {"zh": "使用知识库", "en": "Use knowledge base"},
    "chat.kb_base": {"zh": "知识库", "en": "Knowledge base"},
    "chat.kb_none": {"zh": "还没有知识库：先在「知识库」页创建并上传文件。",
                     "en": "No knowledge base yet: create one and upload files on the Knowledge base page."},
    "chat.sources": {"zh": "来源", "en": "Sources"},
    "chat.agent": {"zh": "智能体模式", "en": "Agent mode"},
    "chat.agent_help": {"zh": "让模型调用工具：精确计算、日期、知识库检索、数据问答页载入的表格。每一步都会显示。",
                        "en": "Let the model call tools: exact arithmetic, dates, knowledge-base search, the tables "
                              "loaded on the ChatBI page. Every step is shown."},
    "chat.agent_trace": {"zh": "推理与工具调用过程（{steps} 步）", "en": "Reasoning and tool calls ({steps} steps)"},
    "chat.kb_given": {"zh": "提供给模型的段落（{count} 段）", "en": "Passages given to the model ({count})"},
    "chat.kb_passage": {"zh": "[{n}] {file} · 第 {page} 页 · {opening}{cited}",
                        "en": "[{n}] {file} · page {page} · {opening}{cited}"},
    "chat.kb_cited_mark": {"zh": "（已引用）", "en": " (cited)"},
    "chat.kb_no_citation": {"zh": "这个回答没有引用任何段落：它可能不是来自知识库，请对照下面的段落核实。",
                            "en": "This answer cites none of the passages: it may not come from the knowledge base; "
                                  "check it against the passages below."},
    "chat.kb_no_passages": {"zh": "知识库「{base}」里没有找到与问题相关的段落，模型没有拿到任何资料。",
                            "en": "No passage of the knowledge base '{base}' matched the question; the model got none."},
    "chat.step.retrieving": {"zh": "检索中… 正在知识库「{base}」里查找相关段落（已用 {seconds} 秒）",
                             "en": "Searching… looking for passages in '{base}' ({seconds} s so far)"},
    "chat.step.generating": {"zh": "生成中… 已把 {count} 段资料交给模型，等待第一个字（已用 {seconds} 秒）",
                             "en": "Generating… {count} passages sent to the model, waiting for its first word "
                                   "({seconds} s so far)"},
    "chat.step.waiting": {"zh": "生成中… 等待模型的第一个字（已用 {seconds} 秒）",
                          "en": "Generating… waiting for the model's first word ({seconds} s so far)"},
})

OPENING_CHARS = 40


def grounded_messages(history: list[dict[str, Any]], passages: list[kb.Passage], lang: str) -> list[dict[str, Any]]:
    """The conversation with the last question put to the model together with the passages found for it."""
    earlier = [{"role": m["role"], "content": m["content"]} for m in history[:-1] if m["role"] in ("user", "assistant")]
    return kb.grounded_messages(history[-1]["content"], passages, lang, history=earlier)


def checked_answer(text: str, passages: list[kb.Passage], lang: str,
                   base: str | None = None) -> tuple[str, dict[str, Any]]:
    """The answer with invented citation numbers removed, and its sources (file, page, quote) plus warnings."""
    answer = kb.postprocess(text, passages, lang)
    warnings = []
    if answer.invented:
        warnings.append(i18n.t("kb.answer.invented", lang, numbers=", ".join(f"[{n}]" for n in answer.invented)))
    for n, phrases in answer.injection.items():
        warnings.append(i18n.t("kb.answer.injection", lang, n=n, phrases="、".join(phrases[:3])))
    return answer.text, {"citations": [asdict(c) for c in answer.citations], "warnings": warnings,
                         "not_found": answer.not_found, "given": given_passages(passages),
                         "base": base or None}


def base_used(messages: list[dict[str, Any]]) -> str | None:
    """The knowledge base the conversation's latest grounded answer came from, or None."""
    for m in reversed(messages):
        sources = m.get("sources") or {}
        if m.get("role") == "assistant" and sources.get("base"):
            return sources["base"]
    return None


def given_passages(passages: list[kb.Passage]) -> list[dict[str, Any]]:
    """Every passage the model was given (cited or not): number, file, page and its opening words."""
    return [{"n": p.n, "file": p.file, "page": p.page, "opening": opening_words(p.text)} for p in passages]


def opening_words(text: str, limit: int = OPENING_CHARS) -> str:
    """The first words of a passage on one line, cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def passage_lines(sources: dict[str, Any], lang: str) -> list[str]:
    """One line per given passage, cited ones marked."""
    cited = {c["n"] for c in sources.get("citations") or []}
    return [i18n.t("chat.kb_passage", lang, n=p["n"], file=p["file"], page=p["page"], opening=p["opening"],
                   cited=i18n.t("chat.kb_cited_mark", lang) if p["n"] in cited else "")
            for p in sources.get("given") or []]
