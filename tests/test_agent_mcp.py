"""MCP servers started by the test (stdio and streamable HTTP on 127.0.0.1), and the agent CLI."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from services import cli
from services.agent import AgentContext, McpServerConfig, McpToolset, ToolError, answer_of, builtin_tools, run_agent
from services.errors import InputError
from services.providers.replay import script_for
from tests.servers import free_port

SERVER = textwrap.dedent('''
    import sys
    from mcp.server.fastmcp import FastMCP
    from mcp.types import ToolAnnotations

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    mcp = FastMCP("rates", host="127.0.0.1", port=port)

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def exchange_rate(currency: str) -> str:
        """CNY per one unit of the currency."""
        rates = {"USD": "7.12", "EUR": "7.75"}
        if currency not in rates:
            raise ValueError(f"unknown currency {currency}")
        return rates[currency]

    @mcp.tool()
    def rate_date() -> str:
        """The date the rates are from."""
        return "2026-11-20"

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
    def drop_rates() -> str:
        """Deletes every rate."""
        return "deleted"

    if __name__ == "__main__":
        mcp.run("streamable-http" if len(sys.argv) > 1 else "stdio")
''')


@pytest.fixture(scope="module")
def server_script(tmp_path_factory):
    path = tmp_path_factory.mktemp("mcp") / "rates_server.py"
    path.write_text(SERVER, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stdio_tools(server_script):
    with McpToolset([McpServerConfig(name="rates", command=sys.executable, args=(str(server_script),))]) as toolset:
        yield toolset


def call(name, args, id_):
    return {"name": name, "args": args, "id": id_}


def test_mcp_tool_is_offered_next_to_builtins_and_called(replay_conn, stdio_tools):
    assert stdio_tools.errors == []
    names = [t.name for t in stdio_tools.tools]
    assert names == ["rates__exchange_rate", "rates__rate_date"]  # the tool that writes is not offered
    conn = replay_conn([
        {"content": "", "tool_calls": [call("rates__exchange_rate", {"currency": "GBP"}, "m0")]},
        {"content": "", "tool_calls": [call("rates__exchange_rate", {"currency": "USD"}, "m1")]},
        {"content": "", "tool_calls": [call("calculator", {"expression": "250 * 7.12"}, "c1")]},
        "250 美元约合 1780 元人民币。",
    ])
    tools = builtin_tools(AgentContext()) + stdio_tools.tools
    events = list(run_agent(conn, "250 美元合多少人民币", tools, today="2026-11-22", lang="en"))
    script = script_for(conn.replay_path)
    bound = {t["function"]["name"]: t["function"] for t in script.request_options[0]["tools"]}
    assert set(bound) == {"calculator", "date_info", "rates__exchange_rate", "rates__rate_date"}
    assert bound["rates__exchange_rate"]["parameters"]["required"] == ["currency"]
    failed = [e for e in events if e.call_id == "m0" and e.kind == "observation"][0]
    assert failed.error and "unknown currency GBP" in failed.text
    back = [m for m in script.requests[2] if m["role"] == "tool"]
    assert back[-1] == {"role": "tool", "content": "7.12", "tool_call_id": "m1"}
    assert json.loads([m for m in script.requests[3] if m["role"] == "tool"][-1]["content"])["result"] == "1780"
    assert answer_of(events).text == "250 美元约合 1780 元人民币。"


def test_mcp_arguments_are_checked_against_the_servers_schema(stdio_tools):
    tool = stdio_tools.tools[0]
    with pytest.raises(ToolError) as info:
        tool.validate({"currency": 5})
    assert "Invalid arguments" in info.value.message("en")




def test_mcp_over_streamable_http(server_script):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(server_script), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        config = McpServerConfig.parse(f"fx=http://127.0.0.1:{port}/mcp")
        assert config.url and config.name == "fx"
        with McpToolset([config]) as toolset:
            assert toolset.errors == []
            tool = toolset.tools[0]
            assert tool.name == "fx__exchange_rate" and tool.source == "mcp:fx"
            assert tool.run(tool.validate({"currency": "EUR"})).text == "7.75"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_strict_read_only_offers_only_tools_marked_read_only(server_script):
    config = McpServerConfig(name="rates", command=sys.executable, args=(str(server_script),), allow_unannotated=False)
    with McpToolset([config, config]) as toolset:
        assert [t.name for t in toolset.tools] == ["rates__exchange_rate"]
        assert len(toolset.errors) == 1 and "duplicate" in toolset.errors[0].message("en")


def test_a_server_that_cannot_start_is_reported_and_others_keep_working(server_script):
    configs = [McpServerConfig(name="broken", command=sys.executable, args=("-c", "import sys; sys.exit(3)"),
                               timeout_s=20),
               McpServerConfig(name="rates", command=sys.executable, args=(str(server_script),))]
    with McpToolset(configs) as toolset:
        assert [t.name for t in toolset.tools] == ["rates__exchange_rate", "rates__rate_date"]
        assert len(toolset.errors) == 1 and "broken" in toolset.errors[0].message("en")


def test_bad_mcp_settings_are_refused():
    with pytest.raises(InputError):
        McpServerConfig(name="x")
    with pytest.raises(InputError):
        McpServerConfig(name="x", url="file:///etc/passwd")
    parsed = McpServerConfig.parse("docs=npx -y @modelcontextprotocol/server-filesystem '/my docs'")
    assert parsed.command == "npx" and parsed.args[-1] == "/my docs" and parsed.name == "docs"


def test_servers_come_from_the_settings_and_a_bad_line_is_refused_before_saving(tmp_path, monkeypatch):
    from services import keys
    from services.agent import configured_servers, save_servers
    monkeypatch.setattr(keys, "SECRETS_FILE", tmp_path / "secrets.toml")
    assert configured_servers() == []
    with pytest.raises(InputError) as info:
        save_servers(["rates=python server.py"])  # from the browser: no programs on the app's machine
    assert "AGENT_MCP_SERVERS" in info.value.message("en")
    save_servers(["fx=http://127.0.0.1:9/mcp", "rates=python server.py"], allow_command=True)
    assert [(c.name, c.url, c.command) for c in configured_servers()] == [
        ("fx", "http://127.0.0.1:9/mcp", None), ("rates", None, "python")]
    with pytest.raises(InputError):
        save_servers(["ok=http://127.0.0.1:9/mcp", "bad=ftp://x"])
    assert len(configured_servers()) == 2


# ------------------------------------------------------------------ CLI

def test_cli_prints_the_steps_and_the_answer(tmp_path, capsys, server_script):
    data = tmp_path / "sales.csv"
    data.write_text("region,amount\n华东,100\n华北,50\n华东,25\n", encoding="utf-8")
    replay = tmp_path / "r.jsonl"
    replay.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in [
        {"content": "查一下", "tool_calls": [call("query_tables", {"sql": "SELECT SUM(amount) AS s FROM sales"}, "q")]},
        {"content": "", "tool_calls": [call("rates__exchange_rate", {"currency": "USD"}, "r")]},
        "总销售额 175。",
    ]), encoding="utf-8")
    code = cli.main(["agent", "--replay", str(replay), "--data", str(data), "--lang", "zh",
                     "--mcp", f"rates={sys.executable} {server_script}", "销售额合计是多少"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[1] 思考: 查一下" in out and "[1] 调用工具: query_tables" in out and '"s"' in out and "175" in out
    assert "[2] 调用工具: rates__exchange_rate" in out and "[2] 结果: 7.12" in out
    assert out.rstrip().endswith("回答: 总销售额 175。")


def test_cli_json_lines_and_failure_exit_code(tmp_path, capsys):
    replay = tmp_path / "r.jsonl"
    replay.write_text('{"error": {"status": 500}}\n' * 3, encoding="utf-8")
    code = cli.main(["agent", "--replay", str(replay), "--json", "--lang", "en", "1+1?"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1 and lines[-1]["kind"] == "answer" and lines[-1]["error"] is True
    assert "server error" in lines[-1]["text"]


def test_the_three_lines_for_chat_agent_work_with_the_chat_command(tmp_path, capsys):
    """What the lead adds to commands/chat.py: add_agent_options(p) in register, run_agent_cli when --agent."""
    import argparse
    from services.commands import chat
    from services.commands.agent import add_agent_options, run_agent_cli
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command")
    chat.register(subparsers, cli.common_options())
    add_agent_options(subparsers.choices["chat"])
    replay = tmp_path / "r.jsonl"
    replay.write_text(json.dumps({"content": "", "tool_calls": [call("calculator", {"expression": "2+3"}, "c")]}) +
                      "\n" + json.dumps({"content": "5"}) + "\n", encoding="utf-8")
    args = parser.parse_args(["chat", "--agent", "--replay", str(replay), "--lang", "en", "2+3?"])
    assert args.agent and run_agent_cli(args) == 0
    out = capsys.readouterr().out
    assert "[1] Tool call: calculator" in out and '"result": "5"' in out and out.rstrip().endswith("Answer: 5")
