"""Decisions and action items the model must write: the lists are required in the schema the local model's grammar
is built from, and a part answered without action items gets one short, focused follow-up question whose items are
checked against their cited lines and merged across parts (replay provider; no real model)."""
from __future__ import annotations

import json

import pytest

from services.llm import estimate_tokens
from services.minutes import make_minutes, parse_transcript_text, split_on_turns
from services.minutes import generate
from services.minutes.generate import TOKEN_MARGIN, answer_tokens, followup_answer_tokens, part_budget, part_prompt
from services.minutes.schema import FullMinutes, PartItems, PartMinutes
from services.providers.base import Connection
from services.providers.replay import script_for

LOCAL = Connection(provider="local", model="qwen2.5-coder-1.5b-instruct")  # never started: only its window is read

MEETING = """Alice (00:00:05): Let's plan the product launch.
Bob (00:00:20): I will draft the press release by Friday.
Carol (00:00:40): So we agree the launch date is the twelfth.
Alice (00:01:00): Fine. The venue still needs booking.
Bob (00:01:30): The budget for the stand is still open.
"""


def schema_of(text: str) -> dict:
    """The JSON schema a structured request carries: the last line of its instruction."""
    return json.loads(text.rsplit("\n", 1)[1])


def overview(**extra) -> str:
    body = {"title": "Launch", "attendees": ["Alice", "Bob", "Carol"], "summary": "Launch planning.",
            "topics": [{"title": "Launch", "summary": "Date and press."}], "decisions": [], "action_items": [],
            "open_questions": []}
    body.update(extra)
    return json.dumps(body)


def items(decisions=(), actions=()) -> str:
    return json.dumps({"decisions": list(decisions), "action_items": list(actions)})


def action(line, owner, task, due=""):
    return {"source_line": line, "owner": owner, "task": task, "due": due, "priority": "medium"}


def test_the_schema_behind_the_grammar_requires_the_lists(replay_conn):
    conn = replay_conn([overview(action_items=[action(2, "Bob", "Draft the press release", "Friday")])])
    make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")
    requests = script_for(conn.replay_path).requests
    assert len(requests) == 1  # the part came with an action item: no follow-up
    sent = schema_of(requests[0][0]["content"])
    assert {"summary", "topics", "decisions", "action_items", "title"} <= set(sent["required"])

    # The grammar the built-in server builds from that schema makes every list a fixed step of the object, so the
    # model cannot close it after the summary (the cause of the empty lists measured in docs/minutes.md) ...
    from services.local_model.server import grammar_text
    for schema in (sent, PartMinutes.model_json_schema(), PartItems.model_json_schema()):
        root = next(r for r in grammar_text(schema).splitlines() if r.startswith("root ::="))
        assert "decisions-kv" in root and "action-items-kv" in root, root
    # ... in the schema's order, not alphabetical: the summary and topics before the lists, the title last.
    root = next(r for r in grammar_text(sent).splitlines() if r.startswith("root ::="))
    order = [root.index(f"{key}-kv") for key in ("summary", "topics", "decisions", "action-items", "title")]
    assert order == sorted(order), root

    # Replies that leave the lists out (other providers, older replies) still read, as empty lists.
    assert PartMinutes.model_validate({"summary": "s"}).action_items == []
    assert FullMinutes.model_validate({"summary": "s", "title": "t"}).decisions == []


