"""`python -m services transcribe FILE`: the words of a recording, as text or as timed segments."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def register(subparsers, common) -> None:
    """Add the transcribe command."""
    p = subparsers.add_parser("transcribe", parents=[common],
                              help="transcribe a recording (built-in offline Whisper unless --provider names a service)")
    p.add_argument("file", help="recording (.wav .mp3 .m4a .flac)")
    p.add_argument("--json", action="store_true", help="print the segments with start and end seconds as JSON")
    p.add_argument("--txt", default=None, help="also write the plain transcript to this file")
    p.add_argument("--srt", default=None, help="also write the transcript as SRT subtitles to this file")
    p.add_argument("--restart", action="store_true", help="start over instead of resuming a stopped run")
    p.set_defaults(func=run)


def job_folder(path: Path, provider: str, language: str | None, simplified: bool) -> Path:
    """Where the run for this recording and these settings is kept, so running it again resumes it."""
    from services import storage
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"|{provider}|{language}|{simplified}".encode())
    return storage.data_dir("transcripts", digest.hexdigest()[:24])


def run(args) -> int:
    """Transcribe the file (resuming an interrupted run of the same file), print the text or the segments."""
    from services.cli import cli_lang, connection_from_args
    from services.errors import InputError
    from services.minutes.audio import AUDIO_SUFFIXES, LOCAL, can_transcribe, check_audio
    from services.minutes.recording import TranscriptionJob, describe, to_srt, to_txt

    path = Path(args.file)
    name = path.name
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise InputError("minutes.error.not_audio", file=name)
    check_audio(path, name)
    provider = args.provider or LOCAL
    conn = None
    if provider != LOCAL:
        if not can_transcribe(provider):
            from services.providers import get_provider
            raise InputError("minutes.error.no_asr", provider=get_provider(provider).label or provider)
        conn = connection_from_args(args)
    simplified = cli_lang(args) == "zh"
    folder = job_folder(path, provider, args.lang, simplified)
    if args.restart:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    job = TranscriptionJob.create(folder, path.resolve(), name, provider=provider, language=args.lang,
                                  simplified=simplified)

    def progress(status) -> None:
        times = describe(status)
        print(f"[{times['percent']:>4}] {times['done']} / {times['total']} · left {times['left']}", file=sys.stderr)

    if job.state != "done":  # a finished run of the same file and settings is printed again, not redone
        job.run(conn, progress=progress)
    segments = job.segments()
    if not segments:
        raise InputError("minutes.error.audio_silent", file=name)
    if args.txt:
        Path(args.txt).write_text(to_txt(segments), encoding="utf-8")
    if args.srt:
        Path(args.srt).write_text(to_srt(segments), encoding="utf-8")
    if args.json:
        status = job.status()
        print(json.dumps({"file": name, "provider": provider, "duration_s": status.duration_s,
                          "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in segments]},
                         ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(to_txt(segments))
    return 0
