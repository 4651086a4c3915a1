"""Model providers, registered by name in one registry."""
from __future__ import annotations

import threading
from collections.abc import Mapping

from services.errors import AppError
from services.providers.base import Capabilities, Connection, ModelInfo, Provider

_registry: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add a provider to the registry under its name."""
    _registry[provider.name] = provider
    return provider


def get_provider(name: str) -> Provider:
    """The provider registered under name, or an error listing the choices."""
    _load_builtin()
    try:
        return _registry[name]
    except KeyError:
        raise AppError("error.unknown_provider", provider=name, choices=", ".join(_registry)) from None


def all_providers() -> list[Provider]:
    """Every registered provider, in registration order."""
    _load_builtin()
    return list(_registry.values())


def default_provider(stored: Mapping[str, str] | None = None) -> Provider:
    """The first configured remote provider; the built-in local model when none is."""
    for provider in all_providers():
        if provider.name not in ("local", "replay") and provider.is_configured(stored):
            return provider
    return get_provider("local")


def chat_model(conn: Connection):
    """The LangChain chat model for a connection."""
    return get_provider(conn.provider).chat_model(conn)


def model_info(conn: Connection) -> ModelInfo:
    """Facts about the connection's model."""
    return get_provider(conn.provider).model_info(conn.model)


_ORDER = ("dashscope", "openai", "deepseek", "siliconflow", "ollama", "vllm", "openai-compatible", "local", "replay")
_loaded = False
_loading = False
_load_lock = threading.RLock()


def _load_builtin() -> None:
    global _loaded, _loading
    if _loaded:
        return
    # Several browser sessions start at once: the others wait here until every provider is registered (they saw
    # an empty registry, "Unknown provider 'local'", when the flag was set before the imports finished).
    with _load_lock:
        if _loaded or _loading:
            return  # _loading: re-entered by a provider module while this thread imports it
        _loading = True
        try:
            # Imported here so that importing the registry stays cheap; each module registers itself.
            from services.providers import dashscope_provider, local, openai_compatible, replay  # noqa: F401
            # A module imported on its own (local imports openai_compatible) registers early: the order users
            # see, and the default provider, must not depend on which module was imported first.
            order = {name: i for i, name in enumerate(_ORDER)}
            ordered = sorted(_registry.items(), key=lambda item: order.get(item[0], len(order)))
            _registry.clear()
            _registry.update(ordered)
            _loaded = True
        finally:
            _loading = False


__all__ = ["Capabilities", "Connection", "ModelInfo", "Provider", "register", "get_provider", "all_providers",
           "default_provider", "chat_model", "model_info"]
