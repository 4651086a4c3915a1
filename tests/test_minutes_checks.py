"""Minutes for small-context models: parts sized to the window, owners and due dates checked against the cited
line, and minutes brought into the asked language (replay provider; no real model)."""
from __future__ import annotations

import json

import pytest

from services import i18n
from services.llm import estimate_tokens
from services.minutes import make_minutes, parse_transcript_text, split_on_turns
from services.minutes.export import flag_texts
from services.minutes.generate import (TOKEN_MARGIN, answer_tokens, part_budget, part_prompt, request_overhead,
                                       system_prompt)
from services.minutes.grounding import due_in_line, owner_in_line
from services.minutes.schema import FullMinutes
from services.minutes.transcript import Line
from services.providers.base import Connection
from services.providers.replay import script_for

LOCAL = Connection(provider="local", model="qwen2.5-coder-1.5b-instruct")  # never started: only its window is read


def long_english_meeting(turns: int = 1500) -> str:
    # Numbers and short words: text the rough estimate undercounts most.
    return "\n".join(f"Speaker {i % 4} (00:{i % 60:02d}:{i % 60:02d}): item {i * 37} costs {i * 13}.5, "
                     f"ticket 4{i:04d} moves to sprint {i % 9}; we agreed on {i % 7} next steps." for i in range(turns))


@pytest.mark.parametrize("window", [4096, 8192, 32768])
def test_parts_fill_but_never_overflow_the_models_window(monkeypatch, window):
    import services.providers as providers
    real = providers.model_info
    monkeypatch.setattr(providers, "model_info",
                        lambda conn: real(conn).__class__(conn.model, window) if conn.provider == "local" else real(conn))
    transcript = parse_transcript_text(long_english_meeting(), "numbers.txt")
    budget = part_budget(LOCAL, "en")
    parts = split_on_turns(transcript, budget)
    answer = min(answer_tokens(LOCAL), window // 4)
    # the system text exactly as services.llm.structured sends it: rules, then the JSON schema
    schema = json.dumps(FullMinutes.model_json_schema(), ensure_ascii=False)
    system = system_prompt("general", "en") + "\n\n" + i18n.t("llm.json_instruction", "en", schema=schema)
    for index, part in enumerate(parts, 1):
        request = part_prompt(part, index, len(parts), "en")
        # the whole request as the model will count it (estimate scaled by the margin) leaves the answer its room
        total = (estimate_tokens(request) + estimate_tokens(system)) * TOKEN_MARGIN
        assert total + answer <= window, (index, total, answer)
    body = [sum(estimate_tokens(p.render()) + 1 for p in part) for part in parts[:-1]]
    assert body and min(body) >= 0.7 * budget  # parts are not wastefully small
    if window == 4096:
        assert len(parts) > len(split_on_turns(transcript, part_budget(Connection(provider="local",
                                                                                  model=LOCAL.model, max_tokens=300))))


def test_a_longer_answer_reserve_means_smaller_parts():
    from dataclasses import replace
    small = part_budget(replace(LOCAL, max_tokens=256), "zh")
    large = part_budget(replace(LOCAL, max_tokens=2048), "zh")
    assert small - large >= int((2048 - 256) / TOKEN_MARGIN) - 1
    assert request_overhead("zh") > estimate_tokens(system_prompt("general", "zh"))  # the schema is counted too


MEETING = """张三 (00:00:05)：今天讨论新版本的发布计划。
李四 (00:00:20)：测试还剩登录模块，谁来负责？
王五 (00:00:40)：登录模块的测试我来做，周五前完成。
张三 (00:01:00)：好的。另外请李四下周一前更新用户手册。
王五 (00:01:30)：服务器扩容我也会跟进，但是预算还没定。
李四 (00:02:00)：我这周整理发布说明。
"""


def reply(items, summary="讨论发布计划。"):
    return json.dumps({"title": "发布计划", "attendees": [], "summary": summary,
                       "topics": [{"title": "发布", "summary": "测试与文档"}], "decisions": [],
                       "action_items": items, "open_questions": []}, ensure_ascii=False)


def item(task, owner, due, line):
    return {"task": task, "owner": owner, "due": due, "priority": "medium", "source_line": line}


def test_owner_and_due_must_be_in_the_cited_line(replay_conn):
    conn = replay_conn([reply([
        item("登录模块的测试", "王五", "周五", 3),          # the speaker of line 3, who says 周五
        item("更新用户手册", "李四", "下周一", 4),          # named in line 4 (spoken by 张三)
        item("跟进服务器扩容", "李四", "", 5),             # 李四 spoke, but line 5 is 王五's and names no 李四
        item("负责登录模块的测试", "王五", "", 2),          # cites the question; the answer one line on names 王五
        item("整理发布说明", "我", "本周", 6),             # "I": the speaker; 本周 is not what line 6 says
    ])])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "m.txt"), ui_lang="zh")
    items = {a.task: a for a in minutes.action_items}

    assert items["登录模块的测试"].owner == "王五" and items["登录模块的测试"].due == "周五"
    assert items["登录模块的测试"].flags == []
    assert items["更新用户手册"].owner == "李四" and items["更新用户手册"].due == "下周一"

    server = items["跟进服务器扩容"]
    assert server.owner == "unassigned" and server.suggested_owner == "李四"
    assert "owner_not_in_line" in server.flags and "owner_unknown" not in server.flags

    notes = items["整理发布说明"]
    assert notes.owner == "李四"                                     # the one who said "我"
    assert notes.due == "" and notes.suggested_due == "本周" and "due_not_in_line" in notes.flags

    # the login item cited at line 2 merged with the one at line 3, or was moved there: either way its owner stands
    login = [a for a in minutes.action_items if "登录模块" in a.task]
    assert all(owner_in_line(a.owner, minutes_line(MEETING, a.source_line)) for a in login if a.owner != "unassigned")
    assert all(a.owner == "王五" for a in login)

    texts = flag_texts(server, "zh") + flag_texts(notes, "en")
    assert any("李四" in t and "第 5 行" in t for t in texts)
    assert any("本周" in t and "line 6" in t for t in texts)


