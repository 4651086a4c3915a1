"""Measure the built-in models side by side, per task: answers, speed, memory, threads, llama.cpp build.

Run (after `make setup`):
    .venv/bin/python -m bench.local_models                     # every task, both models, 1 thread
    .venv/bin/python -m bench.local_models --tasks speed --threads 1 2
    .venv/bin/python -m bench.local_models --tasks speed --server-python /tmp/native/bin/python   # another build
Each model runs in the real server process (services/local_model/server.py), reached over HTTP as the app does.
Sentiment uses rows the prompt was never tuned on: the first 20 rows of each shared file were used to write the
prompt, the next --sentiment-rows rows are measured.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import time
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
from pydantic import BaseModel

from services import llm
from services.local_model import files
from services.local_model import supervisor as sup_module
from services.providers import get_provider

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
TUNING_ROWS = 20

ZH_CHAT = [("中国的首都是哪座城市？请只回答城市名。", ["北京"]),
           ("一年有几个季度？请只回答数字。", ["4", "四"]),
           ("水的化学式是什么？", ["H2O", "H₂O"])]
EN_CHAT = [("What is the capital of France? Answer with the city name only.", ["Paris"]),
           ("How many days are there in a leap year? Answer with a number.", ["366"]),
           ("What gas do plants absorb from the air for photosynthesis?", ["carbon dioxide", "CO2"])]
SPEED_PROMPTS = ["用三句话介绍一下杭州。", "Give three tips for writing a clear email."]

EXTRACTION_CASES = [
    ("青岛四方科技股份有限公司（股票代码：603339）2019 年实现营业收入 9.43 亿元，净利润 1.21 亿元。",
     {"company": "青岛四方科技股份有限公司", "stock_code": "603339", "revenue_yuan": 943_000_000}),
    ("贵州茅台酒股份有限公司，证券代码 600519，2023 年营业总收入 1505.6 亿元。",
     {"company": "贵州茅台酒股份有限公司", "stock_code": "600519", "revenue_yuan": 150_560_000_000}),
    ("Apple Inc. (NASDAQ: AAPL) reported revenue of $383.3 billion for fiscal 2023.",
     {"company": "Apple Inc.", "stock_code": "AAPL", "revenue_yuan": None}),
    ("宁德时代新能源科技股份有限公司 股票代码：300750 2022年营业收入3285.94亿元",
     {"company": "宁德时代新能源科技股份有限公司", "stock_code": "300750", "revenue_yuan": 328_594_000_000}),
]

SALES = pd.DataFrame({"地区": ["华东", "华东", "华南", "华北", "华南"], "产品": ["A", "B", "A", "B", "B"],
                      "销售额": [120, 80, 150, 40, 30]})
SQL_CASES = [("按地区汇总销售额，哪个地区最高？只给出 SQL。", "SELECT 地区 FROM sales GROUP BY 地区 ORDER BY SUM(销售额) DESC LIMIT 1"),
             ("销售额总和是多少？只给出 SQL。", "SELECT SUM(销售额) FROM sales"),
             ("产品 B 的销售额合计是多少？只给出 SQL。", "SELECT SUM(销售额) FROM sales WHERE 产品 = 'B'")]

MEETING = ("张伟：今天确定两件事。第一，新版官网下周五上线，由李娜负责。\n"
           "李娜：好的，我周四前完成测试。\n王强：第二，采购预算增加十万元，我下周一提交申请。\n张伟：好，散会。")
MEETING_MUST = ["官网", "李娜", "预算", "王强"]

SENTIMENT_PROMPT = "你是一名舆情分析师。判断这条评论的情感倾向：正向 或 负向。"


class Listing(BaseModel):
    company: str
    stock_code: str
    revenue_yuan: float | None = None


class Sentiment(BaseModel):
    label: Literal["正向", "负向"]


def connect(model: str, **options):
    return get_provider("local").connect(model, temperature=0.0, **options)


def contains_any(text: str, wanted: list[str]) -> bool:
    return any(w.lower() in text.lower() for w in wanted)


def chat_task(model: str, cases) -> dict:
    right, seconds, chinese = 0, [], 0
    for q, wanted in cases:
        start = time.perf_counter()
        text = llm.complete(connect(model, max_tokens=48), [{"role": "user", "content": q}]).text
        seconds.append(time.perf_counter() - start)
        right += contains_any(text, wanted)
        chinese += bool(re.search(r"[\u4e00-\u9fff]", text))
    return {"right": right, "of": len(cases), "chinese_answers": chinese, "median_s": statistics.median(seconds)}


def extraction_task(model: str) -> dict:
    right = total = 0
    seconds = []
    for text, expected in EXTRACTION_CASES:
        start = time.perf_counter()
        try:
            out = llm.structured(connect(model), [{"role": "user", "content":
                                 f"抽取公司名称、股票代码和营业收入（换算成元，没有人民币金额则为 null）：\n{text}"}],
                                 Listing, lang="zh").model_dump()
        except Exception:  # noqa: BLE001 - a failure counts as wrong
            out = {}
        seconds.append(time.perf_counter() - start)
        for key, value in expected.items():
            total += 1
            got = out.get(key)
            if isinstance(value, (int, float)) and isinstance(got, (int, float)):
                right += abs(got - value) <= 0.01 * value
            else:
                right += (str(got).strip() if got is not None else None) == (value if value is None else str(value))
    return {"right": right, "of": total, "median_s": statistics.median(seconds)}


def sql_task(model: str) -> dict:
    con = duckdb.connect()
    con.register("sales", SALES)
    right, seconds = 0, []
    schema = "表 sales(地区 VARCHAR, 产品 VARCHAR, 销售额 INTEGER)，示例行：('华东','A',120)"
    for q, gold in SQL_CASES:
        start = time.perf_counter()
        text = llm.complete(connect(model, max_tokens=96), [{"role": "user", "content": f"{schema}\n问题：{q}"}],
                            system="你把问题写成一条 DuckDB SQL 查询，只输出 SQL。").text
        seconds.append(time.perf_counter() - start)
        sql = re.sub(r"^```(?:sql)?|```$", "", text.strip(), flags=re.M).strip()
        try:
            got = con.execute(sql).fetchall()
            right += got == con.execute(gold).fetchall()
        except duckdb.Error:
            pass
    return {"right": right, "of": len(SQL_CASES), "median_s": statistics.median(seconds)}


def summary_task(model: str) -> dict:
    start = time.perf_counter()
    text = llm.complete(connect(model, max_tokens=200), [{"role": "user", "content":
                        f"请用中文总结下面的会议，列出决定和行动项（负责人）：\n{MEETING}"}]).text
    return {"right": sum(w in text for w in MEETING_MUST), "of": len(MEETING_MUST),
            "chinese": bool(re.search(r"[\u4e00-\u9fff]", text)), "seconds": time.perf_counter() - start}


def sentiment_task(model: str, rows: int) -> dict:
    path = SHARED / "tables" / "sentiment" / "chnsenticorp_dev.csv"
    if not path.exists():
        return {"skipped": f"{path} not present"}
    with path.open(encoding="utf-8") as f:
        data = list(csv.DictReader(f))[TUNING_ROWS:TUNING_ROWS + rows]  # held out from prompt writing
    right, start = 0, time.perf_counter()
    for row in data:
        try:
            out = llm.structured(connect(model, max_tokens=16), [{"role": "user", "content": row["review"][:600]}],
                                 Sentiment, system=SENTIMENT_PROMPT, lang="zh")
            right += out.label == row["label"]
        except Exception:  # noqa: BLE001 - a failure counts as wrong
            pass
    return {"right": right, "of": len(data), "s_per_row": (time.perf_counter() - start) / max(1, len(data))}


def speed_task(model: str, repeats: int) -> dict:
    speeds, ttfts = [], []
    for _ in range(repeats):
        for q in SPEED_PROMPTS:
            stream = llm.stream_chat(connect(model, max_tokens=96), [{"role": "user", "content": q}])
            "".join(stream)
            if stream.result.tokens_per_s:
                speeds.append(stream.result.tokens_per_s)
                ttfts.append(stream.result.ttft_s)
    return {"tokens_per_s": round(statistics.median(speeds), 2) if speeds else 0.0,
            "ttft_s": round(statistics.median(ttfts), 2) if ttfts else None}


def server_rss_mb() -> float | None:
    try:
        import psutil
        pid = sup_module.supervisor().status.pid
        return round(psutil.Process(pid).memory_info().rss / 2**20) if pid else None
    except Exception:  # noqa: BLE001 - memory is reported when it can be read
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="*", default=list(files.MODEL_FILES))
    parser.add_argument("--tasks", nargs="*", default=["zh_chat", "en_chat", "extraction", "sql", "summary",
                                                      "sentiment", "speed"])
    parser.add_argument("--threads", nargs="*", type=int, default=[1])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sentiment-rows", type=int, default=20)
    parser.add_argument("--server-python", help="interpreter whose llama-cpp-python build serves the models")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.server_python:
        os.environ["ASSISTANT_LOCAL_PYTHON"] = args.server_python
    results = []
    for threads in args.threads:
        os.environ["ASSISTANT_LOCAL_THREADS"] = str(threads)
        sup = sup_module.supervisor()
        sup.stop()
        for model in args.models:
            row = {"model": model, "threads": threads}
            for task in args.tasks:
                if task == "zh_chat":
                    row[task] = chat_task(model, ZH_CHAT)
                elif task == "en_chat":
                    row[task] = chat_task(model, EN_CHAT)
                elif task == "extraction":
                    row[task] = extraction_task(model)
                elif task == "sql":
                    row[task] = sql_task(model)
                elif task == "summary":
                    row[task] = summary_task(model)
                elif task == "sentiment":
                    row[task] = sentiment_task(model, args.sentiment_rows)
                elif task == "speed":
                    row[task] = speed_task(model, args.repeats)
                print(json.dumps({"model": model, "threads": threads, task: row[task]}, ensure_ascii=False), flush=True)
            row["server_rss_mb"] = server_rss_mb()
            print(json.dumps({"model": model, "threads": threads, "server_rss_mb": row["server_rss_mb"]}), flush=True)
            results.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
