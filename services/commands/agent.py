"""`python -m services agent "question"`: the model answers with tools (calculator, dates, tables, reports, MCP)."""
from __future__ import annotations

import json
import sys


def add_agent_options(p, *, with_switch: bool = True) -> None:
    """The agent options; `chat` adds them with the --agent switch, `agent` without it (existing ones are kept)."""
    taken = set(p._option_string_actions)  # chat may already have --json etc.: keep its meaning

    def add(flag: str, **kw) -> None:
        if flag not in taken:
            p.add_argument(flag, **kw)

    if with_switch:
        add("--agent", action="store_true", help="let the model call tools and print every step")
    add("--data", action="append", default=[], metavar="FILE",
        help="CSV/Excel file whose tables the query tools may read (repeatable)")
    add("--report", action="append", default=[], metavar="PDF",
        help="financial report whose key figures the lookup tool may read (repeatable)")
    add("--mcp", action="append", default=[], metavar="SPEC",
        help="MCP server: 'name=command args…' (stdio) or 'name=http://…/mcp' (repeatable); "
             "servers in the AGENT_MCP_SERVERS setting are always added")
    add("--max-steps", type=int, default=None, help="most model turns that call tools (default 8)")
    add("--time-limit", type=float, default=None, help="seconds per question (default 180)")
    add("--json", action="store_true", help="print each step as one JSON line")


def register(subparsers, common) -> None:
    """Add the `agent` command."""
    p = subparsers.add_parser("agent", parents=[common], help="answer with tools, printing each step",
                              description="The model may call the built-in read-only tools (exact calculator, "
                                          "dates, tables given with --data, reports given with --report) and the "
                                          "tools of MCP servers given with --mcp; each step is printed.")
    p.add_argument("question", nargs="?", help="the question; read from stdin when omitted or '-'")
    add_agent_options(p, with_switch=False)
    p.set_defaults(func=run_agent_cli)


def _label(kind: str, lang: str, error: bool = False) -> str:
    from services import i18n
    return i18n.t("agent.event.error" if error else f"agent.event.{kind}", lang)


def _print_event(event, lang: str) -> None:
    prefix = f"[{event.step}] " if event.step else ""
    if event.kind == "tool_call":
        print(f"{prefix}{_label('tool_call', lang)}: {event.tool} {json.dumps(event.args, ensure_ascii=False)}")
    elif event.kind == "observation":
        text = event.text if len(event.text) <= 600 else event.text[:600] + " …"
        print(f"{prefix}{_label('observation', lang, event.error)}: {text}")
        if (event.data or {}).get("flagged"):
            from services import i18n
            print(f"{prefix}{i18n.t('agent.notice.injection', lang, phrases='; '.join(event.data['flagged'][:3]))}")
    elif event.kind == "answer":
        print(f"\n{_label('answer', lang)}: {event.text}")
    else:
        print(f"{prefix}{_label(event.kind, lang)}: {event.text}")
    sys.stdout.flush()


def build_context(args, lang: str):
    """The session's data for the tools, from --data and --report."""
    from services.agent import AgentContext
    ctx = AgentContext(lang=lang)
    if getattr(args, "data", None):
        from services.chatbi.engine import DuckSession
        ctx.chatbi = DuckSession()
        for path in args.data:
            for info in ctx.chatbi.add_file(path):
                for warning in info.warnings:
                    print(warning, file=sys.stderr)
    if getattr(args, "report", None):
        from services.financials.service import analyze
        reports = []
        for path in args.report:
            result = analyze(path, lang=lang)
            if result.error is not None:
                print(result.error.message(lang), file=sys.stderr)
            reports.append(result)
        ctx.reports = reports
    return ctx


def run_agent_cli(args) -> int:
    """Run the agent on args.question, printing the steps and the answer; 1 when no answer could be given."""
    from services.agent import McpServerConfig, McpToolset, builtin_tools, run_agent
    from services.agent.loop import MAX_STEPS
    from services.cli import cli_lang, connection_from_args
    lang = cli_lang(args)
    question = getattr(args, "question", None)
    if question in (None, "-"):
        question = sys.stdin.read()
    conn = connection_from_args(args)
    ctx = build_context(args, lang)
    ctx.conn = conn  # table questions go to ChatBI's chain with the same model
    from services.agent.mcp_tools import configured_servers
    configs = configured_servers() + [McpServerConfig.parse(spec) for spec in getattr(args, "mcp", None) or []]
    with McpToolset(configs) as mcp:
        for error in mcp.errors:
            print(error.message(lang), file=sys.stderr)
        tools = builtin_tools(ctx) + mcp.tools
        status = "error"
        for event in run_agent(conn, question, tools, lang=lang,
                               max_steps=getattr(args, "max_steps", None) or MAX_STEPS,
                               time_limit_s=getattr(args, "time_limit", None)):
            if getattr(args, "json", False):
                print(json.dumps(event.to_dict(), ensure_ascii=False, default=str))
                sys.stdout.flush()
            else:
                _print_event(event, lang)
            if event.kind == "answer":
                status = "error" if event.error else event.status
    return 1 if status == "error" else 0
