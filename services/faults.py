"""SDK and network faults turned into messages a user can act on."""
from __future__ import annotations

import logging
import os

from services.errors import ProviderError
from services.providers.base import Connection

# Attempts for 429 and 5xx before the user is told; tests shorten the wait.
RETRY_ATTEMPTS = 3
log = logging.getLogger(__name__)

RETRY_WAIT = {"multiplier": float(os.environ.get("ASSISTANT_RETRY_WAIT", "0.5")), "max": 4.0}


def for_status(status: int, conn: Connection, detail: str = "") -> ProviderError:
    """The error for an HTTP status from a provider."""
    from services.providers import get_provider
    provider = get_provider(conn.provider)
    label, env_var = provider.label, provider.key_env or "-"
    if status in (401, 403):
        return ProviderError("error.auth", provider=label, status=status, env_var=env_var)
    if status == 404:
        return ProviderError("error.unknown_model", provider=label, model=conn.model)
    if status == 429:
        return ProviderError("error.rate_limit", retryable=True, provider=label, attempts=RETRY_ATTEMPTS)
    if status >= 500:
        return ProviderError("error.server", retryable=True, provider=label, status=status, attempts=RETRY_ATTEMPTS)
    return ProviderError("error.bad_request", provider=label, detail=redact(f"{status} {detail}".strip(), conn)[:300])


def redact(text: str, conn: Connection) -> str:
    """Text from a provider with the connection's key masked (some services echo the key they were sent)."""
    from services.keys import mask
    key = (conn.api_key or "").strip()
    if len(key) >= 4 and text:
        text = text.replace(key, mask(key))
    return text


def translate_error(exc: BaseException, conn: Connection) -> ProviderError:
    """A ProviderError for any exception raised while talking to a model."""
    if isinstance(exc, ProviderError):
        return exc
    from services.providers import get_provider
    label = get_provider(conn.provider).label
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a hard dependency
        openai = None
    if conn.provider == "local" and _is_connection_fault(exc) and not _is_timeout(exc):
        # The user sees "restarting"; the log keeps what the transport actually said, to tell a dead server
        # from a dropped connection.
        log.warning("built-in model connection fault: %s", redact(_chain_text(exc), conn))
        return local_server_down()
    if openai is not None:
        if isinstance(exc, openai.APITimeoutError):
            return ProviderError("error.timeout", retryable=True, provider=label, seconds=f"{conn.timeout_s:g}")
        if isinstance(exc, openai.APIConnectionError):
            if _dropped_mid_reply(exc):
                return dropped(conn)
            return ProviderError("error.unreachable", provider=label, base_url=conn.base_url or "-")
        if isinstance(exc, openai.APIStatusError):
            return for_status(exc.status_code, conn, _api_detail(exc))
        if isinstance(exc, openai.LengthFinishReasonError):
            # A structured answer that hit the token cap: the request was fine, the answer too long to finish.
            usage = getattr(getattr(exc, "completion", None), "usage", None)
            return ProviderError("error.answer_too_long", provider=label,
                                 tokens=getattr(usage, "completion_tokens", None) or conn.max_tokens or "?")
    import httpx
    import requests
    if isinstance(exc, (httpx.TimeoutException, requests.Timeout, TimeoutError)):
        return ProviderError("error.timeout", retryable=True, provider=label, seconds=f"{conn.timeout_s:g}")
    if isinstance(exc, (httpx.ConnectError, requests.ConnectionError, ConnectionError)):
        return ProviderError("error.unreachable", provider=label, base_url=conn.base_url or "-")
    return ProviderError("error.bad_request", provider=label, detail=redact(f"{type(exc).__name__}: {exc}", conn)[:300])


def local_server_down() -> ProviderError:
    """The built-in model's server process died or is starting again: the supervisor restarts it by itself."""
    from services.local_model.supervisor import supervisor
    code = supervisor().exit_code()
    if code is not None and code < 0:
        import signal
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return ProviderError("error.local_server_killed", retryable=True, signal=name)
    if code is not None:
        return ProviderError("error.local_server_exited", retryable=True, code=code)
    return ProviderError("error.local_server_down", retryable=True)


def _chain(exc: BaseException | None) -> list[BaseException]:
    """An exception and its causes (the SDKs wrap transport errors several levels deep)."""
    chain = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _causes(exc: BaseException | None) -> list[str]:
    return [type(e).__name__ for e in _chain(exc)]


def _chain_text(exc: BaseException | None) -> str:
    return " <- ".join(f"{type(e).__name__}: {e}"[:200] for e in _chain(exc))


def _is_timeout(exc: BaseException) -> bool:
    return any("Timeout" in name for name in _causes(exc))


_CONNECTION_FAULTS = {"APIConnectionError", "ConnectError", "RemoteProtocolError", "ReadError", "IncompleteRead",
                      "ConnectionError", "ConnectionRefusedError", "ConnectionResetError"}


def _is_connection_fault(exc: BaseException) -> bool:
    return bool(_CONNECTION_FAULTS.intersection(_causes(exc)))


def dropped(conn: Connection) -> ProviderError:
    """The server hung up before its reply was complete: worth another try while nothing was shown."""
    from services.providers import get_provider
    if conn.provider == "local":
        return local_server_down()
    return ProviderError("error.dropped", retryable=True, provider=get_provider(conn.provider).label,
                         attempts=RETRY_ATTEMPTS)


def _dropped_mid_reply(exc: BaseException) -> bool:
    # The SDK reports a reply cut short (fewer bytes than announced) as a connection error; its cause says so.
    return bool({"RemoteProtocolError", "IncompleteRead", "ChunkedEncodingError"}.intersection(_causes(exc)))


def _api_detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
    return str(getattr(exc, "message", "") or "")[:300]
