"""The built-in model: joined and checked files, its own server process over HTTP, tools, JSON, and surviving a kill."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request

import pytest
from pydantic import BaseModel

from services import llm
from services.errors import AppError
from services.local_model import files
from services.local_model.server import parse_tool_calls
from services.local_model.supervisor import supervisor
from services.providers import get_provider
from services.providers import local


def ask(question: str, **options) -> llm.ChatResult:
    conn = get_provider("local").connect(temperature=0.0, **options)
    return llm.complete(conn, [{"role": "user", "content": question}])


def test_shipped_parts_join_into_the_files_with_the_published_checksums():
    for spec in files.MODEL_FILES.values():
        path = files.model_path(spec.name)
        assert path.stat().st_size == spec.size
        assert files.sha256_of(path) == spec.sha256


def test_a_joined_file_with_the_wrong_checksum_is_refused_and_removed(monkeypatch, tmp_path):
    parts = [tmp_path / "a.bin", tmp_path / "b.bin"]
    parts[0].write_bytes(b"GGUF" + b"x" * 60)
    parts[1].write_bytes(b"y" * 64)
    spec = files.ModelFile("fake", "fake.gguf", ("p1", "p2"), 128, "0" * 64, "nothing", "none")
    monkeypatch.setitem(files.MODEL_FILES, "fake", spec)
    monkeypatch.setattr(files, "part_paths", lambda s: parts)
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(AppError) as info:
        files.model_path("fake")
    assert "checksum" in info.value.message("en")
    assert not (tmp_path / "cache" / "fake.gguf").exists(), "a damaged file must not stay to be loaded later"


def test_a_checked_file_is_not_hashed_again_until_it_changes(monkeypatch, tmp_path):
    import hashlib
    parts = [tmp_path / "a.bin", tmp_path / "b.bin"]
    parts[0].write_bytes(b"GGUF" + b"x" * 60)
    parts[1].write_bytes(b"y" * 64)
    digest = hashlib.sha256(parts[0].read_bytes() + parts[1].read_bytes()).hexdigest()
    spec = files.ModelFile("fake3", "fake3.gguf", ("p1", "p2"), 128, digest, "nothing", "none")
    monkeypatch.setitem(files.MODEL_FILES, "fake3", spec)
    monkeypatch.setattr(files, "part_paths", lambda s: parts)
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    hashed = []
    real = files.sha256_of
    monkeypatch.setattr(files, "sha256_of", lambda p: hashed.append(p) or real(p))
    path = files.model_path("fake3")
    assert files.model_path("fake3") == path and len(hashed) == 1  # the second start trusts the first check
    # The same size, other bytes (a disk fault, a tampered file): the stamp no longer matches, it is hashed,
    # refused and removed.
    path.write_bytes(b"GGUF" + b"q" * 124)
    with pytest.raises(AppError) as info:
        files.model_path("fake3")
    assert "checksum" in info.value.message("en") and len(hashed) == 2
    assert not path.exists()
    assert files.model_path("fake3").read_bytes()[:5] == b"GGUFx"  # joined again from the parts, and checked
    assert len(hashed) == 3


def test_parts_of_the_wrong_total_size_are_not_joined(monkeypatch, tmp_path):
    part = tmp_path / "a.bin"
    part.write_bytes(b"z" * 10)
    spec = files.ModelFile("fake2", "fake2.gguf", ("p1",), 11, "0" * 64, "nothing", "none")
    monkeypatch.setitem(files.MODEL_FILES, "fake2", spec)
    monkeypatch.setattr(files, "part_paths", lambda s: [part])
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(AppError) as info:
        files.model_path("fake2")
    assert "expected 11" in info.value.message("en")


def test_sessions_asking_at_once_for_a_new_server_all_get_the_one_port(monkeypatch):
    # Found by the two-session load test: each session fixed its own port before the server started, and one
    # of them then knocked on a port nobody listened on ("server stopped or restarting").
    from services.local_model import supervisor as sup_module
    real_free_port = sup_module._free_port

    def slow_free_port():
        time.sleep(0.05)  # a busy machine: the other sessions arrive while the first is still choosing
        return real_free_port()

    monkeypatch.setattr(sup_module, "_free_port", slow_free_port)
    fresh = sup_module.Supervisor()
    start, urls = threading.Barrier(6), []

    def ask():
        start.wait()
        urls.append(fresh.base_url)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(urls) == 6 and len(set(urls)) == 1, urls


def test_qwen_tool_call_blocks_become_openai_tool_calls():
    text, calls = parse_tool_calls('好的。\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+3"}}\n</tool_call>')
    assert text == "好的。"
    assert calls[0]["function"]["name"] == "calculator"
    assert json.loads(calls[0]["function"]["arguments"]) == {"expression": "2+3"}
    assert parse_tool_calls("<tool_call>not json</tool_call>")[1] == []
    assert parse_tool_calls("plain answer") == ("plain answer", [])
    # Small models often write the call as a fenced JSON object: taken only when it names an offered tool.
    fenced = '```json\n{"name": "calculator", "arguments": {"expression": "2 + 3"}}\n```'
    assert parse_tool_calls(fenced, {"calculator"})[1][0]["function"]["name"] == "calculator"
    assert parse_tool_calls(fenced, {"dates"})[1] == []
    assert parse_tool_calls('{"name": "x"}', None) == ('{"name": "x"}', [])


def test_chinese_question_gets_a_chinese_answer_from_the_server_process():
    result = ask("中国的首都是哪座城市？请只回答城市名。", max_tokens=16)
    assert "北京" in result.text
    assert result.status == "ok" and result.output_tokens and result.output_tokens > 0
    # The model ran in its own process: this one never loaded llama.cpp.
    assert "llama_cpp" not in sys.modules
    state = get_provider("local").state()
    assert state["state"] == "ready" and state["pid"] != os.getpid()


def test_english_question_gets_paris():
    assert "Paris" in ask("What is the capital of France? Answer with the city name only.", max_tokens=16).text


def test_answers_stream_in_pieces_with_timings():
    conn = get_provider("local").connect(temperature=0.0, max_tokens=40)
    stream = llm.stream_chat(conn, [{"role": "user", "content": "用一句话介绍长城。"}])
    pieces = list(stream)
    assert len(pieces) > 3 and any("\u4e00" <= ch <= "\u9fff" for ch in "".join(pieces))
    assert stream.result.status == "ok" and stream.result.ttft_s is not None


class Facts(BaseModel):
    company: str
    stock_code: str


def test_structured_output_is_grammar_constrained():
    conn = get_provider("local").connect()
    text = "青岛四方科技股份有限公司（股票代码：603339）2019 年年度报告。公司主营冷冻设备。"
    out = llm.structured(conn, [{"role": "user", "content": f"从下文抽取公司名称和股票代码：\n{text}"}], Facts, lang="zh")
    assert out.stock_code == "603339"
    assert "四方" in out.company


def test_a_structured_answer_cut_by_its_token_cap_says_so():
    from dataclasses import replace
    conn = replace(get_provider("local").connect(temperature=0.0), max_tokens=6)
    with pytest.raises(AppError) as err:
        llm.structured(conn, [{"role": "user", "content": "从下文抽取公司名称和股票代码：青岛四方科技股份有限公司，"
                                                          "股票代码 603339。"}], Facts, lang="zh")
    assert err.value.key == "error.answer_too_long"
    assert "长度上限" in err.value.message("zh") and "length limit" in err.value.message("en")


def test_the_server_speaks_openai_to_any_client_and_queues_sessions_in_order():
    """Three sessions at once are all answered, one generation at a time."""
    base = supervisor().ensure_ready()
    results, errors = {}, []

    def one(n, q):
        try:
            conn = get_provider("openai-compatible").connect(local.CHAT_MODEL, base_url=base,
                                                             api_key=supervisor().token, temperature=0.0,
                                                             max_tokens=12)
            results[n] = llm.complete(conn, [{"role": "user", "content": q}]).text
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n, q)) for n, q in
               enumerate(("说一种颜色。", "Name a fruit.", "说一个城市的名字。"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert errors == [] and len(results) == 3 and all(r.strip() for r in results.values())
    health = json.loads(urllib.request.urlopen(base.removesuffix("/v1") + "/health", timeout=5).read())
    assert health["queued"] == 0 and health["busy"] is False


def test_a_client_that_hangs_up_frees_the_model_at_once():
    base = supervisor().ensure_ready()
    body = json.dumps({"model": local.CHAT_MODEL, "stream": True, "max_tokens": 400, "temperature": 0.0,
                       "messages": [{"role": "user", "content": "写一篇关于春天的长文章。"}]}).encode()
    req = urllib.request.Request(base + "/chat/completions", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {supervisor().token}"})
    response = urllib.request.urlopen(req, timeout=120)
    for _ in range(4):
        response.readline()
    response.close()
    health_url = base.removesuffix("/v1") + "/health"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not json.loads(urllib.request.urlopen(health_url, timeout=5).read())["busy"]:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the server kept generating for a client that had gone")
    assert "北京" in ask("中国的首都是哪座城市？请只回答城市名。", max_tokens=16).text


def test_killing_the_server_mid_answer_keeps_the_part_and_the_next_question_works():
    sup = supervisor()
    sup.ensure_ready()
    conn = get_provider("local").connect(temperature=0.0, max_tokens=300)
    stream = llm.stream_chat(conn, [{"role": "user", "content": "请详细介绍一下中国的四大发明。"}])
    received = ""
    for piece in stream:
        received += piece
        if len(received) >= 6 and sup.status.pid:
            os.kill(sup.status.pid, signal.SIGKILL)
            killed = sup.status.pid
    assert stream.result.status == "cut"
    assert stream.result.text.startswith(received[:6])
    message = stream.result.error.message("zh")
    assert "意外停止" in message and "重启" in message
    assert "SIGKILL" in message
    assert "北京" in ask("中国的首都是哪座城市？请只回答城市名。", max_tokens=16).text
    assert sup.status.pid != killed and sup.status.restarts >= 1


def test_the_providers_command_shows_the_server_state(capsys):
    from services.cli import main
    supervisor().ensure_ready()
    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    assert "server: ready" in out and local.CHAT_MODEL in out
