"""The quality report's own rules: how answers are judged, and that the report holds each figure with its command."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from eval import agent_eval, quality
from services.agent import AgentContext, AgentEvent


def events(answer: str, *calls: str) -> list[AgentEvent]:
    out = [AgentEvent(kind="tool_call", tool=name, args={}) for name in calls]
    return out + [AgentEvent(kind="answer", text=answer, status="ok")]


def test_numbers_with_units_and_pages_are_read_from_answers():
    assert agent_eval.amounts("3,000、4200.0 和 5400；约3.69亿元") == [3000.0, 4200.0, 5400.0, 369_000_000.0]
    assert agent_eval.near("净额为 36,910.09 万元", 369_100_908.49)
    assert not agent_eval.near("净额为 3.2 亿元", 369_100_908.49)
    assert agent_eval.cited_pages("见第68页和第 130、14 页，page 5") == {5, 14, 68, 130}


def test_the_calculator_question_needs_the_tool_and_all_three_numbers():
    ctx = AgentContext()
    assert agent_eval.judge("calc", events("结果分别是 3000、4200、5400。", "calculator"), ctx)[0]
    assert not agent_eval.judge("calc", events("结果分别是 3000、4200、5400。"), ctx)[0]  # guessed, no tool
    assert not agent_eval.judge("calc", events("结果是 3000、4200、5500。", "calculator"), ctx)[0]


def test_the_date_question_needs_the_day_and_the_days_left_in_the_quarter():
    ctx = AgentContext(now=lambda: datetime(2026, 11, 22, 1, 30, tzinfo=timezone.utc))  # 22 Nov in Shanghai
    assert agent_eval.judge("date", events("今天是 2026 年 11 月 22 日，距离本季度末还有 39 天。", "date_info"), ctx)[0]
    assert not agent_eval.judge("date", events("今天是 11 月 22 日，还有 40 天。", "date_info"), ctx)[0]
    # The 1.5B's own mistake: a date three months on, with the right count of days.
    assert not agent_eval.judge("date", events("今天的日期是 2027-02-22。距离本季度末还有 39 天。", "date_info"), ctx)[0]


def test_the_kb_question_needs_the_figure_and_an_evidence_page():
    ctx = AgentContext()
    good = events("经营活动产生的现金流量净额为 369,100,908.49 元（第 68 页）。", "kb_search")
    assert agent_eval.judge("kb", good, ctx)[0]
    assert not agent_eval.judge("kb", events("为 369,100,908.49 元（第 69 页）。", "kb_search"), ctx)[0]


def test_the_report_lists_each_figure_with_its_command_and_split(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "OUT", tmp_path / "out")
    (tmp_path / "out").mkdir()
    held = [{"file": "chnsenticorp_dev.csv", "part": "held", "rows": 25, "right": 22, "accuracy": 0.88,
             "rows_per_minute": 3.1, "median_s_per_row": 19.0, "seconds": 480.0, "model": quality.BETTER}]
    (tmp_path / "out" / "sentiment_held_1.5B.json").write_text(json.dumps(held), encoding="utf-8")
    doc = tmp_path / "quality.md"
    text = quality.write_report(doc)
    assert doc.read_text(encoding="utf-8") == text
    row = next(line for line in text.splitlines() if "chnsenticorp_dev.csv" in line)
    assert "88.0% (22/25)" in row and "held out" in row
    assert "--part held --limit 25" in row and "eval.sentiment_eval" in row
    assert "Not run yet" in text and "sentiment_tune_1.5B" in text  # what has no result is said, not invented
    assert "docs/chatbi.md" in text and "docs/minutes.md" in text
