"""Agent mode: the model calls the app's own read-only tools (and MCP servers' tools), every step shown."""
from services.agent import messages  # noqa: F401  (registers texts)
from services.agent.kb_search import kb_searcher
from services.agent.loop import AgentEvent, answer_of, execute, run_agent, supports_tools
from services.agent.mcp_tools import (McpServer, McpServerConfig, McpToolset, configured_servers, probe, save_servers,
                                      server_address, session_servers)
from services.agent.trace import chart_figure, step_body, step_label
from services.agent.tools import AgentContext, AgentTool, KnowledgeSearch, ToolError, ToolOutput, builtin_tools

__all__ = ["kb_searcher", "AgentEvent", "answer_of", "execute", "run_agent", "supports_tools", "McpServer", "McpServerConfig", "probe", "server_address", "session_servers",
           "McpToolset", "configured_servers", "save_servers", "AgentContext", "AgentTool", "KnowledgeSearch", "ToolError", "ToolOutput", "builtin_tools",
           "chart_figure", "step_body", "step_label"]
