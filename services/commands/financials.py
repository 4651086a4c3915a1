"""`python -m services financials FILE... [--no-llm] [--json] [--csv OUT]`: key figures of report PDFs."""
from __future__ import annotations

import sys
from pathlib import Path

from services import i18n, storage


def register(subparsers, common):
    from services.financials import messages  # noqa: F401 - registers fin.* texts
    p = subparsers.add_parser("financials", parents=[common], help=i18n.t("fin.cli.help", "en"))
    p.add_argument("files", nargs="+", metavar="FILE", help="report PDFs")
    p.add_argument("--no-llm", action="store_true", help="table parsing only, no model call")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    p.add_argument("--csv", metavar="OUT", help="write figure-by-figure CSV to OUT")
    p.add_argument("--xlsx", metavar="OUT", help="write an Excel workbook to OUT")
    p.add_argument("--save-dir", metavar="DIR",
                   help="keep each report's result in DIR as soon as it is done (default: a new folder under the "
                        "data folder); run again with the same DIR to reuse the reports that finished")
    p.set_defaults(func=run)


def run(args) -> int:
    from services.cli import cli_lang, connection_from_args
    from services.financials import export
    from services.financials.messages import field_name, status_name
    from services.financials.service import analyze
    from services.financials import batch
    lang = cli_lang(args)
    conn = None if args.no_llm else connection_from_args(args)
    folder = Path(args.save_dir) if args.save_dir else batch.new_batch_dir()
    done = {d.get("file"): d for d in batch.saved_results(folder)} if folder.is_dir() else {}
    print(i18n.t("fin.cli.saving", lang, folder=str(folder)), file=sys.stderr, flush=True)
    dicts, ok = [], []
    for i, f in enumerate(args.files):
        name = Path(f).name
        if name in done and done[name].get("fields"):
            print(i18n.t("fin.cli.reused", lang, name=name), file=sys.stderr, flush=True)
            dicts.append(done[name])
            ok.append(True)
            continue
        r = analyze(f, conn=conn, use_model=conn is not None, lang=lang)
        d = r.to_dict(lang)
        batch.save_result(folder, i, d)  # kept the moment it is done: a batch cut short keeps what finished
        dicts.append(d)
        ok.append(r.extraction is not None)
        if r.error is not None:
            print(i18n.t("fin.file_failed", lang, name=r.file, message=r.error.message(lang)), file=sys.stderr)
        for w in r.warnings(lang):
            print(f"{r.file}: {w}", file=sys.stderr)
        print(i18n.t("fin.cli.saved", lang, name=r.file, i=i + 1, n=len(args.files)), file=sys.stderr, flush=True)
    if args.csv:
        storage.write_atomic(args.csv, export.to_csv(dicts, lang))
    if args.xlsx:
        storage.write_atomic(args.xlsx, export.to_xlsx(dicts, lang))
    if args.json:
        print(export.to_json(dicts))
    else:
        for d in dicts:
            print(f"# {d['file']}  {d.get('company_name') or ''} {d.get('stock_code') or ''} "
                  f"{d.get('fiscal_year') or ''} {d.get('currency') or ''}")
            for k, f in d.get("fields", {}).items():
                value = "—" if f["value"] is None else f"{f['value']:,.2f}"
                print(f"  {field_name(k, lang)}: {value}  p.{f['page'] or '-'}  [{status_name(f['status'], lang)}]"
                      f"  {f['source_text'][:80]}")
    return 0 if all(ok) else 1
