"""Checks that decisions and action items stand on the transcript: cited line exists and says it, owner spoke."""
from __future__ import annotations

import math
import re
from difflib import SequenceMatcher

from services.minutes.schema import ActionItem, Decision, Source
from services.minutes.transcript import Line, Transcript

UNASSIGNED = "unassigned"
_UNASSIGNED_WORDS = {"", "unassigned", "none", "n/a", "na", "tbd", "unknown", "nobody", "null", "-", "—",
                     "未分配", "无", "待定", "未知", "暂无", "未指定", "不详"}
_STOPWORDS = {
    "the", "and", "for", "with", "that", "this", "will", "from", "have", "has", "are", "was", "were", "been",
    "into", "onto", "about", "should", "would", "could", "need", "needs", "make", "sure", "also", "then",
    "them", "they", "their", "our", "your", "you", "his", "her", "its", "all", "any", "some", "can", "let",
    "get", "got", "before", "after", "next", "week", "by", "to", "of", "on", "in", "at", "a", "an", "be", "is",
}


def content_tokens(text: str) -> set[str]:
    """Comparable pieces of text: Chinese character pairs and (crudely stemmed) English words."""
    text = text.lower()
    tokens: set[str] = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        if len(run) == 1:
            tokens.add(run)
        tokens.update(run[i:i + 2] for i in range(len(run) - 1))
    for word in re.findall(r"[a-z0-9]+", text):
        if len(word) >= 3 and word not in _STOPWORDS:
            tokens.add(word[:5])  # "reports"/"report"/"reporting" meet at "repor"
    return tokens


def mentions(line_text: str, claim: str) -> bool:
    """Whether a transcript line says enough of the claim's content words to be its source."""
    claim_tokens = content_tokens(claim)
    if not claim_tokens:
        return True
    shared = len(claim_tokens & content_tokens(line_text))
    return shared >= max(1, math.ceil(0.25 * len(claim_tokens)))


def normalise_owner(owner: str) -> str:
    """"unassigned" for the many ways of saying nobody; the name otherwise."""
    owner = (owner or "").strip().strip("@").strip()
    return UNASSIGNED if owner.lower() in _UNASSIGNED_WORDS else owner


def owner_in_transcript(owner: str, transcript: Transcript) -> bool:
    """Whether every name in the owner field occurs as a speaker or in what was said."""
    names = _owner_names(owner)
    if not names:
        return False
    speakers = {s.lower() for s in transcript.speakers}
    haystack = transcript.text.lower()
    return all(name.lower() in speakers or name.lower() in haystack for name in names)


def normalise_priority(priority: str) -> str:
    """"high", "medium" or "low" from whatever the model wrote."""
    p = (priority or "").strip().lower()
    if p in {"high", "高", "紧急", "urgent", "critical", "p0", "p1", "highest", "重要"}:
        return "high"
    if p in {"low", "低", "p3", "p4", "lowest", "不急"}:
        return "low"
    return "medium"


def _source(transcript: Transcript, number: int) -> Source | None:
    line = transcript.line(number)
    if line is None:
        return None
    return Source(line=number, speaker=line.speaker, timestamp=line.timestamp, text=line.text)


def _line_flags(transcript: Transcript, number: int, claim: str, injected: set[int]) -> list[str]:
    line = transcript.line(number)
    if line is None:
        return ["line_missing"]
    flags = []
    speaker = f"{line.speaker} " if line.speaker else ""
    if not mentions(speaker + line.text, claim):
        flags.append("not_in_line")
    if number in injected:
        flags.append("injection")
    return flags


