"""The built-in server's answer cap: the client's max_completion_tokens (what langchain-openai sends) or
max_tokens, never more than the context leaves (a fake llama.cpp model; nothing is loaded)."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from services.local_model.server import Engine


class FakeLlama:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def tokenize(self, data: bytes, add_bos: bool = False, special: bool = True) -> list[int]:
        return [1] * 1000  # a 1,000-token prompt

    def create_completion(self, tokens, max_tokens: int, **kwargs):
        self.asked.append(max_tokens)
        yield {"choices": [{"text": "ok", "finish_reason": "stop"}]}


@pytest.mark.parametrize("params, cap", [({"max_completion_tokens": 2048}, 2048), ({"max_tokens": 700}, 700),
                                         ({}, 512), ({"max_completion_tokens": 9000}, 8192 - 1000)])
def test_the_answer_cap_is_the_clients(params, cap):
    engine = Engine({"m": "unused"}, n_threads=1, n_ctx=8192)
    fake = FakeLlama()
    engine.load = lambda name: fake
    emitted: list[tuple] = []
    job = SimpleNamespace(model="m", prompt="p", params=params, grammar=None, cancel=threading.Event(),
                          emit=emitted.append)
    engine._run(job)
    assert fake.asked == [cap] and emitted[-1][0] == "done"
