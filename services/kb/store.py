"""Knowledge bases kept in chromadb: one collection per base, chunks plus one record per finished file.

A file counts as indexed only once its file record is written, and that record is written last; chunks of a
file without a record (an interrupted add) are invisible to search and removed on the next change. A rebuild
writes a new collection and switches to it only when complete. So a base is never seen half-written.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from services.errors import AppError, InputError

COLLECTION_PREFIX = "kb_"
_BATCH = 256


def data_dir() -> Path:
    """The app's data folder (services.storage; ASSISTANT_DATA_DIR overrides)."""
    from services import storage
    return storage.DATA_DIR


def _settings():
    from chromadb.config import Settings
    return Settings(anonymized_telemetry=False)


def chroma_client(path: str | Path | None = None):
    """A Chroma server client when CHROMA_HOST is set (CHROMA_PORT, default 8000), else an embedded store."""
    import chromadb
    host = os.environ.get("CHROMA_HOST")
    if host:
        port = int(os.environ.get("CHROMA_PORT") or 8000)
        try:
            return chromadb.HttpClient(host=host, port=port, settings=_settings())
        except Exception as exc:  # the client checks the server at construction
            raise AppError("kb.error.server", host=host, port=port, detail=str(exc)[:200]) from exc
    path = Path(path) if path else data_dir() / "kb"
    path.mkdir(parents=True, exist_ok=True)
    # Two sessions creating a client at once (the chat page lists bases on every run) raced inside chromadb's
    # shared-system cache: "Could not connect to tenant default_tenant" / "'RustBindingsAPI' has no 'bindings'".
    with _CLIENT_LOCK:
        return chromadb.PersistentClient(path=str(path), settings=_settings())


_CLIENT_LOCK = threading.Lock()


@dataclass(frozen=True)
class BaseInfo:
    """A knowledge base: its name, the embedding model that built it, its chunking."""

    name: str
    collection: str
    embedder: str
    chunk_size: int
    overlap: int
    created_at: float
    owner: str = ""          # who created it in the app ("" = made on the command line: visible to everyone)
    shared: bool = True      # a private base (shared=False) is seen only by its owner

    def visible_to(self, viewer: str | None) -> bool:
        """Whether viewer (an owner id; None = the local command line) may see this base."""
        return viewer is None or self.shared or not self.owner or self.owner == viewer


@dataclass(frozen=True)
class FileRecord:
    """A file fully indexed in a base."""

    file: str
    sha256: str
    pages: int
    chunks: int
    size: int
    added_at: float
    warnings: list = field(default_factory=list)   # [i18n key, params] pairs from the document reader
    original: str = ""       # where the uploaded bytes are kept, for rebuilds


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored: its id, text and where it came from."""

    id: str
    text: str
    file: str
    page: int
    heading: str
    index: int
    kind: str
    sha256: str
    title: str = ""


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (same content = same file, whatever its name)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _base_from(collection) -> BaseInfo:
    meta = collection.metadata or {}
    return BaseInfo(name=meta["kb_name"], collection=collection.name, embedder=meta.get("embedder", "bm25"),
                    chunk_size=int(meta.get("chunk_size", 800)), overlap=int(meta.get("overlap", 120)),
                    created_at=float(meta.get("created_at", 0)), owner=str(meta.get("owner") or ""),
                    shared=bool(meta.get("shared", True)))


def _record_from(meta: dict) -> FileRecord:
    return FileRecord(file=meta["file"], sha256=meta["sha256"], pages=int(meta.get("pages", 0)),
                      chunks=int(meta.get("chunks", 0)), size=int(meta.get("size", 0)),
                      added_at=float(meta.get("added_at", 0)), warnings=json.loads(meta.get("warnings", "[]")),
                      original=meta.get("original", ""))


def _chunk_from(chunk_id: str, text: str, meta: dict) -> StoredChunk:
    return StoredChunk(id=chunk_id, text=text, file=meta["file"], page=int(meta["page"]),
                       heading=meta.get("heading", ""), index=int(meta["index"]), kind=meta.get("chunk_kind", "text"),
                       sha256=meta["sha256"], title=meta.get("title", ""))


def _get_all(col, **query) -> dict:
    """col.get in pages: one get of a large base overflows SQLite's variable limit inside Chroma."""
    out: dict = {"ids": [], "documents": [], "metadatas": []}
    offset = 0
    while True:
        got = col.get(limit=_PAGE, offset=offset, **query)
        for key in out:
            out[key].extend(got.get(key) or [])
        if len(got["ids"]) < _PAGE:
            return out
        offset += _PAGE


_PAGE = 5000