def test_a_part_without_action_items_gets_a_focused_question_and_its_items_are_checked(replay_conn):
    conn = replay_conn([overview(), items(
        decisions=[{"source_line": 3, "text": "The launch date is the twelfth"}],
        actions=[action(2, "Bob", "Draft the press release", "Friday"),   # Bob says it on line 2: kept
                 action(4, "Dave", "Book the venue", "Monday"),           # Dave is nowhere in the meeting
                 action(4, "Bob", "Book the venue for the launch"),       # Bob is not in line 4: flagged
                 action(2, "unassigned", "Draft the press release")])])   # the same task again
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")

    first, follow = script_for(conn.replay_path).requests
    # The follow-up repeats the part's request word for word (a local server reuses that cached prefix) ...
    assert follow[0] == first[0] and follow[1] == first[1] and follow[0]["role"] == "system"
    assert follow[2]["role"] == "assistant" and json.loads(follow[2]["content"]) == {"summary": "Launch planning."}
    # ... and then asks only for the lists, each item citing its line, owner from that line, due only if said.
    question = follow[3]["content"]
    assert "L1-L5" in question and "source_line" in question and "owner" in question and "empty lists" in question
    assert set(schema_of(question)["required"]) == {"decisions", "action_items"}

    press, venue, venue_bob = minutes.action_items
    assert (press.owner, press.due, press.flags, press.source.speaker) == ("Bob", "Friday", [], "Bob")
    assert press.also_lines == [] and any("duplicate" in w for w in minutes.warnings)  # the repeat merged
    assert venue.owner == "unassigned" and venue.suggested_owner == "Dave" and "owner_unknown" in venue.flags
    assert venue.due == "" and "due_not_in_line" in venue.flags
    # An owner who is not in the cited line is never shown as the owner.
    assert venue_bob.owner == "unassigned" and venue_bob.suggested_owner == "Bob"
    assert "owner_not_in_line" in venue_bob.flags
    assert [(d.text, d.flags) for d in minutes.decisions] == [("The launch date is the twelfth", [])]


def test_items_found_in_several_parts_are_merged(replay_conn, monkeypatch):
    lines = [f"{'Alice' if i % 2 else 'Bob'}: status of the migration, step {i} of the plan, goes on as agreed."
             for i in range(1, 61)]
    lines[4] = "Bob: I will write the migration runbook by Friday."
    lines[50] = "Bob: As said, I will write the migration runbook by Friday."
    transcript = parse_transcript_text("\n".join(lines), "migration.txt")
    monkeypatch.setattr(generate, "part_budget", lambda conn, *args, **kwargs: 300)
    parts = split_on_turns(transcript, 300)
    assert len(parts) >= 3

    replies = []
    for index, part in enumerate(parts, 1):
        replies.append(json.dumps({"attendees": [], "summary": f"Part {index}.", "topics": [], "decisions": [],
                                   "action_items": [], "open_questions": []}))
        numbers = [p.line.number for p in part]
        found = [action(n, "Bob", "Write the migration runbook", "Friday") for n in (5, 51) if n in numbers]
        replies.append(items(actions=found))
    replies.append(json.dumps({"title": "Migration", "summary": "All parts.", "topics": [], "open_questions": []}))
    conn = replay_conn(replies, name="parts.jsonl")
    minutes = make_minutes(conn, transcript, ui_lang="en")

    requests = script_for(conn.replay_path).requests
    assert len(requests) == 2 * len(parts) + 1
    for index, part in enumerate(parts):
        question = requests[2 * index + 1][-1]["content"]
        assert f"L{part[0].line.number}-L{part[-1].line.number}" in question  # each part asked about itself
    [runbook] = minutes.action_items
    assert (runbook.source_line, runbook.also_lines, runbook.owner, runbook.flags) == (5, [51], "Bob", [])


def test_nothing_assigned_means_no_items_and_a_failed_question_keeps_the_part(replay_conn):
    conn = replay_conn([overview(), items()])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")
    assert minutes.action_items == [] and minutes.decisions == [] and minutes.summary == "Launch planning."
    assert not any("asked for separately" in w for w in minutes.warnings)

    conn = replay_conn([overview(), "no json here", "still none"], name="broken.jsonl")
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")
    assert minutes.summary == "Launch planning." and minutes.action_items == []
    assert any("L1-L5" in w and "asked for separately" in w for w in minutes.warnings)


def test_items_in_the_first_answer_are_not_asked_for_again(replay_conn):
    conn = replay_conn([overview(decisions=[{"text": "Launch on the twelfth", "source_line": 3}],
                                 action_items=[action(2, "Bob", "Draft the press release", "Friday")])])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")
    assert len(script_for(conn.replay_path).requests) == 1
    assert [a.owner for a in minutes.action_items] == ["Bob"]


