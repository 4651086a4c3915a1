"""Chat answers grounded in a knowledge base: passages in, citations checked on the way out."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from services import i18n, kb
from services.providers.base import Connection

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
})


def grounded_turn(base: str, history: list[dict[str, Any]], lang: str,
                  conn: Connection | None = None, k: int = 5) -> tuple[list[dict[str, Any]], list[kb.Passage]]:
    """Messages that put the base's passages for the last question in front of the model, and those passages."""
    question = history[-1]["content"]
    passages = kb.retrieve(base, question, k, conn=conn)
    earlier = [{"role": m["role"], "content": m["content"]} for m in history[:-1] if m["role"] in ("user", "assistant")]
    return kb.grounded_messages(question, passages, lang, history=earlier), passages


def checked_answer(text: str, passages: list[kb.Passage], lang: str) -> tuple[str, dict[str, Any]]:
    """The answer with invented citation numbers removed, and its sources (file, page, quote) plus warnings."""
    answer = kb.postprocess(text, passages, lang)
    warnings = []
    if answer.invented:
        warnings.append(i18n.t("kb.answer.invented", lang, numbers=", ".join(f"[{n}]" for n in answer.invented)))
    for n, phrases in answer.injection.items():
        warnings.append(i18n.t("kb.answer.injection", lang, n=n, phrases="、".join(phrases[:3])))
    return answer.text, {"citations": [asdict(c) for c in answer.citations], "warnings": warnings,
                         "not_found": answer.not_found}
