"""Quality smoke: a handful of items per model-backed task through the real built-in model, which the local provider
runs as a llama.cpp server on 127.0.0.1 and talks to over HTTP. Behaviour only (exact numbers, labels from the
choices, SQL that runs, only citations that exist), never timing; the measured figures are in docs/quality.md."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from services.errors import AppError
from services.providers import get_provider

BETTER, FASTER = "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct"


@pytest.fixture(scope="module", autouse=True)
def model_files():
    """Skip only when the built-in model's files are not installed; any other fault fails the tests."""
    from services.local_model.files import model_path
    for name in (BETTER, FASTER):
        try:
            model_path(name)
        except AppError as exc:
            if "not installed" in str(exc.message("en")):
                pytest.skip(f"built-in model files are not installed ({name}): {exc.message('en')}")
            raise


def conn(model: str = BETTER, **options):
    return get_provider("local").connect(model, temperature=0.0, **options)


def numbers_in(text: str) -> set[str]:
    """Numbers written in a text, thousands separators and trailing .0 dropped (3,000.0 -> 3000)."""
    out = set()
    for raw in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        out.add(value)
    return out


def test_agent_calculator_numbers_are_exact_and_none_is_invented():
    # The question. The 1.5B reads "分别加 1000、减 500、再乘 1.2" in its own way (its exact-answer rate for
    # 3000/4200/5400 is measured in docs/quality.md); what must always hold is that it calls the calculator, that
    # every result is the exact value of the expression it sent, and that the answer states no number the
    # calculator did not give.
    from services.agent import AgentContext, answer_of, builtin_tools, run_agent
    from services.agent.calculator import evaluate, format_decimal
    events = list(run_agent(conn(max_tokens=300), "把 2000, 3000, 4000 分别加 1000、减 500、再乘 1.2",
                            builtin_tools(AgentContext()), lang="zh", time_limit_s=900))
    results = [e for e in events if e.kind == "observation" and e.tool == "calculator" and not e.error]
    assert results, [e.to_dict() for e in events]
    given = set()
    for e in results:
        exact = evaluate(e.data["expression"])
        exact = exact if isinstance(exact, list) else [exact]
        got = e.data["results"] if "results" in e.data else [e.data["result"]]
        assert got == [format_decimal(v) for v in exact]
        given |= numbers_in(" ".join(got))
    answer = answer_of(events)
    assert answer.status == "ok"
    operands = {"2000", "3000", "4000", "1000", "500", "1.2"}
    numbering = {str(n) for n in range(1, 10)}  # "1. 3000" in a list
    assert numbers_in(answer.text) <= given | operands | numbering, answer.text


def test_ai_column_labels_come_from_the_choices_only():
    from services import ai_column
    reviews = pd.DataFrame({"评论": ["房间干净，服务热情，下次还来。", "空调坏了一晚上没人修，太差了。"]})
    out = ai_column.run_column(reviews, "评论", "判断这条评论的情感：正向 或 负向", conn(FASTER), choices=["正向", "负向"])
    assert out["AI"].tolist() == ["正向", "负向"]


def test_chatbi_sql_from_the_model_runs(tmp_path):
    from services.chatbi.assistant import ask
    from services.chatbi.engine import DuckSession
    path = tmp_path / "sales.csv"
    path.write_text("地区,产品,销售额\n华东,A,120\n华东,B,80\n华北,A,60\n华南,B,90\n", encoding="utf-8")
    session = DuckSession()
    try:
        session.add_file(path)
        answer = ask(session, conn(), "每个地区的销售额合计是多少？", lang="zh", summarize=False)
        assert answer.error is None and answer.result is not None, answer.attempts
        got = {str(r[0]): float(r[-1]) for r in answer.result.rows}
        assert got == {"华东": 200.0, "华北": 60.0, "华南": 90.0}
    finally:
        session.close()


def test_kb_answer_is_found_and_every_citation_shown_exists(tmp_path):
    # The 1.5B often answers a short fact without a [n] marker (then the page warns "没有标注任何来源"); what must
    # always hold is that the fact comes back, no invented citation survives, and each citation shown is a real
    # passage of the document with a quote taken from it.
    from services.kb import embeddings
    from services.kb.answering import ask
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    bm25 = embeddings.KeywordOnly()
    store = KBStore(chroma_client(tmp_path / "chroma"))
    store.create_base("kb", embedder=bm25.id, chunk_size=300, overlap=40)
    doc = tmp_path / "员工手册.txt"
    doc.write_text("第三章 休假\n员工每年享有带薪年假十天，入职满五年后增加到十五天。\n\n"
                   "第四章 报销\n差旅费用应在出差结束后三十日内提交报销申请。", encoding="utf-8")
    add_files("kb", [(doc, doc.name)], store=store, embedder=bm25)
    answer = ask("kb", "员工每年有几天带薪年假？", conn(), k=3, lang="zh", store=store, embedder=bm25)
    assert not answer.not_found and ("十天" in answer.text or "10" in answer.text), answer.text
    assert answer.passages and all(p.file == doc.name and p.page == 1 for p in answer.passages)
    flat = "".join(doc.read_text(encoding="utf-8").split())
    for c in answer.citations:
        assert c.file == doc.name and c.page == 1, c
        assert "".join(c.quote.rstrip("…").split()) in flat, c.quote  # quoted from the document, not made up
    for n in answer.invented:
        assert f"[{n}]" not in answer.text
