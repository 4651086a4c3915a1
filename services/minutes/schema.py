"""The shape of minutes: what the model is asked for, and what the app returns after checking it."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


def _require(*names: str):
    """A json_schema_extra that lists names as required in the JSON schema while validation keeps their defaults.

    The schema is what the local model's grammar is built from: a property that is not required may be left out,
    and small models then close the object after the summary without ever writing the decisions or action items.
    Replies that do leave them out (other providers, older replies) still validate, as empty lists.
    """
    def extra(schema: dict, _cls) -> None:
        required = list(schema.get("required", []))
        schema["required"] = required + [n for n in names if n not in required and n in schema["properties"]]
    return extra


ITEMS_PER_PART = 8  # decisions (and action items) one focused request may return


# ---- what the model fills in (kept small: small local models follow short schemas better)

class TopicOut(BaseModel):
    title: str = Field(description="agenda item or topic")
    summary: str = Field(description="what was said about it, in 1-3 sentences")


class DecisionOut(BaseModel):
    """A decision as the model writes it: the line and words from it first, so the text is read from that line."""

    model_config = ConfigDict(json_schema_extra=_require("source_line", "quote", "text"))

    source_line: int = Field(description="number N of the [LN] line where it was decided")
    quote: str = Field(default="", description="a few words copied exactly from that line")
    text: str = Field(description="the decision, stated as agreed")


class ActionItemOut(BaseModel):
    """An action item as the model writes it: line, words copied from it, then owner, task and due read from it."""

    model_config = ConfigDict(json_schema_extra=_require("source_line", "quote", "owner", "task", "due", "priority"))

    source_line: int = Field(description="number N of the [LN] line where it was agreed or asked for")
    quote: str = Field(default="", description="a few words copied exactly from that line")
    owner: str = Field(default="unassigned", description="the speaker of that line or a person named in it, "
                                                         "else 'unassigned'")
    task: str = Field(description="what must be done")
    due: str = Field(default="", description="due date or time said in that line, else empty")
    priority: str = Field(default="medium", description="high, medium or low")


class PartMinutes(BaseModel):
    """Minutes of one part of a meeting (the map step)."""

    # Every key required in the grammar, in this order: the lists can no longer be skipped by closing early.
    model_config = ConfigDict(json_schema_extra=_require("attendees", "summary", "topics", "decisions",
                                                         "action_items", "open_questions"))

    attendees: list[str] = Field(default_factory=list, description="names of people who spoke or were named")
    summary: str = Field(description="summary of this part")
    topics: list[TopicOut] = Field(default_factory=list)
    decisions: list[DecisionOut] = Field(default_factory=list)
    action_items: list[ActionItemOut] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)


class PartItems(BaseModel):
    """Decisions and action items of one part (the focused request); both lists may be empty."""

    model_config = ConfigDict(json_schema_extra=_require("decisions", "action_items"))

    # maxItems bounds the answer (it must fit the room the sizing leaves it); validation does not enforce it.
    decisions: list[DecisionOut] = Field(default_factory=list, json_schema_extra={"maxItems": ITEMS_PER_PART})
    action_items: list[ActionItemOut] = Field(default_factory=list, json_schema_extra={"maxItems": ITEMS_PER_PART})


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
