"""Minutes as Markdown and DOCX, action items as CSV safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io

from services import i18n
from services.exports import neutralize
from services.minutes.messages import register_messages
from services.minutes.schema import ActionItem, Decision, Minutes

register_messages()

def neutralise_cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula (a leading apostrophe before = + - @)."""
    return neutralize("" if value is None else str(value))


def flag_texts(item: ActionItem | Decision, lang: str) -> list[str]:
    """The item's flags as sentences in the UI language."""
    out = []
    for flag in item.flags:
        if flag == "owner_unknown":
            out.append(i18n.t("minutes.flag.owner_unknown", lang, owner=getattr(item, "suggested_owner", "")))
        elif flag in ("owner_not_in_line", "due_not_in_line"):
            out.append(i18n.t(f"minutes.flag.{flag}", lang, line=item.source_line,
                              owner=getattr(item, "suggested_owner", ""), due=getattr(item, "suggested_due", "")))
        else:
            out.append(i18n.t(f"minutes.flag.{flag}", lang, line=item.source_line))
            if flag in ("line_missing", "not_in_line") and item.suggested_line:
                out[-1] += i18n.t("minutes.flag.maybe_line", lang, line=item.suggested_line)
    return out


def owner_label(owner: str, lang: str) -> str:
    """The owner, with "unassigned" in the UI language."""
    return i18n.t("minutes.unassigned", lang) if owner == "unassigned" else owner


def priority_label(priority: str, lang: str) -> str:
    """high/medium/low in the UI language."""
    return i18n.t(f"minutes.priority.{priority}", lang) if priority in ("high", "medium", "low") else priority


def source_label(item: ActionItem | Decision) -> str:
    """"L12 · 张三 · 00:01:02" for the cited line."""
    if not item.source_line:
        return "—"
    parts = [f"L{item.source_line}"]
    if item.source and item.source.speaker:
        parts.append(item.source.speaker)
    if item.source and item.source.timestamp:
        parts.append(item.source.timestamp)
    return " · ".join(parts)


def _md(text: str) -> str:
    # Keep untrusted text from forming tables, links to elsewhere or HTML when the Markdown is rendered.
    return (text or "").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ").strip()


def action_rows(minutes: Minutes, lang: str) -> list[dict[str, str]]:
    """Action items as rows with localized column names (used by the page table, CSV and DOCX)."""
    rows = []
    for item in minutes.action_items:
        rows.append({
            i18n.t("minutes.col.task", lang): item.task,
            i18n.t("minutes.col.owner", lang): owner_label(item.owner, lang),
            i18n.t("minutes.col.due", lang): item.due,
            i18n.t("minutes.col.priority", lang): priority_label(item.priority, lang),
            i18n.t("minutes.h.source", lang): source_label(item),
            i18n.t("minutes.h.flags", lang): "; ".join(flag_texts(item, lang)),
        })
    return rows


def to_markdown(minutes: Minutes, lang: str = "zh") -> str:
    """The minutes as a Markdown document."""
    t = lambda key: i18n.t(key, lang)  # noqa: E731
    none = t("minutes.none")
    out = [f"# {_md(minutes.title)}", ""]
    out.append(f"**{t('minutes.h.date')}**: {_md(minutes.date) or t('minutes.unknown_date')}  ")
    out.append(f"**{t('minutes.h.attendees')}**: {_md('、'.join(minutes.attendees)) or none}")
    out += ["", f"## {t('minutes.h.summary')}", "", _md(minutes.summary) or none, ""]
    out += [f"## {t('minutes.h.topics')}", ""]
    out += [f"### {_md(topic.title)}\n\n{_md(topic.summary)}\n" for topic in minutes.topics] or [none, ""]
    out += [f"## {t('minutes.h.decisions')}", ""]
    for d in minutes.decisions:
        flags = "; ".join(flag_texts(d, lang))
        out.append(f"- {_md(d.text)} ({source_label(d)})" + (f" ⚠ {_md(flags)}" if flags else ""))
    if not minutes.decisions:
        out.append(none)
    out += ["", f"## {t('minutes.h.actions')}", ""]
    if minutes.action_items:
        rows = action_rows(minutes, lang)
        header = list(rows[0])
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(_md(row[h]) for h in header) + " |" for row in rows]
    else:
        out.append(none)
    out += ["", f"## {t('minutes.h.questions')}", ""]
    out += [f"- {_md(q)}" for q in minutes.open_questions] or [none]
    if minutes.warnings:
        out += ["", "---", ""] + [f"> {_md(w)}" for w in minutes.warnings]
    return "\n".join(out) + "\n"


