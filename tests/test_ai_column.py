"""The AI column: one prompt over every row, labels only from the choices, resumable, and the CLI's output file."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from services import ai_column
from services.errors import InputError
from services.providers import get_provider
from services.providers.replay import script_for

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = pd.DataFrame({"id": ["1", "2", "3", "4"],
                        "评论": ["房间很干净，服务很好。", "空调坏了没人修，太差了。", "早餐丰富，位置方便。", "隔音很差，一夜没睡好。"]})
PROMPT = "判断这条评论的情感：正向 或 负向"


def label(value: str) -> dict:
    return {"content": json.dumps({"label": value}, ensure_ascii=False)}


def test_every_row_gets_a_label_in_a_new_last_column(replay_conn, tmp_path):
    conn = replay_conn([label("正向"), label("负向"), label("正向"), label("负向")])
    out = ai_column.run_column(REVIEWS, "评论", PROMPT, conn, choices=["正向", "负向"], checkpoint=tmp_path / "c.jsonl")
    assert list(out.columns) == ["id", "评论", "AI"]
    assert out["AI"].tolist() == ["正向", "负向", "正向", "负向"]
    sent = script_for(conn.replay_path).requests
    assert [m[-1]["content"] for m in sent] == REVIEWS["评论"].tolist()  # each row's own text, once
    assert PROMPT in sent[0][0]["content"] and "正向" in sent[0][0]["content"]
    assert ai_column.label_counts(out["AI"]) == [("正向", 2), ("负向", 2)]


def test_an_answer_outside_the_choices_never_reaches_the_column(replay_conn):
    # First row: "中性" twice (the reply and its one repair) is refused; the row is left empty and counted failed.
    conn = replay_conn([label("中性"), label("中性"), label("负向")])
    seen = []
    out = ai_column.run_column(REVIEWS.head(2), "评论", PROMPT, conn, choices=["正向", "负向"], progress=seen.append)
    assert out["AI"].tolist() == ["", "负向"]
    assert seen[-1].failed == 1 and seen[-1].done == 1


def test_a_stopped_run_resumes_without_asking_again_for_finished_rows(replay_conn, tmp_path):
    checkpoint = tmp_path / "c.jsonl"
    stop = threading.Event()
    first = replay_conn([label("正向"), label("负向")], name="first.jsonl")

    def stop_after_two(p):
        if p.done >= 2:
            stop.set()

    partial = ai_column.run_column(REVIEWS, "评论", PROMPT, first, choices=["正向", "负向"], checkpoint=checkpoint,
                                   stop_event=stop, progress=stop_after_two)
    assert partial["AI"].tolist() == ["正向", "负向", "", ""]
    second = replay_conn([label("正向"), label("负向")], name="second.jsonl")
    full = ai_column.run_column(REVIEWS, "评论", PROMPT, second, choices=["正向", "负向"], checkpoint=checkpoint)
    assert full["AI"].tolist() == ["正向", "负向", "正向", "负向"]
    asked = [m[-1]["content"] for m in script_for(second.replay_path).requests]
    assert asked == REVIEWS["评论"].tolist()[2:], "finished rows are not asked for again"


def test_a_changed_prompt_starts_afresh(replay_conn, tmp_path):
    checkpoint = tmp_path / "c.jsonl"
    ai_column.run_column(REVIEWS.head(1), "评论", PROMPT, replay_conn([label("正向")], name="a.jsonl"),
                         choices=["正向", "负向"], checkpoint=checkpoint)
    conn = replay_conn([label("负向")], name="b.jsonl")
    out = ai_column.run_column(REVIEWS.head(1), "评论", "这条评论是抱怨吗？", conn, choices=["正向", "负向"],
                               checkpoint=checkpoint)
    assert out["AI"].tolist() == ["负向"]


def test_bad_requests_say_what_is_wrong(replay_conn):
    conn = replay_conn([])
    with pytest.raises(InputError) as info:
        ai_column.run_column(REVIEWS, "评价", PROMPT, conn)
    assert "评价" in info.value.message("zh") and "评论" in info.value.message("zh")
    with pytest.raises(InputError):
        ai_column.run_column(REVIEWS, "评论", PROMPT, conn, choices=["正向"])
    with pytest.raises(InputError):
        ai_column.run_column(REVIEWS, "评论", "  ", conn)


def test_cli_writes_the_answers_as_the_last_column_of_a_gbk_csv(tmp_path):
    src = tmp_path / "reviews.csv"
    src.write_bytes(REVIEWS.to_csv(index=False).encode("gbk"))
    replies = tmp_path / "replies.jsonl"
    replies.write_text("\n".join(json.dumps(label(v), ensure_ascii=False) for v in ["正向", "负向", "正向", "负向"]),
                       encoding="utf-8")
    out = tmp_path / "out.xlsx"
    done = subprocess.run([sys.executable, "-m", "services", "column", str(src), "--column", "评论", "--prompt", PROMPT,
                           "--choices", "正向,负向", "--out", str(out), "--replay", str(replies)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = pd.read_excel(out, dtype=str)
    assert list(table.columns) == ["id", "评论", "AI"] and table["AI"].tolist() == ["正向", "负向", "正向", "负向"]
    assert "4/4 rows" in done.stderr and "正向: 2" in done.stderr


def test_the_built_in_model_labels_a_review_from_the_choices_only():
    conn = get_provider("local").connect("qwen2.5-coder-0.5b-instruct", temperature=0.0)
    out = ai_column.run_column(REVIEWS.head(2), "评论", PROMPT, conn, choices=["正向", "负向"])
    assert set(out["AI"]) <= {"正向", "负向"} and all(out["AI"])


def test_empty_and_binary_files_get_a_message_not_a_parser_error(tmp_path):
    empty, binary = tmp_path / "empty.csv", tmp_path / "bin.csv"
    empty.write_bytes(b"")
    binary.write_bytes(b"\x00\x01\x02garbage")
    for path in (empty, binary):
        with pytest.raises(InputError) as info:
            ai_column.read_table(path)
        assert path.name in info.value.message("zh") and "CSV" in info.value.message("zh")


def test_cli_shows_the_cost_and_waits_for_yes_before_a_large_paid_run(tmp_path):
    import os
    src = tmp_path / "many.csv"
    pd.DataFrame({"评论": [f"第{i}条：房间不错，服务很好。" for i in range(150)]}).to_csv(src, index=False)
    env = {**os.environ, "DASHSCOPE_API_KEY": "sk-test-not-used"}
    done = subprocess.run([sys.executable, "-m", "services", "column", str(src), "--column", "评论", "--prompt", PROMPT,
                           "--choices", "正向,负向", "--provider", "dashscope", "--model", "qwen-plus"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert "150 行" in done.stderr and "CNY" in done.stderr and "--yes" in done.stderr
    assert done.stdout == ""  # nothing was run, so no table
