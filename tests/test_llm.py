"""The shared LLM services, driven by the replay provider: prompts sent, streaming, faults, structured output."""
from __future__ import annotations

import threading

import pytest
from pydantic import BaseModel

from services import llm
from services.errors import AppError, InputError, ProviderError
from services.providers import get_provider
from services.providers.replay import script_for
from services.reasoning import ThinkSplitter


def test_stream_sends_system_prompt_and_history_and_streams_in_pieces(replay_conn):
    conn = replay_conn(["巴黎是法国的首都。"])
    stream = llm.stream_chat(conn, [{"role": "user", "content": "法国首都？"},
                                    {"role": "assistant", "content": "请稍等"},
                                    {"role": "user", "content": "直接回答"}], system="你是助手")
    pieces = list(stream)
    assert len(pieces) > 1 and "".join(pieces) == "巴黎是法国的首都。"
    sent = script_for(conn.replay_path).requests[0]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "你是助手" and sent[-1]["content"] == "直接回答"
    result = stream.result
    assert result.status == "ok" and result.error is None
    assert result.input_tokens > 0 and result.output_tokens > 0 and result.ttft_s is not None


def test_reasoning_is_kept_apart_from_the_answer(replay_conn):
    conn = replay_conn([{"reasoning": "先想一想。", "content": "答案是 4。"},
                        {"content": "<think>inline thought</think>\n\nThe answer."}])
    first = llm.stream_chat(conn, [{"role": "user", "content": "2+2"}])
    kinds = [k for k, _ in first.events()]
    assert kinds[0] == "reasoning" and kinds[-1] == "text"
    assert first.result.reasoning == "先想一想。" and first.result.text == "答案是 4。"
    second = llm.stream_chat(conn, [{"role": "user", "content": "again"}])
    assert "".join(second) == "The answer."
    assert second.result.reasoning == "inline thought"


@pytest.mark.parametrize("chunks", [["<think>abc</think>xyz"], ["<thi", "nk>ab", "c</th", "ink>xy", "z"],
                                    ["<", "think", ">", "abc", "<", "/think", ">", "xyz"]])
def test_think_splitter_handles_tags_cut_across_chunks(chunks):
    splitter = ThinkSplitter()
    pieces = [p for c in chunks for p in splitter.feed(c)] + splitter.flush()
    assert "".join(t for k, t in pieces if k == "reasoning") == "abc"
    assert "".join(t for k, t in pieces if k == "text") == "xyz"


def test_text_with_a_lone_angle_bracket_is_not_swallowed():
    splitter = ThinkSplitter()
    pieces = splitter.feed("a < b and <b>bold</b>") + splitter.flush()
    assert "".join(t for _, t in pieces) == "a < b and <b>bold</b>"


def test_empty_prompt_is_refused_before_any_call(replay_conn):
    conn = replay_conn(["never used"])
    with pytest.raises(InputError) as info:
        llm.stream_chat(conn, [{"role": "user", "content": "   "}])
    assert "请输入" in info.value.message("zh") and "type a message" in info.value.message("en")
    assert script_for(conn.replay_path).requests == []


def test_prompt_over_the_context_window_names_the_limit():
    conn = get_provider("local").connect()
    with pytest.raises(InputError) as info:
        llm.stream_chat(conn, [{"role": "user", "content": "x" * 50_000}])
    message = info.value.message("en")
    assert "too long" in message and "8192" in message


def test_rate_limit_is_retried_then_succeeds(replay_conn):
    conn = replay_conn([{"error": {"status": 429}}, {"error": {"status": 503}}, "ok now"])
    result = llm.complete(conn, [{"role": "user", "content": "hi"}])
    assert result.text == "ok now"
    assert len(script_for(conn.replay_path).requests) == 3


def test_rate_limit_that_persists_gives_a_clear_message(replay_conn):
    conn = replay_conn([{"error": {"status": 429}}] * 3 + ["not reached"])
    stream = llm.stream_chat(conn, [{"role": "user", "content": "hi"}])
    assert list(stream) == []
    assert stream.result.status == "error"
    assert "429" in stream.result.error.message("en") and "3" in stream.result.error.message("en")
    assert script_for(conn.replay_path).remaining == 1


