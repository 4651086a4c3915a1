"""Model faults on the batch and data pages (financials, contracts, ChatBI, minutes): the same matrix as
test_model_faults.py, plus the services' own promise that finished parts of a batch survive a fault."""
from __future__ import annotations

import pytest

from tests.stubs import Reply
from tests.test_model_faults import (ATTEMPTS, KEY_VAR, PAGES, PROVIDER, WRONG_KEY, cases, good_replies,  # noqa: F401
                                     model_env, no_traceback, run_case, shown, stub)


@pytest.mark.parametrize("page_name, fault", cases(["financials", "contracts", "chatbi", "minutes"]))
def test_model_fault(page_name, fault, stub, tmp_path):  # noqa: F811
    run_case(page_name, fault, stub, tmp_path)


@pytest.mark.parametrize("page_name", ["chat", "chatbi", "minutes"])
def test_fault_messages_follow_the_ui_language(page_name, stub, tmp_path):
    page = PAGES[page_name]()
    at = page.open(tmp_path, stub, lang="en")
    at.session_state["settings.keys"] = {PROVIDER: WRONG_KEY}
    stub.replies = good_replies(page)
    page.act(at, 1)
    no_traceback(at)
    text = shown(at)
    assert "rejected the API key (401)" in text and KEY_VAR in text and "密钥" not in text, text

    at.session_state["settings.keys"] = {PROVIDER: stub.api_key}
    stub.replies = [Reply(status=500)] * ATTEMPTS
    page.act(at, 2)
    no_traceback(at)
    text = shown(at)
    assert "server error (500); still failing after 3 attempts" in text and "服务端" not in text, text


# ---------------------------------------------------------------- finished parts of a batch survive a fault
def stub_conn(stub, key: str | None = None):
    """A connection to the stub as the pages make it (the real OpenAI client)."""
    from services.providers import get_provider
    from tests.test_model_faults import PATIENT_S, PROVIDER, base_url
    return get_provider(PROVIDER).connect("stub-model", api_key=key or stub.api_key, base_url=base_url(stub),
                                          timeout_s=PATIENT_S)


LONG_LEASE = "房屋租赁合同\n出租方（甲方）：甲公司\n承租方（乙方）：李四\n\n" + "\n".join(
    f"第{n}条 约定{n}\n" + f"乙方应按月支付租金，逾期每日按 2% 计收滞纳金，甲方可随时进入房屋检查，第{n}项。" * 6
    for n in "一二三四五六")


def test_contracts_keep_the_batches_reviewed_before_the_model_failed(stub):
    import json

    from services.contracts import analyse_text
    from services.contracts.analysis import _batch_budget, plan_batches
    from services.contracts.segment import segment_text
    from tests.stubs import Reply
    conn = stub_conn(stub)
    batches = plan_batches(segment_text(LONG_LEASE).clauses, set(), _batch_budget(conn, 2000))
    assert len(batches) >= 3, "the contract must need several requests for this test"
    first = [c.id for c in batches[0]]
    reply = {"results": [{"clause_id": cid, "favours": "出租方", "risk": "high", "reason": "滞纳金过高",
                          "suggestion": "改为万分之五"} for cid in first]}
    stub.replies = [Reply(text=json.dumps(reply, ensure_ascii=False))] + [Reply(status=500)] * 3

    report = analyse_text(LONG_LEASE, contract_type="lease", side="b", conn=conn, lang="zh", context_window=2000)

    assert len(stub.requests) == 1 + 3, "batch 2 retried, then the model is not asked for the rest"
    by_id = {c.id: c for c in report.clauses}
    assert all(by_id[cid].source.startswith("model") and by_id[cid].reason.startswith("滞纳金过高") for cid in first)
    rest = [c for c in report.clauses if c.id not in first and c.id.startswith("第")]
    assert rest and all("model_error" in c.flags for c in rest)
    notes = report.note_texts("zh")
    assert any(n.startswith("⚠ 模型审查中途失败") and "500" in n for n in notes), notes


def test_contracts_fail_with_the_providers_message_when_no_batch_finished(stub):
    from services.contracts import analyse_text
    from services.errors import ProviderError
    with pytest.raises(ProviderError) as err:
        analyse_text(LONG_LEASE, contract_type="lease", side="b", conn=stub_conn(stub, key="sk-test-wrong-0000"),
                     lang="zh", context_window=2000)
    assert err.value.key == "error.auth" and len(stub.requests) == 1


MEETING_LINES = [f"{'张三' if i % 2 else '李四'} (00:{i:02d}:00)：第{i}项议题，我们讨论了预算和上线时间，决定按计划推进，"
                 "并由负责人在周五前提交方案。" * 2 for i in range(1, 13)]


def long_meeting():
    from services.minutes import parse_transcript_text
    return parse_transcript_text("\n".join(MEETING_LINES), "周会")


def part_reply(line: int) -> str:
    import json
    return json.dumps({"attendees": ["张三", "李四"], "summary": f"第{line}行前后讨论了预算。",
                       "topics": [{"title": f"议题{line}", "summary": "预算"}],
                       "decisions": [{"text": "按计划推进", "source_line": line}],
                       "action_items": [], "open_questions": []}, ensure_ascii=False)


def test_minutes_keep_the_parts_when_the_merge_step_fails(stub, monkeypatch):
    from services.minutes import generate
    from tests.stubs import Reply
    monkeypatch.setattr(generate, "part_budget", lambda conn, *args, **kwargs: 400)  # a small model: several parts
    transcript = long_meeting()
    parts = len(generate.split_on_turns(transcript, 400))
    assert parts >= 2
    # Each part's reply has no action items, so each is followed by the focused items question (answered empty).
    no_items = Reply(text='{"decisions": [], "action_items": []}')
    stub.replies = [r for i in range(parts) for r in (Reply(text=part_reply(1 + 2 * i)), no_items)] + \
        [Reply(status=500)] * 3

    minutes = generate.make_minutes(stub_conn(stub), transcript, lang="zh", ui_lang="zh")

    assert len(stub.requests) == 2 * parts + 3
    assert [t.title for t in minutes.topics] == [f"议题{1 + 2 * i}" for i in range(parts)]
    assert minutes.decisions and "第1行前后讨论了预算。" in minutes.summary
    assert any("合并各段纪要时模型失败" in w and "500" in w for w in minutes.warnings), minutes.warnings


def test_minutes_report_a_rejected_key_as_such_not_as_bad_format(stub, monkeypatch):
    from services.errors import ProviderError
    from services.minutes import generate
    monkeypatch.setattr(generate, "part_budget", lambda conn, *args, **kwargs: 400)
    with pytest.raises(ProviderError) as err:
        generate.make_minutes(stub_conn(stub, key="sk-test-wrong-0000"), long_meeting(), lang="zh", ui_lang="zh")
    assert err.value.key == "error.auth" and "OPENAI_COMPATIBLE_API_KEY" in err.value.message("zh")
    assert len(stub.requests) == 1, "the other parts are not sent with a key that was just refused"
