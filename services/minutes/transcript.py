"""Meeting transcripts in many formats, normalised to numbered lines with speaker and timestamp."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from services.errors import InputError
from services.minutes.messages import register_messages

register_messages()

TEXT_SUFFIXES = {".txt", ".md", ".text"}
TRANSCRIPT_SUFFIXES = TEXT_SUFFIXES | {".docx", ".srt", ".vtt", ".json"}
MAX_TRANSCRIPT_CHARS = 400_000  # above this even map-reduce would take hours on a local model


@dataclass(frozen=True)
class Line:
    """One utterance: 1-based number, speaker (None when unknown), start time in seconds (None when unknown)."""

    number: int
    speaker: str | None
    start: float | None
    text: str

    @property
    def timestamp(self) -> str:
        """Start time as HH:MM:SS, or an empty string when unknown."""
        return format_timestamp(self.start)

    def label(self) -> str:
        """A short citation like "L12 · 张三 · 00:01:02"."""
        parts = [f"L{self.number}"]
        if self.speaker:
            parts.append(self.speaker)
        if self.start is not None:
            parts.append(self.timestamp)
        return " · ".join(parts)


@dataclass
class Transcript:
    """A parsed transcript: its lines in order plus anything the user should know about the parsing."""

    name: str
    lines: list[Line]
    source_format: str = "txt"
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All utterances, one per line, with speakers where known."""
        return "\n".join(f"{ln.speaker}: {ln.text}" if ln.speaker else ln.text for ln in self.lines)

    @property
    def char_count(self) -> int:
        """Characters of spoken text."""
        return sum(len(ln.text) for ln in self.lines)

    @property
    def speakers(self) -> list[str]:
        """Distinct speakers in order of first appearance."""
        seen: dict[str, None] = {}
        for ln in self.lines:
            if ln.speaker and ln.speaker not in seen:
                seen[ln.speaker] = None
        return list(seen)

    def line(self, number: int) -> Line | None:
        """The line with this 1-based number, or None."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return None

    def context(self, number: int, radius: int = 2) -> list[Line]:
        """The line and its neighbours, for showing where a citation points."""
        lo, hi = max(1, number - radius), min(len(self.lines), number + radius)
        return self.lines[lo - 1:hi]

    def language(self) -> str:
        """"zh" when most letters are Chinese characters, else "en"."""
        return detect_language(" ".join(ln.text for ln in self.lines[:400]))


def detect_language(text: str) -> str:
    """"zh" when CJK characters outnumber Latin letters, else "en"."""
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text)) / 4  # about four letters per word
    return "zh" if cjk >= latin and cjk > 0 else "en"


def format_timestamp(seconds: float | None) -> str:
    """Seconds as HH:MM:SS ("" when unknown)."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"


def parse_timestamp(value: str) -> float | None:
    """"01:02:03", "1:02", "00:01:02,500" or "00:01.000" as seconds; None when not a timestamp."""
    value = value.strip().strip("[]()")
    if not re.fullmatch(_TS, value):
        return None
    value = value.replace(",", ".")
    parts = value.split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return hours * 3600 + minutes * 60 + seconds


# ---------------------------------------------------------------- plain text

# Speaker label: a name or "Speaker 1", at most a few words, no sentence punctuation.
_NAME = r"[^\s:：,，。.!?！？\[\]()（）<>\"“”'‘’][^:：,，。!?！？\[\]()（）<>\"“”]{0,30}?"
_SPEAKER_LINE = re.compile(
    rf"^\s*(?:[\[(（]?(?P<ts1>{_TS})[\])）]?\s+)?"          # optional leading timestamp
    rf"(?P<speaker>{_NAME})"
    rf"(?:\s*[\[(（]\s*(?P<ts2>{_TS})\s*[\])）])?"           # optional "(00:01:02)" after the name
    rf"(?:\s+(?P<ts3>{_TS}))?"                              # or "张三 00:01:02:"
    rf"\s*[:：]\s*(?P<text>.*)$"
)
# A header line of many meeting apps: "说话人1 00:00:05" or "张三  01:02", with the words on the next lines.
_HEADER_LINE = re.compile(rf"^\s*(?P<speaker>{_NAME})\s+[\[(（]?(?P<ts>{_TS})[\])）]?\s*$")
_TIMESTAMP_ONLY_PREFIX = re.compile(rf"^\s*[\[(（]?(?P<ts>{_TS})[\])）]?\s+(?P<text>.+)$")


def _plausible_speaker(name: str, text: str) -> bool:
    name = name.strip()
    if not name or len(name) > 32 or len(name.split()) > 4:
        return False
    if text.startswith("//"):  # "http://..."
        return False
    if re.fullmatch(r"\d+", name):
        return False
    return True


