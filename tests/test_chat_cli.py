"""`python -m services chat --conversation ID`: continue a stored conversation from the command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.chat.store import ConversationStore, Message

ROOT = Path(__file__).resolve().parents[1]
OWNER = "browser:" + "c" * 32


def run_cli(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_continue_a_stored_conversation_sends_its_history_and_saves_the_new_turn(tmp_path):
    db = tmp_path / "chat.db"
    store = ConversationStore(f"sqlite:///{db}")
    conv = store.create(OWNER, "自我介绍", preset="general", system="你是一名可靠的办公助手。")
    store.add(OWNER, conv.id, Message(role="user", content="我叫小明"))
    store.add(OWNER, conv.id, Message(role="assistant", content="你好，小明！"))
    replies = tmp_path / "replies.jsonl"
    replies.write_text(json.dumps({"content": "你叫小明。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    log = tmp_path / "requests.jsonl"

    out = run_cli("chat", "--conversation", conv.id, "--replay", str(replies), "我叫什么？",
                  env={"ASSISTANT_CHAT_DB": str(db), "ASSISTANT_REPLAY_LOG": str(log)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "你叫小明。"
    sent = json.loads(log.read_text(encoding="utf-8").splitlines()[0])["messages"]
    assert sent == [{"role": "system", "content": "你是一名可靠的办公助手。"},
                    {"role": "user", "content": "我叫小明"}, {"role": "assistant", "content": "你好，小明！"},
                    {"role": "user", "content": "我叫什么？"}]
    saved = store.messages(OWNER, conv.id)
    assert [(m.role, m.content, m.status) for m in saved][-2:] == [("user", "我叫什么？", "ok"),
                                                                   ("assistant", "你叫小明。", "ok")]
    assert saved[-1].provider == "replay" and saved[-1].stats["output_tokens"] > 0


def test_a_preset_with_worked_examples_is_used_and_a_failed_answer_is_saved_as_failed(tmp_path):
    db = tmp_path / "chat.db"
    store = ConversationStore(f"sqlite:///{db}")
    conv = store.create(OWNER, "数学", preset="math", system="按步骤解题")
    replies = tmp_path / "replies.jsonl"
    replies.write_text(json.dumps({"error": {"status": 401}}) + "\n", encoding="utf-8")
    log = tmp_path / "requests.jsonl"
    out = run_cli("chat", "--conversation", conv.id, "--replay", str(replies), "--lang", "zh", "1+1=?",
                  env={"ASSISTANT_CHAT_DB": str(db), "ASSISTANT_REPLAY_LOG": str(log)})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    sent = json.loads(log.read_text(encoding="utf-8").splitlines()[0])["messages"]
    assert "答案：96%" in sent[2]["content"] and sent[-1] == {"role": "user", "content": "1+1=?"}
    saved = store.messages(OWNER, conv.id)
    assert [(m.role, m.status) for m in saved] == [("user", "ok"), ("assistant", "error")]
    assert "密钥" in saved[-1].error


def test_an_unknown_conversation_is_one_clear_line(tmp_path):
    out = run_cli("chat", "--conversation", "0" * 32, "--replay", str(tmp_path / "r.jsonl"), "--lang", "en", "hi",
                  env={"ASSISTANT_CHAT_DB": str(tmp_path / "chat.db")})
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "not found" in out.stderr and "Traceback" not in out.stderr
