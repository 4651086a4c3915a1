"""Agent overheads on this machine, medians over repetitions in one run:

    python bench/agent_bench.py                 # 30 calls each
    python bench/agent_bench.py --calls 10

1. MCP tool call latency, stdio vs streamable HTTP side by side (same FastMCP server script), plus connect time.
2. The loop's own cost per tool step (replay model, calculator tool): what the agent adds on top of the model.
3. Calculator: time for a typical expression and for hostile ones that must be refused (9**9**9, 10**100000).
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = textwrap.dedent('''
    import sys
    from mcp.server.fastmcp import FastMCP
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    mcp = FastMCP("bench", host="127.0.0.1", port=port)

    @mcp.tool()
    def echo(text: str) -> str:
        """Return the text."""
        return text

    if __name__ == "__main__":
        mcp.run("streamable-http" if len(sys.argv) > 1 else "stdio")
''')


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _calls(toolset, n: int) -> list[float]:
    tool = toolset.tools[0]
    out = []
    for i in range(n):
        start = time.perf_counter()
        assert tool.run(tool.validate({"text": f"x{i}"})).text == f"x{i}"
        out.append(time.perf_counter() - start)
    return out


def bench_mcp(n: int, folder: Path) -> dict:
    from services.agent import McpServerConfig, McpToolset
    script = folder / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    start = time.perf_counter()
    with McpToolset([McpServerConfig(name="b", command=sys.executable, args=(str(script),))]) as stdio:
        stdio_connect = time.perf_counter() - start
        stdio_calls = _calls(stdio, n)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        start = time.perf_counter()
        with McpToolset([McpServerConfig(name="b", url=f"http://127.0.0.1:{port}/mcp")]) as http:
            http_connect = time.perf_counter() - start
            http_calls = _calls(http, n)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"stdio_connect_s": round(stdio_connect, 2), "http_connect_s": round(http_connect, 2),
            "stdio_call_median_ms": _median_ms(stdio_calls), "http_call_median_ms": _median_ms(http_calls),
            "http_over_stdio": round(statistics.median(http_calls) / statistics.median(stdio_calls), 2)}


def bench_loop(n: int, folder: Path) -> dict:
    from services.agent import AgentContext, builtin_tools, run_agent
    from services.providers import get_provider
    from services.providers.replay import forget
    path = folder / "replay.jsonl"
    steps = 3
    lines = [{"content": "", "tool_calls": [{"name": "calculator", "args": {"expression": f"{i}*1.2"}, "id": f"c{i}"}]}
             for i in range(steps)] + [{"content": "done"}]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    samples = []
    for _ in range(n):
        forget(path)
        conn = get_provider("replay").connect(replay_path=str(path))
        start = time.perf_counter()
        events = list(run_agent(conn, "q", builtin_tools(AgentContext()), today="2026-11-22"))
        samples.append((time.perf_counter() - start) / (steps + 1))
        assert events[-1].text == "done"
    return {"loop_per_model_turn_median_ms": _median_ms(samples)}


def bench_calculator(n: int) -> dict:
    from services.agent.calculator import evaluate
    from services.errors import InputError
    out = {}
    for label, expr in [("typical", "(2000+1000-500)*1.2, (3000+1000-500)*1.2, (4000+1000-500)*1.2"),
                        ("refused_9**9**9", "9**9**9"), ("refused_10**100000", "10**100000")]:
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            try:
                evaluate(expr)
            except InputError:
                pass
            samples.append(time.perf_counter() - start)
        out[f"calc_{label}_median_ms"] = _median_ms(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result = {**bench_calculator(args.calls * 10), **bench_loop(args.calls, folder), **bench_mcp(args.calls, folder)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