def long_meeting(turns: int = 1500) -> str:
    return "\n".join(f"Speaker {i % 4} (00:{i % 60:02d}:{i % 60:02d}): item {i * 37} costs {i * 13}.5, "
                     f"ticket 4{i:04d} moves to sprint {i % 9}; we agreed on {i % 7} next steps." for i in range(turns))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_follow_up_fits_the_window_the_parts_were_sized_for(monkeypatch, lang):
    from dataclasses import replace

    import services.llm as llm
    from services.providers import model_info
    text = long_meeting() if lang == "en" else "\n".join(f"张三：第{i}项预算是{i * 13}万元，下周{i % 7}跟进。"
                                                          for i in range(1500))
    transcript = parse_transcript_text(text, "m.txt")
    conn = replace(LOCAL, max_tokens=answer_tokens(LOCAL))  # as make_minutes sets it
    parts = split_on_turns(transcript, part_budget(conn, lang, "general", generate.transcript_sample(transcript)))
    largest = max(parts, key=lambda p: estimate_tokens(part_prompt(p, 1, len(parts), lang)))
    sent = {}

    def capture(conn, messages, schema, *, system=None, lang="en", instruction_last=False):
        sent.update(conn=conn, messages=messages, schema=schema, system=system, last=instruction_last)
        return PartItems()

    monkeypatch.setattr(llm, "structured", capture)
    messages = [{"role": "user", "content": part_prompt(largest, 1, len(parts), lang)}]
    result = PartMinutes(summary="很长的摘要。" * 200 if lang == "zh" else "A long summary. " * 200)
    generate.ask_items(conn, messages, result, largest, generate.system_prompt("general", lang), lang)

    assert sent["schema"] is PartItems and sent["last"] and sent["messages"][:1] == messages
    instruction = llm.i18n.t("llm.json_instruction", lang,
                             schema=json.dumps(PartItems.model_json_schema(), ensure_ascii=False))
    part = estimate_tokens(messages[0]["content"])
    rest = estimate_tokens(sent["system"]) + sum(estimate_tokens(m["content"]) for m in sent["messages"]) + \
        estimate_tokens(instruction) + 30 - part
    answer = sent["conn"].max_tokens
    assert answer == followup_answer_tokens(conn, lang) and answer >= 512
    # sized like the parts: the transcript at the tokenizer's ratio, everything else with the margin, plus the
    # answer, within the window
    ratio = generate.token_ratio(conn, generate.transcript_sample(transcript))
    total = part * ratio + rest * TOKEN_MARGIN + answer
    assert total <= model_info(LOCAL).context_window, (part, rest, answer)


def test_citations_follow_the_words_quoted_from_the_line(replay_conn):
    conn = replay_conn([overview(
        decisions=[{"source_line": 1, "quote": "launch date is the twelfth", "text": "Launch on the twelfth"}],
        action_items=[
            # wrong line number, right words: the item moves to line 2, where Bob says it, and passes every check
            {**action(4, "Bob", "Draft the press release", "Friday"), "quote": "draft the press release by Friday"},
            # a quote too short to place, and one found nowhere: the cited line stays and is flagged
            {**action(5, "Bob", "Book the venue"), "quote": "the"},
            {**action(1, "Alice", "Order the banners"), "quote": "we order banners today"}])])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")
    assert len(script_for(conn.replay_path).requests) == 1  # one item stands on its line: no follow-up
    press, venue, banners = minutes.action_items
    assert (press.source_line, press.owner, press.due, press.flags) == (2, "Bob", "Friday", [])
    assert venue.source_line == 5 and venue.flags == ["not_in_line"]  # Bob does speak line 5, about the budget
    assert banners.source_line == 1 and "not_in_line" in banners.flags
    assert [(d.source_line, d.flags) for d in minutes.decisions] == [(3, [])]


def test_items_no_line_supports_are_asked_for_again_and_replaced(replay_conn):
    conn = replay_conn([overview(action_items=[action(5, "Bob", "Write the annual report")]),
                        items(actions=[{**action(2, "Bob", "Draft the press release", "Friday"),
                                        "quote": "press release by Friday"}])])
    minutes = make_minutes(conn, parse_transcript_text(MEETING, "launch.txt"), ui_lang="en")
    assert len(script_for(conn.replay_path).requests) == 2
    assert [(a.task, a.owner, a.flags) for a in minutes.action_items] == [("Draft the press release", "Bob", [])]