def parse_text(text: str) -> list[tuple[str | None, float | None, str]]:
    """Utterances from plain text: "Name: words", "Speaker 1 (00:01:02): words", header lines, or paragraphs."""
    rows: list[tuple[str | None, float | None, str]] = []
    pending: tuple[str, float | None] | None = None  # a header line waiting for its words
    pending_words: list[str] = []
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def flush_pending() -> None:
        nonlocal pending, pending_words
        if pending and pending_words:
            rows.append((pending[0], pending[1], " ".join(pending_words).strip()))
        pending, pending_words = None, []

    for raw in raw_lines:
        line = raw.strip().lstrip("\ufeff")
        if not line:
            if pending is None:
                continue
            if pending_words:
                flush_pending()
            continue
        header = _HEADER_LINE.match(line)
        if header and _plausible_speaker(header["speaker"], ""):
            flush_pending()
            pending = (header["speaker"].strip(), parse_timestamp(header["ts"]))
            continue
        match = _SPEAKER_LINE.match(line)
        if match and _plausible_speaker(match["speaker"], match["text"]) and not match["text"].strip():
            flush_pending()  # "张三：" alone on a line: the words follow
            ts = match["ts1"] or match["ts2"] or match["ts3"]
            pending = (match["speaker"].strip(), parse_timestamp(ts) if ts else None)
            continue
        if match and _plausible_speaker(match["speaker"], match["text"]):
            flush_pending()
            ts = match["ts1"] or match["ts2"] or match["ts3"]
            rows.append((match["speaker"].strip(), parse_timestamp(ts) if ts else None, match["text"].strip()))
            continue
        if pending is not None:
            pending_words.append(line)
            continue
        stamped = _TIMESTAMP_ONLY_PREFIX.match(line)
        if stamped:
            rows.append((None, parse_timestamp(stamped["ts"]), stamped["text"].strip()))
            continue
        # A continuation of the previous speaker's turn is kept as its own numbered line, same speaker.
        rows.append((_CONTINUED if rows else None, None, line))
    flush_pending()
    return rows


# ---------------------------------------------------------------- subtitles

_CUE_TIME = re.compile(rf"^\s*(?P<start>{_TS})\s*-->\s*(?P<end>{_TS})")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<name>[^>]+)>")
_TAG = re.compile(r"</?[^>]+>")


def parse_subtitles(text: str) -> list[tuple[str | None, float | None, str]]:
    """Cues of an SRT or WebVTT file; speakers from "<v Name>" tags or a "Name:" prefix."""
    rows: list[tuple[str | None, float | None, str]] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        timing = next((i for i, ln in enumerate(lines) if _CUE_TIME.match(ln)), None)
        if timing is None:
            continue  # header, NOTE or STYLE block, or a stray number
        start = parse_timestamp(_CUE_TIME.match(lines[timing])["start"])
        body = " ".join(lines[timing + 1:]).strip()
        if not body:
            continue
        speaker = None
        voice = _VOICE.search(body)
        if voice:
            speaker = voice["name"].strip()
        body = _TAG.sub("", body).strip()
        if speaker is None:
            match = _SPEAKER_LINE.match(body)
            if match and _plausible_speaker(match["speaker"], match["text"]) and match["text"].strip():
                speaker, body = match["speaker"].strip(), match["text"].strip()
        if rows and rows[-1][0] == speaker and speaker is not None and rows[-1][2] == body:
            continue  # rolling captions repeat the same cue
        rows.append((speaker, start, body))
    return rows


# ---------------------------------------------------------------- JSON exports

_TEXT_KEYS = ("text", "content", "sentence", "transcript", "words", "utterance", "value")
_SPEAKER_KEYS = ("speaker", "speaker_name", "speakerName", "name", "spk", "speaker_id", "role", "user")
_START_KEYS = ("start", "start_time", "startTime", "begin", "begin_time", "beginTime", "timestamp", "time",
               "offset", "start_ms", "startMs")
_MS_KEYS = {"begin_time", "beginTime", "start_ms", "startMs", "offset"}
_LIST_KEYS = ("segments", "utterances", "sentences", "transcripts", "transcript", "meeting_transcripts",
              "paragraphs", "results", "items", "entries", "lines", "records", "data")


def _find_utterances(data: object, depth: int = 0) -> list[dict] | None:
    if depth > 4:
        return None
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        if any(any(k in x for k in _TEXT_KEYS) for x in data):
            # Paraformer: transcripts[0].sentences; go deeper when items hold lists rather than text.
            if not any(isinstance(x.get(k), str) for x in data for k in _TEXT_KEYS):
                for x in data:
                    found = _find_utterances(x, depth + 1)
                    if found:
                        return found
            return data
        for x in data:
            found = _find_utterances(x, depth + 1)
            if found:
                return found
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            if key in data:
                found = _find_utterances(data[key], depth + 1)
                if found:
                    return found
    return None


