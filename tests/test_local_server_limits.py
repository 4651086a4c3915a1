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


class LoopingLlama(FakeLlama):
    """A model that writes a JSON list and then repeats one item for ever, as small models sometimes do."""

    def create_completion(self, tokens, max_tokens: int, stopping_criteria=None, **kwargs):
        import numpy as np
        self.asked.append(max_tokens)
        reply = list(range(100, 160)) + [7, 8, 9, 10, 11, 12, 13, 14, 15, 16] * 200   # 60 distinct, then a loop
        ids = list(tokens)
        for n, token in enumerate(reply[:max_tokens], 1):
            ids.append(token)
            yield {"choices": [{"text": f"<{token}>", "finish_reason": None}]}
            if stopping_criteria is not None and stopping_criteria(np.array(ids), None):
                yield {"choices": [{"text": "", "finish_reason": "stop"}]}
                return
        yield {"choices": [{"text": "", "finish_reason": "length"}]}


def run(fake, grammar):
    engine = Engine({"m": "unused"}, n_threads=1, n_ctx=8192)
    engine.load = lambda name: fake
    emitted: list[tuple] = []
    job = SimpleNamespace(model="m", prompt="p", params={"max_completion_tokens": 2000}, grammar=grammar,
                          cancel=threading.Event(), emit=emitted.append)
    engine._run(job)
    return emitted


def test_a_structured_reply_going_round_in_circles_is_cut_at_once_as_too_long():
    emitted = run(LoopingLlama(), grammar="root ::= ...")
    text = "".join(e[1] for e in emitted if e[0] == "text")
    done = emitted[-1][1]
    assert done["finish_reason"] == "length"
    # Cut once the same 64 tokens came round a third time (the loop's period is 10), not after the 2,000 tokens
    # the client allowed.
    assert done["completion_tokens"] == 60 + 64 + 2 * 10
    assert text.startswith("<100><101>")


def test_a_summary_copied_once_into_a_topic_is_not_a_loop():
    class CopiedOnce(LoopingLlama):
        def create_completion(self, tokens, max_tokens, stopping_criteria=None, **kwargs):
            import numpy as np
            summary = list(range(500, 600))
            ids = list(tokens)
            for token in [1, 2] + summary + [3, 4] + summary + [5, 6]:   # the summary, then the same as a topic
                ids.append(token)
                yield {"choices": [{"text": ".", "finish_reason": None}]}
                if stopping_criteria is not None and stopping_criteria(np.array(ids), None):
                    yield {"choices": [{"text": "", "finish_reason": "stop"}]}
                    return
            yield {"choices": [{"text": "", "finish_reason": "stop"}]}
    done = run(CopiedOnce(), grammar="root ::= ...")[-1][1]
    assert done["finish_reason"] == "stop" and done["completion_tokens"] == 206


def test_a_reply_that_never_repeats_a_span_and_a_plain_chat_reply_are_not_cut():
    class Distinct(LoopingLlama):
        def create_completion(self, tokens, max_tokens, stopping_criteria=None, **kwargs):
            import numpy as np
            ids = list(tokens)
            for token in range(1000, 1300):   # repeats short runs (keys) only through distinct values
                ids.append(token % 7 if token % 3 == 0 else token)
                yield {"choices": [{"text": ".", "finish_reason": None}]}
                assert stopping_criteria is None or not stopping_criteria(np.array(ids), None)
            yield {"choices": [{"text": "", "finish_reason": "stop"}]}
    assert run(Distinct(), grammar="root ::= ...")[-1][1]["finish_reason"] == "stop"
    assert run(LoopingLlama(), grammar=None)[-1][1]["finish_reason"] == "length"   # the client's cap, no guard
    assert run(LoopingLlama(), grammar=None)[-1][1]["completion_tokens"] == 2000