def test_auth_error_is_not_retried(replay_conn):
    conn = replay_conn([{"error": {"status": 401}}, "not reached"])
    with pytest.raises(ProviderError) as info:
        llm.complete(conn, [{"role": "user", "content": "hi"}])
    assert info.value.key == "error.auth"
    assert len(script_for(conn.replay_path).requests) == 1


def test_stream_cut_midway_keeps_partial_text_and_marks_it(replay_conn):
    conn = replay_conn([{"content": "第一段内容已经写完了。第二段", "cut_after": 8}])
    stream = llm.stream_chat(conn, [{"role": "user", "content": "写两段"}])
    text = "".join(stream)
    assert text == "第一段内容已经写"
    assert stream.result.status == "cut" and stream.result.text == text
    assert "cut off" in stream.result.error.message("en")


def test_stop_event_ends_generation_and_marks_it(replay_conn):
    conn = replay_conn(["a" * 200])
    stop = threading.Event()
    stream = llm.stream_chat(conn, [{"role": "user", "content": "long"}], stop_event=stop)
    received = []
    for piece in stream:
        received.append(piece)
        stop.set()
    assert stream.result.status == "stopped" and 0 < len(stream.result.text) < 200


def test_exhausted_replay_file_says_so(replay_conn):
    conn = replay_conn(["only one"])
    llm.complete(conn, [{"role": "user", "content": "1"}])
    with pytest.raises(AppError) as info:
        llm.complete(conn, [{"role": "user", "content": "2"}])
    assert "no more replies" in info.value.message("en")


class Company(BaseModel):
    company: str
    stock_code: str
    revenue: float


@pytest.mark.parametrize("reply", [
    '{"company": "四方科技", "stock_code": "603339", "revenue": 1.5}',
    'Here it is:\n```json\n{"company": "四方科技", "stock_code": "603339", "revenue": 1.5}\n```\nDone.',
    '好的，结果如下 {"company": "四方科技", "stock_code": "603339", "revenue": 1.5} 以上。',
])
def test_structured_accepts_json_bare_fenced_or_in_prose(replay_conn, reply):
    conn = replay_conn([reply])
    out = llm.structured(conn, [{"role": "user", "content": "抽取"}], Company)
    assert out == Company(company="四方科技", stock_code="603339", revenue=1.5)
    system = script_for(conn.replay_path).requests[0][0]
    assert system["role"] == "system" and '"stock_code"' in system["content"]


def test_structured_repairs_once_with_the_validation_error(replay_conn):
    conn = replay_conn(['{"company": "四方科技", "stock_code": "603339", "revenue": "lots"}',
                        '{"company": "四方科技", "stock_code": "603339", "revenue": 2}'])
    out = llm.structured(conn, [{"role": "user", "content": "抽取"}], Company)
    assert out.revenue == 2
    repair = script_for(conn.replay_path).requests[1]
    assert repair[-2]["role"] == "assistant" and "lots" in repair[-2]["content"]
    assert "revenue" in repair[-1]["content"]


def test_structured_gives_up_after_one_repair(replay_conn):
    conn = replay_conn(["no json here", "still none"])
    with pytest.raises(AppError) as info:
        llm.structured(conn, [{"role": "user", "content": "抽取"}], Company)
    assert info.value.key == "error.structured"


def test_parse_json_loosely_finds_arrays_and_rejects_prose():
    assert llm.parse_json_loosely("结果：[1, 2, 3]。") == [1, 2, 3]
    with pytest.raises(ValueError):
        llm.parse_json_loosely("nothing at all")


def test_cost_is_estimated_for_priced_models():
    from services.pricing import estimate_cost
    info = get_provider("dashscope").model_info("qwen-plus")
    cost, currency = estimate_cost(info, 1_000_000, 500_000)
    assert currency == "CNY" and cost == pytest.approx(0.8 + 1.0)
    assert estimate_cost(get_provider("ollama").model_info("my-own-model"), 10, 10) == (None, None)
