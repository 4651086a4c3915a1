"""`python -m services cleanup [--days N]`: remove uploaded files of browser sessions older than the retention."""
from __future__ import annotations


def register(subparsers, common):
    p = subparsers.add_parser("cleanup", parents=[common],
                              help="delete session upload folders older than ASSISTANT_RETENTION_DAYS (default 7)")
    p.add_argument("--days", type=float, default=None, help="retention in days (default: ASSISTANT_RETENTION_DAYS)")
    p.set_defaults(func=run)


def run(args) -> int:
    from services import storage
    days = storage.retention_days() if args.days is None else args.days
    removed = storage.cleanup_sessions(days)
    print(f"removed {len(removed)} session folder(s) older than {days:g} days from {storage.DATA_DIR / 'sessions'}")
    return 0
