"""`python -m services minutes FILE`: minutes of a meeting transcript or recording."""
from __future__ import annotations

import json
import sys


def register(subparsers, common) -> None:
    """Add the minutes command."""
    from services.minutes.templates import template_names
    p = subparsers.add_parser("minutes", parents=[common],
                              help="minutes, decisions and action items from a transcript or recording")
    p.add_argument("file", help="transcript (.txt .docx .srt .vtt .json) or recording (.wav .mp3 .m4a .flac)")
    p.add_argument("--template", default="general", choices=template_names())
    p.add_argument("--json", action="store_true", help="print the minutes as JSON")
    p.add_argument("--out-lang", choices=["zh", "en"], default=None,
                   help="language of the minutes (default: the transcript's)")
    p.add_argument("--asr-model", default=None, help="speech model for recordings (default per provider)")
    p.add_argument("--docx", default=None, help="also write the minutes to this .docx file")
    p.add_argument("--csv", default=None, help="also write the action items to this .csv file")
    p.set_defaults(func=run)


def run(args) -> int:
    """Parse or transcribe the file, write minutes, print them."""
    from pathlib import Path

    from services.cli import connection_from_args
    from services.minutes import action_items_csv, load_meeting, make_minutes, to_docx, to_markdown
    lang = getattr(args, "lang", None) or "zh"
    conn = connection_from_args(args)

    def progress(fraction: float, text: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {text}", file=sys.stderr)

    transcript = load_meeting(conn, args.file, asr_model=args.asr_model, ui_lang=lang)
    minutes = make_minutes(conn, transcript, template=args.template, lang=args.out_lang, ui_lang=lang,
                           progress=progress)
    if args.docx:
        Path(args.docx).write_bytes(to_docx(minutes, lang))
    if args.csv:
        Path(args.csv).write_bytes(action_items_csv(minutes.action_items, lang))
    if args.json:
        print(json.dumps(minutes.public_dict(), ensure_ascii=False, indent=2))
    else:
        print(to_markdown(minutes, lang))
    return 0
