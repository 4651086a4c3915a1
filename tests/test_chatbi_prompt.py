"""What the model is given to write ChatBI's SQL: schema with values and row order, the question's language, the
repair message with the exact names, deterministic settings; and the fixed tuning/held-out split of the evals."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from services.chatbi.assistant import ask, column_values, repair_message, sql_connection, sql_system_prompt
from services.chatbi.engine import DuckSession, SqlExecutionError
from services.providers.base import Connection
from services.providers.replay import script_for

ROOT = Path(__file__).resolve().parents[1]
TEAMS = ("Year,Team Name,Avg. Attendance,Result\n"
         + "".join(f"{2000 + i},{'Lions' if i % 2 else 'Tigers'},{1000 + i},{'Won' if i % 3 else 'Lost'}\n"
                   for i in range(20))
         + "".join(f"{2020 + i},Club {i},{500 + i},Draw\n" for i in range(15)))


@pytest.fixture
def session(tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text(TEAMS, encoding="utf-8")
    s = DuckSession()
    s.add_file(path)
    yield s
    s.close()


def test_short_text_columns_have_their_values_listed_and_long_ones_do_not(session):
    values = column_values(session, "teams", session.describe()[0].columns)
    assert set(values) == {"Result"}
    assert sorted(values["Result"]) == ["Draw", "Lost", "Won"]
    # 17 team names are more than the listing takes; a number column is never listed.
    assert "Team Name" not in values and "Year" not in values
    system = sql_system_prompt(session, "en")
    assert "values of \"Result\": " in system and "'Draw'" in system


def test_prompt_explains_row_order_quoting_and_the_answer_column(session):
    system = sql_system_prompt(session, "en")
    assert "rowid" in system and "ORDER BY rowid" in system
    assert '"Avg. Attendance" DOUBLE' in system or '"Avg. Attendance" BIGINT' in system
    assert "double quotes" in system and "first column" in system
    assert "The user's language is English" in system
    # rowid is DuckDB's: a query using it runs over a loaded table and gives the file's first row.
    assert session.run('SELECT "Year" FROM "teams" ORDER BY rowid LIMIT 1').rows == [(2000,)]


def test_chinese_questions_get_an_instruction_in_chinese(session):
    system = sql_system_prompt(session, "zh")
    assert "用户的问题是中文" in system and "Chinese" in system


def test_repair_message_carries_the_database_error_and_the_exact_names(session):
    try:
        session.run('SELECT "Team" FROM "teams"')
    except SqlExecutionError as exc:
        error = exc
    text = repair_message(error, session)
    assert "Team" in text and '"teams": "Year", "Team Name", "Avg. Attendance", "Result"' in text
    assert "corrected query" in text


def test_failed_query_is_repaired_with_the_names_in_the_conversation(session, replay_conn):
    conn = replay_conn(['```sql\nSELECT "Team" FROM "teams"\n```',
                        '```sql\nSELECT "Team Name" FROM "teams" ORDER BY rowid DESC LIMIT 1\n```'])
    answer = ask(session, conn, "which team is last?", lang="en", summarize=False)
    assert answer.ok and answer.result.rows == [("Club 14",)] and len(answer.attempts) == 2
    repair = script_for(conn.replay_path).requests[1][-1]["content"]
    assert '"Team Name"' in repair and "Team" in repair


def test_sql_is_written_at_temperature_zero_with_a_short_cap_unless_the_caller_chose():
    plain = sql_connection(Connection(provider="local", model="m"))
    assert plain.temperature == 0.0 and 0 < plain.max_tokens <= 512
    chosen = sql_connection(Connection(provider="local", model="m", temperature=0.7, max_tokens=900))
    assert chosen.temperature == 0.7 and chosen.max_tokens == 900


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "eval" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wtq_split_is_fixed_twenty_tuning_and_forty_held_out():
    wtq = _module("chatbi_wtq")
    ids = [f"nt-{i}" for i in range(60)]
    parts = [wtq.part_of(i) for i in ids]
    assert parts.count("tune") == 20 and parts.count("heldout") == 40
    assert wtq.part_of("nt-0") == "tune" and wtq.part_of("nt-1") == "heldout" and wtq.part_of("nt-57") == "tune"
    if (wtq.DATA / "wtq_questions.tsv").is_file():
        assert [q["id"] for q in wtq.load_questions()] == ids


@pytest.mark.parametrize("sql, fixed", [
    ("SELECT team_name FROM teams ORDER BY avg_attendance DESC LIMIT 1",
     'SELECT "Team Name" FROM teams ORDER BY "Avg. Attendance" DESC LIMIT 1'),
    ("SELECT t.TEAM_NAME AS team_name FROM Teams_ AS t ORDER BY team_name",
     'SELECT t."Team Name" AS team_name FROM "teams" AS t ORDER BY team_name'),
    ('SELECT "Result", count(*) AS n FROM "teams" GROUP BY 1', 'SELECT "Result", count(*) AS n FROM "teams" GROUP BY 1'),
    ("SELECT nosuch FROM teams", "SELECT nosuch FROM teams"),        # no match: left for DuckDB's error
    ("SELEC broken", "SELEC broken"),                                  # unparseable: left for the guard
])
def test_names_without_their_quotes_are_mapped_to_the_one_real_name(session, sql, fixed):
    from services.chatbi.assistant import fix_names
    assert fix_names(sql, session) == fixed


def test_a_query_with_unquoted_names_runs_after_the_names_are_fixed(session, replay_conn):
    conn = replay_conn(["```sql\nSELECT team_name, avg_attendance FROM teams ORDER BY rowid DESC LIMIT 1\n```"])
    answer = ask(session, conn, "last team?", lang="en", summarize=False)
    assert answer.ok and len(answer.attempts) == 1 and answer.result.rows == [("Club 14", 514)]
    assert '"Team Name"' in answer.attempts[0].sql


def test_repair_message_adds_a_hint_for_text_used_as_a_number(session, tmp_path):
    path = tmp_path / "ranks.csv"
    path.write_text("Rank,Nation\n1st,Sweden\n2nd,Turkey\n", encoding="utf-8")
    session.add_file(path)
    try:
        session.run('SELECT "Rank" + 1 FROM "ranks"')
    except SqlExecutionError as exc:
        error = exc
    assert "TRY_CAST" in repair_message(error, session)
    assert "ILIKE" in sql_system_prompt(session, "en")
