"""Conversation store on SQLite: our set-up (WAL, busy_timeout, BEGIN IMMEDIATE) beside SQLite's defaults
(rollback journal, deferred transactions), in one run.

Measures the median time to save one message from one writer, and what happens when several app sessions save
at once (messages lost to "database is locked", wall time).

    .venv/bin/python bench/chat_store.py [--messages 300] [--writers 4]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine  # noqa: E402

from services.chat.store import ConversationStore, Message  # noqa: E402
from services.errors import AppError  # noqa: E402

OWNER = "browser:" + "a" * 32


class DefaultSqliteStore(ConversationStore):
    """The same store with SQLite's defaults: rollback journal, deferred transactions, 5 s driver timeout."""

    def _make_engine(self):
        return create_engine(self.url, connect_args={"timeout": self.timeout_s, "check_same_thread": False})


def sequential(store_cls, folder: Path, n: int) -> float:
    store = store_cls(f"sqlite:///{folder / (store_cls.__name__ + '-seq.db')}")
    conv = store.create(OWNER, "bench")
    times = []
    for i in range(n):
        start = time.perf_counter()
        store.add(OWNER, conv.id, Message(role="user", content=f"第 {i} 条消息，内容是一段中文文字。"))
        times.append(time.perf_counter() - start)
    store.close()
    return statistics.median(times) * 1000


def concurrent(store_cls, folder: Path, writers: int, n: int) -> tuple[int, int, float]:
    url = f"sqlite:///{folder / (store_cls.__name__ + '-conc.db')}"
    setup = store_cls(url)
    conv = setup.create(OWNER, "bench")
    failed = [0]
    lock = threading.Lock()

    def writer(tag: int) -> None:
        store = store_cls(url)  # each app session / instance has its own connections
        for i in range(n):
            try:
                store.add(OWNER, conv.id, Message(role="user", content=f"{tag}-{i}"))
                store.list(OWNER)
            except AppError:
                with lock:
                    failed[0] += 1
        store.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    saved = len(setup.messages(OWNER, conv.id))
    setup.close()
    return saved, failed[0], elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    per_writer = args.messages // args.writers
    print(f"{'store':<22}{'median ms/message':>20}{'saved':>8}{'lost':>6}{'concurrent s':>14}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for store_cls in (ConversationStore, DefaultSqliteStore):
            seq, conc = [], []
            for r in range(args.rounds):
                folder = Path(tmp) / f"{store_cls.__name__}-{r}"
                folder.mkdir()
                seq.append(sequential(store_cls, folder, args.messages))
                conc.append(concurrent(store_cls, folder, args.writers, per_writer))
            saved = min(c[0] for c in conc)
            lost = max(c[1] for c in conc)
            wall = statistics.median(c[2] for c in conc)
            results[store_cls.__name__] = statistics.median(seq)
            print(f"{store_cls.__name__:<22}{statistics.median(seq):>20.2f}{saved:>8}{lost:>6}{wall:>14.2f}")
    ratio = results["DefaultSqliteStore"] / results["ConversationStore"]
    print(f"expected saved per concurrent round: {per_writer * args.writers}; "
          f"sequential speed-up of WAL over defaults: {ratio:.1f}x (median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
