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
    # conversations
    "chat.conversations": {"zh": "我的对话", "en": "My conversations"},
    "chat.shared_conversations": {"zh": "共享工作区的对话", "en": "Shared workspace conversations"},
    "chat.new": {"zh": "新对话", "en": "New chat"},
    "chat.search": {"zh": "搜索对话内容", "en": "Search conversations"},
    "chat.search_none": {"zh": "没有找到包含「{query}」的对话。", "en": "No conversation contains '{query}'."},
    "chat.no_conversations": {"zh": "还没有保存的对话。", "en": "No saved conversations yet."},
    "chat.current": {"zh": "当前对话", "en": "This conversation"},
    "chat.rename": {"zh": "重命名", "en": "Rename"},
    "chat.title_input": {"zh": "对话名称", "en": "Conversation name"},
    "chat.delete": {"zh": "删除对话", "en": "Delete conversation"},
    "chat.delete_confirm": {"zh": "确认删除（不可恢复）", "en": "Confirm delete (cannot be undone)"},
    "chat.deleted": {"zh": "已删除对话「{title}」。", "en": "Deleted the conversation '{title}'."},
    "chat.renamed": {"zh": "已重命名为「{title}」。", "en": "Renamed to '{title}'."},
    "chat.unsaved": {"zh": "本对话有内容尚未保存到数据库：{error}", "en": "Part of this conversation is not saved yet: {error}"},
    "chat.retry_save": {"zh": "重试保存", "en": "Retry saving"},
    "chat.saved_again": {"zh": "已保存。", "en": "Saved."},
    "chat.unsaved_block": {"zh": "请先点击「重试保存」或导出本对话，再切换对话，以免丢失内容。",
                           "en": "Retry saving or export this conversation before switching, so nothing is lost."},
    "chat.user_hint": {"zh": "对话保存在本浏览器的专属链接下（地址栏中的 u= 参数）；不要把该链接发给他人。",
                       "en": "Conversations are kept under this browser's own link (the u= part of the address); "
                             "do not share that link."},
    "chat.signed_in": {"zh": "已登录：{account}", "en": "Signed in: {account}"},
    "chat.login": {"zh": "登录（对话随账号保存）", "en": "Sign in (conversations follow your account)"},
    "chat.logout": {"zh": "退出登录", "en": "Sign out"},
    # message actions
    "chat.stop": {"zh": "停止生成", "en": "Stop"},
    "chat.regenerate": {"zh": "重新生成", "en": "Regenerate"},
    "chat.edit": {"zh": "修改问题并重新发送", "en": "Edit the question and resend"},
    "chat.resend": {"zh": "重新发送", "en": "Resend"},
    "chat.copy": {"zh": "复制", "en": "Copy"},
    "chat.draft": {"zh": "未发送的内容（可修改后再发送）", "en": "Not sent (edit and send again)"},
    "chat.send": {"zh": "发送", "en": "Send"},
    "chat.failed": {"zh": "回答失败，问题已保留，可点击「重新生成」。", "en": "The answer failed; the question is kept — click Regenerate."},
    # presets
    "chat.preset_save": {"zh": "把当前系统提示词存为我的预设", "en": "Save this system prompt as my preset"},
    "chat.preset_name": {"zh": "预设名称", "en": "Preset name"},
    "chat.preset_saved": {"zh": "已保存预设「{name}」。", "en": "Saved the preset '{name}'."},
    "chat.preset_delete": {"zh": "删除这个预设", "en": "Delete this preset"},
    "chat.examples_note": {"zh": "该预设会附带 {count} 组示范问答，帮助模型按格式回答。",
                           "en": "This preset sends {count} worked example(s) so the model answers in its format."},
    # export, compare, attachments
    "chat.export_md": {"zh": "导出 Markdown", "en": "Export Markdown"},
    "chat.export_json": {"zh": "导出 JSON", "en": "Export JSON"},
    "chat.compare": {"zh": "双模型对比", "en": "Compare two models"},
    "chat.compare_help": {"zh": "同一个问题同时发给两个模型，并排显示；后续对话以左侧模型的回答为准。",
                          "en": "Sends the same question to two models side by side; the conversation continues from "
                                "the left model's answer."},
    "chat.compare_provider": {"zh": "对比模型服务", "en": "Second provider"},
    "chat.compare_model": {"zh": "对比模型", "en": "Second model"},
    "chat.attach": {"zh": "附加文件（PDF、Word、TXT、Markdown）", "en": "Attach a file (PDF, Word, TXT, Markdown)"},
    "chat.attached": {"zh": "已附加：{name}（约 {tokens} 个 token），将随下一个问题发送。",
                      "en": "Attached: {name} (about {tokens} tokens); it goes with your next question."},
    "chat.attach_remove": {"zh": "移除附件", "en": "Remove attachments"},
    "chat.attach_fit": {"zh": "只发送前面能放下的部分", "en": "Send only the part that fits"},
    "chat.attach_reading": {"zh": "正在读取 {name}…", "en": "Reading {name}…"},
    "chat.attachment_chip": {"zh": "📎 {name}（{chars} 字）", "en": "📎 {name} ({chars} characters)"},
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
