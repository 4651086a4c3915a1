"""Hybrid search: BM25 over jieba words plus dense vectors, fused by reciprocal rank, with a relevance floor."""
from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from services.kb.crosslingual import text_language, translated, words_language
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
    translation: str | None = None      # the question as translated into the base's language, when it was searched
    by_translation: bool = False        # found by the translated wording's lists

    def as_dict(self) -> dict:
        """JSON-ready form (pages 1-based)."""
        return {"n": self.n, "file": self.file, "page": self.page, "heading": self.heading,
                "score": round(self.score, 6), "text": self.text, "injection": self.injection}


def index_text(chunk: StoredChunk) -> str:
    """What the keyword index sees: the chunk with its file name and heading, so "3M" or a section title match."""
    stem = chunk.file.rsplit(".", 1)[0]
    return f"{stem}\n{chunk.title}\n{chunk.heading}\n{chunk.text}"


class _KeywordIndex:
    """BM25 (Okapi k1 = 1.5, b = 0.75, Lucene's always-positive idf) over an inverted index in numpy arrays.

    rank_bm25 scores by visiting every chunk for every query word in Python, which at 10,000 pages (~60,000
    chunks) alone exceeds the latency budget; postings in arrays touch only the chunks holding a word.
    """

    K1 = 1.5
    B = 0.75

    def __init__(self, chunks: list[StoredChunk], terms: dict[str, list[str]] | None = None):
        import numpy as np
        self.chunks = chunks
        terms = terms or {}
        corpus = [terms[c.id] if c.id in terms else tokenize(index_text(c)) for c in chunks]
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for doc_no, words in enumerate(corpus):
            for word in words:
                cols.append(self.vocab.setdefault(word, len(self.vocab)))
                rows.append(doc_no)
        n = len(chunks)
        self.doc_len = np.bincount(np.asarray(rows, dtype=np.int64), minlength=n).astype(np.float32)
        # (term, doc) pairs with their counts, sorted by term: the postings of term t are ptr[t]:ptr[t+1].
        key = np.asarray(cols, dtype=np.int64) * max(1, n) + np.asarray(rows, dtype=np.int64)
        pairs, tf = np.unique(key, return_counts=True)
        self.post_doc = (pairs % max(1, n)).astype(np.int32)
        post_term = pairs // max(1, n)
        self.ptr = np.searchsorted(post_term, np.arange(len(self.vocab) + 1))
        df = np.diff(self.ptr).astype(np.float64)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(self.doc_len.mean()) if n else 1.0
        norm = self.K1 * (1 - self.B + self.B * self.doc_len / max(avgdl, 1e-9))
        tf = tf.astype(np.float32)
        self.post_weight = tf * (self.K1 + 1) / (tf + norm[self.post_doc])
        # Which language the base is written in, for questions asked in the other one (services.kb.crosslingual).
        self.language = words_language(list(zip(self.vocab, np.diff(self.ptr).tolist())))
        self.file_ids: dict[str, int] = {}
        self.file_codes = np.array([self.file_ids.setdefault(c.file, len(self.file_ids)) for c in chunks],
                                   dtype=np.int32)

    def scores(self, words: list[str]):
        """BM25 score of every chunk for the query words (a word given twice counts twice, as in rank_bm25)."""
        import numpy as np
        out = np.zeros(len(self.chunks), dtype=np.float32)
        for word in words:
            t = self.vocab.get(word)
            if t is not None:
                lo, hi = self.ptr[t], self.ptr[t + 1]
                # A word's postings name each chunk once, so a plain fancy-index add is exact (and far
                # faster than np.add.at).
                out[self.post_doc[lo:hi]] += self.idf[t] * self.post_weight[lo:hi]
        return out

    def coverage(self, words: list[str]) -> float:
        """The share of words that occur anywhere in the base."""
        return sum(1 for w in words if w in self.vocab) / len(words) if words else 0.0

    def holds_any(self, words, doc_nos):
        """For each chunk number, whether it contains at least one of words."""
        import numpy as np
        mask = np.zeros(len(self.chunks), dtype=bool)
        for word in set(words):
            t = self.vocab.get(word)
            if t is not None:
                mask[self.post_doc[self.ptr[t]:self.ptr[t + 1]]] = True
        return mask[doc_nos]

    def search(self, words: list[str], n: int, files: set[str] | None = None, *,
               topic: list[str] | None = None) -> list[tuple[StoredChunk, float]]:
        """The n best chunks for words (only from files, when given) containing at least one topic word."""
        import numpy as np
        if not self.chunks or not words:
            return []
        scores = self.scores(words)
        if files is not None:
            wanted = [self.file_ids[f] for f in files if f in self.file_ids]
            scores[~np.isin(self.file_codes, wanted)] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if not len(candidates):
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:n]]
        keep = self.holds_any(topic or words, top)
        return [(self.chunks[i], float(scores[i])) for i, ok in zip(top, keep) if ok]


_cache: OrderedDict[tuple, _KeywordIndex] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4


def keyword_index(store: KBStore, kb_name: str, records=None) -> _KeywordIndex:
    """The BM25 index of a base, loaded from its stored words and rebuilt only when the base changed."""
    key = (id(store.client),) + store.signature(kb_name, records)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = _KeywordIndex(store.chunks(kb_name), store.chunk_terms(kb_name))
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


