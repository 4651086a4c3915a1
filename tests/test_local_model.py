"""The built-in offline models: in-process through llama.cpp, and served over HTTP to the OpenAI-compatible path."""
from __future__ import annotations

import threading

import pytest
from pydantic import BaseModel

from services import llm
from services.errors import AppError
from services.providers import get_provider
from services.providers import local
from tests.local_server import llama_server


def test_shipped_model_files_match_their_checksums():
    for spec in local.MODELS.values():
        path = local.gguf_path(spec)
        assert path.suffix == ".gguf" and local.sha256_of(path) == spec.sha256


def test_a_file_with_the_wrong_checksum_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF not really")
    monkeypatch.setattr(local, "gguf_path", lambda spec: fake)
    monkeypatch.setattr(local, "_instances", {})
    with pytest.raises(AppError) as info:
        local.load_llama(local.CHAT_MODEL)
    assert "checksum" in info.value.message("en")


def test_local_chat_streams_an_english_answer():
    conn = get_provider("local").connect(temperature=0.0)
    stream = llm.stream_chat(conn, [{"role": "user", "content": "What is the capital of France?"}])
    pieces = list(stream)
    answer = "".join(pieces)
    # A 135M model is not reliable on facts; what matters here is a real streamed answer in words.
    assert len(pieces) > 3 and len(answer.split()) >= 3
    assert stream.result.status == "ok" and stream.result.output_tokens == len(pieces)


class Facts(BaseModel):
    company: str
    stock_code: str


def test_local_structured_output_is_grammar_constrained():
    conn = get_provider("local").connect()
    text = "青岛四方科技股份有限公司（股票代码：603339）2019 年年度报告。公司主营冷冻设备。"
    out = llm.structured(conn, [{"role": "user", "content": f"从下文抽取公司名称和股票代码：\n{text}"}], Facts, lang="zh")
    assert out.stock_code == "603339"
    assert "四方" in out.company


def test_two_sessions_at_once_are_served_one_after_the_other():
    conn = get_provider("local").connect(max_tokens=24)
    results, errors = [], []

    def ask(q):
        try:
            results.append(llm.complete(conn, [{"role": "user", "content": q}]).text)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(q,)) for q in ("Name a colour.", "Name a fruit.", "Name a city.")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert errors == [] and len(results) == 3 and all(r.strip() for r in results)
    assert local.model_lock.waiting == 0


def test_fair_lock_serves_waiters_in_arrival_order():
    lock = local.FairLock()
    order, started = [], []
    gate = threading.Event()

    def worker(n):
        started.append(n)
        with lock.hold():
            order.append(n)

    with lock.hold():
        threads = []
        for n in range(5):
            th = threading.Thread(target=worker, args=(n,))
            th.start()
            threads.append(th)
            while lock.waiting < n + 2:  # wait until this worker is queued before starting the next
                gate.wait(0.01)
    for th in threads:
        th.join()
    assert order == [0, 1, 2, 3, 4]


def test_real_model_over_http_through_the_openai_compatible_provider():
    """A real token stream over a real socket, the same path users take to Ollama or vLLM."""
    path = local.gguf_path(local.MODELS[local.CHAT_MODEL])
    with llama_server(path) as base_url:
        conn = get_provider("openai-compatible").connect("smollm2", base_url=base_url, temperature=0.0)
        stream = llm.stream_chat(conn, [{"role": "user", "content": "What is the capital of France?"}])
        pieces = list(stream)
        assert len(pieces) > 1, "expected several streamed chunks"
        assert len("".join(pieces).split()) >= 3
        assert stream.result.status == "ok" and stream.result.ttft_s is not None
