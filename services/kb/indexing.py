"""Adding files to a base: parse, chunk, embed, store — each file completely or not at all."""
from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.errors import AppError, InputError, user_message
from services.kb.chunking import chunk_document
from services.kb.embeddings import Embedder, embedder_for
from services.kb.store import FileRecord, KBStore, data_dir, file_sha256

SUPPORTED = (".pdf", ".docx", ".txt", ".md", ".xlsx", ".csv")
EMBED_BATCH = 64

Progress = Callable[[float, str], None]


@dataclass
class FileOutcome:
    """What happened to one file: added, duplicate or failed, with a message for the user."""

    file: str
    status: str                   # "added" | "duplicate" | "error" | "stopped" (not indexed: the user stopped)
    error: AppError | None = None
    record: FileRecord | None = None
    duplicate_of: str = ""
    warnings: list = field(default_factory=list)   # [i18n key, params] pairs from the document reader

    @property
    def ok(self) -> bool:
        return self.status == "added"

    def message(self, lang: str = "zh") -> str:
        """One line for the user in their language."""
        from services.i18n import t
        if self.status == "added":
            return t("kb.file.added", lang, file=self.file, pages=self.record.pages, chunks=self.record.chunks)
        if self.status == "duplicate":
            return t("kb.file.duplicate", lang, file=self.file, other=self.duplicate_of)
        if self.status == "stopped":
            return t("kb.file.stopped", lang, file=self.file)
        return t("kb.file.failed", lang, file=self.file, reason=user_message(self.error, lang))


def warning_texts(warnings, lang: str = "zh") -> list[str]:
    """The reader's warnings ([key, params] pairs) as sentences in the user's language."""
    from services.i18n import t
    out = []
    for w in warnings or []:
        if isinstance(w, (list, tuple)) and len(w) == 2 and isinstance(w[1], dict):
            out.append(t(w[0], lang, **w[1]))
        else:
            out.append(str(w))
    return out


def originals_dir(collection: str) -> Path:
    """Where the uploaded bytes of a base's files are kept (needed to rebuild)."""
    return data_dir() / "kb_files" / collection


def _embed(embedder: Embedder, texts: list[str], report: Callable[[float], None]) -> list[list[float]]:
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        vectors.extend(embedder.embed_documents(texts[start:start + EMBED_BATCH]))
        report(min(1.0, (start + EMBED_BATCH) / max(1, len(texts))))
    return vectors


def embed_text(chunk) -> str:
    """What the dense model sees: heading path then text, so a chunk keeps its section's meaning."""
    head = " > ".join(x for x in (chunk.title, chunk.heading) if x)
    return f"{head}\n{chunk.text}" if head else chunk.text


def index_file(store: KBStore, collection: str, path: Path, name: str, embedder: Embedder, *,
               chunk_size: int, overlap: int, sha256: str | None = None, keep_original: bool = True,
               progress: Callable[[float], None] | None = None) -> FileRecord:
    """Parse, chunk, embed and store one file; raises InputError/AppError and leaves nothing behind on failure."""
    from services.kb.reading import read_for_index
    from services.kb.retrieval import index_text
    from services.kb.tokens import tokenize
    report = progress or (lambda f: None)
    if Path(name).suffix.lower() not in SUPPORTED:
        raise InputError("doc.error.unsupported", file=name, types=" ".join(SUPPORTED))
    sha256 = sha256 or file_sha256(path)
    # Reading is fast and embedding slow: with dense vectors most of the bar belongs to the embedding.
    read_share = 0.1 if embedder.dense else 0.5
    document = read_for_index(path, name=name,
                              progress=lambda done, total: report(read_share * done / max(1, total)))
    chunks = chunk_document(document, size=chunk_size, overlap=overlap, file=name)
    if not chunks:
        raise InputError("doc.error.no_text", file=name)
    terms = [tokenize(index_text(c)) for c in chunks]
    vectors = _embed(embedder, [embed_text(c) for c in chunks],
                     lambda f: report(read_share + (0.95 - read_share) * f))
    original = ""
    if keep_original:
        target = originals_dir(collection) / f"{sha256}{Path(name).suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(path).resolve() != target.resolve():
            shutil.copyfile(path, target)
        original = str(target)
    record = FileRecord(file=name, sha256=sha256, pages=len(document.pages), chunks=len(chunks),
                        size=Path(path).stat().st_size, added_at=time.time(),
                        warnings=[list(w) for w in getattr(document, "warnings", []) or []], original=original)
    store.add_file(collection, record, chunks, vectors, terms)
    report(1.0)
    return record


class _Stopped(BaseException):
    """The user pressed Stop: the file under way is left out whole (it is stored only once complete).

    A BaseException so that a reader's own `except Exception` cannot turn it into a failed file."""


