"""An AI column: one prompt answered for every row of a table, the answers kept as a new column.

Finished rows are written to a checkpoint file as they come, so a run that was stopped or killed resumes where
it was. With choices the answer is constrained to those labels (JSON schema under a grammar where the provider
can, validated everywhere), so nothing else can appear in the column.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pandas as pd
from pydantic import create_model

from services import i18n, llm
from services.errors import AppError, InputError
from services.providers.base import Connection

MAX_CELL_CHARS = 2000

i18n.register({
    "column.error.file": {"zh": "找不到文件：{path}", "en": "No such file: {path}"},
    "column.error.unreadable": {"zh": "「{path}」是空文件或不是可读的 CSV 表格。", "en": "'{path}' is empty or not a readable CSV table."},
    "column.error.no_column": {"zh": "表中没有列「{column}」。可用的列：{columns}",
                               "en": "The table has no column '{column}'. Columns: {columns}"},
    "column.error.empty_prompt": {"zh": "请填写要对每一行执行的提示词。", "en": "Enter the prompt to run on every row."},
    "column.error.choices": {"zh": "选项至少要有两个，且不能重复。", "en": "Give at least two different choices."},
    "column.system": {
        "zh": "你是一名认真的分析助手。对用户给出的一条数据，按下面的要求作答，只输出答案本身。\n要求：{prompt}",
        "en": "You are a careful analyst. For the one record the user gives, answer as asked, and output the "
              "answer only.\nTask: {prompt}",
    },
    "column.choices": {"zh": "只能从以下选项中选一个：{choices}", "en": "Answer with exactly one of: {choices}"},
    "column.failed": {"zh": "（失败：{detail}）", "en": "(failed: {detail})"},
    "column.estimate": {"zh": "预计 {rows} 行，约 {tokens_in} 个输入 token、{tokens_out} 个输出 token，约 {cost} {currency}。",
                        "en": "About {rows} rows, ~{tokens_in} input and ~{tokens_out} output tokens, ~{cost} {currency}."},
    "column.confirm_cli": {"zh": "这是付费模型上的大批量任务；确认费用后加 --yes 再运行。",
                           "en": "This is a large run on a paid model; add --yes to run it once the cost is acceptable."},
})

# Rows from which a run on a priced provider asks to be confirmed after its cost estimate is shown.
LARGE_RUN_ROWS = 100
# Tokens the model writes per row: {"label": "…"} with choices, a short sentence without (an upper-side guess).
_OUT_TOKENS_CHOICES, _OUT_TOKENS_FREE = 10, 80
# The chat template and role markers around each request.
_TEMPLATE_TOKENS = 20


@dataclass
class ColumnProgress:
    """How far a run is: rows done of the total, and the estimated seconds left."""

    done: int
    total: int
    elapsed_s: float
    left_s: float | None
    failed: int = 0


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (any common Chinese encoding) or the first sheet of an Excel file, as text cells."""
    path = Path(path)
    if not path.is_file():
        raise InputError("column.error.file", path=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return pd.read_excel(path, dtype=str).fillna("")
    from services.chatbi.loading import _HEAD_BYTES, detect_encoding
    with path.open("rb") as f:
        encoding = detect_encoding(f.read(_HEAD_BYTES))
    encoding = "utf-8-sig" if encoding == "utf-8" else encoding  # a BOM is not part of the first header
    head = path.read_bytes()[:4096]
    if not head.strip() or (encoding != "utf-16" and b"\x00" in head):  # empty, or binary rather than text
        raise InputError("column.error.unreadable", path=path.name)
    try:
        return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError("column.error.unreadable", path=path.name) from exc


def run_key(column: str, prompt: str, choices: list[str] | None, conn: Connection, values: list[str]) -> str:
    """What identifies a run for resuming: the inputs, the prompt, the choices and the model."""
    digest = hashlib.sha256()
    for part in (column, prompt, json.dumps(choices or []), conn.provider, conn.model, *values):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:20]


@dataclass
class RunEstimate:
    """What a run will send and write, in tokens, and its price where the model's price is known."""

    rows: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    currency: str | None

    @property
    def priced(self) -> bool:
        """Whether the run costs money (the model has a list price)."""
        return self.cost is not None

    def text(self, lang: str) -> str:
        """The estimate as one sentence in the user's language."""
        cost = "?" if self.cost is None else f"{self.cost:.4f}"
        return i18n.t("column.estimate", lang, rows=self.rows, tokens_in=self.input_tokens,
                      tokens_out=self.output_tokens, cost=cost, currency=self.currency or "")


def approx_tokens(text: str) -> int:
    """A tokenizer-free token count: about 1.4 CJK characters or 4 other characters per token."""
    cjk = sum(1 for ch in text if ch >= "\u2e80")
    return int(cjk / 1.4 + (len(text) - cjk) / 4) + 1


