"""Knowledge bases: upload documents, search them (BM25 + dense, fused), answer with page citations.

For the chat page: `retrieve(kb_name, query, k)` → passages; `grounded_messages(question, passages, lang)` →
messages for services.llm; `postprocess(answer_text, passages, lang)` → text + citations (file, page, quote).
"""
from __future__ import annotations

from services.kb import messages as _messages  # noqa: F401  (registers the kb.* texts)
from services.kb.answering import Citation, GroundedAnswer, ask, grounded_messages, postprocess
from services.kb.embeddings import BM25_ONLY, LOCAL_E5, LOCAL_MINILM, default_embedder_id, embedder_for
from services.kb.indexing import FileOutcome, add_files, delete_base, delete_file, rebuild
from services.kb.retrieval import Passage
from services.kb.retrieval import retrieve as _retrieve
from services.kb.retrieval import translation_for
from services.kb.store import BaseInfo, FileRecord, KBStore, StoredChunk


def retrieve(kb_name: str, query: str, k: int = 5, **options) -> list[Passage]:
    """The k passages of a base most relevant to query (hybrid BM25 + dense), [] when nothing is relevant."""
    return _retrieve(kb_name, query, k, **options)


def list_bases(store: KBStore | None = None, viewer: str | None = None) -> list[str]:
    """Names of the knowledge bases viewer may see (all of them for viewer None: the command line)."""
    return [b.name for b in (store or KBStore()).bases(viewer)]


__all__ = ["BM25_ONLY", "LOCAL_E5", "LOCAL_MINILM", "BaseInfo", "Citation", "FileOutcome", "FileRecord", "GroundedAnswer",
           "KBStore", "Passage", "StoredChunk", "add_files", "ask", "default_embedder_id", "delete_base",
           "delete_file", "embedder_for", "grounded_messages", "list_bases", "postprocess", "rebuild", "retrieve",
           "translation_for"]
