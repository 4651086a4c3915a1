"""MCP servers added on the settings page are offered to agent mode in the chat page (a real HTTP MCP server)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.providers.replay import script_for
from tests.servers import free_port, stop
from tests.test_agent_mcp import server_script  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def http_mcp(server_script):  # noqa: F811
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(server_script), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                stop(proc)
                pytest.fail("the MCP test server did not start")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/mcp"
    stop(proc)


def settings_page(replay_path: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if replay_path:
        at.session_state["app.provider"] = "replay"
        at.session_state["app.replay_path"] = replay_path
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    return at


def add_server(at: AppTest, spec: str) -> None:
    at.text_input(key="settings.mcp_spec").input(spec)
    next(b for b in at.button if b.label in ("连接并添加", "Connect and add")).click()
    at.run()


def test_a_url_added_in_settings_is_offered_and_called_in_agent_mode(http_mcp, replay_conn):
    conn = replay_conn([
        {"content": "", "tool_calls": [{"name": "fx__exchange_rate", "args": {"currency": "EUR"}, "id": "m1"}]},
        {"content": "1 欧元约合 7.75 元人民币。"},
    ])
    at = settings_page(conn.replay_path)
    add_server(at, f"fx={http_mcp}")
    assert not at.exception and not at.error
    assert any("fx__exchange_rate" in s.value for s in at.success)
    assert at.session_state["app.mcp_urls"] == [f"fx={http_mcp}"]
    assert "fx" in at.dataframe[-1].value.iloc[:, 0].tolist()

    at.switch_page("pages/chat.py")
    at.session_state["chat.agent"] = True
    at.run()
    assert at.multiselect(key="chat.mcp.widget").value == ["fx"]
    at.chat_input[0].set_value("1 欧元是多少人民币？").run()
    assert not at.exception
    answer = at.session_state["chat.messages"][-1]
    assert answer["status"] == "ok" and "7.75" in answer["content"]
    observation = next(s for s in answer["sources"]["trace"] if s["kind"] == "observation")
    assert observation["text"].strip() == "7.75" and not observation.get("error")
    offered = {tool["function"]["name"] for tool in script_for(conn.replay_path).request_options[0]["tools"]}
    assert {"fx__exchange_rate", "calculator"} <= offered and "fx__drop_rates" not in offered


def test_unticked_servers_are_not_offered(http_mcp, replay_conn):
    conn = replay_conn(["不用工具的回答。"])
    at = settings_page(conn.replay_path)
    add_server(at, f"fx={http_mcp}")
    at.switch_page("pages/chat.py")
    at.session_state["chat.agent"] = True
    at.run()
    at.multiselect(key="chat.mcp.widget").set_value([]).run()
    at.chat_input[0].set_value("你好").run()
    assert not at.exception
    offered = {tool["function"]["name"] for tool in script_for(conn.replay_path).request_options[0]["tools"]}
    assert "calculator" in offered and not any(name.startswith("fx__") for name in offered)


def test_commands_and_unreachable_servers_are_refused_with_a_message():
    at = settings_page()
    add_server(at, f"evil={sys.executable} -c 'print(1)'")
    assert not at.exception
    assert any("AGENT_MCP_SERVERS" in e.value for e in at.error)
    port = free_port()  # nothing listens there
    add_server(at, f"gone=http://127.0.0.1:{port}/mcp")
    assert not at.exception
    assert any("gone" in e.value for e in at.error)
    assert at.session_state["app.mcp_urls"] == []


def test_the_administrators_stdio_server_is_listed_and_offered(server_script, replay_conn, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AGENT_MCP_SERVERS", f"rates={sys.executable} {server_script}")
    conn = replay_conn([
        {"content": "", "tool_calls": [{"name": "rates__exchange_rate", "args": {"currency": "USD"}, "id": "r1"}]},
        {"content": "1 美元约合 7.12 元人民币。"},
    ])
    at = settings_page(conn.replay_path)
    table = at.dataframe[-1].value
    assert table.iloc[0].tolist() == ["rates", Path(sys.executable).name, "管理员"]  # the program, not its arguments
    at.switch_page("pages/chat.py")
    at.session_state["chat.agent"] = True
    at.run()
    at.chat_input[0].set_value("1 美元是多少人民币？").run()
    assert not at.exception
    trace = at.session_state["chat.messages"][-1]["sources"]["trace"]
    assert next(s for s in trace if s["kind"] == "observation")["text"].strip() == "7.12"
