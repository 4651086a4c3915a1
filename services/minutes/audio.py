"""Audio recordings to transcripts through the chosen provider's speech recognition."""
from __future__ import annotations

import os
import re
import wave
from pathlib import Path
from urllib.parse import urlparse

from services.errors import AppError, InputError, ProviderError
from services.minutes.messages import register_messages
from services.minutes.transcript import Transcript, transcript_from_rows

register_messages()

AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".flac"}
LOCAL = "local"  # the built-in offline engine (services/minutes/local_stt.py)
OPENAI_MAX_MB = 25  # the /audio/transcriptions upload limit
# Speech models used when the user names none (MINUTES_ASR_MODEL overrides).
ASR_MODELS = {
    "dashscope": "paraformer-realtime-v2",
    "openai": "whisper-1",
    "siliconflow": "FunAudioLLM/SenseVoiceSmall",
    "openai-compatible": "whisper-1",
    "vllm": "openai/whisper-large-v3",
}
OPENAI_PROTOCOL = {"openai", "siliconflow", "openai-compatible", "vllm"}


def can_transcribe(provider: str) -> bool:
    """Whether the provider offers speech recognition this app can call (the built-in one when installed)."""
    if provider == LOCAL:
        from services.minutes import local_stt
        return local_stt.available()
    return provider in ASR_MODELS


def asr_model(conn, override: str | None = None) -> str:
    """The speech model for the connection: argument, then MINUTES_ASR_MODEL, then the provider's default."""
    return override or os.environ.get("MINUTES_ASR_MODEL") or ASR_MODELS.get(conn.provider, "whisper-1")


def check_audio(path: Path, name: str) -> dict:
    """Refuse damaged or silent recordings before uploading them; returns what is known (sample rate)."""
    suffix = Path(name).suffix.lower()
    kind = suffix.lstrip(".").upper()
    if not path.exists() or path.stat().st_size == 0:
        raise InputError("minutes.error.empty", file=name)
    head = path.read_bytes()[:64]
    if suffix == ".wav":
        return _check_wav(path, name)
    if suffix == ".mp3":
        if not (head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)):
            raise InputError("minutes.error.audio_corrupt", file=name, kind=kind)
        return {}
    if suffix == ".m4a":
        if head[4:8] != b"ftyp":
            raise InputError("minutes.error.audio_corrupt", file=name, kind=kind)
        return {}
    if suffix == ".flac":
        if not head.startswith(b"fLaC"):
            raise InputError("minutes.error.audio_corrupt", file=name, kind=kind)
        return {}
    raise InputError("minutes.error.unsupported", file=name, kinds=".txt, .docx, .srt, .vtt, .json")


