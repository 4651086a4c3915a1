"""`python -m services column FILE --column C --prompt P [--choices a,b] [--out FILE]`: an AI column over a table."""
from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers, common) -> None:
    """Add the `column` command."""
    p = subparsers.add_parser("column", parents=[common], help="answer one prompt for every row; the answers become a new column",
                              description="Runs the prompt on the given column of every row (CSV or Excel). Finished rows are "
                                          "kept in a checkpoint beside the output, so running the same command again resumes.")
    p.add_argument("file", help="a .csv or .xlsx file")
    p.add_argument("--column", required=True, help="the column the prompt reads")
    p.add_argument("--prompt", required=True, help="what to do with each row, e.g. 判断这条评论的情感：正向 或 负向")
    p.add_argument("--choices", help="comma-separated labels; the answer is always one of them")
    p.add_argument("--name", help="name of the new column (default AI)")
    p.add_argument("--out", help="write the table here (.csv or .xlsx); the new column is the last one")
    p.add_argument("--workers", type=int, help="requests at once (default 1 for the built-in model, 4 for services)")
    p.add_argument("--yes", action="store_true", help="run a large job on a paid model without asking (the estimate "
                                                      "of tokens and cost is printed first)")
    p.set_defaults(func=run)


def run(args) -> int:
    from services import ai_column, i18n
    from services.cli import cli_lang, connection_from_args
    lang = cli_lang(args)
    df = ai_column.read_table(args.file)
    out_path = Path(args.out) if args.out else None
    checkpoint = (out_path or Path(args.file)).with_suffix(".ai-column.jsonl")
    choices = args.choices.replace("，", ",").split(",") if args.choices else None

    conn = connection_from_args(args)
    if args.column in df.columns:
        values = ["" if v is None else str(v) for v in df[args.column].tolist()]
        done = ai_column.checkpoint_rows(checkpoint, args.column, args.prompt, choices, conn, values)
        estimate = ai_column.estimate(conn, values, args.prompt, choices, lang, done=done)
        if estimate.priced:
            print(estimate.text(lang), file=sys.stderr)
            if estimate.rows >= ai_column.LARGE_RUN_ROWS and not args.yes:
                print(i18n.t("column.confirm_cli", lang), file=sys.stderr)
                return 2

    def show(p: ai_column.ColumnProgress) -> None:
        left = f", about {p.left_s:.0f} s left" if p.left_s is not None else ""
        failed = f", {p.failed} failed" if p.failed else ""
        print(f"\r{p.done}/{p.total} rows{left}{failed}   ", end="", file=sys.stderr, flush=True)

    result = ai_column.run_column(df, args.column, args.prompt, conn, choices=choices,
                                  new_column=args.name, checkpoint=checkpoint, lang=lang, workers=args.workers,
                                  progress=show)
    print(file=sys.stderr)
    name = result.columns[-1]
    if out_path is None:
        result.to_csv(sys.stdout, index=False)
    elif out_path.suffix.lower() in (".xlsx", ".xlsm"):
        result.to_excel(out_path, index=False)
    else:
        result.to_csv(out_path, index=False, encoding="utf-8-sig")
    counts = ", ".join(f"{k}: {v}" for k, v in ai_column.label_counts(result[name])[:10])
    print(f"{name}: {counts}", file=sys.stderr)
    return 0
