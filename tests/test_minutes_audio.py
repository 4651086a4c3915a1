"""Recordings: transcription through loopback stubs speaking the OpenAI and DashScope wire protocols."""
from __future__ import annotations

import asyncio
import email.parser
import json
import math
import struct
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.errors import AppError, InputError
from services.minutes import load_meeting, make_minutes, transcribe
from services.minutes.audio import check_audio, dashscope_ws_url
from services.providers.base import Connection


def make_wav(path, seconds=1.0, rate=16000, amplitude=0.3, freq=440.0):
    """A mono 16-bit WAV: a tone, or silence with amplitude 0."""
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * freq * i / rate)))
                                 for i in range(frames)))
    return path


class OpenAIStub:
    """A loopback server for POST /v1/audio/transcriptions (multipart in, JSON or verbose_json out)."""

    def __init__(self, reply=None, status=200):
        self.requests: list[dict] = []
        self.reply = reply if reply is not None else {
            "task": "transcribe", "language": "chinese", "duration": 3.0, "text": "大家好。我们周五发布。",
            "segments": [{"id": 0, "start": 0.0, "end": 1.2, "text": "大家好。"},
                         {"id": 1, "start": 65.5, "end": 67.0, "text": "我们周五发布。"}]}
        self.status = status
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = email.parser.BytesParser().parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
                fields, files = {}, {}
                for part in message.get_payload():
                    name = part.get_param("name", header="content-disposition")
                    filename = part.get_filename()
                    if filename:
                        files[name] = (filename, part.get_payload(decode=True))
                    else:
                        fields[name] = part.get_payload(decode=True).decode()
                stub.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                      "fields": fields, "files": files})
                payload = stub.reply
                if fields.get("response_format") == "json" and isinstance(payload, dict):
                    payload = {"text": payload.get("text", "")}
                data = json.dumps(payload).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def openai_conn(base_url, provider="openai-compatible"):
    return Connection(provider=provider, model="qwen-test", api_key="sk-test-123", base_url=base_url, timeout_s=10)


def test_openai_protocol_upload_and_timestamps(tmp_path):
    audio = make_wav(tmp_path / "meeting.wav")
    with OpenAIStub() as stub:
        transcript = transcribe(openai_conn(stub.base_url), audio)
    request = stub.requests[0]
    assert request["path"] == "/v1/audio/transcriptions"
    assert request["auth"] == "Bearer sk-test-123"
    assert request["fields"]["model"] == "whisper-1"
    assert request["fields"]["response_format"] == "verbose_json"
    assert request["files"]["file"] == ("meeting.wav", audio.read_bytes())
    assert [(ln.number, ln.start, ln.text) for ln in transcript.lines] == [(1, 0.0, "大家好。"), (2, 65.5, "我们周五发布。")]
    assert transcript.lines[1].label() == "L2 · 00:01:06"
    assert transcript.source_format == "audio"


def test_transcribed_recording_goes_on_to_minutes(tmp_path, replay_conn):
    audio = make_wav(tmp_path / "m.wav")
    with OpenAIStub() as stub:
        transcript = load_meeting(openai_conn(stub.base_url), audio)
    conn = replay_conn([json.dumps({"title": "发布", "attendees": [], "summary": "周五发布", "topics": [],
                                    "decisions": [{"text": "周五发布", "source_line": 2}], "action_items": [],
                                    "open_questions": []}, ensure_ascii=False),
                         json.dumps({"decisions": [], "action_items": []})])  # the focused items question
    minutes = make_minutes(conn, transcript)
    assert minutes.decisions[0].flags == [] and minutes.decisions[0].source.timestamp == "00:01:06"
    assert not minutes.action_items and len(minutes.decisions) == 1


