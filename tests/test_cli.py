"""`python -m services`: providers, chat with replay and local, one-line errors with non-zero exit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "services", *args], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, env=full_env, timeout=300)


def replay_file(tmp_path, *replies) -> Path:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps({"content": r}, ensure_ascii=False) + "\n" for r in replies), encoding="utf-8")
    return path


def test_providers_lists_models_and_marks_local_as_default():
    out = run_cli("providers", "--json")
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["local"]["default"] and rows["local"]["configured"]
    assert not rows["dashscope"]["configured"] and rows["dashscope"]["key_env"] == "DASHSCOPE_API_KEY"
    assert "qwen-max" in rows["dashscope"]["models"]
    text = run_cli("providers")
    assert "set DASHSCOPE_API_KEY" in text.stdout


def test_providers_marks_a_provider_configured_by_environment():
    out = run_cli("providers", "--json", env={"DASHSCOPE_API_KEY": "sk-from-env-1234"})
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["dashscope"]["configured"] and rows["dashscope"]["default"]
    assert "sk-from-env-1234" not in out.stdout


def test_chat_prints_the_canned_reply(tmp_path):
    path = replay_file(tmp_path, "巴黎。")
    log = tmp_path / "requests.jsonl"
    out = run_cli("chat", "法国首都？", "--provider", "replay", "--replay", str(path),
                  env={"ASSISTANT_REPLAY_LOG": str(log)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "巴黎。"
    logged = json.loads(log.read_text(encoding="utf-8").splitlines()[0])
    assert logged["messages"][-1] == {"role": "user", "content": "法国首都？"}


def test_chat_reads_the_question_from_stdin(tmp_path):
    out = run_cli("chat", "--replay", str(replay_file(tmp_path, "ok")), stdin="从标准输入提问")
    assert out.returncode == 0 and out.stdout.strip() == "ok"


def test_chat_with_the_local_model_answers_in_chinese_and_english():
    out = run_cli("chat", "中国的首都是哪座城市？请只回答城市名。", "--provider", "local")
    assert out.returncode == 0, out.stderr
    assert "北京" in out.stdout
    out = run_cli("chat", "What is the capital of France?", "--provider", "local")
    assert out.returncode == 0, out.stderr
    assert "Paris" in out.stdout


def test_errors_are_one_line_and_exit_non_zero(tmp_path):
    empty = run_cli("chat", "   ", "--replay", str(replay_file(tmp_path, "x")), "--lang", "en")
    assert empty.returncode == 1 and empty.stderr.strip().count("\n") == 0
    assert "type a message" in empty.stderr and "Traceback" not in empty.stderr

    unknown = run_cli("chat", "hi", "--provider", "nope", "--lang", "zh")
    assert unknown.returncode == 1 and "未知的模型服务" in unknown.stderr and "Traceback" not in unknown.stderr

    no_key = run_cli("chat", "hi", "--provider", "dashscope", "--lang", "en")
    assert no_key.returncode == 1 and "DASHSCOPE_API_KEY" in no_key.stderr

    too_long = run_cli("chat", "x" * 50_000, "--provider", "local", "--lang", "en")
    assert too_long.returncode == 1 and "too long" in too_long.stderr

    exhausted = run_cli("chat", "hi", "--replay", str(tmp_path / "missing.jsonl"), "--lang", "en")
    assert exhausted.returncode == 1 and "replay file" in exhausted.stderr
