"""Hybrid search: BM25 over jieba words plus dense vectors, fused by reciprocal rank, with a relevance floor."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from services.kb.embeddings import Embedder, embedder_for
from services.kb.glossary import expand
from services.kb.store import KBStore, StoredChunk
from services.kb.tokens import content_words, tokenize

RRF_K = 60
MODES = ("hybrid", "bm25", "dense")


@dataclass
class Passage:
    """A retrieved chunk as shown to the model and the user: numbered, with its source and scores."""

    n: int
    text: str
    file: str
    page: int
    heading: str
    score: float
    chunk_id: str
    bm25_rank: int | None = None
    dense_rank: int | None = None
    similarity: float | None = None
    injection: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready form (pages 1-based)."""
        return {"n": self.n, "file": self.file, "page": self.page, "heading": self.heading,
                "score": round(self.score, 6), "text": self.text, "injection": self.injection}


def index_text(chunk: StoredChunk) -> str:
    """What the keyword index sees: the chunk with its file name and heading, so "3M" or a section title match."""
    stem = chunk.file.rsplit(".", 1)[0]
    return f"{stem}\n{chunk.title}\n{chunk.heading}\n{chunk.text}"


def _bm25_class():
    from rank_bm25 import BM25Okapi

    class LuceneBM25(BM25Okapi):
        """BM25 with Lucene's always-positive idf: rank_bm25's Okapi idf goes negative for words in over half
        the chunks, which in a small base makes every score 0 or below."""

        def _calc_idf(self, nd):
            import math
            self.idf = {word: math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5)) for word, freq in nd.items()}

    return LuceneBM25


class _KeywordIndex:
    def __init__(self, chunks: list[StoredChunk]):
        self.chunks = chunks
        corpus = [tokenize(index_text(c)) for c in chunks]
        self.bm25 = _bm25_class()([doc or ["\u0000"] for doc in corpus]) if chunks else None

    def search(self, words: list[str], n: int, files: set[str] | None = None, *,
               topic: list[str] | None = None) -> list[tuple[StoredChunk, float]]:
        """The n best chunks for words (only from files, when given) containing at least one topic word."""
        if self.bm25 is None or not words:
            return []
        scores = self.bm25.get_scores(words)
        order = [i for i in sorted(range(len(scores)), key=lambda i: -scores[i])
                 if files is None or self.chunks[i].file in files][:n]
        topic_set = set(topic or words)
        return [(self.chunks[i], float(scores[i])) for i in order
                if scores[i] > 0 and not topic_set.isdisjoint(self.bm25.doc_freqs[i])]


_cache: OrderedDict[tuple, _KeywordIndex] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4


def keyword_index(store: KBStore, kb_name: str) -> _KeywordIndex:
    """The BM25 index of a base, rebuilt only when the base changed."""
    key = (id(store.client),) + store.signature(kb_name)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = _KeywordIndex(store.chunks(kb_name))
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


# Words in file names that say nothing about which document is meant.
_GENERIC_NAME_WORDS = frozenset("""
pdf docx doc txt md xlsx csv report annual quarterly form final draft copy version new old
10k 10q 8k 20f k q fy 年报 年度 报告 季报 半年报 公告 文件 合同 附件 副本 最终 版
""".split())


def name_words(file: str) -> set[str]:
    """Distinctive words of a file name ("3M_2018_10K.pdf" → {"3m"}), to notice a question naming a file."""
    stem = file.rsplit(".", 1)[0].replace("_", " ").replace("-", " ")
    return {w for w in tokenize(stem) if len(w) >= 2 and not w.replace(".", "").isdigit()
            and w not in _GENERIC_NAME_WORDS}


def files_named(words: list[str], files: list[str]) -> set[str] | None:
    """The files a question names (by a distinctive word of their name), or None when it names none or all."""
    asked = set(words) | {a + b for a, b in zip(words, words[1:])}   # "best buy" also meets "bestbuy"
    named = {f for f in files if name_words(f) & asked}
    return named if named and len(named) < len(set(files)) else None


def retrieve(kb_name: str, query: str, k: int = 5, *, mode: str = "hybrid", conn=None,
             store: KBStore | None = None, embedder: Embedder | None = None, pool: int = 30,
             route_by_name: bool = True, expand_terms: bool = True, dense_weight: float = 1.0) -> list[Passage]:
    """The k passages of base kb_name most relevant to query, best first; [] when nothing is relevant.

    A query with no topic words (a greeting such as "你好") retrieves nothing. A dense hit counts only above
    the embedder's similarity floor; BM25 hits need a positive score on topic words. A question that names a
    file (a distinctive word of its file name, e.g. "Adobe" for ADOBE_2022_10K.pdf) searches only that file;
    financial terms add the words statements print (services.kb.glossary) to the keyword query.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    store = store or KBStore()
    info = store.base(kb_name)
    words = content_words(query)
    if not words:
        return []
    emb = embedder or embedder_for(info.embedder, conn)
    if not emb.dense and mode == "dense":
        return []

    found: dict[str, Passage] = {}
    scope = files_named(words, [r.file for r in store.files(kb_name)]) if route_by_name else None

    def passage(chunk: StoredChunk) -> Passage:
        return found.setdefault(chunk.id, Passage(n=0, text=chunk.text, file=chunk.file, page=chunk.page,
                                                  heading=chunk.heading, score=0.0, chunk_id=chunk.id))

    if mode in ("hybrid", "bm25"):
        index = keyword_index(store, kb_name)
        extra = tokenize(expand(query)) if expand_terms else []
        # Glossary words help rank, but a chunk must contain a word of the question itself to count.
        hits = index.search(words + extra, pool, scope, topic=words)
        for rank, (chunk, score) in enumerate(hits, start=1):
            p = passage(chunk)
            p.bm25_rank = rank
            p.score += 1.0 / (RRF_K + rank)
    if mode in ("hybrid", "dense") and emb.dense:
        weight = dense_weight if mode == "hybrid" else 1.0
        hits = store.dense_query(kb_name, emb.embed_query(query), pool, files=scope)
        for rank, (chunk, similarity) in enumerate(hits, start=1):
            if similarity < emb.min_similarity:
                continue
            p = passage(chunk)
            p.dense_rank = rank
            p.similarity = similarity
            p.score += weight / (RRF_K + rank)

    ranked = sorted(found.values(), key=lambda p: (-p.score, p.file, p.page))[:k]
    from services.documents import looks_like_injection
    for n, p in enumerate(ranked, start=1):
        p.n = n
        p.injection = list(looks_like_injection(p.text))
    return ranked
