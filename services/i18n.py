"""User-facing text in Chinese (default) and English, looked up by key."""
from __future__ import annotations

import string
from collections.abc import Mapping

DEFAULT_LANG = "zh"
LANGUAGES = {"zh": "中文", "en": "English"}

_catalog: dict[str, dict[str, str]] = {}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages, each key mapping language code to text; a feature module calls this at import."""
    for key, texts in messages.items():
        missing = set(LANGUAGES) - set(texts)
        if missing:
            raise ValueError(f"message {key!r} lacks {sorted(missing)}")
        _catalog[key] = dict(texts)


def t(key: str, lang: str = DEFAULT_LANG, /, **params: object) -> str:
    """Text for key in lang with {placeholders} filled; the key itself when unknown, so a gap shows, never crashes."""
    texts = _catalog.get(key)
    if texts is None:
        return key
    text = texts.get(lang) or texts[DEFAULT_LANG]
    if not params:
        return text
    # Only substitute named fields that were given: user text may contain braces.
    return string.Formatter().vformat(text, (), _KeepMissing(params))


def known_keys() -> set[str]:
    """All registered message keys (used by tests to check both languages exist)."""
    return set(_catalog)


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


register({
    "app.title": {"zh": "办公智能助手", "en": "Office AI Assistant"},
    "app.language": {"zh": "界面语言", "en": "Language"},
    "app.model": {"zh": "模型", "en": "Model"},
    "app.provider": {"zh": "模型服务", "en": "Provider"},
    "app.no_models": {"zh": "该服务没有可选模型，请在设置页填写模型名。",
                      "en": "This provider lists no models; enter a model name on the settings page."},
    "app.local_status": {"zh": "内置模型：{model} · {state}", "en": "Built-in model: {model} · {state}"},
    "app.local_speed": {"zh": "本机约 {speed} 词元/秒", "en": "about {speed} tokens/s here"},
    "app.local_failed": {"zh": "启动失败：{reason}", "en": "Failed to start: {reason}"},
    "app.local_state.ready": {"zh": "已就绪", "en": "ready"},
    "app.local_state.starting": {"zh": "正在启动…", "en": "starting…"},
    "app.local_state.failed": {"zh": "不可用", "en": "failed"},
    "app.local_state.stopped": {"zh": "首次提问时启动", "en": "starts with the first question"},
    "app.local_notice": {
        "zh": "当前使用内置离线模型（Qwen2.5-Coder，在本机 CPU 上运行，较慢，适合简单问答）。在「设置」页填写通义千问（DashScope）密钥或任一 OpenAI 兼容服务即可换用更强的大模型。",
        "en": "You are using the built-in offline model (Qwen2.5-Coder on this machine's CPU: slow, fine for simple "
              "questions). Add a DashScope (Qwen) key or any OpenAI-compatible endpoint on the Settings page to use "
              "a stronger model.",
    },
    "page.chat": {"zh": "对话", "en": "Chat"},
    "page.kb": {"zh": "知识库", "en": "Knowledge base"},
    "page.financials": {"zh": "财报抽取", "en": "Financial reports"},
    "page.contracts": {"zh": "合同审查", "en": "Contract review"},
    "page.chatbi": {"zh": "数据问答", "en": "ChatBI"},
    "page.minutes": {"zh": "会议纪要", "en": "Meeting minutes"},
    "page.settings": {"zh": "设置", "en": "Settings"},
    "error.unexpected": {"zh": "出现意外错误：{detail}", "en": "Unexpected error: {detail}"},
})