class KBStore:
    """All knowledge bases in one Chroma database (embedded or server)."""

    def __init__(self, client=None):
        self.client = client if client is not None else chroma_client()

    # ---- bases -------------------------------------------------------------------------------------------
    def _collections(self):
        out = []
        for item in self.client.list_collections():
            name = item if isinstance(item, str) else item.name
            if name.startswith(COLLECTION_PREFIX):
                out.append(self.client.get_collection(name, embedding_function=None))
        return out

    def bases(self, viewer: str | None = None) -> list[BaseInfo]:
        """Every complete base the viewer may see (all of them for viewer None), sorted by name."""
        found = [_base_from(c) for c in self._collections()
                 if (c.metadata or {}).get("kb_name") and not (c.metadata or {}).get("building")]
        return sorted((b for b in found if b.visible_to(viewer)), key=lambda b: b.name)

    def base(self, name: str, viewer: str | None = None) -> BaseInfo:
        """The base called name (InputError when there is none, or the viewer may not see it)."""
        for info in self.bases(viewer):
            if info.name == name:
                return info
        raise InputError("kb.error.no_base", name=name)

    def collection(self, name: str):
        """The Chroma collection holding base name."""
        return self.client.get_collection(self.base(name).collection, embedding_function=None)

    def create_base(self, name: str, *, embedder: str, chunk_size: int = 800, overlap: int = 120,
                    building: bool = False, owner: str = "", shared: bool = True) -> BaseInfo:
        """A new empty base; its embedding model is fixed from now on. With an owner and shared=False it is
        private: only that owner sees it."""
        name = (name or "").strip()
        if not name or len(name) > 80:
            raise InputError("kb.error.bad_name")
        if not building and any(b.name == name for b in self.bases()):
            raise InputError("kb.error.base_exists", name=name)
        meta = {"kb_name": name, "embedder": embedder, "chunk_size": int(chunk_size), "overlap": int(overlap),
                "created_at": time.time(), "building": bool(building), "owner": owner or "",
                "shared": bool(shared) or not owner}
        collection = self.client.create_collection(
            COLLECTION_PREFIX + uuid.uuid4().hex, metadata=meta, embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}})
        return _base_from(collection)

    def delete_base(self, name: str) -> None:
        """Remove a base and everything in it."""
        self.client.delete_collection(self.base(name).collection)

    def switch(self, name: str, new_collection: str) -> None:
        """Make a fully built collection the base called name, dropping the old one (the end of a rebuild)."""
        old = self.base(name).collection
        new = self.client.get_collection(new_collection, embedding_function=None)
        meta = dict(new.metadata or {})
        meta["building"] = False
        meta.pop("hnsw:space", None)
        new.modify(metadata=meta)
        self.client.delete_collection(old)

    def set_shared(self, name: str, shared: bool) -> None:
        """Share a base with everyone, or make it private to its owner again."""
        col = self.collection(name)
        meta = dict(col.metadata or {})
        meta["shared"] = bool(shared) or not meta.get("owner")
        meta.pop("hnsw:space", None)
        col.modify(metadata=meta)

    def drop_collection(self, collection: str) -> None:
        """Remove an unfinished collection (a failed rebuild)."""
        try:
            self.client.delete_collection(collection)
        except Exception:
            pass

    # ---- files -------------------------------------------------------------------------------------------
    def files(self, name: str, *, collection=None) -> list[FileRecord]:
        """The files fully indexed in a base, oldest first."""
        col = collection or self.collection(name)
        got = col.get(where={"kind": "file"}, include=["metadatas"])
        return sorted((_record_from(m) for m in got["metadatas"]), key=lambda r: r.added_at)

    def add_file(self, collection_name: str, record: FileRecord, chunks, vectors: list[list[float]],
                 terms: list[list[str]] | None = None) -> None:
        """Write a file's chunks (and their keyword-index words), then its record; on any failure remove what
        was written (all or nothing)."""
        col = self.client.get_collection(collection_name, embedding_function=None)
        ids = [f"{record.sha256}:{c.index}" for c in chunks]
        term_ids: list[str] = []
        try:
            for start in range(0, len(chunks), _BATCH):
                part = chunks[start:start + _BATCH]
                col.add(ids=ids[start:start + _BATCH], embeddings=vectors[start:start + _BATCH],
                        documents=[c.text for c in part],
                        metadatas=[{"kind": "chunk", "chunk_kind": c.kind, "file": c.file, "page": int(c.page),
                                    "heading": c.heading, "index": int(c.index), "sha256": record.sha256,
                                    "title": c.title}
                                   for c in part])
            # The keyword index's words travel with the base, so no process has to tokenize the text again.
            for start in range(0, len(terms or []), _BATCH):
                term_ids.append(f"terms:{record.sha256}:{start}")
                col.add(ids=[term_ids[-1]], embeddings=[vectors[0]],
                        documents=[json.dumps(terms[start:start + _BATCH], ensure_ascii=False)],
                        metadatas=[{"kind": "terms", "sha256": record.sha256, "start": start}])
            col.add(ids=[f"file:{record.sha256}"], embeddings=[vectors[0]], documents=[record.file],
                    metadatas=[{"kind": "file", "file": record.file, "sha256": record.sha256,
                                "pages": record.pages, "chunks": record.chunks, "size": record.size,
                                "added_at": record.added_at, "original": record.original,
                                "warnings": json.dumps(record.warnings, ensure_ascii=False)}])
        except BaseException:
            self._delete_ids(col, ids + term_ids + [f"file:{record.sha256}"])
            raise

    @staticmethod
    def _delete_ids(col, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            try:
                col.delete(ids=ids[start:start + _BATCH])
            except Exception:
                pass

    def delete_file(self, name: str, sha256: str) -> None:
        """Remove a file: its record first (so it vanishes at once), then its chunks."""
        col = self.collection(name)
        col.delete(ids=[f"file:{sha256}"])
        col.delete(where={"sha256": sha256})

    def remove_orphans(self, name: str) -> int:
        """Delete chunks whose file never got its record (an add that was interrupted); returns how many."""
        col = self.collection(name)
        done = {r.sha256 for r in self.files(name, collection=col)}
        got = _get_all(col, where={"kind": {"$in": ["chunk", "terms"]}}, include=["metadatas"])
        orphans = [i for i, m in zip(got["ids"], got["metadatas"]) if m["sha256"] not in done]
        self._delete_ids(col, orphans)
        return len(orphans)

    # ---- chunks ------------------------------------------------------------------------------------------
    def chunks(self, name: str, *, sha256: str | None = None) -> list[StoredChunk]:
        """The searchable chunks of a base (or of one file), in file order."""
        col = self.collection(name)
        done = {r.sha256 for r in self.files(name, collection=col)}
        where = {"$and": [{"kind": "chunk"}, {"sha256": sha256}]} if sha256 else {"kind": "chunk"}
        got = _get_all(col, where=where, include=["documents", "metadatas"])
        out = [_chunk_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
               if m["sha256"] in done]
        return sorted(out, key=lambda c: (c.file, c.index))

    def chunk_terms(self, name: str) -> dict[str, list[str]]:
        """The stored keyword-index words of every searchable chunk, by chunk id (bases made before words were
        stored give {} and are tokenized on load)."""
        col = self.collection(name)
        done = {r.sha256 for r in self.files(name, collection=col)}
        got = _get_all(col, where={"kind": "terms"}, include=["documents", "metadatas"])
        out: dict[str, list[str]] = {}
        for doc, meta in zip(got["documents"], got["metadatas"]):
            if meta["sha256"] in done:
                for offset, words in enumerate(json.loads(doc)):
                    out[f"{meta['sha256']}:{int(meta['start']) + offset}"] = words
        return out

    def dense_query(self, name: str, vector: list[float], n: int, files: set[str] | None = None,
                    records: list[FileRecord] | None = None) -> list[tuple[StoredChunk, float]]:
        """The n chunks nearest the vector (optionally only from some files), with cosine similarity.

        records: the base's files as the caller just read them (one read per search instead of one per step).
        """
        col = self.collection(name)
        records = self.files(name, collection=col) if records is None else records
        done = {r.sha256 for r in records}
        total = col.count()
        if not total or not done:
            return []
        if files:
            where = {"$and": [{"kind": "chunk"}, {"file": {"$in": sorted(files)}}]}
            got = col.query(query_embeddings=[vector], n_results=min(n, total), where=where,
                            include=["documents", "metadatas", "distances"])
            return [(_chunk_from(i, d, m), 1.0 - float(dist))
                    for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                             got["distances"][0]) if m["sha256"] in done]
        # A metadata filter makes Chroma search by brute force (0.5 s at 60,000 chunks); without one the HNSW
        # search takes milliseconds. Asking for as many extra hits as there are non-chunk records (file and
        # keyword-word records) still leaves n chunks, and their text is fetched for those n only.
        # Those records carry the vector of their file's first chunk, so they seldom rank high: a few extra hits
        # nearly always suffice (8 ms at 60,000 chunks against 42 ms for all of them); the full count only when not.
        extra = sum(1 + -(-r.chunks // _BATCH) for r in records)
        best: list = []
        for asked in dict.fromkeys((min(n + 10, n + extra, total), min(n + extra, total))):
            got = col.query(query_embeddings=[vector], n_results=asked, include=["metadatas", "distances"])
            best = [(i, m, float(dist)) for i, m, dist in zip(got["ids"][0], got["metadatas"][0], got["distances"][0])
                    if m.get("kind") == "chunk" and m["sha256"] in done][:n]
            if len(best) >= n or asked >= total:
                break
        if not best:
            return []
        texts = dict(zip(*(lambda g: (g["ids"], g["documents"]))(col.get(ids=[i for i, _, _ in best],
                                                                           include=["documents"]))))
        return [(_chunk_from(i, texts[i], m), 1.0 - dist) for i, m, dist in best]

    def signature(self, name: str, records: list[FileRecord] | None = None) -> tuple:
        """Changes whenever the base's searchable content changes (a cache key for the keyword index)."""
        info = self.base(name)
        col = self.client.get_collection(info.collection, embedding_function=None)
        records = self.files(name, collection=col) if records is None else records
        return (info.collection, col.count(), tuple((r.sha256, r.added_at) for r in records))
