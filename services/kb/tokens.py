"""Words for keyword search: jieba for Chinese, light normalisation for English and numbers."""
from __future__ import annotations

import logging
import re
from functools import lru_cache

# Words that carry no topic: greetings, pronouns, question words and function words in both languages.
# A query made only of these ("你好", "hello", "谢谢") retrieves nothing.
STOPWORDS = frozenset("""
的 了 是 在 和 与 及 或 也 都 就 而 及其 并 对 从 把 被 让 给 向 为 为了 以 以及 于 之 其 这 那 这个 那个 这些 那些
我 你 您 他 她 它 我们 你们 他们 她们 它们 自己 什么 怎么 怎样 如何 哪 哪个 哪些 哪里 吗 呢 吧 啊 呀 嘛 哦 哈 嗯
有 没有 是否 请 请问 一下 一个 一些 可以 能 能否 会 要 想 知道 告诉 帮 帮我 关于 多少 几 多 个 些 中 上 下 里
你好 您好 嗨 哈喽 喂 谢谢 感谢 多谢 再见 早上好 晚上好 下午好 好的 好 行 嗯嗯 对 不 没
a an the and or of to in on at by for with from as is are was were be been being do does did have has had
it its this that these those there here what which who whom whose when where why how can could would should
will shall may might must i me my we our you your he him his she her they them their please tell about
hi hello hey thanks thank bye goodbye ok okay yes no not any some all
question questions answer answers using use based basing give response relying detail details shown following
""".split())

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _jieba():
    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _normalise(word: str) -> str:
    word = word.lower()
    # A crude plural/possessive fold so "expenditures" meets "expenditure" without a stemmer dependency.
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.isalpha() and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


_MIXED = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?")


def _split_mixed(raw: list[str]) -> list[str]:
    """Words mixing letters and digits ("FY2018", "10K") also yield their parts, so "FY2018" meets "2018"."""
    out = []
    for word in raw:
        out.append(word)
        if word.isascii() and not word.isalpha() and not _PUNCT.match(word):
            parts = _MIXED.findall(word)
            if len(parts) > 1:
                out.extend(parts)
    return out


# PDF text layers often split a word before its last letter ("Balance Shee t", "Cash Flow s"); a lone
# lower-case letter (other than the words "a"/"i") is glued back to the word before it.
_SPLIT_TAIL = re.compile(r"(?<=[A-Za-z]{2}) ([b-hj-z])\b")


def tokenize(text: str) -> list[str]:
    """Search words of text: jieba (search mode) for Chinese, lower-cased words and numbers otherwise."""
    text = _SPLIT_TAIL.sub(r"\1", _THOUSANDS.sub("", text))
    if _HAS_CJK.search(text):
        raw = _jieba().lcut_for_search(text)
    else:
        raw = re.findall(r"[A-Za-z0-9]+(?:\.\d+)?", text)
    words = []
    for word in _split_mixed(raw):
        word = word.strip()
        if not word or _PUNCT.match(word):
            continue
        word = _normalise(word)
        if word not in STOPWORDS:
            words.append(word)
    return words


def content_words(query: str) -> list[str]:
    """The query's topic words (stopwords and greetings removed); empty means there is nothing to search."""
    return tokenize(query)
