"""Text in a contract that speaks to the AI reviewer instead of the other party: found, flagged, never obeyed."""
from __future__ import annotations

import re

# Contract-specific ways of addressing a reviewing model, beyond the generic phrases of services.documents.
_PATTERNS = [
    r"忽略(之前|以上|上述|前面|先前|此前|所有|全部)?的?(所有|全部)?(指令|指示|说明|要求|规则|提示)",
    r"(无视|不要理会)(之前|以上|上述)?的?(指令|指示|要求|规则)",
    r"(你|您)(现在)?(是|扮演|作为)一?(个|名)?[^。；\n]{0,10}(助手|模型|AI|人工智能|律师)",
    r"(AI|人工智能|模型|助手|审查(系统|工具|程序)|审核(系统|工具))[^。；\n]{0,12}(应|须|必须|请|要)[^。；\n]{0,20}"
    r"(评|标|判|认定|输出|回答|视为)",
    r"(所有|全部|其他|其余|每个|各)条款[^。；\n]{0,12}(均|都|一律)?[^。；\n]{0,4}(评|标|判|认定|视)为?[^。；\n]{0,4}(低风险|无风险|均衡|公平)",
    r"(风险|风险等级)[^。；\n]{0,6}(一律|均|都)[^。；\n]{0,4}(为|标为|评为|是)?低",
    r"(不要|无需|不得|切勿)[^。；\n]{0,8}(提示|提醒|标记|报告|指出)[^。；\n]{0,10}(风险|问题)",
    r"系统提示|system prompt|提示词",
    r"ignore (all |any )?(the )?(previous|prior|above|earlier|preceding) (instructions|prompts|rules)",
    r"disregard (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts|rules)",
    r"\byou are (now )?(an?|the) (ai|assistant|language model|reviewer|lawyer)\b",
    r"\b(as an|dear) (ai|assistant|language model|llm)\b",
    r"\b(mark|rate|classify|label|treat|score) (all|every|each|the other|other|remaining) (clauses?|provisions?|sections?)"
    r"[^.\n]{0,20}\b(as )?(low|safe|balanced|fair|no) ?(risk)?",
    r"\b(do not|don't|never) (flag|mention|report|highlight) ",
    r"\b(ai|model|assistant|reviewer) (must|should|shall) (output|answer|respond|rate|mark)",
    r"</?(system|assistant|user|clause|instructions?)>",
    r"^\s*(system|assistant)\s*:",
]
_COMPILED = [re.compile(p, re.I | re.M) for p in _PATTERNS]


def injection_phrases(text: str) -> list[str]:
    """Phrases in text that address the model (the shared detector's plus contract-specific ones)."""
    found: list[str] = []
    try:  # the shared detector of the foundation
        from services.documents import looks_like_injection
        found.extend(looks_like_injection(text))
    except ImportError:  # pragma: no cover - only before the foundation's documents module exists
        pass
    for pattern in _COMPILED:
        for m in pattern.finditer(text):
            phrase = m.group(0).strip()
            if phrase and phrase not in found:
                found.append(phrase)
    return found[:5]


def neutralise(text: str) -> str:
    """Clause text made safe to place between <clause> tags: tag-like markup cannot close or open a block."""
    return text.replace("<", "‹").replace(">", "›")
