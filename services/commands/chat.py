"""`chat`: ask a question and stream the answer to stdout."""
from __future__ import annotations

import sys

from services import llm
from services.cli import cli_lang, connection_from_args


def register(subparsers, common) -> None:
    p = subparsers.add_parser("chat", parents=[common], help="ask the model; the answer streams to stdout")
    p.add_argument("question", nargs="?", help="the question; read from stdin when omitted or '-'")
    p.add_argument("--system", help="system prompt")
    p.add_argument("--show-reasoning", action="store_true", help="print the model's thinking text to stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    question = args.question
    if question in (None, "-"):
        question = sys.stdin.read()
    conn = connection_from_args(args)
    stream = llm.stream_chat(conn, [{"role": "user", "content": question}], system=args.system)
    for kind, delta in stream.events():
        if kind == "text":
            sys.stdout.write(delta)
            sys.stdout.flush()
        elif args.show_reasoning:
            sys.stderr.write(delta)
    result = stream.result
    if result.text:
        sys.stdout.write("\n")
    if result.error is not None:
        print(f"error: {result.error.message(cli_lang(args))}", file=sys.stderr)
        return 1
    return 0