def _check_wav(path: Path, name: str) -> dict:
    import numpy as np
    try:
        with wave.open(str(path), "rb") as wav:
            rate, width, frames = wav.getframerate(), wav.getsampwidth(), wav.getnframes()
            data = wav.readframes(frames)
    except wave.Error as exc:
        if "unknown format" in str(exc):  # compressed or extensible WAV: the service decodes it
            return {}
        raise InputError("minutes.error.audio_corrupt", file=name, kind="WAV") from exc
    except (EOFError, OSError) as exc:
        raise InputError("minutes.error.audio_corrupt", file=name, kind="WAV") from exc
    if frames == 0 or not data:
        raise InputError("minutes.error.audio_silent", file=name)
    if width == 1:
        samples = np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128
        full = 128
    elif width in (2, 4):
        samples = np.frombuffer(data[: len(data) // width * width], dtype=np.int16 if width == 2 else np.int32)
        full = 2 ** (8 * width - 1)
    else:
        return {"sample_rate": rate}
    # Below about -50 dBFS nobody can be heard; such a file holds silence or hum only.
    if samples.size == 0 or np.abs(samples.astype(np.float64)).max() < full * 0.003:
        raise InputError("minutes.error.audio_silent", file=name)
    return {"sample_rate": rate}


def transcribe(conn, path: str | Path, *, name: str | None = None, model: str | None = None,
               language: str | None = None, simplified: bool = False) -> Transcript:
    """Speech in the recording as a transcript: built-in Whisper (provider local), DashScope Paraformer, or an
    OpenAI-compatible endpoint (language and simplified apply to the built-in engine)."""
    path = Path(path)
    name = name or path.name
    if not can_transcribe(conn.provider):
        from services.providers import get_provider
        try:
            label = get_provider(conn.provider).label or conn.provider
        except AppError:
            label = conn.provider
        raise InputError("minutes.error.no_asr", provider=label)
    info = check_audio(path, name)
    if conn.provider == LOCAL:
        rows = _local(path, name, language, simplified)
    elif conn.provider == "dashscope":
        rows = _dashscope(conn, path, name, info, asr_model(conn, model))
    else:
        rows = _openai(conn, path, name, asr_model(conn, model))
    rows = [(speaker, start, text.strip()) for speaker, start, text in rows if text and text.strip()]
    if not rows:
        raise InputError("minutes.error.audio_silent", file=name)
    return transcript_from_rows(rows, name, "audio")


def _local(path: Path, name: str, language: str | None, simplified: bool) -> list[tuple[None, float, str]]:
    from services.minutes import local_stt
    samples = local_stt.decode(path, name)
    return [(None, s.start, s.text) for s in local_stt.transcribe_samples(samples, language=language,
                                                                           simplified=simplified)]


# ---------------------------------------------------------------- OpenAI protocol

def _openai(conn, path: Path, name: str, model: str) -> list[tuple[str | None, float | None, str]]:
    import openai
    size_mb = path.stat().st_size / 1_048_576
    if size_mb > OPENAI_MAX_MB:
        raise InputError("minutes.error.audio_too_large", file=name, mb=f"{size_mb:.0f}", limit=OPENAI_MAX_MB)
    client = openai.OpenAI(api_key=conn.api_key or "not-needed", base_url=conn.base_url,
                           timeout=max(conn.timeout_s, 120), max_retries=2)
    try:
        with path.open("rb") as handle:
            try:
                result = client.audio.transcriptions.create(model=model, file=(name, handle),
                                                            response_format="verbose_json")
            except openai.BadRequestError as exc:
                if "response_format" not in str(exc) and "verbose_json" not in str(exc):
                    raise
                handle.seek(0)  # some servers offer plain json only
                result = client.audio.transcriptions.create(model=model, file=(name, handle),
                                                            response_format="json")
    except openai.APIStatusError as exc:
        raise _status_error(conn, exc.status_code, _detail(exc)) from None
    except openai.APITimeoutError:
        raise ProviderError("error.timeout", provider=conn.provider, seconds=int(max(conn.timeout_s, 120))) from None
    except openai.APIConnectionError:
        raise ProviderError("error.unreachable", provider=conn.provider, base_url=conn.base_url or "") from None
    segments = getattr(result, "segments", None) or []
    if segments:
        return [(None, float(_get(s, "start") or 0.0), str(_get(s, "text") or "")) for s in segments]
    text = getattr(result, "text", "") or ""
    return [(None, None, sentence) for sentence in re.split(r"(?<=[。！？!?.])\s+", text) if sentence.strip()]


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:300]
        return str(error)[:300]
    return str(exc)[:300]


def _status_error(conn, status: int, detail: str) -> AppError:
    from services.providers import get_provider
    try:
        provider = get_provider(conn.provider)
        label, env = provider.label or conn.provider, provider.key_env or ""
    except AppError:
        label, env = conn.provider, ""
    if status in (401, 403):
        return ProviderError("error.auth", provider=label, status=status, env_var=env)
    if status == 404:
        return ProviderError("error.unknown_model", provider=label, model=detail)
    if status == 429:
        return ProviderError("error.rate_limit", provider=label, attempts=3, retryable=True)
    if status >= 500:
        return ProviderError("error.server", provider=label, status=status, attempts=3, retryable=True)
    return ProviderError("minutes.error.asr_failed", detail=f"{status} {detail}")


# ---------------------------------------------------------------- DashScope Paraformer

def dashscope_ws_url(base_url: str | None) -> str | None:
    """The DashScope websocket endpoint on the same host as the configured base URL (None: SDK default)."""
    if not base_url:
        return None
    parsed = urlparse(base_url)
    if parsed.scheme in ("ws", "wss"):
        return base_url
    scheme = "ws" if parsed.scheme == "http" else "wss"
    return f"{scheme}://{parsed.netloc}/api-ws/v1/inference"


def _dashscope(conn, path: Path, name: str, info: dict, model: str) -> list[tuple[str | None, float | None, str]]:
    from dashscope.audio.asr import Recognition
    suffix = path.suffix.lower() if path.suffix else Path(name).suffix.lower()
    suffix = Path(name).suffix.lower() or suffix
    if suffix not in (".wav", ".mp3"):
        raise InputError("minutes.error.audio_format", provider="DashScope", kind=suffix.lstrip(".").upper())
    options = {"api_key": conn.api_key}
    ws_url = dashscope_ws_url(conn.base_url)
    if ws_url:
        options["base_address"] = ws_url
    recognizer = Recognition(model=model, callback=None, format=suffix.lstrip("."),
                             sample_rate=int(info.get("sample_rate") or 16000), **options)
    try:
        result = recognizer.call(str(path))
    except Exception as exc:  # the SDK raises bare exceptions for socket and protocol faults
        raise ProviderError("minutes.error.asr_failed", detail=f"{type(exc).__name__}: {exc}"[:300]) from None
    status = getattr(result, "status_code", 200)
    if status not in (200, None):
        message = str(getattr(result, "message", "") or getattr(result, "code", ""))
        if status in (401, 403) or "api-key" in message.lower():
            raise ProviderError("error.auth", provider="DashScope", status=status, env_var="DASHSCOPE_API_KEY")
        if status == -1:
            raise ProviderError("error.unreachable", provider="DashScope", base_url=ws_url or "DashScope")
        raise ProviderError("minutes.error.asr_failed", detail=f"{result.code}: {message}"[:300])
    sentences = result.get_sentence() or []
    if isinstance(sentences, dict):  # an empty result carries the last partial sentence, not a list
        sentences = [sentences] if sentences.get("end_time") is not None else []
    rows = []
    for sentence in sentences:
        begin = sentence.get("begin_time")
        speaker = sentence.get("speaker_id")
        rows.append((f"Speaker {speaker}" if speaker is not None else None,
                     begin / 1000 if isinstance(begin, (int, float)) else None, str(sentence.get("text") or "")))
    return rows
