"""`python -m services ask FILE_OR_URL... "question"`: answer a question over spreadsheets or a database with SQL."""
from __future__ import annotations

import json
import sys


def register(subparsers, common) -> None:
    """Add the `ask` command."""
    p = subparsers.add_parser(
        "ask", parents=[common],
        help="ask a question over CSV/Excel files or a database URL (the model writes read-only SQL)",
        description="Load the files (every Excel sheet) into DuckDB, or connect the SQLAlchemy URL read-only, "
                    "and answer the question with one checked SELECT. The last argument is the question.")
    p.add_argument("items", nargs="+", metavar="FILE_OR_URL... QUESTION",
                   help="data files (.csv .tsv .xlsx) or one database URL, then the question")
    p.add_argument("--json", action="store_true", help="print sql, columns, rows, chart and summary as JSON")
    p.add_argument("--sql", help="run this SQL instead of asking the model (same checks and limits)")
    p.add_argument("--max-rows", type=int, default=1000, help="row limit (default 1000)")
    p.add_argument("--timeout", type=float, default=10.0, help="query time limit in seconds (default 10)")
    p.add_argument("--keep-totals", action="store_true",
                   help="keep subtotal/total rows (小计, 合计, Total…) found in the files; they are left out by default")
    p.add_argument("--no-summary", action="store_true", help="skip the model's summary (automatic summary instead)")
    p.set_defaults(func=run)


def open_source(items: list[str], *, max_rows: int, timeout_s: float, progress=None, keep_totals: bool = False,
                lang: str = "en"):
    """A DuckSession with the files loaded, or an ExternalDatabase for a URL."""
    from services.chatbi.engine import DuckSession
    from services.chatbi.external import ExternalDatabase
    from services.errors import InputError
    urls = [i for i in items if "://" in i]
    if urls:
        if len(items) != 1:
            raise InputError("bi.error.db_url", detail="give either files or one database URL")
        return ExternalDatabase(urls[0], max_rows=max_rows, timeout_s=timeout_s)
    session = DuckSession(max_rows=max_rows, timeout_s=timeout_s)
    from services import i18n
    for path in items:
        for info in session.add_file(path, progress=progress):
            for warning in info.warnings:
                print(warning, file=sys.stderr)
            if info.total_labels:
                if keep_totals:
                    session.keep_totals(info.name, True)
                key = "bi.totals_kept" if keep_totals else "bi.totals_excluded"
                print(f"{info.name}: " + i18n.t(key, lang, count=len(info.total_labels),
                                               labels=", ".join(info.total_labels[:6])), file=sys.stderr)
                for check in info.checks:
                    print("  " + check_text(check, lang), file=sys.stderr)
    return session


def check_text(check, lang: str) -> str:
    """One excluded total compared with the sum of the kept rows, in the user's language."""
    from services import i18n
    from services.chatbi.display import cell_text
    key = "bi.check_ok" if check.agrees else "bi.check_bad"
    return i18n.t(key, lang, label=check.label, column=check.column, stated=cell_text(check.stated),
                  computed=cell_text(check.computed), diff=cell_text(round(check.stated - check.computed, 4)))


def run(args) -> int:
    """Load the data, get and check the SQL, run it, print the answer; refused or failed queries exit 1."""
    from services.chatbi.assistant import ask, rerun
    from services.errors import InputError
    if len(args.items) < 2:
        raise InputError("bi.error.empty_question")
    *sources, question = args.items
    from services.cli import cli_lang
    lang = cli_lang(args)
    source = open_source(sources, max_rows=args.max_rows, timeout_s=args.timeout, keep_totals=args.keep_totals,
                         lang=lang)
    try:
        if args.sql:
            answer = rerun(source, args.sql, question, None, lang)
        else:
            from services.cli import connection_from_args
            conn = connection_from_args(args)
            answer = ask(source, conn, question, lang=lang, summarize=not args.no_summary)
    finally:
        source.close()
    if args.json:
        print(json.dumps(answer.to_json(lang), ensure_ascii=False, indent=2))
    else:
        _print_text(answer, lang)
    if answer.error is not None:
        print(answer.error.message(lang), file=sys.stderr)
        return 1
    return 0


def _print_text(answer, lang: str) -> None:
    from services import i18n
    for n, attempt in enumerate(answer.attempts[:-1] if answer.ok else answer.attempts, 1):
        if attempt.error is not None:
            print(i18n.t("bi.attempt_failed", lang, n=n, error=attempt.error.message(lang)))
            if attempt.sql:
                print(_indent(attempt.sql))
    if answer.sql:
        print("SQL:")
        print(_indent(answer.sql))
    if answer.result is not None:
        from services.chatbi.display import display_frame
        frame = display_frame(answer.result.to_frame())
        print()
        print(frame.to_string(index=False, max_rows=50) if len(frame) else "(0 rows)")
        if answer.units:
            print(i18n.t("bi.units", lang, units="; ".join(f"{c} {u}" for c, u in answer.units.items())))
        if answer.result.truncated:
            print(i18n.t("bi.truncated", lang, limit=len(answer.result.rows)))
        print()
        print(answer.summary)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