def to_docx(minutes: Minutes, lang: str = "zh") -> bytes:
    """The minutes as a Word document."""
    import docx

    from services.exports import xml_safe
    minutes = xml_safe(minutes)  # control characters from a model or a transcript must not break the export
    t = lambda key: i18n.t(key, lang)  # noqa: E731
    none = t("minutes.none")
    document = docx.Document()
    document.add_heading(minutes.title, level=0)
    document.add_paragraph(f"{t('minutes.h.date')}: {minutes.date or t('minutes.unknown_date')}")
    document.add_paragraph(f"{t('minutes.h.attendees')}: {'、'.join(minutes.attendees) or none}")
    document.add_heading(t("minutes.h.summary"), level=1)
    document.add_paragraph(minutes.summary or none)
    document.add_heading(t("minutes.h.topics"), level=1)
    for topic in minutes.topics:
        document.add_heading(topic.title, level=2)
        document.add_paragraph(topic.summary)
    if not minutes.topics:
        document.add_paragraph(none)
    document.add_heading(t("minutes.h.decisions"), level=1)
    for d in minutes.decisions:
        flags = "; ".join(flag_texts(d, lang))
        document.add_paragraph(f"{d.text} ({source_label(d)})" + (f" ⚠ {flags}" if flags else ""),
                               style="List Bullet")
    if not minutes.decisions:
        document.add_paragraph(none)
    document.add_heading(t("minutes.h.actions"), level=1)
    rows = action_rows(minutes, lang)
    if rows:
        header = list(rows[0])
        table = document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, header):
            cell.text = name
        for row in rows:
            cells = table.add_row().cells
            for cell, name in zip(cells, header):
                cell.text = row[name]
    else:
        document.add_paragraph(none)
    document.add_heading(t("minutes.h.questions"), level=1)
    for q in minutes.open_questions:
        document.add_paragraph(q, style="List Bullet")
    if not minutes.open_questions:
        document.add_paragraph(none)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


CSV_FIELDS = ("task", "owner", "due", "priority", "source_line", "speaker", "timestamp", "flags")


def action_items_csv(items: list[ActionItem], lang: str = "zh") -> bytes:
    """Action items as UTF-8 CSV (with BOM, so Excel shows Chinese), every cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for item in items:
        writer.writerow([neutralise_cell(v) for v in (
            item.task, item.owner, item.due, item.priority, item.source_line,
            item.source.speaker if item.source else "", item.source.timestamp if item.source else "",
            "; ".join(flag_texts(item, lang)))])
    return buffer.getvalue().encode("utf-8-sig")


EDITABLE_COLUMNS = ("id", "task", "owner", "due", "priority", "source", "check")


def editable_rows(minutes: Minutes, lang: str) -> list[dict[str, str]]:
    """Action items as rows for an editable table (priority and "unassigned" in the UI language)."""
    return [{"id": i, "task": a.task, "owner": owner_label(a.owner, lang), "due": a.due,
             "priority": priority_label(a.priority, lang), "source": source_label(a),
             "check": "; ".join(flag_texts(a, lang))} for i, a in enumerate(minutes.action_items)]


def apply_edits(minutes: Minutes, rows: list[dict], lang: str) -> Minutes:
    """A copy of the minutes whose action items are the edited rows (new rows have no cited line)."""
    by_label = {priority_label(p, lang): p for p in ("high", "medium", "low")}
    unassigned = owner_label("unassigned", lang)
    items = []
    for row in rows:
        task = str(row.get("task") or "").strip()
        if not task:
            continue
        original = None
        try:
            index = int(row.get("id"))
            if 0 <= index < len(minutes.action_items):
                original = minutes.action_items[index]
        except (TypeError, ValueError):  # a row the user added (id empty or NaN)
            pass
        owner = str(row.get("owner") or "").strip()
        item = ActionItem(
            task=task,
            owner="unassigned" if owner in ("", unassigned) else owner,
            due=str(row.get("due") or "").strip(),
            priority=by_label.get(str(row.get("priority") or ""), str(row.get("priority") or "medium")),
            source_line=original.source_line if original else 0,
            source=original.source if original else None,
            also_lines=list(original.also_lines) if original else [],
            suggested_owner=original.suggested_owner if original else "",
            flags=list(original.flags) if original and original.task == task else [],
        )
        items.append(item)
    return minutes.model_copy(update={"action_items": items})
