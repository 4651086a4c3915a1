"""`python -m services financials FILE... [--no-llm] [--json] [--csv OUT]`: key figures of report PDFs."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from services import i18n, storage


def register(subparsers, common):
    from services.financials import messages  # noqa: F401 - registers fin.* texts
    p = subparsers.add_parser("financials", parents=[common], help=i18n.t("fin.cli.help", "en"))
    p.add_argument("files", nargs="+", metavar="FILE", help="report PDFs, or folders of them")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="reports read at once in parallel processes (default: the number of cores; with a model: 1)")
    p.add_argument("--summary", metavar="OUT",
                   help="write one row per report with a status column to OUT (.csv or .xlsx); a folder run "
                        "also writes summary.csv and summary.xlsx into its batch folder")
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
    from services.financials import batch, export
    from services.financials.messages import field_name, status_name
    lang = cli_lang(args)
    conn = None if args.no_llm else connection_from_args(args)
    files = batch.report_files(args.files)
    dirs = [f for f in args.files if Path(f).is_dir()]
    if args.save_dir:
        folder = Path(args.save_dir)
    elif len(dirs) == 1 and len(args.files) == 1:
        folder = batch.batch_dir_for(dirs[0])  # the same folder each run: a run cut short resumes
    else:
        folder = batch.new_batch_dir()
    print(i18n.t("fin.cli.saving", lang, folder=str(folder)), file=sys.stderr, flush=True)

    def on_done(done, total, d, warnings, seconds_left):
        name = d.get("file")
        if done < 0:
            print(i18n.t("fin.cli.reused", lang, name=name), file=sys.stderr, flush=True)
            return
        if d.get("error"):
            print(i18n.t("fin.file_failed", lang, name=name, message=d["error"]), file=sys.stderr)
        for w in warnings:
            print(f"{name}: {w}", file=sys.stderr)
        print(i18n.t("fin.cli.progress", lang, name=name, i=done, n=total,
                     left=batch.format_duration(seconds_left or 0)), file=sys.stderr, flush=True)

    outcome = batch.run_batch(files, folder, workers=max(1, args.workers), lang=lang, conn=conn, on_done=on_done)
    dicts = [d for d, _ in outcome]
    ok = [good for _, good in outcome]
    if args.csv:
        storage.write_atomic(args.csv, export.to_csv(dicts, lang))
    if args.xlsx:
        storage.write_atomic(args.xlsx, export.to_xlsx(dicts, lang))
    summaries = [Path(args.summary)] if args.summary else []
    if dirs:
        summaries += [folder / "summary.csv", folder / "summary.xlsx"]
    for out in summaries:
        frame = export.comparison_frame(dicts, lang)
        if out.suffix.lower() == ".xlsx":
            storage.write_atomic(out, export.frame_xlsx(frame))
        else:
            storage.write_atomic(out, export.csv_bytes(frame))
        print(i18n.t("fin.cli.summary", lang, path=str(out)), file=sys.stderr, flush=True)
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