def best_line(transcript: Transcript, claim: str) -> int:
    """The line sharing most content words with the claim, if it would pass the mention check; else 0."""
    claim_tokens = content_tokens(claim)
    if not claim_tokens:
        return 0
    best, best_shared = 0, 0
    for line in transcript.lines:
        shared = len(claim_tokens & content_tokens(f"{line.speaker or ''} {line.text}"))
        if shared > best_shared:
            best, best_shared = line.number, shared
    return best if best_shared >= max(1, math.ceil(0.25 * len(claim_tokens))) else 0


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def quoted_line(quote: str, cited: int, transcript: Transcript) -> int:
    """The line the quoted words were copied from: the cited line when it has them, else the nearest that does.

    Small models copy words far better than they count lines; a quote too short to place keeps the cited line.
    """
    tokens = content_tokens(quote)
    key = _plain(quote)
    if len(tokens) < 2 or not key:
        return cited
    line = transcript.line(cited)
    if line is not None and key in _plain(line.text):
        return cited
    exact = [ln.number for ln in transcript.lines if key in _plain(ln.text)]
    if exact:
        return min(exact, key=lambda n: abs(n - cited))
    # Copied loosely: the line holding most of the quote's content words, if that is most of them.
    best = max(transcript.lines, key=lambda ln: (len(tokens & content_tokens(ln.text)), -abs(ln.number - cited)))
    return best.number if len(tokens & content_tokens(best.text)) >= math.ceil(0.6 * len(tokens)) else cited


def supported(claim: str, quote: str, cited: int, transcript: Transcript) -> bool:
    """Whether the line the claim cites (after following its quote) exists and says enough of the claim."""
    line = transcript.line(quoted_line(quote, cited, transcript))
    return line is not None and mentions(f"{line.speaker or ''} {line.text}", claim)


def check_decision(decision: Decision, transcript: Transcript, injected: set[int]) -> Decision:
    """The decision with its source attached and flags for a missing or unrelated line."""
    decision.source = _source(transcript, decision.source_line)
    decision.flags = _line_flags(transcript, decision.source_line, decision.text, injected)
    if {"line_missing", "not_in_line"} & set(decision.flags):
        decision.suggested_line = best_line(transcript, decision.text)
    return decision


_SELF = {"我", "本人", "我自己", "i", "me", "myself"}


def _owner_names(owner: str) -> list[str]:
    return [n.strip() for n in re.split(r"[、,，/&;；]|\band\b|和", owner) if n.strip()]


def owner_in_line(owner: str, line: Line | None) -> bool:
    """Whether every name in the owner field is the line's speaker or is said in the line."""
    names = _owner_names(owner)
    if line is None or not names:
        return False
    speaker, text = (line.speaker or "").lower(), line.text.lower()
    return all(name.lower() == speaker or name.lower() in text for name in names)


_DUE_FILLER = {"by", "the", "on", "at", "in", "of", "before", "until", "till", "end", "due", "this", "a", "an",
               "之前", "以前", "前"}


def _due_tokens(due: str) -> set[str]:
    due = due.lower()
    tokens: set[str] = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", due):
        for filler in ("之前", "以前"):
            run = run.replace(filler, "")
        run = run.rstrip("前")
        tokens.update([run] if len(run) == 1 else (run[i:i + 2] for i in range(len(run) - 1)))
    tokens.update(w[:5] for w in re.findall(r"[a-z]+|\d+", due) if w not in _DUE_FILLER)
    return tokens


def due_in_line(due: str, line: Line | None) -> bool:
    """Whether the line states the due date: the same words (Chinese character pairs, English stems, numbers)."""
    if line is None:
        return False
    key = re.sub(r"[\W_]+", "", due.lower())
    text = line.text.lower()
    if key and key in re.sub(r"[\W_]+", "", text):
        return True
    wanted = _due_tokens(due)
    if not wanted:
        return False
    return wanted <= (_due_tokens(line.text) | set(content_tokens(line.text)))


def _relink(item: ActionItem, transcript: Transcript, owner: str) -> bool:
    """Move the citation to a line within two of the cited one that names the owner and says the task.

    Small models often cite the question ("who will do it?") instead of the answer next to it ("I will").
    """
    for offset in (1, -1, 2, -2):
        line = transcript.line(item.source_line + offset)
        if line is not None and owner_in_line(owner, line) and mentions(f"{line.speaker or ''} {line.text}",
                                                                        item.task):
            item.also_lines.append(item.source_line)
            item.source_line = line.number
            item.source = _source(transcript, line.number)
            return True
    return False


