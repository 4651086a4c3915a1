"""A question asked in one language over documents written in another is also searched in the documents' language.

Keyword search cannot match "shareholders" to 股东, and a small multilingual embedder matches across languages
only weakly on table-heavy pages, so the question is translated once by the user's chosen model and both
wordings are searched.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

LANGUAGE_NAMES = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}


def text_language(text: str) -> str:
    """"zh" when Chinese characters outnumber Latin words (a word counted as two characters), else "en"."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    return "zh" if cjk and cjk >= 2 * latin else "en"


def words_language(words: dict[str, int] | list[tuple[str, int]]) -> str:
    """The language of a body of indexed words, weighted by how many chunks hold each word."""
    items = words.items() if isinstance(words, dict) else words
    cjk = latin = 0
    for word, count in items:
        if _CJK.search(word):
            cjk += count
        elif _LATIN_WORD.search(word):
            latin += count
    # jieba's search mode yields a word and its parts, so Chinese text makes more index words than English.
    return "zh" if cjk > 2 * latin else "en"


_cache: OrderedDict[tuple, str | None] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 512


def _prompt(query: str, target: str) -> tuple[str, str]:
    zh_name, en_name = LANGUAGE_NAMES[target]
    if target == "zh":
        system = f"你是翻译。把用户给的检索问题翻译成{zh_name}问题。不要回答问题，不要编造数字。保留名称、数字、年份和单位。只输出译文一行。"
        return system, f"把下面的问题翻译成{zh_name}（不要回答）：\n{query}"
    system = (f"You are a translator. Translate the user's search question into {en_name}. Do not answer it and "
              "invent no figures. Keep names, numbers, years and units. Output the translated question only, "
              "on one line.")
    return system, f"Translate this question into {en_name} (do not answer it):\n{query}"


def _cleaned(reply: str, target: str) -> str | None:
    line = next((ln.strip() for ln in reply.strip().splitlines() if ln.strip()), "")
    line = line.strip("\"'“”‘’「」` ")
    line = re.sub(r"^(translation|译文|翻译)\s*[:：]\s*", "", line, flags=re.IGNORECASE)
    if not line or len(line) > 400 or text_language(line) != target:
        return None   # a reply in the wrong language, or an essay, would only add noise to the search
    return line


def translated(conn, query: str, target: str) -> str | None:
    """The query in language target ("zh" / "en") by the connection's model, or None when it cannot be had.

    Translations are remembered per model, so a page that searches the same question again does not ask again.
    """
    if conn is None or target not in LANGUAGE_NAMES:
        return None
    # A replay file is a model of its own (its canned replies), so its path is part of the key.
    key = (conn.provider, conn.model, conn.base_url, conn.replay_path, query.strip(), target)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    from dataclasses import replace

    from services import llm
    from services.errors import AppError
    system, user = _prompt(query.strip(), target)
    try:
        reply = llm.complete(replace(conn, temperature=0.0, max_tokens=120),
                             [{"role": "user", "content": user}], system=system)
    except AppError as exc:
        if exc.key == "error.stopped":
            raise
        # The search still runs with the question as asked; the reason is logged without any key.
        log.warning("query translation skipped: %s", exc.key)
        return None
    result = _cleaned(reply.text, target)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result
