"""Tools from Model Context Protocol servers (stdio command or HTTP URL), offered next to the built-in ones."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import shlex
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from services.agent.tools import AgentTool, ToolError, ToolOutput
from services.errors import InputError

MAX_RESULT_CHARS = 8000
_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server: a command started over stdio, or a streamable-HTTP URL."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] | None = field(default=None, hash=False)
    url: str | None = None
    timeout_s: float = 30.0
    allow_unannotated: bool = True   # offer tools that do not say whether they only read

    def __post_init__(self) -> None:
        if bool(self.command) == bool(self.url):
            raise InputError("agent.error.mcp_config", server=self.name or "?", detail="give either a command or a URL")
        if self.url and not re.match(r"^https?://", self.url):
            raise InputError("agent.error.mcp_not_http", server=self.name, url=self.url)

    @classmethod
    def parse(cls, spec: str, name: str | None = None, *, allow_command: bool = True) -> "McpServerConfig":
        """From settings text: 'name=URL', 'name=command args…', a bare URL or a bare command line.

        Text typed in a browser must pass allow_command=False: a stdio server is a program run on the app's machine.
        """
        spec = spec.strip()
        m = re.match(r"^([A-Za-z0-9_-]{1,32})=(.+)$", spec)
        if m:
            name, spec = m[1], m[2].strip()
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", spec):
            return cls(name=name or "mcp", url=spec)  # a non-HTTP URL is refused by the check in __post_init__
        if not allow_command:
            raise InputError("agent.error.mcp_command_not_allowed", server=name or "mcp")
        try:
            parts = shlex.split(spec)
        except ValueError as exc:
            raise InputError("agent.error.mcp_config", server=name or "mcp", detail=str(exc)) from None
        if not parts:
            raise InputError("agent.error.mcp_config", server=name or "mcp", detail="empty")
        return cls(name=name or re.sub(r"\W", "_", parts[0].rsplit("/", 1)[-1])[:32] or "mcp",
                   command=parts[0], args=tuple(parts[1:]))


def _first_error(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class McpServer:
    """A live connection to one MCP server, run on its own event-loop thread so sync code can call it."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.tool_defs: list[Any] = []
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._thread = threading.Thread(target=self._thread_main, name=f"mcp-{config.name}", daemon=True)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "McpServer":
        """Connect, initialize and list the tools; raises AppError when the server cannot be used."""
        self._thread.start()
        if not self._ready.wait(self.config.timeout_s):
            self.close()
            raise ToolError("agent.error.mcp_timeout", server=self.config.name, seconds=self.config.timeout_s)
        if self.error is not None:
            raise ToolError("agent.error.mcp_connect", server=self.config.name, detail=self._describe(self.error))
        return self

    def close(self) -> None:
        """End the session (and the server process for stdio)."""
        if self._loop is not None and self._queue is not None and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
            except RuntimeError:
                pass  # loop already closed
        self._thread.join(timeout=10)
        try:
            self._errlog.close()
        except OSError:
            pass

    def __enter__(self) -> "McpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _describe(self, exc: BaseException) -> str:
        exc = _first_error(exc)
        detail = f"{type(exc).__name__}: {exc}".strip()
        try:
            self._errlog.seek(0)
            tail = self._errlog.read()[-300:].strip()
        except (OSError, ValueError):
            tail = ""
        return (detail + (f" | {tail}" if tail else ""))[:500]

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller of start()
            if self.error is None:
                self.error = exc
        finally:
            self._ready.set()

    def _transport(self):
        if self.config.url:
            from mcp.client.streamable_http import streamable_http_client
            return streamable_http_client(self.config.url)
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client
        params = StdioServerParameters(command=self.config.command, args=list(self.config.args), env=self.config.env)
        return stdio_client(params, errlog=self._errlog)

    async def _main(self) -> None:
        from mcp import ClientSession
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        try:
            async with self._transport() as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await session.initialize()
                    cursor = None
                    while True:
                        listed = await session.list_tools(cursor)
                        self.tool_defs.extend(listed.tools)
                        cursor = listed.nextCursor
                        if not cursor:
                            break
                    self._ready.set()
                    while (item := await self._queue.get()) is not None:
                        name, args, future = item
                        try:
                            result = await asyncio.wait_for(session.call_tool(name, args), self.config.timeout_s)
                            future.set_result(result)
                        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                            future.set_exception(exc)
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
            self._ready.set()

    # ------------------------------------------------------------ tools
    def call(self, name: str, args: dict) -> Any:
        """Call a tool and wait for its result (CallToolResult)."""
        if self.error is not None or self._loop is None or not self._thread.is_alive():
            raise ToolError("agent.error.mcp_connect", server=self.config.name,
                            detail=self._describe(self.error) if self.error else "not connected")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (name, args, future))
        try:
            return future.result(timeout=self.config.timeout_s + 5)
        except (TimeoutError, concurrent.futures.TimeoutError, asyncio.TimeoutError):
            raise ToolError("agent.error.mcp_timeout", server=self.config.name, seconds=self.config.timeout_s) from None
        except ToolError:
            raise
        except BaseException as exc:  # noqa: BLE001 - any protocol fault is a tool error for the model
            raise ToolError("agent.error.mcp_call", name=name, detail=self._describe(exc)) from None

    def offered(self, tool_def) -> bool:
        """Only tools that read: those marked read-only, or unmarked ones when the config allows them."""
        hints = tool_def.annotations
        read_only = getattr(hints, "readOnlyHint", None) if hints is not None else None
        if read_only is False:
            return False
        return read_only is True or self.config.allow_unannotated

    def tools(self) -> list[AgentTool]:
        """The server's tools as agent tools, named '<server>__<tool>'."""
        out = []
        for tool_def in self.tool_defs:
            if not self.offered(tool_def):
                continue
            public = _NAME_OK.sub("_", f"{self.config.name}__{tool_def.name}")[:64]
            schema = dict(tool_def.inputSchema or {"type": "object", "properties": {}})
            schema.setdefault("type", "object")
            out.append(AgentTool(name=public, description=(tool_def.description or tool_def.name)[:1000],
                                 parameters=schema, run=self._runner(tool_def.name),
                                 source=f"mcp:{self.config.name}"))
        return out

    def _runner(self, remote_name: str):
        def run(args: dict) -> ToolOutput:
            result = self.call(remote_name, args)
            text = _result_text(result)
            if result.isError:
                raise ToolError("agent.error.mcp_call", name=remote_name, detail=text[:500])
            data: dict = {"server": self.config.name, "tool": remote_name, "text": text}
            if result.structuredContent is not None:
                data["structured"] = result.structuredContent
            return ToolOutput(text[:MAX_RESULT_CHARS], data)
        return run