_pool = None
_pool_lock = threading.Lock()


def _dense_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kb-dense")
        return _pool


def _dense_hits(store: KBStore, kb_name: str, emb: Embedder, wording: str, pool: int, scope, records):
    return store.dense_query(kb_name, emb.embed_query(wording), pool, files=scope, records=records)


def _translation(index: _KeywordIndex, query: str, conn) -> str | None:
    if conn is None or text_language(query) == index.language:
        return None
    other = translated(conn, query, index.language)
    return other if other and content_words(other) else None


def translation_for(kb_name: str, query: str, conn, store: KBStore | None = None) -> str | None:
    """The wording a search of kb_name for query also used (None when the languages match); no new model call
    once that search has run, since translations are remembered."""
    if not content_words(query):
        return None
    store = store or KBStore()
    return _translation(keyword_index(store, kb_name), query, conn)


def retrieve(kb_name: str, query: str, k: int = 5, *, mode: str = "hybrid", conn=None,
             store: KBStore | None = None, embedder: Embedder | None = None, pool: int = 30,
             route_by_name: bool = True, expand_terms: bool = True, dense_weight: float = 1.0,
             translate: bool = True) -> list[Passage]:
    """The k passages of base kb_name most relevant to query, best first; [] when nothing is relevant.

    A query with no topic words (a greeting such as "你好") retrieves nothing. A dense hit counts only above
    the embedder's similarity floor; BM25 hits need a positive score on topic words. A question that names a
    file (a distinctive word of its file name, e.g. "Adobe" for ADOBE_2022_10K.pdf) searches only that file;
    financial terms add the words statements print (services.kb.glossary) to the keyword query. A question in
    another language than the base's is also searched as translated by conn's model, when conn is given.
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
    records = store.files(kb_name)   # read once for the whole search
    names = [r.file for r in records]
    scope = files_named(words, names) if route_by_name else None
    translate = translate and conn is not None
    index = keyword_index(store, kb_name, records) if mode != "dense" or translate else None
    queries = [query]
    other = _translation(index, query, conn) if translate else None
    if other:
        queries.append(other)
        if route_by_name and scope is None:
            scope = files_named(content_words(other), names)
    # The dense half (embedding the question, then Chroma's search) runs in a worker thread while the keyword half
    # runs here: both spend most of their time outside Python's lock, and the two cores both work.
    # Each task runs in a copy of this context, so a Stop (services.llm.cancellable) reaches a provider's embedding.
    dense = [_dense_pool().submit(contextvars.copy_context().run, _dense_hits, store, kb_name, emb, wording, pool,
                                  scope, records)
             for wording in queries] if mode in ("hybrid", "dense") and emb.dense else []

    def passage(chunk: StoredChunk) -> Passage:
        return found.setdefault(chunk.id, Passage(n=0, text=chunk.text, file=chunk.file, page=chunk.page,
                                                  heading=chunk.heading, score=0.0, chunk_id=chunk.id))

    # Each wording (the question, and its translation) adds its own ranked lists to the fusion. Each kind of
    # search keeps a total weight of 1 however many wordings there are, so that the dense lists of two wordings
    # (which a multilingual model makes much alike) do not outvote the keyword side. The keyword weight goes by
    # the share of each wording's words the base holds: the question's own words in the other language meet only
    # numbers and stray words there.
    asked_words = [content_words(wording) for wording in queries]
    known = [index.coverage(w) if len(queries) > 1 else 1.0 for w in asked_words]
    for n_wording, wording in enumerate(queries):
        if mode in ("hybrid", "bm25"):
            asked = asked_words[n_wording]
            extra = tokenize(expand(wording)) if expand_terms else []
            # Glossary words help rank, but a chunk must contain a word of the question itself to count.
            hits = index.search(asked + extra, pool, scope, topic=asked)
            weight = known[n_wording] / sum(known) if sum(known) else 0.0
            for rank, (chunk, score) in enumerate(hits, start=1):
                p = passage(chunk)
                p.by_translation = p.by_translation or n_wording > 0
                p.bm25_rank = rank if p.bm25_rank is None else min(p.bm25_rank, rank)
                p.score += weight / (RRF_K + rank)
        if mode in ("hybrid", "dense") and emb.dense:
            weight = (dense_weight if mode == "hybrid" else 1.0) / len(queries)
            hits = dense[n_wording].result()
            for rank, (chunk, similarity) in enumerate(hits, start=1):
                if similarity < emb.min_similarity:
                    continue
                p = passage(chunk)
                p.by_translation = p.by_translation or n_wording > 0
                p.dense_rank = rank if p.dense_rank is None else min(p.dense_rank, rank)
                p.similarity = max(similarity, p.similarity or similarity)
                p.score += weight / (RRF_K + rank)

    ranked = sorted(found.values(), key=lambda p: (-p.score, p.file, p.page))[:k]
    from services.documents import looks_like_injection
    for n, p in enumerate(ranked, start=1):
        p.n = n
        p.injection = list(looks_like_injection(p.text))
        p.translation = queries[1] if len(queries) > 1 else None
    return ranked
