"""Prompt presets: built-in roles in Chinese and English, plus the user's own saved ones."""
from __future__ import annotations

from dataclasses import dataclass, field

from services import i18n


@dataclass(frozen=True)
class Preset:
    """A role for the model: a name, a system prompt and optional worked examples, per language."""

    id: str
    name: dict[str, str]
    system: dict[str, str]
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (question, answer) pairs

    def label(self, lang: str) -> str:
        """The preset's name in the UI language."""
        return self.name.get(lang) or self.name["zh"]

    def system_prompt(self, lang: str) -> str:
        """The system prompt in the UI language."""
        return self.system.get(lang) or self.system["zh"]

    def example_messages(self, lang: str) -> list[dict[str, str]]:
        """The worked examples as user/assistant messages placed before the conversation."""
        out: list[dict[str, str]] = []
        for question, answer in self.examples.get(lang) or self.examples.get("zh") or []:
            out += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        return out


BUILTIN: list[Preset] = [
    Preset(
        id="general",
        name={"zh": "通用助手", "en": "General assistant"},
        system={"zh": "你是一名可靠的办公助手。回答准确、简洁；不确定时直接说明不确定，不要编造事实。",
                "en": "You are a reliable office assistant. Answer accurately and concisely; when unsure, say so "
                      "instead of inventing facts."},
    ),
    Preset(
        id="sentiment",
        name={"zh": "舆情分析师", "en": "Sentiment analyst"},
        system={"zh": "你是舆情分析师。判断用户给出的文本对所涉及的企业或事件的情感倾向，只回答「正向」或「负向」两个词之一，不要解释。",
                "en": "You are a sentiment analyst. Judge the sentiment of the text the user gives towards the "
                      "company or event it concerns. Answer with exactly one word, 'Positive' or 'Negative', "
                      "and no explanation."},
        examples={"zh": [("公司三季度净利润同比增长 35%，订单饱满。", "正向"),
                         ("该企业因财务造假被证监会立案调查。", "负向")],
                  "en": [("Third-quarter net profit rose 35% year on year and the order book is full.", "Positive"),
                         ("The regulator opened an investigation into the company for falsified accounts.",
                          "Negative")]},
    ),
    Preset(
        id="finance",
        name={"zh": "财务助手", "en": "Finance assistant"},
        system={"zh": "你是财务分析助手，熟悉中国企业会计准则和上市公司财报。计算时列出公式和每一步的数字，注明单位（元/万元/亿元）和期间；"
                      "数据不足时说明还需要哪些数据，不要猜测。",
                "en": "You are a financial analysis assistant who knows IFRS, Chinese accounting standards and listed "
                      "companies' reports. When calculating, show the formula and every step with units and periods; "
                      "when data is missing, say what is needed instead of guessing."},
    ),
    Preset(
        id="math",
        name={"zh": "数学助手", "en": "Math assistant"},
        system={"zh": "你是数学助手。按步骤解题：先写出已知和所求，再逐步推导并检查，最后单独一行写「答案：…」。",
                "en": "You are a math assistant. Solve step by step: state what is given and what is asked, derive "
                      "step by step and check, then end with a separate line 'Answer: …'."},
        examples={
            "zh": [("一件商品先涨价 20%，再降价 20%，现价是原价的百分之几？",
                    "已知：原价设为 x；先涨 20%，再降 20%。所求：现价 ÷ 原价。\n"
                    "第 1 步：涨价后价格 = x × (1 + 20%) = 1.2x。\n"
                    "第 2 步：降价后价格 = 1.2x × (1 − 20%) = 1.2x × 0.8 = 0.96x。\n"
                    "检查：0.96x < x，先涨后降同样百分比，价格变低，符合直觉。\n"
                    "答案：96%")],
            "en": [("A price rises by 20% and then falls by 20%. What percentage of the original price is it now?",
                    "Given: original price x; +20%, then −20%. Asked: new price ÷ original price.\n"
                    "Step 1: after the rise the price is x × (1 + 20%) = 1.2x.\n"
                    "Step 2: after the fall it is 1.2x × (1 − 20%) = 1.2x × 0.8 = 0.96x.\n"
                    "Check: 0.96x < x; rising then falling by the same percentage lowers the price, as expected.\n"
                    "Answer: 96%")],
        },
    ),
    Preset(
        id="translator",
        name={"zh": "翻译", "en": "Translator"},
        system={"zh": "你是专业翻译。用户发来中文就译成英文，发来其他语言就译成中文。只输出译文，保留原文的格式、数字和专有名词。",
                "en": "You are a professional translator. Translate Chinese into English and any other language into "
                      "Chinese. Output only the translation, keeping the formatting, numbers and proper names."},
    ),
]

_BY_ID = {p.id: p for p in BUILTIN}
CUSTOM_PREFIX = "custom:"

i18n.register({
    "chat.preset": {"zh": "角色预设", "en": "Preset"},
    "chat.preset_custom": {"zh": "我的预设：{name}", "en": "My preset: {name}"},
})


def builtin(preset_id: str) -> Preset | None:
    """The built-in preset with this id, if any."""
    return _BY_ID.get(preset_id)


def custom_preset(saved: dict[str, str]) -> Preset:
    """A user's saved preset (one system prompt for both languages, no examples)."""
    return Preset(id=CUSTOM_PREFIX + saved["id"], name={"zh": saved["name"], "en": saved["name"]},
                  system={"zh": saved["system"], "en": saved["system"]})


def find(preset_id: str, saved: list[dict[str, str]]) -> Preset:
    """The preset with this id among the built-in and saved ones; the general assistant when unknown."""
    if preset_id.startswith(CUSTOM_PREFIX):
        for s in saved:
            if CUSTOM_PREFIX + s["id"] == preset_id:
                return custom_preset(s)
    return _BY_ID.get(preset_id) or _BY_ID["general"]


def choices(saved: list[dict[str, str]]) -> list[Preset]:
    """Every preset a user can pick: built-in ones first, then their own."""
    return BUILTIN + [custom_preset(s) for s in saved]
