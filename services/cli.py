"""Command-line front end: `python -m services <command> …`, one module per command in services/commands/."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from services import commands, i18n
from services.errors import AppError, user_message
from services.providers import default_provider, get_provider
from services.providers.base import Connection


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts after its name."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("model")
    group.add_argument("--provider", help="provider name (see `providers`); default: the first configured, else local")
    group.add_argument("--model", help="model name; default: the provider's first model")
    group.add_argument("--replay", metavar="FILE", help="JSONL of canned replies (implies --provider replay)")
    group.add_argument("--api-key", help="API key (prefer the environment variable; never logged)")
    group.add_argument("--base-url", help="endpoint for OpenAI-compatible providers")
    group.add_argument("--lang", choices=sorted(i18n.LANGUAGES), default=None, help="message language (default zh, or en when LANG is English)")
    return common


def connection_from_args(args: argparse.Namespace) -> Connection:
    """The Connection the common options describe."""
    if getattr(args, "replay", None):
        return get_provider("replay").connect(args.model, replay_path=args.replay)
    provider = get_provider(args.provider) if getattr(args, "provider", None) else default_provider()
    return provider.connect(args.model, api_key=getattr(args, "api_key", None), base_url=getattr(args, "base_url", None))


def cli_lang(args: argparse.Namespace) -> str:
    """The language for messages: --lang, else zh unless the locale is English."""
    import os
    if getattr(args, "lang", None):
        return args.lang
    return "en" if os.environ.get("LANG", "").lower().startswith("en") else i18n.DEFAULT_LANG


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command module registered."""
    parser = argparse.ArgumentParser(prog="python -m services", description="Office AI assistant, command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    common = common_options()
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; failures print one line to stderr and return 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AppError as exc:
        print(f"error: {exc.message(cli_lang(args))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"error: {user_message(exc, cli_lang(args))}", file=sys.stderr)
        return 1