def check_action(item: ActionItem, transcript: Transcript, injected: set[int]) -> ActionItem:
    """The action item with source attached, owner and due date checked against its line, priority normalised.

    An owner must be the cited line's speaker or be named in it, and a due date must be said in it; otherwise the
    model's guess is kept only as a suggestion and the field is cleared, with a flag.
    """
    item.source = _source(transcript, item.source_line)
    item.flags = _line_flags(transcript, item.source_line, item.task, injected)
    if {"line_missing", "not_in_line"} & set(item.flags):
        item.suggested_line = best_line(transcript, item.task)
    item.priority = normalise_priority(item.priority)
    owner = normalise_owner(item.owner)
    line = transcript.line(item.source_line)
    if owner.lower() in _SELF and line is not None and line.speaker:
        owner = line.speaker  # "I will do it": the one who said it
    if owner != UNASSIGNED and not owner_in_transcript(owner, transcript):
        item.suggested_owner = owner
        item.flags.append("owner_unknown")
        owner = UNASSIGNED
    elif owner != UNASSIGNED and not owner_in_line(owner, line) and not _relink(item, transcript, owner):
        item.suggested_owner = owner
        item.flags.append("owner_not_in_line")
        owner = UNASSIGNED
    item.owner = owner
    item.due = (item.due or "").strip()
    if item.due and not due_in_line(item.due, transcript.line(item.source_line)):
        item.suggested_due = item.due
        item.flags.append("due_not_in_line")
        item.due = ""
    return item


LINE_FLAGS = {"line_missing", "not_in_line", "injection"}


def _line_flagged(item: ActionItem) -> bool:
    return any(f in LINE_FLAGS for f in item.flags)


def _task_key(task: str) -> str:
    return re.sub(r"[\W_]+", "", task.lower())


def same_task(a: ActionItem, b: ActionItem) -> bool:
    """Whether two action items are the same task (worded alike, owners compatible)."""
    owners_ok = a.owner == b.owner or UNASSIGNED in (a.owner, b.owner)
    if not owners_ok:
        return False
    ka, kb = _task_key(a.task), _task_key(b.task)
    if not ka or not kb:
        return False
    # Same named owner and same deadline: fewer shared words are needed ("prepare"/"submit" the same report).
    same_context = a.owner == b.owner != UNASSIGNED and a.due and a.due == b.due
    ratio_needed, overlap_needed = (0.7, 0.5) if same_context else (0.8, 0.7)
    if ka == kb or SequenceMatcher(None, ka, kb).ratio() >= ratio_needed:
        return True
    ta, tb = content_tokens(a.task), content_tokens(b.task)
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= overlap_needed


def deduplicate(items: list[ActionItem]) -> tuple[list[ActionItem], int]:
    """Action items with duplicates merged into the first mention; also the number merged."""
    kept: list[ActionItem] = []
    merged = 0
    for item in items:
        twin = next((k for k in kept if same_task(k, item)), None)
        if twin is None:
            kept.append(item)
            continue
        merged += 1
        if twin.owner == UNASSIGNED and item.owner != UNASSIGNED:
            twin.owner = item.owner
        twin.due = twin.due or item.due
        if item.priority == "high":
            twin.priority = "high"
        if item.source_line != twin.source_line and item.source_line not in twin.also_lines:
            twin.also_lines.append(item.source_line)
        # A well-cited duplicate rescues a badly cited first mention.
        if _line_flagged(twin) and not _line_flagged(item):
            twin.also_lines = [n for n in twin.also_lines if n != item.source_line] + [twin.source_line]
            twin.source_line, twin.source = item.source_line, item.source
            twin.flags = [f for f in twin.flags if f not in LINE_FLAGS]
    return kept, merged
