"""The Chinese question set: every question's reference SQL, replayed through the whole ChatBI chain over the
generated office sheets, gives the answer worked out by hand (so the set and the loading agree)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("chatbi_zh", ROOT / "eval" / "chatbi_zh.py")
zh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zh)


def test_question_set_is_split_before_tuning_and_large_enough():
    questions = zh.load_questions()
    assert len(questions) >= 20 and len({q["id"] for q in questions}) == len(questions)
    splits = {q["split"] for q in questions}
    assert splits == {"tune", "heldout"}
    assert {q["file"] for q in questions} == set(zh.sheets.CASES)
    assert {q["format"] for q in questions} == set(zh.sheets.FORMATS)


def test_reference_sql_replayed_through_the_chain_gets_every_answer(tmp_path):
    results = zh.run(zh.load_questions(), zh.replay_connections(tmp_path), tmp_path / "sheets", progress=lambda _: None)
    missed = [(r["id"], r["got"], r["error"]) for r in results if not r["ok"]]
    assert not missed
    assert zh.accuracy(results)["heldout"][0] == zh.accuracy(results)["heldout"][1] > 0
