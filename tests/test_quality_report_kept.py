"""The quality report rewritten from some results keeps the other tasks' rows, and shows the KB-answer figures."""
from __future__ import annotations

import json

from eval import quality


def kb_result(right: int) -> dict:
    rows = [{"id": "fb_1", "doc": "A.pdf", "kind": "numeric", "right": right == 1, "why": "a number within 1%",
             "citations": [{"file": "A.pdf", "page": 3}], "evidence_pages": [3], "cited_evidence": True,
             "evidence_retrieved": True, "seconds": 30.0, "reference": "$1577.00", "answer": "$1,577 million [1]"},
            {"id": "fb_2", "doc": "B.pdf", "kind": "open", "right": None, "why": "open answer, not judged",
             "citations": [], "evidence_pages": [7], "cited_evidence": False, "evidence_retrieved": False,
             "seconds": 50.0, "reference": "Entertainment", "answer": "NOT_FOUND"}]
    summary = {"questions": 2, "judged": 1, "right": right, "by_kind": {"numeric": f"{right}/1", "yes/no": "0/0",
               "open": "0/1"}, "cited": 1, "cited_evidence": 1, "evidence_retrieved": 1, "not_found": 1,
               "invented": 0, "median_s": 40.0, "files": 2, "pages": 40, "chunks": 90, "index_seconds": 2.0}
    return {"model": quality.BETTER, "set": "dev", "part": "all", "k": 5, "summary": summary, "rows": rows}


def test_rows_without_a_result_file_are_kept_and_new_results_replace_theirs(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "OUT", tmp_path / "out")
    (tmp_path / "out").mkdir()
    held = [{"file": "chnsenticorp_dev.csv", "part": "held", "rows": 25, "right": 22, "accuracy": 0.88,
             "rows_per_minute": 3.1, "median_s_per_row": 19.0, "seconds": 480.0, "model": quality.BETTER}]
    sentiment = tmp_path / "out" / "sentiment_held_1.5B.json"
    sentiment.write_text(json.dumps(held), encoding="utf-8")
    kb = tmp_path / "out" / "kb_answers.json"
    kb.write_text(json.dumps(kb_result(1)), encoding="utf-8")
    doc = tmp_path / "quality.md"
    first = quality.write_report(doc)
    assert "88.0% (22/25)" in first and "**1/1** judged right" in first
    assert "`fb_1` A.pdf (numeric) — **right**" in first and "`fb_2` B.pdf (open) — **not judged**" in first

    # Another checkout: the sentiment result is gone, the KB result is new; the sentiment row stays as it was.
    sentiment.unlink()
    kb.write_text(json.dumps(kb_result(0)), encoding="utf-8")
    second = quality.write_report(doc)
    sentiment_rows = [line for line in second.splitlines() if "chnsenticorp_dev.csv" in line]
    assert sentiment_rows == [line for line in first.splitlines() if "chnsenticorp_dev.csv" in line]
    assert "**0/1** judged right" in second and "**1/1** judged right" not in second
    assert "tuning only" in second and "-m eval.kb_answers --model qwen2.5-coder-1.5b-instruct --set dev" in second
    not_run = next(line for line in second.splitlines() if line.startswith("Not run yet"))
    assert "sentiment_held_1.5B" not in not_run and "sentiment_tune_1.5B" in not_run and "kb_answers`" not in not_run
