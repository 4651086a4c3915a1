"""Agent mode: the replay provider scripts tool calls; we assert on the events and on what went back to the model."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from services.agent import AgentContext, ToolError, answer_of, builtin_tools, execute, run_agent
from services.agent.calculator import evaluate, format_decimal
from services.providers import get_provider
from services.providers.replay import script_for


def call(name, args, id_):
    return {"name": name, "args": args, "id": id_}


def tool_messages(request):
    return [m for m in request if m["role"] == "tool"]


def run(conn, question, ctx=None, **kw):
    ctx = ctx or AgentContext()
    return list(run_agent(conn, question, builtin_tools(ctx), today="2026-11-22", **kw))


# ------------------------------------------------------------------ calculator

def test_multi_step_calculation_is_exact_and_results_go_back_to_the_model(replay_conn):
    conn = replay_conn([
        {"content": "先各加 1000", "tool_calls": [call("calculator", {"expression": "2000+1000, 3000+1000, 4000+1000"}, "c1")]},
        {"content": "再减 500", "reasoning": "3000, 4000, 5000 各减 500", "tool_calls": [call("calculator", {"expression": "3000-500, 4000-500, 5000-500"}, "c2")]},
        {"content": "", "tool_calls": [call("calculator", {"expression": "2500*1.2, 3500*1.2, 4500*1.2"}, "c3")]},
        "结果分别是 3000、4200、5400。",
    ])
    events = run(conn, "把 2000, 3000, 4000 分别加 1000、减 500、再乘 1.2")
    kinds = [e.kind for e in events]
    assert kinds == ["thought", "tool_call", "observation", "thought", "tool_call", "observation",
                     "tool_call", "observation", "answer"]
    assert [e.data["results"] for e in events if e.kind == "observation"] == [
        ["3000", "4000", "5000"], ["2500", "3500", "4500"], ["3000", "4200", "5400"]]
    assert [e.text for e in events if e.kind == "thought"] == ["先各加 1000", "3000, 4000, 5000 各减 500\n\n再减 500"]
    answer = answer_of(events)
    assert answer.status == "ok" and answer.text == "结果分别是 3000、4200、5400。"

    script = script_for(conn.replay_path)
    assert len(script.requests) == 4
    first = script.requests[0]
    assert first[0]["role"] == "system" and "calculator" in first[0]["content"] and "2026-11-22" in first[0]["content"]
    assert first[-1] == {"role": "user", "content": "把 2000, 3000, 4000 分别加 1000、减 500、再乘 1.2"}
    bound = {t["function"]["name"]: t["function"] for t in script.request_options[0]["tools"]}
    assert set(bound) == {"calculator", "date_info"}  # no tables, reports or KB in this session
    assert bound["calculator"]["parameters"]["required"] == ["expression"]
    # Each later request carries the model's call and the exact result, matched by call id.
    last = script.requests[3]
    tools_back = tool_messages(last)
    assert [m["tool_call_id"] for m in tools_back] == ["c1", "c2", "c3"]
    assert json.loads(tools_back[2]["content"])["results"] == ["3000", "4200", "5400"]
    assert [m["tool_calls"][0]["id"] for m in last if m["role"] == "assistant"] == ["c1", "c2", "c3"]


@pytest.mark.parametrize("expression", [
    "__import__('os').system('echo hacked')", "(1).__class__", "().__class__.__bases__[0].__subclasses__()",
    "9**9**9", "10**100000", "2**(10**6)", "x+1", "open('/etc/passwd')", "[i for i in range(10**9)]",
    "lambda: 1", "'a'*10", "1 if 1 else 2", "1e99999 * 1", "9" * 600, "eval('1')",
])
def test_hostile_calculator_inputs_are_refused(expression):
    tools = {t.name: t for t in builtin_tools(AgentContext())}
    with pytest.raises(ToolError) as info:
        execute(tools, "calculator", {"expression": expression}, "en")
    message = info.value.message("en")
    assert "Traceback" not in message and "hacked" not in message
    assert any(w in message for w in ("not allowed", "too large", "too long", "Invalid arguments"))


def test_calculator_is_decimal_exact():
    assert format_decimal(evaluate("0.1 + 0.2")) == "0.3"
    assert format_decimal(evaluate("1.1 * 1.1")) == "1.21"
    assert format_decimal(evaluate("round(2.675, 2)")) == "2.68"      # half-up, unlike binary floats
    assert format_decimal(evaluate("（100 + 20）× 3 ÷ 4")) == "90"       # full-width symbols people type
    assert format_decimal(evaluate("2^10 - sum(1, 2, 3)")) == "1018"
    assert format_decimal(evaluate("0.12345678901234567891 * 1")) == "0.12345678901234567891"  # no float in between
    assert format_decimal(evaluate("1/3")).startswith("0.333333333333333333333333333333")


def test_hostile_expression_in_the_loop_is_refused_and_told_to_the_model(replay_conn):
    conn = replay_conn([{"content": "", "tool_calls": [call("calculator", {"expression": "__import__('os').getcwd()"}, "h1")]},
                        "这个表达式不能计算。"])
    events = run(conn, "算一下 __import__('os').getcwd()", lang="en")
    obs = [e for e in events if e.kind == "observation"][0]
    assert obs.error and "not allowed" in obs.text
    back = tool_messages(script_for(conn.replay_path).requests[1])[0]
    assert back["tool_call_id"] == "h1" and back["content"].startswith("Error:") and "attribute access .getcwd" in back["content"]
    assert answer_of(events).status == "ok"


# ------------------------------------------------------------------ errors, limits, fallback

def test_tool_errors_are_shown_and_given_back_then_the_model_recovers(replay_conn):
    conn = replay_conn([
        {"content": "", "tool_calls": [call("calculator", {"expr": "1+1"}, "e1"), call("weather", {}, "e2")]},
        {"content": "", "tool_calls": [call("date_info", {"date": "2026-02-30"}, "e3")]},
        {"content": "", "tool_calls": [call("calculator", {"expression": "1+1"}, "e4")]},
        "1+1=2",
    ])
    events = run(conn, "1+1 等于几", lang="en")
    errors = [e for e in events if e.kind == "observation" and e.error]
    assert [e.call_id for e in errors] == ["e1", "e2", "e3"]
    assert "Invalid arguments for tool 'calculator'" in errors[0].text and "expression" in errors[0].text
    assert "no tool named 'weather'" in errors[1].text and "calculator" in errors[1].text
    assert "2026-02-30" in errors[2].text
    assert answer_of(events).text == "1+1=2"
    requests = script_for(conn.replay_path).requests
    back = tool_messages(requests[1])
    assert [m["tool_call_id"] for m in back] == ["e1", "e2"]
    assert all(m["content"].startswith("Error:") and "Traceback" not in m["content"] for m in back)
    assert json.loads(tool_messages(requests[3])[-1]["content"])["result"] == "2"


def test_step_limit_stops_tool_calls_and_asks_for_an_answer_without_tools(replay_conn):
    first = {"content": "查今天", "tool_calls": [call("date_info", {}, "d")]}
    second = {"content": "再查下个月", "tool_calls": [call("date_info", {"add_months": 1}, "d2")]}
    conn = replay_conn([first, second, "我只能给出目前的结果：今天是 2026-11-22。"])
    events = run(conn, "今天几号", max_steps=2, ctx=AgentContext(now=lambda: datetime(2026, 11, 22, 2, tzinfo=timezone.utc)))
    assert [e.kind for e in events].count("tool_call") == 2
    notice = [e for e in events if e.kind == "notice"][0]
    assert "步数上限（2 步）" in notice.text
    answer = answer_of(events)
    assert answer.status == "step_limit" and answer.text.startswith("我只能给出目前的结果")
    script = script_for(conn.replay_path)
    assert len(script.requests) == 3 and script.remaining == 0
    assert "tools" in script.request_options[1] and "tools" not in script.request_options[2]
    assert script.requests[2][-1]["role"] == "user" and "不要再调用工具" in script.requests[2][-1]["content"]


def test_a_repeated_call_is_not_run_again_the_model_answers_from_its_results(replay_conn):
    # The built-in 1.5B asked for the same calculation again and again, then said nothing (docs/quality.md traces).
    same = {"content": "", "tool_calls": [call("calculator", {"expression": "(2000+1000-500)*1.2"}, "c1")]}
    again = {"content": "", "tool_calls": [call("calculator", {"expression": "(2000 + 1000 - 500) * 1.2"}, "c2"),
                                           call("calculator", {"expression": "(2000+1000-500)*1.2"}, "c3")]}
    conn = replay_conn([same, again, {"content": "", "tool_calls": [call("calculator", {"expression": "(2000+1000-500)*1.2"}, "c4")]},
                        "结果是 3000。"])
    events = run(conn, "把 2000 加 1000、减 500、再乘 1.2")
    observations = [e for e in events if e.kind == "observation"]
    # The second turn held a new spelling too, so it ran; the third only repeated: not run, answered from results.
    assert len(observations) == 3
    notice = [e for e in events if e.kind == "notice"]
    assert notice and "重复" in notice[-1].text
    answer = answer_of(events)
    assert answer.status == "repeated" and answer.text == "结果是 3000。"
    script = script_for(conn.replay_path)
    assert script.remaining == 0 and "tools" not in script.request_options[3]
    assert "不要再调用工具" in script.requests[3][-1]["content"]
    # The conversation the model sees stays valid: every tool call it made is followed by its result.
    roles = [m["role"] for m in script.requests[3]]
    assert roles.count("tool") == 3


def test_time_limit_stops_the_loop(replay_conn):
    ticks = iter([0.0, 1.0, 2.0, 500.0, 501.0, 502.0])
    conn = replay_conn([{"content": "", "tool_calls": [call("calculator", {"expression": "1+1"}, "t1")]},
                        {"content": "", "tool_calls": [call("calculator", {"expression": "2+2"}, "t2")]},
                        "unused"])
    events = run(conn, "算", time_limit_s=60, clock=lambda: next(ticks))
    answer = answer_of(events)
    assert answer.status == "time_limit" and "60 秒" in answer.text
    assert script_for(conn.replay_path).remaining >= 1  # no model call after the time ran out


def test_earlier_turns_are_sent_before_the_question(replay_conn):
    conn = replay_conn(["4200 乘 2 是 8400。"])
    history = [{"role": "user", "content": "3000 加 1200"}, {"role": "assistant", "content": "4200"}]
    events = list(run_agent(conn, "再乘 2", builtin_tools(AgentContext()), history=history))
    sent = script_for(conn.replay_path).requests[0]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert [m["content"] for m in sent[1:]] == ["3000 加 1200", "4200", "再乘 2"]
    assert answer_of(events).text == "4200 乘 2 是 8400。"


def test_stop_event_ends_the_run_between_steps(replay_conn):
    import threading
    stop = threading.Event()
    conn = replay_conn([{"content": "", "tool_calls": [call("calculator", {"expression": "1+1"}, "s1")]}, "unused"])
    events = []
    for event in run_agent(conn, "1+1", builtin_tools(AgentContext()), stop_event=stop):
        events.append(event)
        if event.kind == "observation":
            stop.set()  # the user pressed stop while the tool ran
    assert events[-1].kind == "answer" and events[-1].status == "stopped"
    assert script_for(conn.replay_path).remaining == 1


def test_provider_error_is_an_answer_message_not_a_traceback(replay_conn):
    conn = replay_conn([{"error": {"status": 401}}])
    events = run(conn, "1+1", lang="en")
    answer = answer_of(events)
    assert answer.error and answer.status == "error" and "Traceback" not in answer.text and "key" in answer.text


def test_the_built_in_model_calls_the_calculator_through_its_server():
    conn = get_provider("local").connect(temperature=0.0, max_tokens=200)
    # A CPU model on a busy CI machine: the time limit is the test's, not the product's 2-core default.
    events = list(run_agent(conn, "What is 2 plus 3? Use the calculator.", builtin_tools(AgentContext()), lang="en",
                            time_limit_s=900))
    calls = [e for e in events if e.kind == "tool_call"]
    assert calls and calls[0].tool == "calculator"
    answer = answer_of(events)
    # "repeated": the 1.5B may ask for the same sum again; it is then answered from the result it has.
    assert answer.status in ("ok", "repeated") and not answer.error and "5" in answer.text


# ------------------------------------------------------------------ dates

def test_date_tool_days_until_quarter_end_with_the_session_clock(replay_conn):
    now = datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    ctx = AgentContext(now=lambda: now)
    tools = {t.name: t for t in builtin_tools(ctx)}
    out = execute(tools, "date_info", {}, "zh").data
    assert out["date"] == "2026-11-22" and out["weekday"] == "星期日" and out["quarter"] == "2026Q4"
    assert out["quarter_end"] == "2026-12-31" and out["days_until_quarter_end"] == 39
    out = execute(tools, "date_info", {"date": "2024-01-31", "add_months": 1, "until": "2024-12-31"}, "zh").data
    assert out["date"] == "2024-02-29" and out["days_until"] == 306 and out["days_until_quarter_end"] == 31


# ------------------------------------------------------------------ small models' habits (docs/quality.md traces)

def test_a_call_written_as_text_with_doubled_braces_is_run_as_a_call(replay_conn):
    # The built-in 1.5B wrote '{{"name": …, "arguments": …}}', which the server's tool-call reader left as text.
    written = '{{"name": "calculator", "arguments": {"expression": "150*2+15, 260*2+15"}}}'
    conn = replay_conn([written, "结果是 315 和 535。"])
    events = run(conn, "把 150、260 分别乘 2 再加 15")
    call_event = [e for e in events if e.kind == "tool_call"]
    assert len(call_event) == 1 and call_event[0].tool == "calculator"
    assert [e.data["results"] for e in events if e.kind == "observation"] == [["315", "535"]]
    answer = answer_of(events)
    assert answer.text == "结果是 315 和 535。" and "{" not in answer.text
    # The model sees its call as a call, followed by its result.
    second = script_for(conn.replay_path).requests[1]
    assert [m["role"] for m in second][-2:] == ["assistant", "tool"]
    assert second[-2]["tool_calls"][0]["name"] == "calculator"


@pytest.mark.parametrize("text, names", [
    ('<tool_call>\n{"name": "date_info", "arguments": {}}\n</tool_call>', ["date_info"]),
    ('```json\n{"name": "calculator", "arguments": {"expression": "1+1"}}\n```', ["calculator"]),
    ('{"name": "calculator", "arguments": "{\\"expression\\": \\"2*3\\"}"}', ["calculator"]),
    ('[{"name": "date_info", "arguments": {}}, {"name": "calculator", "arguments": {"expression": "1+2"}}]',
     ["date_info", "calculator"]),
])
def test_calls_written_as_text_in_tags_fences_or_lists_are_read(text, names):
    from services.agent.loop import calls_in_text
    tools = {t.name: t for t in builtin_tools(AgentContext())}
    assert [c["name"] for c in calls_in_text(text, tools)] == names


@pytest.mark.parametrize("text", [
    '计算方法如下：{"name": "calculator", "arguments": {"expression": "1+1"}}',   # words around it: an answer
    '{"name": "shell", "arguments": {"cmd": "rm -rf /"}}',                        # not one of the tools
    '{"name": "calculator", "arguments": [1, 2]}',                                # arguments not an object
    '{"name": "calculator"',                                                     # not JSON
    "结果是 3000。",
])
def test_text_that_is_not_only_a_call_to_a_known_tool_stays_the_answer(text):
    from services.agent.loop import calls_in_text
    tools = {t.name: t for t in builtin_tools(AgentContext())}
    assert calls_in_text(text, tools) == []


def test_silence_after_tool_results_gets_one_turn_without_tools(replay_conn):
    conn = replay_conn([
        {"content": "", "tool_calls": [call("calculator", {"expression": "150*2+15, 260*2+15, 370*2+15"}, "c1")]},
        "",
        "分别是 315、535、755。",
    ])
    events = run(conn, "把 150、260、370 分别乘 2 再加 15")
    answer = answer_of(events)
    assert answer.text == "分别是 315、535、755。"
    script = script_for(conn.replay_path)
    assert script.remaining == 0 and "tools" not in script.request_options[2]


def test_still_silent_the_user_gets_the_last_tool_result(replay_conn):
    conn = replay_conn([
        {"content": "", "tool_calls": [call("calculator", {"expression": "150*2+15, 260*2+15"}, "c1")]}, "", ""])
    answer = answer_of(run(conn, "把 150、260 分别乘 2 再加 15"))
    assert "没有写出回答" in answer.text and '"315"' in answer.text and '"535"' in answer.text


def test_the_calculator_example_is_not_the_users_question():
    # The old example was one of the evaluation's questions with one item left out, and the 1.5B copied it.
    (calc,) = [t for t in builtin_tools(AgentContext()) if t.name == "calculator"]
    described = json.dumps(calc.schema(), ensure_ascii=False)
    assert "2000" not in described and "one per item" in described
