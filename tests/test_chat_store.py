"""The conversation store: lasting conversations per user, search, presets, concurrent writers, faults; SQLite and a
real PostgreSQL server."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from services.chat.store import ConversationStore, Message, owner_for
from services.errors import AppError
from tests.servers import free_port

ALICE, BOB = "browser:" + "a" * 32, "browser:" + "b" * 32


@pytest.fixture
def store(tmp_path):
    s = ConversationStore(f"sqlite:///{tmp_path / 'chat.db'}", timeout_s=5)
    yield s
    s.close()


def fill(store: ConversationStore, owner: str, title: str, *pairs: tuple[str, str]):
    conv = store.create(owner, title)
    for question, answer in pairs:
        store.add(owner, conv.id, Message(role="user", content=question))
        store.add(owner, conv.id, Message(role="assistant", content=answer, provider="replay", model="replay",
                                          stats={"input_tokens": 3, "output_tokens": 5}))
    return conv


def test_a_conversation_is_kept_with_its_messages_and_chinese_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    first = ConversationStore(url)
    conv = fill(first, ALICE, "季度报告", ("营业收入是多少？", "约 12.3 亿元"))
    first.add(ALICE, conv.id, Message(role="assistant", content="半截", status="stopped", reasoning="想一想"))
    first.close()
    again = ConversationStore(url)  # as after a restart of the app
    got = again.messages(ALICE, conv.id)
    assert [(m.role, m.content, m.status) for m in got] == [
        ("user", "营业收入是多少？", "ok"), ("assistant", "约 12.3 亿元", "ok"), ("assistant", "半截", "stopped")]
    assert got[1].stats == {"input_tokens": 3, "output_tokens": 5} and got[2].reasoning == "想一想"
    assert [c.title for c in again.list(ALICE)] == ["季度报告"]


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(store, tmp_path):
    store.create(ALICE, "x")
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_rename_delete_and_newest_first(store):
    old = fill(store, ALICE, "旧对话", ("a", "b"))
    new = fill(store, ALICE, "新对话", ("c", "d"))
    assert [c.id for c in store.list(ALICE)] == [new.id, old.id]
    store.rename(ALICE, old.id, "  改过的名字 ")
    assert store.get(ALICE, old.id).title == "改过的名字"
    with pytest.raises(AppError) as exc:
        store.rename(ALICE, old.id, "   ")
    assert exc.value.key == "chat.error.empty_name"
    store.delete(ALICE, old.id)
    assert [c.id for c in store.list(ALICE)] == [new.id]
    with pytest.raises(AppError):
        store.messages(ALICE, old.id)


def test_search_finds_titles_and_message_text_with_a_snippet(store):
    fill(store, ALICE, "合同审阅", ("违约金条款是否合理？", "违约金过高，建议降低到两成"))
    fill(store, ALICE, "旅行计划", ("去杭州玩三天", "第一天西湖"))
    fill(store, ALICE, "百分比_测试", ("100% 确定吗", "是"))
    assert [c.title for c in store.list(ALICE, "违约金")] == ["合同审阅"]
    assert "违约金" in store.list(ALICE, "违约金")[0].snippet
    assert [c.title for c in store.list(ALICE, "旅行")] == ["旅行计划"]
    assert [c.title for c in store.list(ALICE, "西湖")] == ["旅行计划"]
    # LIKE wildcards in the query are taken literally
    assert [c.title for c in store.list(ALICE, "%")] == ["百分比_测试"]
    assert store.list(ALICE, "不存在的词") == []


def test_one_user_cannot_read_or_change_another_users_conversations(store):
    mine = fill(store, ALICE, "Alice 的秘密", ("我的工资是 3 万", "好的"))
    assert store.list(BOB) == [] and store.list(BOB, "工资") == []
    for attempt in (lambda: store.get(BOB, mine.id), lambda: store.messages(BOB, mine.id),
                    lambda: store.add(BOB, mine.id, Message(role="user", content="插入")),
                    lambda: store.rename(BOB, mine.id, "改名"), lambda: store.delete(BOB, mine.id),
                    lambda: store.delete_from(BOB, mine.id, 1),
                    lambda: store.set_prompt(BOB, mine.id, preset="general", system="x")):
        with pytest.raises(AppError) as exc:
            attempt()
        assert exc.value.key == "chat.error.not_found"
    assert [m.content for m in store.messages(ALICE, mine.id)] == ["我的工资是 3 万", "好的"]
    assert store.get(ALICE, mine.id).title == "Alice 的秘密"


def test_owner_is_the_login_else_the_browser_else_the_shared_workspace(monkeypatch):
    monkeypatch.delenv("ASSISTANT_CHAT_SHARED", raising=False)
    assert owner_for("li@example.com", "a" * 32) == "user:li@example.com"
    assert owner_for(None, "a" * 32) == "browser:" + "a" * 32
    with pytest.raises(ValueError):
        owner_for(None, "../../etc")
    monkeypatch.setenv("ASSISTANT_CHAT_SHARED", "1")
    assert owner_for(None, "a" * 32) == owner_for("li@example.com", None) == "shared-workspace"


def test_regenerate_and_edit_remove_a_message_and_everything_after(store):
    conv = fill(store, ALICE, "t", ("q1", "a1"), ("q2", "a2"))
    ids = [m.id for m in store.messages(ALICE, conv.id)]
    assert store.delete_from(ALICE, conv.id, ids[3]) == 1
    assert [m.content for m in store.messages(ALICE, conv.id)] == ["q1", "a1", "q2"]
    assert store.delete_from(ALICE, conv.id, ids[2]) == 1
    store.add(ALICE, conv.id, Message(role="user", content="q2 改"))
    assert [m.content for m in store.messages(ALICE, conv.id)] == ["q1", "a1", "q2 改"]


def test_user_presets_are_saved_per_user_and_replaced_by_name(store):
    first = store.save_preset(ALICE, "周报助手", "把要点整理成周报")
    assert store.save_preset(ALICE, "周报助手", "新版提示词") == first
    store.save_preset(ALICE, "合同", "站在乙方")
    assert [(p["name"], p["system"]) for p in store.presets(ALICE)] == [("周报助手", "新版提示词"), ("合同", "站在乙方")]
    assert store.presets(BOB) == []
    store.delete_preset(BOB, first)  # not Bob's: nothing happens
    assert len(store.presets(ALICE)) == 2
    store.delete_preset(ALICE, first)
    assert [p["name"] for p in store.presets(ALICE)] == ["合同"]
    with pytest.raises(AppError):
        store.save_preset(ALICE, "  ", "x")


def test_two_sessions_writing_at_the_same_time_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    setup = ConversationStore(url)
    shared = setup.create(ALICE, "两个标签页")
    errors: list[BaseException] = []
    per_thread = 40

    def writer(name: str, owner: str) -> None:
        store = ConversationStore(url)  # its own engine and connections: another browser session or app instance
        try:
            own = store.create(owner, f"{name} 的对话")
            for i in range(per_thread):
                store.add(owner, own.id, Message(role="user", content=f"{name}-{i}"))
                if owner == ALICE:
                    store.add(ALICE, shared.id, Message(role="user", content=f"{name}-{i}"))
                store.list(owner, name)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(n, o)) for n, o in (("甲", ALICE), ("乙", ALICE), ("丙", BOB))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    in_shared = [m.content for m in setup.messages(ALICE, shared.id)]
    assert len(in_shared) == 2 * per_thread
    for name in ("甲", "乙"):  # each writer's own order is kept
        assert [c for c in in_shared if c.startswith(name)] == [f"{name}-{i}" for i in range(per_thread)]
    for owner, name in ((ALICE, "甲"), (ALICE, "乙"), (BOB, "丙")):
        conv = setup.list(owner, f"{name} 的对话")[0]
        assert [m.content for m in setup.messages(owner, conv.id)] == [f"{name}-{i}" for i in range(per_thread)]
    setup.close()


def test_a_locked_database_gives_a_clear_message_and_works_again_when_released(tmp_path):
    path = tmp_path / "chat.db"
    store = ConversationStore(f"sqlite:///{path}", timeout_s=0.2)
    conv = store.create(ALICE, "t")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(AppError) as exc:
            store.add(ALICE, conv.id, Message(role="user", content="被锁住"))
        assert exc.value.key == "chat.error.db_locked"
        assert "正忙" in exc.value.message("zh") and "busy" in exc.value.message("en")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.add(ALICE, conv.id, Message(role="user", content="解锁后"))
    assert [m.content for m in store.messages(ALICE, conv.id)] == ["解锁后"]
    store.close()


def test_an_unwritable_database_location_names_the_place_and_the_setting(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    store = ConversationStore(f"sqlite:///{blocker / 'chat.db'}")
    with pytest.raises(AppError) as exc:
        store.create(ALICE, "t")
    assert exc.value.key == "chat.error.db_unwritable"
    text = exc.value.message("zh")
    assert "not-a-folder" in text and "ASSISTANT_CHAT_DB" in text and "Traceback" not in text


def test_a_read_only_database_file_says_it_cannot_write(tmp_path):
    path = tmp_path / "chat.db"
    ConversationStore(f"sqlite:///{path}").create(ALICE, "t")
    store = ConversationStore(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert [c.title for c in store.list(ALICE)] == ["t"]  # reading still works
    with pytest.raises(AppError) as exc:
        store.create(ALICE, "新的")
    assert exc.value.key == "chat.error.db_unwritable" and "readonly" in exc.value.message("en")


# -- a real PostgreSQL server, for a team deployment with several app instances ------------------------------------
PG_BIN = Path("/usr/lib/postgresql/15/bin")




@pytest.fixture(scope="module")
def postgres_url():
    bin_dir = PG_BIN if PG_BIN.is_dir() else Path(os.path.dirname(shutil.which("initdb") or "/nonexistent"))
    if not (bin_dir / "initdb").exists():
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql', in requirements-system.txt)")
    root = Path(tempfile.mkdtemp(prefix="chat-pg-"))  # not under pytest's root-only folders: postgres must reach it
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    port = free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "chat", "--auth=trust",
                    "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                    f"-h 127.0.0.1 -p {port} -k {root}", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://chat@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_keeps_conversations_per_user_with_two_app_instances(postgres_url):
    one, two = ConversationStore(postgres_url), ConversationStore(postgres_url)
    conv = fill(one, ALICE, "团队部署", ("净利润率怎么算？", "净利润 ÷ 营业收入"))
    assert [m.content for m in two.messages(ALICE, conv.id)] == ["净利润率怎么算？", "净利润 ÷ 营业收入"]
    assert two.list(BOB) == []
    with pytest.raises(AppError):
        two.messages(BOB, conv.id)
    assert [c.title for c in two.list(ALICE, "营业收入")] == ["团队部署"]
    errors = []

    def writer(store, tag):
        try:
            for i in range(25):
                store.add(ALICE, conv.id, Message(role="user", content=f"{tag}{i}"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s, tag)) for s, tag in ((one, "x"), (two, "y"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    contents = [m.content for m in one.messages(ALICE, conv.id)]
    assert len(contents) == 52
    assert [c for c in contents if c.startswith("x")] == [f"x{i}" for i in range(25)]
    one.close()
    two.close()