def add_files(kb_name: str, files: Sequence[tuple[str | Path, str]], *, store: KBStore | None = None, conn=None,
              embedder: Embedder | None = None, progress: Progress | None = None,
              stop: threading.Event | None = None) -> list[FileOutcome]:
    """Add (path, display name) files to a base; one outcome per file, a bad file never stops the others.

    When `stop` is set, the files finished so far stay in the base and the rest are reported as stopped."""
    store = store or KBStore()
    info = store.base(kb_name)
    emb = embedder or embedder_for(info.embedder, conn)
    if emb.id != info.embedder:
        raise InputError("kb.error.embedding_mismatch", base_model=info.embedder, model=emb.id)
    store.remove_orphans(kb_name)
    known = {r.sha256: r.file for r in store.files(kb_name)}
    outcomes: list[FileOutcome] = []
    total = max(1, len(files))
    def step(i: int, name: str, f: float) -> None:
        if f < 1.0 and stop is not None and stop.is_set():  # at 1.0 the file is already stored
            raise _Stopped
        if progress:
            progress((i + f) / total, name)

    for i, (path, name) in enumerate(files):
        name = name or Path(path).name
        try:
            step(i, name, 0.0)
            if not Path(path).exists() or Path(path).stat().st_size == 0:
                raise InputError("doc.error.empty", file=name)
            sha = file_sha256(path)
            if sha in known:
                outcomes.append(FileOutcome(file=name, status="duplicate", duplicate_of=known[sha]))
                continue
            record = index_file(store, info.collection, Path(path), name, emb, chunk_size=info.chunk_size,
                                overlap=info.overlap, sha256=sha, progress=lambda f, i=i, name=name: step(i, name, f))
            known[sha] = name
            outcomes.append(FileOutcome(file=name, status="added", record=record, warnings=record.warnings))
        except _Stopped:
            outcomes.extend(FileOutcome(file=n or Path(p).name, status="stopped") for p, n in files[i:])
            break
        except AppError as exc:
            outcomes.append(FileOutcome(file=name, status="error", error=exc))
        except Exception as exc:  # a parser bug on one odd file must not lose the rest of the upload
            outcomes.append(FileOutcome(file=name, status="error",
                                        error=AppError("kb.error.index_failed", file=name,
                                                       detail=f"{type(exc).__name__}: {exc}"[:200])))
    if progress:
        progress(1.0, "")
    return outcomes


def rebuild(kb_name: str, *, store: KBStore | None = None, conn=None, embedder: Embedder | None = None,
            chunk_size: int | None = None, overlap: int | None = None,
            progress: Progress | None = None) -> list[FileOutcome]:
    """Re-index every file of a base into a fresh collection (optionally with another model or chunking).

    The old base stays searchable until the new one is complete; if any file cannot be re-indexed the
    rebuild is abandoned and the old base kept.
    """
    store = store or KBStore()
    info = store.base(kb_name)
    emb = embedder or embedder_for(info.embedder, conn)
    records = store.files(kb_name)
    new = store.create_base(kb_name, embedder=emb.id, chunk_size=chunk_size or info.chunk_size,
                            overlap=overlap if overlap is not None else info.overlap, building=True,
                            owner=info.owner, shared=info.shared)
    outcomes: list[FileOutcome] = []
    total = max(1, len(records))
    try:
        for i, rec in enumerate(records):
            step = lambda f, i=i, rec=rec: progress and progress((i + f) / total, rec.file)  # noqa: E731
            if not rec.original or not Path(rec.original).exists():
                raise InputError("kb.error.original_missing", file=rec.file)
            target = originals_dir(new.collection) / Path(rec.original).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rec.original, target)
            record = index_file(store, new.collection, target, rec.file, emb, chunk_size=new.chunk_size,
                                overlap=new.overlap, sha256=rec.sha256, progress=step)
            outcomes.append(FileOutcome(file=rec.file, status="added", record=record))
    except BaseException:
        store.drop_collection(new.collection)
        shutil.rmtree(originals_dir(new.collection), ignore_errors=True)
        raise
    store.switch(kb_name, new.collection)
    shutil.rmtree(originals_dir(info.collection), ignore_errors=True)
    if progress:
        progress(1.0, "")
    return outcomes


def delete_file(kb_name: str, sha256: str, *, store: KBStore | None = None) -> None:
    """Remove one file (its record, chunks and kept original) from a base."""
    store = store or KBStore()
    records = {r.sha256: r for r in store.files(kb_name)}
    store.delete_file(kb_name, sha256)
    rec = records.get(sha256)
    if rec and rec.original:
        Path(rec.original).unlink(missing_ok=True)


def delete_base(kb_name: str, *, store: KBStore | None = None) -> None:
    """Remove a base and its kept originals."""
    store = store or KBStore()
    info = store.base(kb_name)
    store.delete_base(kb_name)
    shutil.rmtree(originals_dir(info.collection), ignore_errors=True)
