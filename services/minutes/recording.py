"""A recording transcribed as a job kept on disk: every finished segment is written at once, so a job that is
stopped, or whose process is killed, keeps what it finished and resumes from there; exports as TXT and SRT."""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from services.errors import AppError, InputError
from services.minutes.local_stt import Segment
from services.minutes.transcript import Transcript, format_timestamp, transcript_from_rows
from services.storage import write_atomic

SEGMENTS = "segments.jsonl"
STATE = "job.json"
_threads: dict[str, threading.Thread] = {}  # job folders with a live worker in this process
_stops: dict[str, threading.Event] = {}  # per job folder, so any handle on the job can stop its worker
_threads_lock = threading.Lock()


@dataclass
class JobStatus:
    """Where a job stands: state (running, stopped, interrupted, done, failed), seconds of audio done and in all,
    seconds spent, the estimated seconds left (None until known), and the error message key if it failed."""

    state: str
    done_s: float
    duration_s: float | None
    elapsed_s: float
    left_s: float | None
    segments: int
    error: dict | None = None

    @property
    def fraction(self) -> float:
        """The share of the recording transcribed, 0..1."""
        if self.state == "done":
            return 1.0
        if not self.duration_s:
            return 0.0
        return max(0.0, min(1.0, self.done_s / self.duration_s))


