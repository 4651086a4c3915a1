"""OpenAI-compatible endpoints: OpenAI, DeepSeek, SiliconFlow, Ollama, vLLM, or any base URL."""
from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from services.providers import register
from services.providers.base import Capabilities, Connection, ModelInfo, Provider


class ReasoningChatOpenAI(ChatOpenAI):
    """ChatOpenAI that keeps `reasoning_content` (DeepSeek-R1, QwQ, vLLM reasoning parsers) apart from the answer."""

    provider_name: str = "openai-compatible"  # the registry name, for error messages

    def _convert_chunk_to_generation_chunk(self, chunk: dict, default_chunk_class: type, base_generation_info: dict | None):
        generation_chunk = super()._convert_chunk_to_generation_chunk(chunk, default_chunk_class, base_generation_info)
        choices = chunk.get("choices") or []
        if generation_chunk is not None and choices:
            delta = choices[0].get("delta") or {}
            thinking = delta.get("reasoning_content") or delta.get("reasoning")
            if thinking:
                generation_chunk.message.additional_kwargs["reasoning_content"] = thinking
        return generation_chunk

    def _stream(self, *args: Any, **kwargs: Any):
        # A server that hangs up mid-answer ends the event stream like a finished one; only the missing
        # finish_reason tells them apart, so the answer is marked cut instead of passing as complete.
        finished = False
        for chunk in super()._stream(*args, **kwargs):
            if (chunk.generation_info or {}).get("finish_reason"):
                finished = True
            yield chunk
        if not finished:
            from services.faults import dropped
            from services.providers.base import Connection
            raise dropped(Connection(provider=self.provider_name, model=self.model_name))

    def _create_chat_result(self, response: Any, generation_info: dict | None = None):
        result = super()._create_chat_result(response, generation_info)
        data = response if isinstance(response, dict) else response.model_dump()
        choices = data.get("choices") or []
        if choices and result.generations:
            thinking = (choices[0].get("message") or {}).get("reasoning_content")
            if thinking:
                result.generations[0].message.additional_kwargs["reasoning_content"] = thinking
        return result


class OpenAICompatibleProvider(Provider):
    """One OpenAI-protocol endpoint; presets differ only in base URL, key variable and model list."""

    capabilities = Capabilities(stream=True, json_schema=False, reasoning=True, embeddings=True, audio=True, tools=True)
    models_editable = True

    def __init__(self, name: str, label: str, *, key_env: str | None, base_url_env: str | None,
                 default_base_url: str | None, models: list[ModelInfo], needs_key: bool = True,
                 embedding_model: str | None = None) -> None:
        self.name, self.label = name, label
        self.key_env, self.base_url_env, self.default_base_url = key_env, base_url_env, default_base_url
        self.needs_key = needs_key
        self._models = models
        self.embedding_model = embedding_model

    def models(self) -> list[ModelInfo]:
        return list(self._models)

    def chat_model(self, conn: Connection) -> ChatOpenAI:
        kwargs: dict[str, Any] = {}
        if conn.temperature is not None:
            kwargs["temperature"] = conn.temperature
        if conn.max_tokens is not None:
            kwargs["max_tokens"] = conn.max_tokens
        return ReasoningChatOpenAI(
            provider_name=self.name,
            model=conn.model,
            # Local servers (Ollama, vLLM) accept any key; the SDK insists on one.
            api_key=conn.api_key or "not-needed",
            base_url=conn.base_url,
            timeout=conn.timeout_s,
            max_retries=0,  # retries are ours, with backoff and a user message
            stream_usage=True,
            **kwargs,
        )

    def embeddings(self, conn: Connection) -> OpenAIEmbeddings:
        return OpenAIEmbeddings(
            model=conn.model if "embed" in conn.model else (self.embedding_model or conn.model),
            api_key=conn.api_key or "not-needed",
            base_url=conn.base_url,
            timeout=conn.timeout_s,
            max_retries=0,
            # Non-OpenAI servers do not accept pre-tokenized input.
            check_embedding_ctx_length=False,
        )


USD = "USD"
register(OpenAICompatibleProvider(
    "openai", "OpenAI", key_env="OPENAI_API_KEY", base_url_env="OPENAI_BASE_URL",
    default_base_url="https://api.openai.com/v1", embedding_model="text-embedding-3-small",
    models=[ModelInfo("gpt-4o-mini", 128_000, 0.15, 0.6, USD), ModelInfo("gpt-4.1-mini", 1_000_000, 0.4, 1.6, USD),
            ModelInfo("gpt-4o", 128_000, 2.5, 10.0, USD), ModelInfo("gpt-4.1", 1_000_000, 2.0, 8.0, USD)]))
register(OpenAICompatibleProvider(
    "deepseek", "DeepSeek", key_env="DEEPSEEK_API_KEY", base_url_env="DEEPSEEK_BASE_URL",
    default_base_url="https://api.deepseek.com/v1",
    models=[ModelInfo("deepseek-chat", 64_000, 2.0, 8.0), ModelInfo("deepseek-reasoner", 64_000, 4.0, 16.0, reasoning=True)]))
register(OpenAICompatibleProvider(
    "siliconflow", "SiliconFlow", key_env="SILICONFLOW_API_KEY", base_url_env="SILICONFLOW_BASE_URL",
    default_base_url="https://api.siliconflow.cn/v1", embedding_model="BAAI/bge-m3",
    models=[ModelInfo("Qwen/Qwen2.5-7B-Instruct", 32_768, 0.0, 0.0), ModelInfo("deepseek-ai/DeepSeek-V3", 64_000, 2.0, 8.0),
            ModelInfo("deepseek-ai/DeepSeek-R1", 64_000, 4.0, 16.0, reasoning=True)]))
register(OpenAICompatibleProvider(
    "ollama", "Ollama", key_env="OLLAMA_API_KEY", base_url_env="OLLAMA_BASE_URL", needs_key=False,
    default_base_url="http://localhost:11434/v1", embedding_model="nomic-embed-text",
    models=[ModelInfo("qwen2.5:7b", 32_768), ModelInfo("qwen3:8b", 32_768), ModelInfo("deepseek-r1:7b", 32_768, reasoning=True)]))
register(OpenAICompatibleProvider(
    "vllm", "vLLM", key_env="VLLM_API_KEY", base_url_env="VLLM_BASE_URL", needs_key=False,
    default_base_url="http://localhost:8000/v1",
    models=[ModelInfo("Qwen/Qwen2.5-7B-Instruct", 32_768)]))
register(OpenAICompatibleProvider(
    "openai-compatible", "OpenAI-compatible", key_env="OPENAI_COMPATIBLE_API_KEY",
    base_url_env="OPENAI_COMPATIBLE_BASE_URL", needs_key=False, default_base_url=None,
    models=[]))
