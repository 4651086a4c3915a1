"""`python -m services contract FILE --party lessee` — review a contract from one side."""
from __future__ import annotations

import json
import sys

from services import i18n
from services.errors import AppError

PARTY_CHOICES = ("lessee", "lessor", "agency", "neutral", "employer", "employee", "seller", "buyer", "provider",
                 "client", "discloser", "recipient", "party_a", "party_b")


def register(subparsers, common) -> None:
    """Add the `contract` command."""
    p = subparsers.add_parser("contract", parents=[common], help="review a contract clause by clause from one side")
    p.add_argument("file", help="contract file: PDF, DOCX, TXT or MD")
    p.add_argument("--party", required=True, help="your side: " + "|".join(PARTY_CHOICES))
    p.add_argument("--type", dest="contract_type", default=None,
                   help="lease|labour|purchase|service|nda|other (default: guessed from the title)")
    p.add_argument("--no-llm", action="store_true", help="segmentation, rules and checklist only; no model")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--markdown", metavar="OUT.md", help="also write the Markdown report")
    p.add_argument("--docx", metavar="OUT.docx", help="also write the Word report")
    p.set_defaults(func=run)


def run(args) -> int:
    """Review the file and print the report."""
    from services.cli import cli_lang, connection_from_args
    from services.contracts import CONTRACT_TYPES, guess_type, read_contract, side_for
    from services.contracts.analysis import analyse_text
    from services.contracts.report import to_docx, to_markdown

    lang = cli_lang(args)
    text, notes = read_contract(args.file)
    kind = args.contract_type or guess_type(text)
    if kind not in CONTRACT_TYPES:
        raise AppError("contract.error.bad_type", kind=kind, choices=", ".join(CONTRACT_TYPES))
    try:
        side = side_for(args.party, kind)
    except ValueError:
        raise AppError("contract.error.bad_party", party=args.party, choices="|".join(PARTY_CHOICES)) from None
    conn = None if args.no_llm else connection_from_args(args)

    def progress(done: int, total: int) -> None:
        if not args.json:
            print(i18n.t("contract.progress", lang, done=done, total=total), file=sys.stderr)

    from pathlib import Path
    report = analyse_text(text, contract_type=kind, side=side, conn=conn, lang=lang, file=Path(args.file).name,
                          progress=progress)
    report.notes = notes + report.notes
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(report), encoding="utf-8")
    if args.docx:
        Path(args.docx).write_bytes(to_docx(report))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(to_markdown(report))
    return 0
