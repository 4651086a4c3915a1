"""Minutes templates: what each kind of meeting's minutes should bring out."""
from __future__ import annotations

from services.errors import InputError
from services.minutes.messages import register_messages

register_messages()

TEMPLATES: dict[str, dict[str, str]] = {
    "general": {
        "zh": "通用会议：概括讨论的议题、做出的决定、分配的待办和尚未解决的问题。",
        "en": "General meeting: cover the topics discussed, the decisions made, the tasks assigned and the "
              "questions left open.",
    },
    "standup": {
        "zh": "站会：按人整理每人昨天完成了什么、今天计划做什么、遇到什么阻碍；阻碍要记为待办或待解决问题。",
        "en": "Stand-up: per person, what they finished, what they plan next and what blocks them; record "
              "each blocker as an action item or an open question.",
    },
    "project_review": {
        "zh": "项目评审：整理进度与里程碑、风险与问题、范围或预算的变更、评审结论；明确每项后续工作的负责人和期限。",
        "en": "Project review: progress against milestones, risks and issues, changes to scope or budget, and "
              "the review's conclusions; give every follow-up an owner and a due date where stated.",
    },
    "client_call": {
        "zh": "客户沟通：整理客户的需求与关切、我方的承诺、双方达成的一致、报价或合同相关事项、下一步跟进。"
              "区分客户方与我方的待办。",
        "en": "Client call: the client's needs and concerns, what we promised, what both sides agreed, pricing "
              "or contract points, and next steps; say whether each action item is ours or the client's.",
    },
}


def template_names() -> list[str]:
    """Template keys in display order."""
    return list(TEMPLATES)


def template_focus(name: str, lang: str) -> str:
    """The template's instruction in the output language."""
    if name not in TEMPLATES:
        raise InputError("minutes.error.unknown_template", template=name, choices=", ".join(TEMPLATES))
    return TEMPLATES[name]["zh" if lang == "zh" else "en"]
