"""What every model provider declares: its models, what they can do, what it needs."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel


@dataclass(frozen=True)
class Capabilities:
    """What a provider's models can do."""

    stream: bool = True
    json_schema: bool = False   # can constrain output to a JSON schema (grammar or response_format)
    reasoning: bool = False     # some models return thinking text apart from the answer
    embeddings: bool = False
    audio: bool = False         # speech-to-text
    tools: bool = False         # function calling


@dataclass(frozen=True)
class ModelInfo:
    """One model: its context window and, where known, its price per million tokens."""

    name: str
    context_window: int = 32_768
    price_in: float | None = None
    price_out: float | None = None
    currency: str = "CNY"
    reasoning: bool = False


@dataclass(frozen=True)
class Connection:
    """A chosen provider and model plus what it needs to connect; the key is never printed."""

    provider: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    replay_path: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    timeout_s: float = 60.0

    def with_model(self, model: str) -> "Connection":
        """The same connection for another model."""
        return replace(self, model=model)


class Provider(ABC):
    """A source of models (client, key, base URL); models are chosen separately."""

    name: str = ""
    label: str = ""
    key_env: str | None = None          # variable holding the API key
    base_url_env: str | None = None     # variable holding the endpoint
    default_base_url: str | None = None
    capabilities: Capabilities = Capabilities()
    needs_key: bool = True
    models_editable: bool = False       # users may type any model name

    @abstractmethod
    def models(self) -> list[ModelInfo]:
        """Models offered by default (the first is the default)."""

    def model_info(self, model: str) -> ModelInfo:
        """Known facts about a model, with safe defaults for names typed by the user."""
        for info in self.models():
            if info.name == model:
                return info
        return ModelInfo(name=model)

    def is_configured(self, stored: Mapping[str, str] | None = None) -> bool:
        """Whether this provider can be used without further input from the user."""
        from services.keys import resolve_setting
        if self.needs_key:
            return bool(resolve_setting(self.key_env, None, stored))
        return bool(self.base_url_env and resolve_setting(self.base_url_env, None, stored))

    def connect(self, model: str | None = None, *, api_key: str | None = None, base_url: str | None = None,
                stored: Mapping[str, str] | None = None, **options) -> Connection:
        """A Connection with the key and base URL resolved (argument, stored setting, environment)."""
        from services.keys import resolve_api_key, resolve_setting
        key = None
        if self.needs_key and self.key_env:
            key = resolve_api_key(self.label, self.key_env, api_key, stored)
        elif self.key_env:
            key = resolve_setting(self.key_env, api_key, stored)
        url = resolve_setting(self.base_url_env, base_url, stored) if self.base_url_env else base_url
        url = url or self.default_base_url
        model = model or (self.models()[0].name if self.models() else "")
        if not model:
            from services.errors import InputError
            raise InputError("error.no_model", provider=self.label)
        return Connection(provider=self.name, model=model, api_key=key, base_url=url, **options)

    @abstractmethod
    def chat_model(self, conn: Connection) -> "BaseChatModel":
        """A LangChain chat model for the connection."""

    def embeddings(self, conn: Connection) -> "Embeddings":
        """A LangChain embeddings model; only for providers that declare embeddings."""
        from services.errors import AppError
        raise AppError("error.no_capability", provider=self.label, capability="embeddings")
