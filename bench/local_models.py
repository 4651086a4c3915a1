"""Measure the built-in models side by side: chat speed, and schema-constrained extraction accuracy.

Run: .venv/bin/python -m bench.local_models [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

from pydantic import BaseModel

from services import llm
from services.providers import local
from services.providers.base import Connection

QUESTIONS = ["What is the capital of France?", "Give two tips for writing a clear email.", "法国的首都是哪里？"]

EXTRACTION_CASES = [
    ("青岛四方科技股份有限公司（股票代码：603339）2019 年实现营业收入 9.43 亿元，净利润 1.21 亿元。",
     {"company": "青岛四方科技股份有限公司", "stock_code": "603339"}),
    ("贵州茅台酒股份有限公司，证券代码 600519，2023 年营业总收入 1505.6 亿元。",
     {"company": "贵州茅台酒股份有限公司", "stock_code": "600519"}),
    ("Apple Inc. (NASDAQ: AAPL) reported revenue of $383.3 billion for fiscal 2023.",
     {"company": "Apple Inc.", "stock_code": "AAPL"}),
    ("宁德时代新能源科技股份有限公司 股票代码：300750 2022年年度报告摘要",
     {"company": "宁德时代新能源科技股份有限公司", "stock_code": "300750"}),
]


class Listing(BaseModel):
    company: str
    stock_code: str


def chat_speed(model: str, repeats: int) -> dict:
    """Median tokens/s and time to first token over the questions."""
    conn = Connection(provider="local", model=model, max_tokens=96)
    speeds, ttfts, samples = [], [], {}
    for _ in range(repeats):
        for q in QUESTIONS:
            stream = llm.stream_chat(conn, [{"role": "user", "content": q}])
            text = "".join(stream)
            samples[q] = text[:120].replace("\n", " ")
            if stream.result.tokens_per_s:
                speeds.append(stream.result.tokens_per_s)
                ttfts.append(stream.result.ttft_s)
    if not speeds:
        return {"tokens_per_s": 0.0, "ttft_s": float("nan"), "samples": samples}
    return {"tokens_per_s": statistics.median(speeds), "ttft_s": statistics.median(ttfts), "samples": samples}


def extraction(model_used_for_schema: str) -> dict:
    """Share of fields right when the given model fills the schema under a grammar."""
    saved = local.EXTRACTION_MODEL
    local.EXTRACTION_MODEL = model_used_for_schema
    try:
        right = total = 0
        seconds = []
        for text, expected in EXTRACTION_CASES:
            start = time.perf_counter()
            try:
                out = llm.structured(Connection(provider="local", model=local.CHAT_MODEL),
                                     [{"role": "user", "content": f"Extract the company name and stock code:\n{text}"}],
                                     Listing).model_dump()
            except Exception:  # noqa: BLE001 - a failure counts as wrong
                out = {}
            seconds.append(time.perf_counter() - start)
            for key, value in expected.items():
                total += 1
                right += str(out.get(key, "")).strip() == value
        return {"accuracy": right / total, "fields": total, "median_s": statistics.median(seconds)}
    finally:
        local.EXTRACTION_MODEL = saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="*", default=list(local.MODELS))
    parser.add_argument("--skip-chat", action="store_true")
    args = parser.parse_args()
    for name in args.models:
        print(f"== {name}")
        if args.skip_chat:
            print(f"extraction: {extraction(name)}")
            continue
        speed = chat_speed(name, args.repeats)
        print(f"chat: median {speed['tokens_per_s']:.1f} tokens/s, time to first token {speed['ttft_s']:.2f} s")
        for q, a in speed["samples"].items():
            print(f"  Q: {q}\n  A: {a}")
        ext = extraction(name)
        print(f"extraction with JSON-schema grammar: {ext['accuracy']:.0%} of {ext['fields']} fields right, "
              f"median {ext['median_s']:.2f} s per text")


if __name__ == "__main__":
    main()