@dataclass
class TranscriptionJob:
    """One recording's transcription in its own folder (state in job.json, finished segments in segments.jsonl)."""

    folder: Path
    audio: str
    name: str
    provider: str = "local"
    language: str | None = None
    simplified: bool = False
    duration_s: float | None = None
    state: str = "new"
    error: dict | None = None
    elapsed_s: float = 0.0
    _run_started: float | None = field(default=None, repr=False)
    _run_offset: float = field(default=0.0, repr=False)

    # ------------------------------------------------------------ creating and finding jobs

    @classmethod
    def create(cls, folder: str | Path, audio: str | Path, name: str | None = None, *, provider: str = "local",
               language: str | None = None, simplified: bool = False) -> "TranscriptionJob":
        """A new job (or the one already in folder for the same recording, to be resumed)."""
        folder = Path(folder)
        if (folder / STATE).exists():
            job = cls.open(folder)
            if Path(job.audio) == Path(audio) and job.provider == provider:
                return job
        job = cls(folder=folder, audio=str(audio), name=name or Path(audio).name, provider=provider,
                  language=language, simplified=simplified)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SEGMENTS).unlink(missing_ok=True)
        job._save()
        return job

    @classmethod
    def open(cls, folder: str | Path) -> "TranscriptionJob":
        """The job kept in folder."""
        folder = Path(folder)
        data = json.loads((folder / STATE).read_text(encoding="utf-8"))
        return cls(folder=folder, **{k: data.get(k) for k in ("audio", "name", "provider", "language", "simplified",
                                                                  "duration_s", "state", "error", "elapsed_s")
                                     if k in data})

    @property
    def _stop(self) -> threading.Event:
        with _threads_lock:
            return _stops.setdefault(str(self.folder), threading.Event())

    def _save(self) -> None:
        data = {k: getattr(self, k) for k in ("audio", "name", "provider", "language", "simplified", "duration_s",
                                              "state", "error", "elapsed_s")}
        write_atomic(self.folder / STATE, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    # ------------------------------------------------------------ what is finished

    def segments(self) -> list[Segment]:
        """The finished segments in order (a line cut short by a kill is left out)."""
        path = self.folder / SEGMENTS
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                out.append(Segment(float(row["start"]), float(row["end"]), str(row["text"])))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def transcript(self) -> Transcript:
        """The finished part as a transcript with a start time on every line."""
        rows = [(None, s.start, s.text) for s in self.segments()]
        if not rows:
            raise InputError("minutes.error.audio_silent", file=self.name)
        return transcript_from_rows(rows, self.name, "audio")

    def status(self) -> JobStatus:
        """Progress against the recording's duration, and the time left at this run's pace."""
        segments = self.segments()
        done = segments[-1].end if segments else 0.0
        state = self.state
        if state == "running" and not self.is_alive():
            state = "interrupted"  # the process that ran it was stopped or killed
        elapsed = self.elapsed_s + (time.monotonic() - self._run_started if self._run_started and self.is_alive()
                                    else 0.0)
        left = None
        if state == "running" and self.duration_s and self._run_started:
            spent, covered = time.monotonic() - self._run_started, done - self._run_offset
            if covered > 0:
                left = max(0.0, spent / covered * (self.duration_s - done))
        return JobStatus(state, done, self.duration_s, elapsed, left, len(segments), self.error)

    def is_alive(self) -> bool:
        """Whether a worker of this process is transcribing the job now."""
        with _threads_lock:
            thread = _threads.get(str(self.folder))
        return bool(thread and thread.is_alive())

    # ------------------------------------------------------------ running

    def start(self, conn=None) -> threading.Thread:
        """Transcribe in a background thread (resuming after the finished part); returns the thread."""
        with _threads_lock:
            current = _threads.get(str(self.folder))
            if current and current.is_alive():
                return current
            self.state = "running"
            self._save()
            _stops.setdefault(str(self.folder), threading.Event()).clear()
            thread = threading.Thread(target=self._run_quietly, args=(conn,), name=f"stt-{self.folder.name}",
                                      daemon=True)
            _threads[str(self.folder)] = thread
        thread.start()
        return thread

    def stop(self) -> None:
        """Ask the worker to stop after the segment it is decoding; the finished part stays."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Wait for the background worker to end (or the timeout) and return the status."""
        with _threads_lock:
            thread = _threads.get(str(self.folder))
        if thread:
            thread.join(timeout)
        return self.status()

    def _run_quietly(self, conn) -> None:
        try:
            self.run(conn)
        except Exception:  # noqa: BLE001 - run() already recorded the failure in job.json
            pass

    def run(self, conn=None, progress=None) -> JobStatus:
        """Transcribe in this thread from the end of the finished part; progress(status) after every segment."""
        key, me = str(self.folder), threading.current_thread()
        with _threads_lock:
            foreground = _threads.get(key) is not me
            if foreground:  # run in the caller's own thread (the CLI), not by start()
                _threads[key] = me
        if foreground:
            self._stop.clear()
        self.state, self.error = "running", None
        self._save()
        started = time.monotonic()
        try:
            if self.provider == "local":
                self._run_local(progress)
            else:
                self._run_remote(conn)
            self.state = "stopped" if self._stop.is_set() else "done"
        except AppError as exc:
            self.state, self.error = "failed", {"key": exc.key, "params": {k: str(v) for k, v in exc.params.items()}}
            raise
        except Exception as exc:
            self.state, self.error = "failed", {"key": "minutes.error.asr_failed",
                                                "params": {"detail": f"{type(exc).__name__}: {exc}"[:300]}}
            raise
        finally:
            self.elapsed_s += time.monotonic() - started
            self._run_started = None
            self._save()
            if foreground:
                with _threads_lock:
                    _threads.pop(key, None)
        return self.status()

    def _run_local(self, progress) -> None:
        from services.minutes import local_stt
        samples = local_stt.decode(self.audio, self.name)
        self.duration_s = round(len(samples) / local_stt.SAMPLE_RATE, 2)
        self._save()
        kept = self._keep_only_whole_lines()
        offset = kept[-1].end if kept else 0.0
        self._run_started, self._run_offset = time.monotonic(), offset
        with (self.folder / SEGMENTS).open("a", encoding="utf-8") as out:
            for segment in local_stt.transcribe_samples(samples, language=self.language, offset_s=offset,
                                                        simplified=self.simplified):
                self._append(out, segment)
                if progress:
                    progress(self.status())
                if self._stop.is_set():
                    break

    def _run_remote(self, conn) -> None:
        from services.minutes.audio import transcribe
        if conn is None:
            raise InputError("minutes.error.no_asr", provider=self.provider)
        self._keep_only_whole_lines()
        if self.segments():
            return  # a remote service transcribes the whole recording in one call; it is already finished
        transcript = transcribe(conn, self.audio, name=self.name)
        starts = [ln.start for ln in transcript.lines]
        with (self.folder / SEGMENTS).open("a", encoding="utf-8") as out:
            for i, ln in enumerate(transcript.lines):
                start = starts[i] or 0.0
                end = next((s for s in starts[i + 1:] if s is not None), None) or start
                self._append(out, Segment(start, max(start, end), ln.text))

    def _append(self, out, segment: Segment) -> None:
        # One line per segment, on disk before the next is decoded: a kill loses at most the segment in progress.
        out.write(json.dumps(asdict(segment), ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())

    def _keep_only_whole_lines(self) -> list[Segment]:
        # A line half-written when the process was killed would spoil the next append; rewrite the whole ones.
        segments = self.segments()
        payload = "".join(json.dumps(asdict(s), ensure_ascii=False) + "\n" for s in segments)
        write_atomic(self.folder / SEGMENTS, payload.encode("utf-8"))
        return segments


# ---------------------------------------------------------------- exports

def to_txt(segments: list[Segment]) -> str:
    """The transcript as plain text, one segment a line, no timestamps."""
    return "".join(s.text + "\n" for s in segments)


def _srt_time(seconds: float) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    return f"{millis // 3_600_000:02d}:{millis % 3_600_000 // 60_000:02d}:{millis % 60_000 // 1000:02d},{millis % 1000:03d}"


def to_srt(segments: list[Segment]) -> str:
    """The transcript as SubRip subtitles (numbered cues with start --> end)."""
    cues = [f"{i}\n{_srt_time(s.start)} --> {_srt_time(max(s.end, s.start))}\n{s.text}\n"
            for i, s in enumerate(segments, 1)]
    return "\n".join(cues)


def describe(status: JobStatus) -> dict:
    """The status's times as HH:MM:SS strings for messages."""
    return {"done": format_timestamp(status.done_s), "total": format_timestamp(status.duration_s or 0),
            "left": format_timestamp(status.left_s) if status.left_s is not None else "?",
            "percent": f"{status.fraction:.0%}"}