def _result_text(result) -> str:
    parts = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource" and getattr(block.resource, "text", None) is not None:
            parts.append(block.resource.text)
        else:
            parts.append(f"[{kind or 'content'}]")
    if not parts and result.structuredContent is not None:
        parts.append(json.dumps(result.structuredContent, ensure_ascii=False, default=str))
    return "\n".join(parts)


class McpToolset:
    """Several MCP servers opened together; a server that fails is reported, the others stay usable."""

    def __init__(self, configs: list[McpServerConfig]) -> None:
        self.configs = configs
        self.servers: list[McpServer] = []
        self.errors: list[ToolError] = []

    def open(self) -> "McpToolset":
        """Connect every server."""
        seen: set[str] = set()
        for config in self.configs:
            if config.name in seen:  # tool names are '<server>__<tool>': two servers may not share a name
                self.errors.append(ToolError("agent.error.mcp_duplicate", server=config.name))
                continue
            seen.add(config.name)
            server = McpServer(config)
            try:
                self.servers.append(server.start())
            except ToolError as exc:
                server.close()
                self.errors.append(exc)
        return self

    @property
    def tools(self) -> list[AgentTool]:
        """All offered tools of the connected servers."""
        return [t for server in self.servers for t in server.tools()]

    def close(self) -> None:
        """Disconnect every server."""
        for server in self.servers:
            server.close()
        self.servers = []

    def __enter__(self) -> "McpToolset":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


SETTING = "AGENT_MCP_SERVERS"   # stored setting or environment variable: one server spec per line


def configured_servers(stored=None) -> list[McpServerConfig]:
    """MCP servers from settings (AGENT_MCP_SERVERS, one 'name=command args' or 'name=URL' per line)."""
    from services.keys import resolve_setting
    text = resolve_setting(SETTING, stored=stored) or ""
    lines = [line.strip() for line in text.replace("\\n", "\n").splitlines()]
    return [McpServerConfig.parse(line) for line in lines if line and not line.startswith("#")]


def save_servers(specs: list[str], *, allow_command: bool = False) -> None:
    """Store the MCP server list (checked first, so a bad line is refused before anything is written).

    Commands are refused unless allow_command: the settings page may add URLs; programs are set by whoever runs
    the app (environment variable or secrets file)."""
    from services.keys import save_setting
    for spec in specs:
        McpServerConfig.parse(spec, allow_command=allow_command)
    save_setting(SETTING, "\n".join(s.strip() for s in specs if s.strip()))


def session_servers(added_in_browser: list[str]) -> tuple[list[McpServerConfig], list[InputError]]:
    """The servers one session may use: the administrator's (AGENT_MCP_SERVERS) and the HTTP URLs it added itself.

    A bad line is reported, not fatal; a URL added in the browser may not reuse an administrator's server name.
    """
    configs: list[McpServerConfig] = []
    errors: list[InputError] = []
    try:
        configs = configured_servers()
    except InputError as exc:
        errors.append(exc)
    names = {c.name for c in configs}
    for spec in added_in_browser:
        try:
            config = McpServerConfig.parse(spec, allow_command=False)
        except InputError as exc:
            errors.append(exc)
            continue
        if config.name in names:
            errors.append(InputError("agent.error.mcp_duplicate", server=config.name))
            continue
        names.add(config.name)
        configs.append(config)
    return configs, errors


def server_address(config: McpServerConfig) -> str:
    """What to show for a server: its URL without query or credentials, or just the program's name for stdio."""
    if config.url:
        from urllib.parse import urlsplit
        parts = urlsplit(config.url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    # Arguments may carry tokens set by the administrator; the program name is enough to recognise it.
    return config.command.rsplit("/", 1)[-1]


def probe(config: McpServerConfig) -> list[AgentTool]:
    """Connect once and list the tools the agent would be offered; raises ToolError when the server is unusable."""
    with McpToolset([config]) as toolset:
        if toolset.errors:
            raise toolset.errors[0]
        return toolset.tools
