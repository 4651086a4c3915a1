"""`chat`: ask a question and stream the answer to stdout; `--conversation ID` continues a stored conversation."""
from __future__ import annotations

import sys

from services import llm
from services.chat import presets, turns
from services.chat.store import ConversationStore, Message
from services.cli import cli_lang, connection_from_args
from services.commands.agent import add_agent_options, run_agent_cli


def register(subparsers, common) -> None:
    p = subparsers.add_parser("chat", parents=[common], help="ask the model; the answer streams to stdout")
    p.add_argument("question", nargs="?", help="the question; read from stdin when omitted or '-'")
    p.add_argument("--system", help="system prompt (default: the stored conversation's, if any)")
    p.add_argument("--show-reasoning", action="store_true", help="print the model's thinking text to stderr")
    p.add_argument("--conversation", metavar="ID",
                   help="continue this stored conversation (the id shown in the web page's address, c=…); "
                        "the new question and answer are saved to it")
    add_agent_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if getattr(args, "agent", False):
        return run_agent_cli(args)
    question = args.question
    if question in (None, "-"):
        question = sys.stdin.read()
    lang = cli_lang(args)
    conn = connection_from_args(args)
    system = args.system
    messages = [{"role": "user", "content": question}]
    store = conv = None
    if args.conversation:
        store = ConversationStore()
        conv = store.get_any(args.conversation)
        history = store.messages(conv.owner, conv.id)
        preset = presets.find(conv.preset, store.presets(conv.owner))
        messages = turns.model_messages(history + [Message(role="user", content=question)], preset, lang)
        if system is None:
            system = conv.system
    stream = llm.stream_chat(conn, messages, system=system)
    try:
        for kind, delta in stream.events():
            if kind == "text":
                sys.stdout.write(delta)
                sys.stdout.flush()
            elif args.show_reasoning:
                sys.stderr.write(delta)
    finally:
        result = stream.result
        if store is not None:  # saved even when interrupted: a stopped answer is kept as stopped
            status = "stopped" if result.status == "ok" and sys.exc_info()[0] is not None else result.status
            store.add(conv.owner, conv.id, Message(role="user", content=question))
            store.add(conv.owner, conv.id, Message(
                role="assistant", content=result.text, reasoning=result.reasoning, status=status,
                error=result.error.message(lang) if result.error else None, provider=conn.provider,
                model=conn.model, stats=result.stats()))
    if result.text:
        sys.stdout.write("\n")
    if result.error is not None:
        print(f"error: {result.error.message(lang)}", file=sys.stderr)
        return 1
    return 0
