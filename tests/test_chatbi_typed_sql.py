"""ChatBI: SQL the user types into the question box runs as written; only plain language goes to the model."""
from __future__ import annotations

import pytest

from services.chatbi.assistant import ask, typed_sql
from services.chatbi.engine import DuckSession
from services.providers.replay import script_for

ROWS = "region,amount,note\nnorth,10,LT-typed-1\nsouth,20,other\nnorth,5,third\n"


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(ROWS, encoding="utf-8")
    s = DuckSession()
    s.add_file(path)
    yield s
    s.close()


def test_typed_select_runs_without_asking_the_model_for_sql(source, replay_conn):
    conn = replay_conn(["北区合计 15，南区 20。"])  # only the summary may be asked for
    answer = ask(source, conn, "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY region",
                 lang="zh")
    assert answer.error is None
    assert answer.result.rows == [("north", 15), ("south", 20)]
    assert answer.summary == "北区合计 15，南区 20。"
    sent = script_for(conn.replay_path).requests
    assert len(sent) == 1  # the summary prompt, nothing asking for SQL
    assert sent[0][0]["role"] == "system" and sent[0][0]["content"].startswith("You explain query results")


def test_typed_sql_without_a_model_gets_the_automatic_summary(source):
    answer = ask(source, None, "select note from sales where amount = 10", lang="en", summarize=False)
    assert answer.error is None and answer.result.rows == [("LT-typed-1",)]
    assert answer.summary and len(answer.attempts) == 1 and answer.attempts[0].error is None


@pytest.mark.parametrize("question", [
    "select the region that sold most",           # plain language that starts with "select"
    "With the sales data, which region leads?",   # plain language that starts with "with"
    "SELECT * FROM salaries",                      # a table that does not exist: the model may know better
    "每个地区的金额合计是多少？",
])
def test_plain_language_is_not_taken_for_sql(source, question):
    assert not typed_sql(source, question)


def test_typed_sql_is_still_guarded(source, replay_conn):
    # Not a read-only SELECT, so not "typed SQL": the model is asked, and its unsafe answer is refused as before.
    conn = replay_conn(["```sql\nDELETE FROM sales\n```"])
    answer = ask(source, conn, "WITH x AS (SELECT 1) DELETE FROM sales", lang="en")
    assert answer.result is None and answer.error is not None
    assert source.run("SELECT COUNT(*) FROM sales").rows == [(3,)]