def estimate(conn: Connection, values: list[str], prompt: str, choices: list[str] | None, lang: str = "zh",
             done: int = 0) -> RunEstimate:
    """Tokens and cost of the rows still to do, before the run starts (shown for priced providers)."""
    from services import pricing, providers
    system = i18n.t("column.system", lang, prompt=prompt)
    if choices:
        system += "\n" + i18n.t("column.choices", lang, choices="、".join(choices))
    per_row = approx_tokens(system) + _TEMPLATE_TOKENS
    todo = values[done:] if done else values
    tokens_in = sum(per_row + approx_tokens((v or "")[:MAX_CELL_CHARS]) for v in todo)
    tokens_out = len(todo) * (_OUT_TOKENS_CHOICES if choices else _OUT_TOKENS_FREE)
    try:
        cost, currency = pricing.estimate_cost(providers.model_info(conn), tokens_in, tokens_out)
    except Exception:  # noqa: BLE001 - an unknown model has no price; the estimate still gives tokens
        cost, currency = None, None
    return RunEstimate(len(todo), tokens_in, tokens_out, cost, currency)


def checkpoint_rows(path: Path | None, column: str, prompt: str, choices: list[str] | None, conn: Connection,
                    values: list[str]) -> int:
    """How many rows a checkpoint already holds for exactly this run (what a resume would keep)."""
    if path is None or not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        if not lines or json.loads(lines[0]).get("key") != run_key(column, prompt, _clean(choices), conn, values):
            return 0
    except json.JSONDecodeError:
        return 0
    return sum(1 for line in lines[1:] if line.strip().endswith("}"))


def _clean(choices: list[str] | None) -> list[str] | None:
    return None if choices is None else [c.strip() for c in choices if c.strip()]


def _label_schema(choices: list[str]):
    labels = Enum("Label", {f"c{i}": c for i, c in enumerate(choices)})
    return create_model("Answer", label=(labels, ...))


def answer_one(conn: Connection, prompt: str, value: str, choices: list[str] | None, lang: str) -> str:
    """The model's answer to the prompt for one cell; with choices, exactly one of them."""
    system = i18n.t("column.system", lang, prompt=prompt)
    text = (value or "").strip()[:MAX_CELL_CHARS] or "（空）"
    if choices:
        system += "\n" + i18n.t("column.choices", lang, choices="、".join(choices) if lang == "zh" else ", ".join(choices))
        out = llm.structured(conn, [{"role": "user", "content": text}], _label_schema(choices), system=system, lang=lang)
        return out.label.value
    return llm.complete(conn, [{"role": "user", "content": text}], system=system).text.strip()


def run_column(df: pd.DataFrame, column: str, prompt: str, conn: Connection, *, choices: list[str] | None = None,
               new_column: str | None = None, checkpoint: Path | None = None, lang: str = "zh",
               workers: int | None = None, stop_event: threading.Event | None = None,
               progress: Callable[[ColumnProgress], None] | None = None) -> pd.DataFrame:
    """The table with one more column (last) holding the model's answer for every row."""
    if column not in df.columns:
        raise InputError("column.error.no_column", column=column, columns="、".join(map(str, df.columns)))
    if not (prompt or "").strip():
        raise InputError("column.error.empty_prompt")
    if choices is not None:
        choices = _clean(choices)
        if len(choices) < 2 or len(set(choices)) != len(choices):
            raise InputError("column.error.choices")
    values = ["" if v is None else str(v) for v in df[column].tolist()]
    done = _read_checkpoint(checkpoint, run_key(column, prompt, choices, conn, values))
    todo = [i for i in range(len(values)) if i not in done]
    # One at a time for the built-in model (one CPU, one queue); a few at once for remote services.
    workers = workers or (1 if conn.provider in ("local", "replay") else 4)
    lock = threading.Lock()
    started, finished_now, failed = time.perf_counter(), 0, 0

    def one(i: int) -> None:
        nonlocal finished_now, failed
        if stop_event is not None and stop_event.is_set():
            return
        try:
            answer, ok = answer_one(conn, prompt, values[i], choices, lang), True
        except AppError as exc:
            answer, ok = i18n.t("column.failed", lang, detail=exc.message(lang)), False
        with lock:
            if ok:
                done[i] = answer
                _append_checkpoint(checkpoint, i, answer)
            else:
                failed += 1
            finished_now += 1
            if progress is not None:
                elapsed = time.perf_counter() - started
                remaining = len(todo) - finished_now
                progress(ColumnProgress(len(done), len(values), elapsed,
                                        elapsed / finished_now * remaining if finished_now else None, failed))

    if progress is not None:
        progress(ColumnProgress(len(done), len(values), 0.0, None))
    if workers == 1:
        for i in todo:
            if stop_event is not None and stop_event.is_set():
                break
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, todo))
    name = new_column or _free_name(df, "AI")
    out = df.copy()
    out[name] = [done.get(i, "") for i in range(len(values))]
    return out


def _free_name(df: pd.DataFrame, base: str) -> str:
    name, n = base, 2
    while name in df.columns:
        name, n = f"{base}_{n}", n + 1
    return name


def _read_checkpoint(path: Path | None, key: str) -> dict[int, str]:
    if path is None:
        return {}
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        if lines and json.loads(lines[0]).get("key") == key:
            out = {}
            for line in lines[1:]:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the last line of a killed run may be half written
                out[int(rec["row"])] = rec["answer"]
            return out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key}) + "\n", encoding="utf-8")
    return {}


def _append_checkpoint(path: Path | None, row: int, answer: str) -> None:
    if path is None:
        return
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"row": row, "answer": answer}, ensure_ascii=False) + "\n")
        f.flush()


def label_counts(series: pd.Series) -> list[tuple[str, int]]:
    """How often each answer occurs, most frequent first (for the chart)."""
    return [(str(k), int(v)) for k, v in series.value_counts().items()]
