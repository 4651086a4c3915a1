"""The DashScope SDK and the OpenAI SDK paths, over loopback servers that speak their wire protocols."""
from __future__ import annotations

import socket

import pytest

from services import llm
from services.errors import ProviderError
from services.providers import get_provider
from tests.stubs import Reply, dashscope_stub, openai_stub

QUESTION = [{"role": "user", "content": "你好"}]


@pytest.fixture
def dashscope():
    with dashscope_stub() as stub:
        yield stub


@pytest.fixture
def openai_server():
    with openai_stub() as stub:
        yield stub


def ds_conn(stub, key=None, model="qwen-plus"):
    return get_provider("dashscope").connect(model, api_key=key or stub.api_key,
                                             base_url=f"http://127.0.0.1:{stub.port}/api/v1")


def oa_conn(stub, key=None, model="stub-model", **kw):
    return get_provider("openai-compatible").connect(model, api_key=key or stub.api_key,
                                                     base_url=f"http://127.0.0.1:{stub.port}/v1", **kw)


def test_dashscope_streams_through_the_sdk_with_usage_and_cost(dashscope):
    dashscope.replies = [Reply(text="通义千问在此，为您服务。")]
    stream = llm.stream_chat(ds_conn(dashscope), QUESTION, system="简洁回答")
    pieces = list(stream)
    assert len(pieces) > 1 and "".join(pieces) == "通义千问在此，为您服务。"
    request = dashscope.requests[0]
    assert request["path"].endswith("/services/aigc/text-generation/generation")
    assert request["headers"]["x-dashscope-sse"] == "enable"
    assert request["body"]["model"] == "qwen-plus"
    assert request["body"]["input"]["messages"][0] == {"role": "system", "content": "简洁回答"}
    assert request["body"]["parameters"]["incremental_output"] is True
    assert stream.result.output_tokens == len("通义千问在此，为您服务。") and stream.result.cost is not None


def test_dashscope_reasoning_models_keep_thinking_apart(dashscope):
    dashscope.replies = [Reply(text="答案：42", reasoning="让我仔细想想这个问题")]
    stream = llm.stream_chat(ds_conn(dashscope, model="deepseek-r1"), QUESTION)
    assert "".join(stream) == "答案：42"
    assert stream.result.reasoning == "让我仔细想想这个问题"


def test_dashscope_wrong_key_names_the_variable(dashscope):
    stream = llm.stream_chat(ds_conn(dashscope, key="sk-wrong-key-0000"), QUESTION)
    assert list(stream) == []
    err = stream.result.error
    assert err.key == "error.auth" and "DASHSCOPE_API_KEY" in err.message("zh") and "401" in err.message("en")
    assert "sk-wrong-key-0000" not in err.message("en")


def test_dashscope_429_is_retried_and_then_answers(dashscope):
    dashscope.replies = [Reply(status=429), Reply(text="好了")]
    assert llm.complete(ds_conn(dashscope), QUESTION).text == "好了"
    generation_calls = [r for r in dashscope.requests if "generation" in r["path"]]
    assert len(generation_calls) >= 2


def test_dashscope_unknown_model_says_which(dashscope):
    dashscope.replies = [Reply(status=404, error_code="ModelNotFound")]
    with pytest.raises(ProviderError) as info:
        llm.complete(ds_conn(dashscope, model="qwen-nonexistent"), QUESTION)
    assert "qwen-nonexistent" in info.value.message("en")


def test_dashscope_stream_cut_keeps_what_arrived(dashscope):
    dashscope.replies = [Reply(text="这是一段会被中途切断的很长的回答内容", cut_after=2)]
    stream = llm.stream_chat(ds_conn(dashscope), QUESTION)
    text = "".join(stream)
    assert text == "这是一段会被中途"
    # The SDK ends quietly when the socket closes; the missing finish reason marks the answer as cut.
    assert stream.result.status == "cut" and "中途中断" in stream.result.error.message("zh")
    assert stream.result.text == text


def test_dashscope_embeddings(dashscope):
    emb = get_provider("dashscope").embeddings(ds_conn(dashscope))
    vectors = emb.embed_documents([f"第{i}段" for i in range(12)])
    assert len(vectors) == 12 and len(vectors[0]) == 8 and vectors[0] != vectors[1]
    assert sum("text-embedding" in r["path"] for r in dashscope.requests) == 2  # batches of 10


def test_openai_compatible_streams_and_keeps_reasoning_content(openai_server):
    openai_server.replies = [Reply(text="The capital is Paris.", reasoning="Recall geography.")]
    stream = llm.stream_chat(oa_conn(openai_server), [{"role": "user", "content": "Capital of France?"}])
    assert "".join(stream) == "The capital is Paris."
    assert stream.result.reasoning == "Recall geography."
    body = openai_server.requests[0]["body"]
    assert body["stream"] is True and body["model"] == "stub-model"
    assert openai_server.requests[0]["headers"]["authorization"] == f"Bearer {openai_server.api_key}"


@pytest.mark.parametrize("status,key", [(401, "error.auth"), (403, "error.auth"), (404, "error.unknown_model"),
                                        (400, "error.bad_request")])
def test_openai_compatible_client_errors_become_clear_messages(openai_server, status, key):
    openai_server.replies = [Reply(status=status)]
    stream = llm.stream_chat(oa_conn(openai_server), QUESTION)
    assert list(stream) == [] and stream.result.error.key == key
    assert len(openai_server.requests) == 1  # not retried


def test_openai_compatible_server_errors_are_retried_with_backoff(openai_server):
    openai_server.replies = [Reply(status=500), Reply(status=502), Reply(status=503)]
    stream = llm.stream_chat(oa_conn(openai_server), QUESTION)
    assert list(stream) == []
    assert stream.result.error.key == "error.server" and len(openai_server.requests) == 3


def test_unreachable_base_url_says_where(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    conn = get_provider("openai-compatible").connect("m", base_url=f"http://127.0.0.1:{port}/v1")
    stream = llm.stream_chat(conn, QUESTION)
    assert list(stream) == []
    assert stream.result.error.key == "error.unreachable" and str(port) in stream.result.error.message("zh")


def test_timeout_gives_a_timeout_message(openai_server):
    openai_server.replies = [Reply(delay_s=2.0)] * 3
    conn = oa_conn(openai_server, timeout_s=0.5)
    stream = llm.stream_chat(conn, QUESTION)
    assert list(stream) == []
    assert stream.result.error.key == "error.timeout"


def test_openai_compatible_embeddings(openai_server):
    emb = get_provider("openai-compatible").embeddings(oa_conn(openai_server, model="bge-m3-embed"))
    assert len(emb.embed_query("你好")) == 8
    assert openai_server.requests[-1]["body"]["model"] == "bge-m3-embed"
