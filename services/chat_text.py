"""Words shown by the chat page, and how an answer's numbers are put into a line."""
from __future__ import annotations

from services import i18n
from services.llm import ChatResult

i18n.register({
    "chat.title": {"zh": "对话", "en": "Chat"},
    "chat.system_prompt": {"zh": "系统提示词", "en": "System prompt"},
    "chat.system_help": {"zh": "告诉模型它的角色和回答方式，对整个对话生效。", "en": "Tells the model its role and how to answer; applies to the whole conversation."},
    "chat.input": {"zh": "输入问题，回车发送", "en": "Type a question, press Enter"},
    "chat.clear": {"zh": "清空对话", "en": "Clear conversation"},
    "chat.thinking": {"zh": "思考过程", "en": "Thinking"},
    "chat.thinking_live": {"zh": "正在思考…", "en": "Thinking…"},
    "chat.cut": {"zh": "回答未完成（已中断），以上为已收到的部分。", "en": "The answer is incomplete (interrupted); above is the part received."},
    "chat.stopped": {"zh": "已停止生成。", "en": "Generation stopped."},
    "chat.empty": {"zh": "开始提问吧。当前模型：{model}", "en": "Ask anything. Current model: {model}"},
    "chat.stats": {"zh": "输入 {input} · 输出 {output} tokens · 首字 {ttft} 秒 · {speed} tokens/秒{cost}",
                   "en": "in {input} · out {output} tokens · first token {ttft} s · {speed} tokens/s{cost}"},
    "chat.cost": {"zh": " · 约 {amount} {currency}", "en": " · ≈ {amount} {currency}"},
})


def stats_line(result: ChatResult | dict, lang: str) -> str:
    """One line of numbers under an answer: tokens, time to first token, speed, estimated cost."""
    r = result if isinstance(result, dict) else result.stats()
    cost = ""
    if r.get("cost") is not None:
        cost = i18n.t("chat.cost", lang, amount=f"{r['cost']:.4f}", currency=r.get("currency") or "")
    return i18n.t("chat.stats", lang, input=r.get("input_tokens") or 0, output=r.get("output_tokens") or 0,
                  ttft=f"{r['ttft_s']:.2f}" if r.get("ttft_s") is not None else "-",
                  speed=f"{r['tokens_per_s']:.1f}" if r.get("tokens_per_s") else "-", cost=cost)
