"""The shape of minutes: what the model is asked for, and what the app returns after checking it."""
from __future__ import annotations

from pydantic import BaseModel, Field


# ---- what the model fills in (kept small: small local models follow short schemas better)

class TopicOut(BaseModel):
    title: str = Field(description="agenda item or topic")
    summary: str = Field(description="what was said about it, in 1-3 sentences")


class DecisionOut(BaseModel):
    text: str = Field(description="the decision, stated as agreed")
    source_line: int = Field(description="number of the transcript line [L#] where it was decided")


class ActionItemOut(BaseModel):
    task: str = Field(description="what must be done")
    owner: str = Field(default="unassigned", description="person responsible, as named in the transcript, "
                                                         "or 'unassigned'")
    due: str = Field(default="", description="due date or time as said in the meeting, or empty")
    priority: str = Field(default="medium", description="high, medium or low")
    source_line: int = Field(description="number of the transcript line [L#] where it was agreed")


class PartMinutes(BaseModel):
    """Minutes of one part of a meeting (the map step)."""

    attendees: list[str] = Field(default_factory=list, description="names of people who spoke or were named")
    summary: str = Field(description="summary of this part")
    topics: list[TopicOut] = Field(default_factory=list)
    decisions: list[DecisionOut] = Field(default_factory=list)
    action_items: list[ActionItemOut] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)


class MergedOverview(BaseModel):
    """Title, summary and topics of the whole meeting from the parts' minutes (the reduce step)."""

    title: str = Field(description="short title of the meeting")
    summary: str = Field(description="summary of the whole meeting")
    topics: list[TopicOut] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)


class FullMinutes(PartMinutes):
    """Minutes of a meeting that fits in one request."""

    title: str = Field(description="short title of the meeting")


# ---- what the app returns (after grounding)

class Source(BaseModel):
    """Where in the transcript an item comes from."""

    line: int
    speaker: str | None = None
    timestamp: str = ""
    text: str = ""


class Decision(BaseModel):
    text: str
    source_line: int
    source: Source | None = None
    suggested_line: int = 0  # when the cited line is wrong: the line that best matches the text
    flags: list[str] = Field(default_factory=list)  # codes: line_missing, not_in_line, injection


class ActionItem(BaseModel):
    task: str
    owner: str = "unassigned"
    due: str = ""
    priority: str = "medium"
    source_line: int
    source: Source | None = None
    also_lines: list[int] = Field(default_factory=list)  # where duplicates merged into this item were cited
    suggested_line: int = 0  # when the cited line is wrong: the line that best matches the task
    suggested_owner: str = ""  # the model's owner when it was not a name from the meeting or its line
    suggested_due: str = ""  # the model's due date when the cited line does not say it
    # codes: line_missing, not_in_line, owner_unknown, owner_not_in_line, due_not_in_line, injection
    flags: list[str] = Field(default_factory=list)


class Topic(BaseModel):
    title: str
    summary: str


class Minutes(BaseModel):
    """Checked minutes of one meeting."""

    title: str
    date: str = ""
    attendees: list[str] = Field(default_factory=list)
    summary: str = ""
    topics: list[Topic] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    template: str = "general"
    language: str = "zh"
    parts: int = 1
    warnings: list[str] = Field(default_factory=list)   # localized sentences for the user
    elapsed_s: float = 0.0

    def public_dict(self) -> dict:
        """The fields the CLI's --json promises."""
        return {
            "title": self.title,
            "date": self.date,
            "attendees": self.attendees,
            "summary": self.summary,
            "topics": [t.model_dump() for t in self.topics],
            "decisions": [{"text": d.text, "source_line": d.source_line, "flags": d.flags} for d in self.decisions],
            "action_items": [{"task": a.task, "owner": a.owner, "due": a.due, "priority": a.priority,
                              "source_line": a.source_line, "flags": a.flags} for a in self.action_items],
            "open_questions": self.open_questions,
            "warnings": self.warnings,
        }
