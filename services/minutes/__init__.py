"""Meeting minutes: transcripts and recordings to minutes, decisions and action items that cite their lines."""
from services.minutes.audio import AUDIO_SUFFIXES, can_transcribe, transcribe
from services.minutes.export import action_items_csv, neutralise_cell, to_docx, to_markdown
from services.minutes.generate import make_minutes, part_budget, split_on_turns
from services.minutes.schema import ActionItem, Decision, Minutes
from services.minutes.templates import TEMPLATES, template_names
from services.minutes.transcript import (TRANSCRIPT_SUFFIXES, Line, Transcript, parse_transcript,
                                         parse_transcript_text)


def load_meeting(conn, path, *, name=None, asr_model=None, ui_lang=None) -> Transcript:
    """A transcript from a transcript file, or from a recording transcribed by the connection's provider."""
    from pathlib import Path
    suffix = Path(name or str(path)).suffix.lower()
    if suffix in AUDIO_SUFFIXES:
        return transcribe(conn, path, name=name, model=asr_model, simplified=ui_lang == "zh")
    return parse_transcript(path, name=name)


__all__ = ["AUDIO_SUFFIXES", "TRANSCRIPT_SUFFIXES", "TEMPLATES", "ActionItem", "Decision", "Line", "Minutes",
           "Transcript", "action_items_csv", "can_transcribe", "load_meeting", "make_minutes",
           "neutralise_cell", "parse_transcript", "parse_transcript_text", "part_budget", "split_on_turns",
           "template_names", "to_docx", "to_markdown", "transcribe"]