def _json_time(item: dict) -> float | None:
    for key in _START_KEYS:
        if key not in item or item[key] is None:
            continue
        value = item[key]
        if isinstance(value, (int, float)):
            return float(value) / 1000 if key in _MS_KEYS else float(value)
        if isinstance(value, str):
            seconds = parse_timestamp(value)
            if seconds is not None:
                return seconds
            try:
                return float(value) / 1000 if key in _MS_KEYS else float(value)
            except ValueError:
                continue
    return None


def parse_json(text: str, name: str) -> list[tuple[str | None, float | None, str]]:
    """Utterances from a JSON export (a list of {speaker, text, start} or a dict holding one)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("minutes.error.bad_json", file=name, detail=f"line {exc.lineno}: {exc.msg}") from None
    items = _find_utterances(data)
    if not items:
        raise InputError("minutes.error.json_shape", file=name)
    rows = []
    for item in items:
        body = next((item[k] for k in _TEXT_KEYS if isinstance(item.get(k), str)), "")
        body = body.strip()
        if not body:
            continue
        speaker = next((item[k] for k in _SPEAKER_KEYS if item.get(k) not in (None, "")), None)
        if isinstance(speaker, (int, float)):
            speaker = f"Speaker {int(speaker)}"
        rows.append((str(speaker).strip() if speaker is not None else None, _json_time(item), body))
    return rows


# ---------------------------------------------------------------- files

def _read_docx_text(path: Path, name: str) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    from services.documents import check_unzipped_size
    check_unzipped_size(path, name, "DOCX")
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise InputError("doc.error.corrupt", file=name) from exc
    except Exception as exc:  # zipfile.BadZipFile, lxml errors: all mean the file is not a valid DOCX
        raise InputError("doc.error.corrupt", file=name) from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:  # some apps export a speaker | time | words table
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
            if len(cells) >= 2:
                lines.append(f"{cells[0]}: {' '.join(cells[1:])}" if len(cells) == 2
                             else f"{cells[0]} ({cells[1]}): {' '.join(cells[2:])}")
            elif cells:
                lines.append(cells[0])
    return "\n".join(lines)


def _read_text(path: Path, name: str) -> str:
    from services.documents import read_text_file
    text = read_text_file(path)
    # Mojibake check: replacement characters or control bytes mean the encoding was not recognised.
    bad = text.count("\ufffd") + len(re.findall(r"[\x00-\x08\x0e-\x1f]", text))
    if text and bad > max(3, len(text) // 200):
        raise InputError("minutes.error.encoding", file=name)
    return text


_CONTINUED = "\x00continued"  # marks a line that continues the previous turn


# Field names of a minutes' heading block ("会议主题：…", "时间：…"); they share the "Name: words" shape of speech.
_HEADER_FIELDS = re.compile(
    r"(?:会议)?(?:主题|名称|议题|议程|时间|日期|地点|会议室|参会人员?|与会人员?|出席人员?|列席人员?|缺席人员?|参加人员?|"
    r"记录人?|纪要人|主持人?|抄送|会议类型|"
    r"subject|topic|title|meeting|date|time|location|place|venue|attendees|participants|present|absent|"
    r"apologies|chair|chairperson|facilitator|minutes(?: taken)? by|note ?taker|recorder|agenda)",
    re.IGNORECASE)
_SENTENCE_MARKS = re.compile(r"[。，！？!?；;]|[,.] ")


def _heading_fields(rows: list[tuple[str | None, float | None, str]], counts: dict[str, int]) -> set[int]:
    """Rows of a heading block read as "label: value" although nobody speaks there.

    A label used once, either named like a minutes field, or standing in the opening block (before the first
    recurring speaker) with a short value that has no sentence in it (a date, a room, a list of names).
    """
    if sum(1 for c in counts.values() if c > 1) < 1:
        return set()
    found: set[int] = set()
    opening = True
    for i, (speaker, _start, body) in enumerate(rows):
        if not speaker or speaker == _CONTINUED:
            continue
        if counts.get(speaker, 0) > 1:
            opening = False
            continue
        # A field holds a value (a date, a room, names), not a sentence: "主持人：欢迎大家，…" is someone speaking.
        named_field = bool(_HEADER_FIELDS.fullmatch(speaker.strip())) and len(body) <= 80 and not re.search(
            r"[。，！？!?；;]|[.] ", body)
        bare_value = len(body) <= 60 and not _SENTENCE_MARKS.search(body)
        if named_field or (opening and bare_value):
            found.add(i)
    return found


def _resolve_speakers(rows: list[tuple[str | None, float | None, str]]) -> list[tuple[str | None, float | None, str]]:
    # Prose such as "Note: ..." looks like a speaker label; real speakers recur or label most lines.
    counts_all: dict[str, int] = {}
    for speaker, _start, _body in rows:
        if speaker and speaker != _CONTINUED:
            counts_all[speaker] = counts_all.get(speaker, 0) + 1
    heading = _heading_fields(rows, counts_all)
    if heading:
        # A heading line stays in the transcript as plain text (the title and date still reach the model).
        rows = [(None, start, f"{speaker}：{body}") if i in heading else (speaker, start, body)
                for i, (speaker, start, body) in enumerate(rows)]
        # A line continuing a heading field belongs to nobody either.
        rows = [(None, start, body) if speaker == _CONTINUED and (i == 0 or rows[i - 1][0] is None)
                else (speaker, start, body) for i, (speaker, start, body) in enumerate(rows)]
    labelled = [r[0] for r in rows if r[0] and r[0] != _CONTINUED]
    counts: dict[str, int] = {}
    for speaker in labelled:
        counts[speaker] = counts.get(speaker, 0) + 1
    recurring = len(labelled) >= 2 and (len(counts) <= 0.6 * len(labelled)
                                        or sum(1 for c in counts.values() if c == 1) <= 0.5 * len(counts))
    real = bool(labelled) and (recurring or len(labelled) >= 0.8 * len(rows))
    resolved: list[tuple[str | None, float | None, str]] = []
    current: str | None = None
    for speaker, start, body in rows:
        if speaker == _CONTINUED:
            resolved.append((current if real else None, start, body))
        elif speaker and not real:
            resolved.append((None, start, f"{speaker}: {body}"))
        else:
            current = speaker
            resolved.append((speaker, start, body))
    return resolved


def transcript_from_rows(rows: list[tuple[str | None, float | None, str]], name: str,
                         source_format: str) -> Transcript:
    """A Transcript from (speaker, start, text) rows, numbering lines from 1."""
    if source_format in ("txt", "docx"):
        rows = _resolve_speakers(rows)
    lines = [Line(i, speaker, start, body) for i, (speaker, start, body) in enumerate(rows, 1)]
    transcript = Transcript(name=name, lines=lines, source_format=source_format)
    if not lines or transcript.char_count == 0:
        raise InputError("minutes.error.empty", file=name)
    if transcript.char_count > MAX_TRANSCRIPT_CHARS:
        raise InputError("minutes.error.too_long", file=name, chars=transcript.char_count,
                         limit=MAX_TRANSCRIPT_CHARS)
    return transcript


def parse_transcript_text(text: str, name: str = "transcript.txt") -> Transcript:
    """A Transcript from text already in memory; the format is chosen from the name's suffix and the content."""
    suffix = Path(name).suffix.lower()
    stripped = text.lstrip("\ufeff").lstrip()
    if suffix == ".json" or (suffix not in (".srt", ".vtt") and stripped[:1] in "[{" and _looks_json(stripped)):
        return transcript_from_rows(parse_json(stripped, name), name, "json")
    if suffix in (".srt", ".vtt") or stripped.startswith("WEBVTT") or re.search(rf"^\s*{_TS}\s*-->", stripped[:400], re.M):
        fmt = "vtt" if suffix == ".vtt" or stripped.startswith("WEBVTT") else "srt"
        return transcript_from_rows(parse_subtitles(text), name, fmt)
    return transcript_from_rows(parse_text(text), name, "txt")


def _looks_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def parse_transcript(path: str | Path, name: str | None = None) -> Transcript:
    """Read a TXT, DOCX, SRT, VTT or JSON transcript file into numbered lines."""
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in TRANSCRIPT_SUFFIXES:
        raise InputError("minutes.error.unsupported", file=name, kinds=", ".join(sorted(TRANSCRIPT_SUFFIXES)))
    if not path.exists() or path.stat().st_size == 0:
        raise InputError("minutes.error.empty", file=name)
    if suffix == ".docx":
        transcript = transcript_from_rows(parse_text(_read_docx_text(path, name)), name, "docx")
    else:
        transcript = parse_transcript_text(_read_text(path, name), name)
    return transcript


def injection_lines(transcript: Transcript) -> list[tuple[int, list[str]]]:
    """Lines whose text addresses the model (to be flagged, never obeyed)."""
    from services.documents import looks_like_injection
    found = []
    for ln in transcript.lines:
        phrases = looks_like_injection(ln.text)
        if phrases:
            found.append((ln.number, phrases))
    return found
