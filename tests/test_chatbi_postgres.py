"""ChatBI over a real PostgreSQL server started by the tests on 127.0.0.1, reached with a read-only role."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest

from services.chatbi.assistant import ask
from services.chatbi.engine import SqlExecutionError
from services.chatbi.external import ExternalDatabase
from services.chatbi.guard import SqlRefused
from services.errors import InputError
from services.providers.replay import script_for
from tests.servers import free_port

READER_PASSWORD = "reader-secret-pw"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None




def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI containers run tests as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster with a `shop` database and a read-only `reader` role."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: install the Debian package "
                    "`postgresql` (listed in requirements-system.txt; CI installs it)")
    import psycopg2
    root = Path(tempfile.mkdtemp(prefix="bi-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-U", "admin", "--auth-local=trust",
                                      "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-l", str(root / "log.txt"), "-w", "-t", "60",
                                      "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    try:
        admin = psycopg2.connect(host=str(sock), port=port, user="admin", dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute("CREATE DATABASE shop")
        admin.close()
        admin = psycopg2.connect(host=str(sock), port=port, user="admin", dbname="shop")
        admin.autocommit = True
        cur = admin.cursor()
        cur.execute("""
            CREATE TABLE orders (id serial PRIMARY KEY, order_date date, region text, product text,
                                 amount numeric(12, 2));
            INSERT INTO orders (order_date, region, product, amount)
              SELECT date '2023-01-01' + (i % 365), (ARRAY['east','west','north','south'])[1 + i % 4],
                     (ARRAY['laptop','monitor','cable'])[1 + i % 3], (i % 50) * 10.5
              FROM generate_series(1, 2000) AS i;
            CREATE TABLE "销售" ("城市" text, "金额" integer);
            INSERT INTO "销售" VALUES ('北京', 100), ('上海', 250), ('北京', 50);
            CREATE SCHEMA hr;
            CREATE TABLE hr.salaries (name text, salary integer);
            INSERT INTO hr.salaries VALUES ('alice', 99999);
            CREATE ROLE reader LOGIN PASSWORD 'READER_PASSWORD';
            GRANT CONNECT ON DATABASE shop TO reader;
            GRANT USAGE ON SCHEMA public TO reader;
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
        """.replace("READER_PASSWORD", READER_PASSWORD))
        yield {"url": f"postgresql+psycopg2://reader:{READER_PASSWORD}@127.0.0.1:{port}/shop", "port": port,
               "admin": admin}
        admin.close()
    finally:
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def db(postgres):
    database = ExternalDatabase(postgres["url"], max_rows=100, timeout_s=2)
    yield database
    database.close()


def order_count(postgres) -> int:
    cur = postgres["admin"].cursor()
    cur.execute("SELECT count(*) FROM orders")
    return cur.fetchone()[0]


def test_tables_are_listed_with_columns(db):
    assert set(db.table_names()) == {"orders", "销售"}  # hr.salaries is not readable by the role
    columns = {c.name: c.type for c in db.tables["orders"].columns}
    assert columns["amount"].startswith("NUMERIC") and columns["order_date"] == "DATE"


def test_question_answered_over_postgres(db, replay_conn):
    conn = replay_conn(['```sql\nSELECT "城市", sum("金额") AS total FROM "销售" GROUP BY 1 ORDER BY 2 DESC\n```',
                        "上海最多。"])
    answer = ask(db, conn, "各城市金额合计", lang="zh")
    assert answer.ok and answer.result.rows == [("上海", 250), ("北京", 150)]
    assert answer.chart.kind == "bar"
    system = script_for(conn.replay_path).requests[0][0]["content"]
    assert "PostgreSQL" in system and '"金额" INTEGER' in system and "北京" in system


def test_numeric_and_date_results(db):
    result = db.run("SELECT region, sum(amount) AS total, min(order_date) AS first FROM orders "
                    "GROUP BY region ORDER BY region")
    assert len(result.rows) == 4 and isinstance(result.rows[0][1], Decimal)
    assert str(result.rows[0][2]) == "2023-01-01"


def test_row_limit_applies(db):
    result = db.run("SELECT * FROM orders")
    assert len(result.rows) == 100 and result.truncated


def test_percent_signs_in_sql_are_not_taken_for_parameters(db):
    assert db.run("SELECT count(*) FROM orders WHERE product LIKE 'lap%'").rows[0][0] > 0


@pytest.mark.parametrize("sql", [
    "DELETE FROM orders",
    "UPDATE orders SET amount = 0",
    "INSERT INTO orders (region) VALUES ('x')",
    "DROP TABLE orders",
    "TRUNCATE orders",
    "COPY orders TO '/tmp/orders.csv'",
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT * FROM dblink('host=127.0.0.1', 'SELECT 1') AS t(x int)",
    "SELECT query_to_xml('SELECT * FROM hr.salaries', true, true, '')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT nextval('orders_id_seq')",
    "SELECT * FROM hr.salaries",
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT * FROM orders FOR UPDATE",
    "SET statement_timeout = 0",
    "SELECT 1; DELETE FROM orders",
])
def test_writes_files_and_other_schemas_are_refused(db, postgres, sql):
    before = order_count(postgres)
    with pytest.raises(SqlRefused):
        db.run(sql)
    assert order_count(postgres) == before


def test_read_only_transaction_stops_writes_that_get_past_the_guard(db, postgres):
    """Second line of defence: even SQL that skipped the guard runs in a read-only transaction."""
    before = order_count(postgres)
    for sql in ["INSERT INTO orders (region) VALUES ('x')", "SELECT nextval('orders_id_seq')",
                "UPDATE orders SET amount = 0"]:
        with pytest.raises(SqlExecutionError, match="(?i)read-only|permission denied"):
            db._read_only(sql, 1)
    assert order_count(postgres) == before


def test_statement_time_limit(postgres):
    database = ExternalDatabase(postgres["url"], timeout_s=0.5)
    try:
        with pytest.raises(InputError) as exc:
            database.run("SELECT count(*) FROM generate_series(1, 1000000000) AS a")
        assert exc.value.key == "bi.error.timeout"
        assert database.run("SELECT count(*) FROM orders").rows == [(2000,)]  # still usable
    finally:
        database.close()


def test_unknown_column_error_reaches_the_model_for_repair(db, replay_conn):
    conn = replay_conn(["```sql\nSELECT regoin FROM orders\n```",
                        "```sql\nSELECT count(DISTINCT region) AS regions FROM orders\n```", "Four regions."])
    answer = ask(db, conn, "how many regions?", lang="en")
    assert answer.ok and answer.result.rows == [(4,)]
    assert "regoin" in script_for(conn.replay_path).requests[1][-1]["content"]


def test_database_that_is_down_gives_a_clear_message_without_the_password():
    url = f"postgresql+psycopg2://reader:{READER_PASSWORD}@127.0.0.1:{free_port()}/shop"
    with pytest.raises(InputError) as exc:
        ExternalDatabase(url, connect_timeout_s=2)
    assert exc.value.key == "bi.error.db_down"
    message = exc.value.message("zh")
    assert "无法连接数据库" in message and READER_PASSWORD not in message and "***" in message


def test_wrong_password_and_bad_urls(postgres):
    with pytest.raises(InputError) as exc:
        ExternalDatabase(postgres["url"].replace(READER_PASSWORD, "wrong"))
    assert exc.value.key == "bi.error.db_down" and "wrong" not in exc.value.message("en")
    with pytest.raises(InputError) as bad:
        ExternalDatabase("not a url")
    assert bad.value.key == "bi.error.db_url"
    with pytest.raises(InputError) as other:
        ExternalDatabase("oracle://u:p@127.0.0.1/x")
    assert other.value.key == "bi.error.db_url"


def test_server_stopping_mid_session_is_reported(postgres, replay_conn):
    """Terminating the reader's backend looks like an outage to the app; the message says so, no traceback."""
    database = ExternalDatabase(postgres["url"])
    try:
        assert database.run("SELECT 1").rows == [(1,)]
        cur = postgres["admin"].cursor()
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'reader'")
        time.sleep(0.2)
        # pool_pre_ping replaces the dead connection, so the next query simply works again.
        assert database.run("SELECT 2").rows == [(2,)]
    finally:
        database.close()


def test_cli_answers_over_a_database_url(postgres, tmp_path):
    import json
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    replies = tmp_path / "r.jsonl"
    replies.write_text(json.dumps({"content": "```sql\nSELECT region, count(*) AS n FROM orders GROUP BY 1 "
                                              "ORDER BY 1\n```"}) + "\n" + json.dumps({"content": "ok"}) + "\n")
    out = subprocess.run([sys.executable, "-m", "services", "ask", postgres["url"], "orders per region", "--replay",
                          str(replies), "--json"], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["rows"] == [["east", 500], ["north", 500], ["south", 500], ["west", 500]]
    refused = subprocess.run([sys.executable, "-m", "services", "ask", postgres["url"], "wipe", "--sql",
                              "DELETE FROM orders", "--lang", "en"], cwd=root, capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 1 and "refused" in refused.stderr and READER_PASSWORD not in refused.stderr
