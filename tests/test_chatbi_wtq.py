"""Table QA on real WikiTableQuestions tables: hand-written SQL replayed through the whole ChatBI chain."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _eval_module():
    spec = importlib.util.spec_from_file_location("chatbi_wtq", ROOT / "eval" / "chatbi_wtq.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wtq = _eval_module()


@pytest.fixture(scope="module")
def questions():
    if not (wtq.DATA / "wtq_questions.tsv").is_file():
        pytest.skip(f"WikiTableQuestions data not present at {wtq.DATA.resolve()} (../shared/data/tables)")
    return wtq.load_questions()


def test_every_question_has_hand_written_sql(questions):
    sql = wtq.load_sql()
    assert {q["id"] for q in questions} == set(sql)
    assert len(questions) == 60


def test_replayed_sql_answers_match_the_targets(questions, tmp_path):
    sql = wtq.load_sql()
    results = wtq.run(questions, wtq.replay_connections(questions, sql, tmp_path), progress=lambda _: None)
    missed = {r["id"] for r in results if not r["ok"]}
    # Two gold answers cannot come from the CSV as exported; the JSONL says why for each.
    assert missed == {"nt-18", "nt-43"}, [r for r in results if not r["ok"]]
    assert all("note" in sql[i] for i in missed)
    assert all(r["error"] is None for r in results)


@pytest.mark.parametrize("columns, rows, target, ok", [
    (["x"], [(12467,)], "12,467", True),
    (["x"], [("Manawanui  i",)], "Manawanui i", True),
    (["x"], [("Siim Ennemuist",), ("Andri Aganits",)], "Siim Ennemuist|Andri Aganits", True),
    (["x"], [(4.0,)], "4", True),
    (["x"], [("a",), ("b",)], "a", False),
    (["x"], [], "a", False),
])
def test_answer_matching(columns, rows, target, ok):
    assert wtq.answers_match(columns, rows, target) is ok
