"""llama.cpp build options side by side, in one run: decode tokens/s of the built-in models per build and setting.

    .venv/bin/python -m bench.llama_builds --build portable=.venv/bin/python --build native=/tmp/native-venv/bin/python

Each --build names an interpreter whose llama-cpp-python serves the models (make one with
`CMAKE_ARGS=... pip wheel llama-cpp-python==<locked version>` and a venv holding that wheel with its [server]
extra). Variants are measured in turns, round after round, so a busy machine slows them alike; medians and the ratio
to the first variant are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from bench.local_models import speed_task
from services.local_model import supervisor as sup_module


def variants(builds: list[str], threads: list[int], extra_bufts: bool) -> list[dict]:
    """Every build × thread count (and, if asked, with the extra buffer types off)."""
    out = []
    for spec in builds:
        name, python = spec.split("=", 1)
        for n in threads:
            out.append({"build": name, "python": python, "threads": n, "extra_bufts": True})
            if extra_bufts:
                out.append({"build": name, "python": python, "threads": n, "extra_bufts": False})
    return out


def measure(variant: dict, model: str, repeats: int) -> dict:
    os.environ["ASSISTANT_LOCAL_PYTHON"] = variant["python"]
    os.environ["ASSISTANT_LOCAL_THREADS"] = str(variant["threads"])
    os.environ["ASSISTANT_LOCAL_EXTRA_BUFTS"] = "1" if variant["extra_bufts"] else "0"
    sup = sup_module.supervisor()
    sup.stop()
    try:
        return speed_task(model, repeats)
    finally:
        sup.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", action="append", required=True, help="NAME=PYTHON")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--extra-bufts", action="store_true", help="also measure with extra buffer types off")
    parser.add_argument("--json")
    args = parser.parse_args()
    runs = variants(args.build, args.threads, args.extra_bufts)
    seen: dict[int, list[dict]] = {i: [] for i in range(len(runs))}
    for _ in range(args.rounds):
        for i, variant in enumerate(runs):
            result = measure(variant, args.model, args.repeats)
            seen[i].append(result)
            print(json.dumps({**{k: v for k, v in variant.items() if k != "python"}, **result}), flush=True)
    rows = []
    for i, variant in enumerate(runs):
        tps = statistics.median(r["tokens_per_s"] for r in seen[i])
        ttft = statistics.median(r["ttft_s"] or 0 for r in seen[i])
        rows.append({**{k: v for k, v in variant.items() if k != "python"}, "tokens_per_s": round(tps, 2),
                     "ttft_s": round(ttft, 2)})
    base = rows[0]["tokens_per_s"] or 1
    print("\n| build | threads | extra buffer types | tokens/s (median) | first token s | ratio |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['build']} | {r['threads']} | {'on' if r['extra_bufts'] else 'off'} | {r['tokens_per_s']} | "
              f"{r['ttft_s']} | {r['tokens_per_s'] / base:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