def test_model_override_and_plain_json_reply(tmp_path):
    audio = make_wav(tmp_path / "m.wav")
    with OpenAIStub(reply={"text": "First point. Second point."}) as stub:
        transcript = transcribe(openai_conn(stub.base_url), audio, model="Systran/faster-whisper-small")
    assert stub.requests[0]["fields"]["model"] == "Systran/faster-whisper-small"
    assert [ln.text for ln in transcript.lines] == ["First point.", "Second point."]


def test_silent_recording_is_refused_before_upload(tmp_path):
    audio = make_wav(tmp_path / "quiet.wav", amplitude=0.0)
    with OpenAIStub() as stub:
        with pytest.raises(InputError) as err:
            transcribe(openai_conn(stub.base_url), audio)
    assert err.value.key == "minutes.error.audio_silent" and "quiet.wav" in err.value.message("zh")
    assert stub.requests == []


def test_no_speech_found_by_the_service(tmp_path):
    audio = make_wav(tmp_path / "hum.wav")
    with OpenAIStub(reply={"text": "", "segments": []}) as stub:
        with pytest.raises(InputError) as err:
            transcribe(openai_conn(stub.base_url), audio)
    assert err.value.key == "minutes.error.audio_silent"
    assert len(stub.requests) == 1


@pytest.mark.parametrize("name,data", [
    ("broken.wav", b"RIFF\x10\x00\x00\x00WAVEfmt garbage that is not a wave file"),
    ("broken.mp3", b"this is plain text, not an mp3 frame" * 10),
    ("broken.m4a", b"\x00\x00\x00\x18nope" + b"\x00" * 100),
])
def test_corrupt_audio_is_a_clear_message(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with OpenAIStub() as stub:
        with pytest.raises(InputError) as err:
            transcribe(openai_conn(stub.base_url), path)
    assert err.value.key == "minutes.error.audio_corrupt"
    assert name in err.value.message("en") and "damaged" in err.value.message("en")
    assert stub.requests == []


def test_truncated_wav_is_corrupt(tmp_path):
    audio = make_wav(tmp_path / "cut.wav")
    audio.write_bytes(audio.read_bytes()[:30])
    with pytest.raises(InputError) as err:
        check_audio(audio, "cut.wav")
    assert err.value.key == "minutes.error.audio_corrupt"


@pytest.mark.parametrize("provider", ["replay", "deepseek"])
def test_providers_that_cannot_transcribe_say_so(tmp_path, provider):
    audio = make_wav(tmp_path / "m.wav")
    conn = Connection(provider=provider, model="x", replay_path=str(tmp_path / "r.jsonl"))
    with pytest.raises(InputError) as err:
        transcribe(conn, audio)
    assert err.value.key == "minutes.error.no_asr"
    assert "DashScope" in err.value.message("en") and "/audio/transcriptions" in err.value.message("en")


def test_rejected_key_is_reported_without_the_key(tmp_path):
    audio = make_wav(tmp_path / "m.wav")
    with OpenAIStub(reply={"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
                    status=401) as stub:
        with pytest.raises(AppError) as err:
            transcribe(openai_conn(stub.base_url, provider="openai"), audio)
    assert err.value.key == "error.auth"
    assert "sk-test-123" not in err.value.message("en")


def test_unreachable_server(tmp_path):
    audio = make_wav(tmp_path / "m.wav")
    with OpenAIStub() as stub:
        url = stub.base_url
    with pytest.raises(AppError) as err:
        transcribe(openai_conn(url), audio)
    assert err.value.key == "error.unreachable"


# ---------------------------------------------------------------- DashScope Paraformer over websocket

class DashScopeStub:
    """A loopback websocket server speaking DashScope's run-task / result-generated / task-finished protocol."""

    def __init__(self, sentences=None, fail=None):
        self.sentences = sentences if sentences is not None else [
            {"begin_time": 0, "end_time": 1500, "text": "张三说我们下周发布。", "words": []},
            {"begin_time": 61500, "end_time": 64000, "text": "李四负责测试。", "words": []}]
        self.fail = fail
        self.start_messages: list[dict] = []
        self.audio = bytearray()
        self.headers: dict = {}
        self.ready = threading.Event()

    async def handler(self, request):
        from aiohttp import WSMsgType, web
        self.headers = dict(request.headers)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                self.audio.extend(msg.data)
                continue
            data = json.loads(msg.data)
            action, task_id = data["header"]["action"], data["header"]["task_id"]
            if action == "run-task":
                self.start_messages.append(data)
                if self.fail:
                    await ws.send_str(json.dumps({"header": {"event": "task-failed", "task_id": task_id,
                                                             "error_code": self.fail[0],
                                                             "error_message": self.fail[1]}}))
                    break
                await ws.send_str(json.dumps({"header": {"event": "task-started", "task_id": task_id}}))
            elif action == "finish-task":
                for sentence in self.sentences:
                    await ws.send_str(json.dumps({"header": {"event": "result-generated", "task_id": task_id},
                                                  "payload": {"output": {"sentence": sentence},
                                                              "usage": {"duration": 2}}}, ensure_ascii=False))
                await ws.send_str(json.dumps({"header": {"event": "task-finished", "task_id": task_id},
                                              "payload": {"output": {}}}))
                break
        await ws.close()
        return ws

    def __enter__(self):
        aiohttp = pytest.importorskip("aiohttp", reason="aiohttp comes with the dashscope SDK")
        from aiohttp import web

        def serve():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            app = web.Application()
            app.router.add_get("/api-ws/v1/inference", self.handler)
            self.runner = web.AppRunner(app)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            self.ready.set()
            self.loop.run_forever()

        assert aiohttp
        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/compatible-mode/v1"


def dashscope_conn(base_url):
    return Connection(provider="dashscope", model="qwen-plus", api_key="sk-ds-secret", base_url=base_url)


def test_dashscope_websocket_url_follows_the_base_url():
    assert dashscope_ws_url("http://127.0.0.1:9/compatible-mode/v1") == "ws://127.0.0.1:9/api-ws/v1/inference"
    assert dashscope_ws_url("https://dashscope.aliyuncs.com/compatible-mode/v1") == \
        "wss://dashscope.aliyuncs.com/api-ws/v1/inference"
    assert dashscope_ws_url(None) is None


def test_dashscope_paraformer_stub(tmp_path):
    audio = make_wav(tmp_path / "会议.wav", seconds=0.5, rate=8000)
    with DashScopeStub() as stub:
        transcript = transcribe(dashscope_conn(stub.base_url), audio)
    start = stub.start_messages[0]
    assert start["payload"]["model"] == "paraformer-realtime-v2"
    assert start["payload"]["parameters"]["format"] == "wav"
    assert start["payload"]["parameters"]["sample_rate"] == 8000
    assert "sk-ds-secret" in stub.headers.get("Authorization", "")
    assert bytes(stub.audio) == audio.read_bytes()
    assert [(ln.start, ln.text) for ln in transcript.lines] == [(0.0, "张三说我们下周发布。"), (61.5, "李四负责测试。")]


def test_dashscope_failure_and_silence(tmp_path):
    audio = make_wav(tmp_path / "m.wav", seconds=0.3)
    with DashScopeStub(fail=("InvalidApiKey", "Invalid API-key provided.")) as stub:
        with pytest.raises(AppError) as err:
            transcribe(dashscope_conn(stub.base_url), audio)
    assert err.value.key in ("error.auth", "minutes.error.asr_failed")
    with DashScopeStub(sentences=[]) as stub:
        with pytest.raises(InputError) as err:
            transcribe(dashscope_conn(stub.base_url), audio)
    assert err.value.key == "minutes.error.audio_silent"


def test_dashscope_refuses_m4a_with_advice(tmp_path):
    path = tmp_path / "m.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 200)
    with pytest.raises(InputError) as err:
        transcribe(dashscope_conn("http://127.0.0.1:9"), path)
    assert err.value.key == "minutes.error.audio_format"
