"""The knowledge-base tool wired to services.kb: one base, searched with the same hybrid retrieval as the chat."""
from __future__ import annotations

from services.agent.tools import KnowledgeSearch


def kb_searcher(kb_name: str, **options) -> KnowledgeSearch:
    """search(query, k) -> [{file, page, text, score}] over base kb_name (options go to services.kb.retrieve)."""
    def search(query: str, k: int) -> list[dict]:
        from services.kb import retrieve
        return [{"file": p.file, "page": p.page, "text": p.text, "score": p.score}
                for p in retrieve(kb_name, query, k, **options)]
    search.base = kb_name  # named in the tool's description
    return search