def minutes_line(text: str, number: int) -> Line:
    return parse_transcript_text(text, "m.txt").line(number)


def test_a_citation_one_line_off_is_moved_to_the_line_that_names_the_owner(replay_conn):
    conn = replay_conn([reply([item("负责登录模块的测试", "王五", "", 2)])])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "m.txt"), ui_lang="zh")
    moved = minutes.action_items[0]
    assert moved.source_line == 3 and 2 in moved.also_lines and moved.owner == "王五"
    assert moved.source.speaker == "王五" and "owner_not_in_line" not in moved.flags


def test_owner_and_due_matching_is_by_words_not_by_position():
    line = Line(7, "Alice", None, "Bob, can you send the budget by Friday next week? Carol will review it.")
    assert owner_in_line("Bob", line) and owner_in_line("Alice", line) and owner_in_line("Bob and Carol", line)
    assert not owner_in_line("Dave", line) and not owner_in_line("Bob, Dave", line)
    assert due_in_line("next Friday", line) and due_in_line("Friday", line)
    assert not due_in_line("Monday", line) and not due_in_line("end of month", line)
    zh = Line(2, "王五", None, "登录模块的测试我来做，周五前完成。")
    assert due_in_line("周五前", zh) and due_in_line("周五", zh) and not due_in_line("下周一", zh)
    assert not owner_in_line("李四", zh) and owner_in_line("王五", zh)


ENGLISH_PART = json.dumps({"title": "Release plan", "attendees": [], "summary": "The team discussed the release.",
                           "topics": [{"title": "Release", "summary": "Testing and documentation."}],
                           "decisions": [{"text": "Release next Wednesday", "source_line": 1}],
                           "action_items": [item("Test the login module", "王五", "周五", 3)],
                           "open_questions": []})


# English items cite Chinese lines that share no words with them, so the focused items question follows the part.
NO_ITEMS = json.dumps({"decisions": [], "action_items": []})


def test_minutes_in_the_wrong_language_are_rewritten_without_the_transcript(replay_conn):
    chinese = json.dumps({"title": "发布计划", "attendees": [], "summary": "团队讨论了发布。",
                          "topics": [{"title": "发布", "summary": "测试和文档。"}],
                          "decisions": [{"text": "下周三发布", "source_line": 99}],
                          "action_items": [item("测试登录模块", "张三", "", 1)], "open_questions": []},
                         ensure_ascii=False)
    conn = replay_conn([ENGLISH_PART, NO_ITEMS, chinese])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "m.txt"), lang="zh", ui_lang="zh")
    requests = script_for(conn.replay_path).requests
    assert len(requests) == 3
    rewrite = requests[2][-1]["content"]
    assert "不是中文" in rewrite and "Test the login module" in rewrite and "[L1]" not in rewrite
    assert minutes.summary == "团队讨论了发布。" and minutes.title == "发布计划"
    # wording from the rewrite, facts (lines, owners, due dates) from the first answer
    assert minutes.action_items[0].task == "测试登录模块" and minutes.action_items[0].owner == "王五"
    assert minutes.action_items[0].source_line == 3 and minutes.action_items[0].due == "周五"
    assert minutes.decisions[0].source_line == 1
    assert not any("不是中文" in w for w in minutes.warnings)


def test_a_rewrite_still_in_the_wrong_language_keeps_the_minutes_with_a_warning(replay_conn):
    conn = replay_conn([ENGLISH_PART, NO_ITEMS, ENGLISH_PART])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "m.txt"), lang="zh", ui_lang="en")
    assert script_for(conn.replay_path).remaining == 0
    assert minutes.summary == "The team discussed the release."
    assert any("not write the minutes in Chinese" in w for w in minutes.warnings)


def test_minutes_already_in_the_language_cost_no_second_request(replay_conn):
    conn = replay_conn([ENGLISH_PART])
    english = parse_transcript_text("Alice: we release next Wednesday.\nBob: agreed.\n"
                                    "Carol: I will test the login module by Friday.\n", "en.txt")
    minutes = make_minutes(conn, english, ui_lang="en")
    assert len(script_for(conn.replay_path).requests) == 1 and minutes.language == "en"


def test_chinese_parts_are_planned_with_the_measured_tokenizer_only():
    from services.minutes.generate import token_ratio
    chinese = "[L1] 发言人1: 我们今天讨论一下密评工作的进展和下一步的计划。" * 20
    english = "[L1] Speaker 1: we discussed the remote control design and its price." * 20
    assert token_ratio(LOCAL, chinese) < 1.0 < token_ratio(LOCAL, english) <= TOKEN_MARGIN
    assert part_budget(LOCAL, "zh", sample=chinese) > part_budget(LOCAL, "zh") > 0
    other = Connection(provider="openai-compatible", model="some-model")  # tokenizer not measured: the margin
    assert token_ratio(other, chinese) == TOKEN_MARGIN
