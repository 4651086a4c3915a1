"""Errors that carry a message for the user, in the user's language."""
from __future__ import annotations

from services import i18n

i18n.register({
    "error.missing_key": {
        "zh": "未配置 {provider} 的 API 密钥：请设置环境变量 {env_var}，或在「设置」页填写。",
        "en": "No API key for {provider}: set the environment variable {env_var}, or enter it on the Settings page.",
    },
    "error.auth": {
        "zh": "{provider} 拒绝了 API 密钥（{status}）：请检查 {env_var} 或「设置」页中的密钥是否正确、是否有权限。",
        "en": "{provider} rejected the API key ({status}): check {env_var} or the key on the Settings page.",
    },
    "error.rate_limit": {
        "zh": "{provider} 请求过于频繁（429），已重试 {attempts} 次仍失败，请稍后再试。",
        "en": "{provider} is rate-limiting requests (429); still failing after {attempts} attempts. Try again later.",
    },
    "error.server": {
        "zh": "{provider} 服务端出错（{status}），已重试 {attempts} 次仍失败，请稍后再试。",
        "en": "{provider} returned a server error ({status}); still failing after {attempts} attempts. Try again later.",
    },
    "error.timeout": {
        "zh": "{provider} 在 {seconds} 秒内没有响应，请稍后重试或换用其他模型。",
        "en": "{provider} did not answer within {seconds} s. Try again later or choose another model.",
    },
    "error.unreachable": {
        "zh": "无法连接到 {provider}（{base_url}）：请检查地址是否正确、服务是否已启动。",
        "en": "Cannot reach {provider} at {base_url}: check the address and that the server is running.",
    },
    "error.unknown_model": {
        "zh": "{provider} 上没有名为「{model}」的模型，请检查模型名。",
        "en": "{provider} has no model named '{model}'. Check the model name.",
    },
    "error.bad_request": {
        "zh": "{provider} 拒绝了请求：{detail}",
        "en": "{provider} rejected the request: {detail}",
    },
    "error.answer_too_long": {
        "zh": "{provider} 的回答超出了长度上限（{tokens} 个 token），没能写完。",
        "en": "{provider}'s answer ran past its length limit ({tokens} tokens) and was not finished.",
    },
    "error.dropped": {
        "zh": "{provider} 在回答完成前断开了连接，请稍后再试。",
        "en": "{provider} dropped the connection before the answer was complete. Try again later.",
    },
    "error.stream_cut": {
        "zh": "回答中途中断，已保留收到的部分内容。（{detail}）",
        "en": "The answer was cut off mid-way; the part received is kept. ({detail})",
    },
    "error.empty_prompt": {"zh": "请输入内容后再发送。", "en": "Please type a message before sending."},
    "error.prompt_too_long": {
        "zh": "输入过长（约 {tokens} 个 token），超过了模型「{model}」的上下文上限（{limit}）。请缩短内容；大文档请放入知识库。",
        "en": "The input is too long (about {tokens} tokens), over the context limit of '{model}' ({limit}). "
              "Shorten it; put large documents in the knowledge base.",
    },
    "error.unknown_provider": {
        "zh": "未知的模型服务「{provider}」。可选：{choices}",
        "en": "Unknown provider '{provider}'. Choices: {choices}",
    },
    "error.replay_exhausted": {
        "zh": "回放文件 {path} 的 {count} 条回复已用完。",
        "en": "The replay file {path} has no more replies (all {count} used).",
    },
    "error.replay_file": {
        "zh": "无法读取回放文件 {path}：{detail}",
        "en": "Cannot read the replay file {path}: {detail}",
    },
    "error.structured": {
        "zh": "模型没有返回符合格式的结果（已重试一次）：{detail}",
        "en": "The model did not return output in the required format (after one repair attempt): {detail}",
    },
    "error.stopped": {"zh": "已停止。", "en": "Stopped."},
    "error.local_server_down": {
        "zh": "内置模型的服务进程意外停止或正在重启，系统会自动重启它；请稍后重新提问。",
        "en": "The built-in model's server process stopped unexpectedly or is restarting; it is restarted "
              "automatically. Ask again in a moment.",
    },
    "error.local_server_killed": {
        "zh": "内置模型的服务进程意外停止（被信号 {signal} 终止，可能是内存不足或被手动结束），系统正在自动重启它；请稍后重新提问。",
        "en": "The built-in model's server process stopped unexpectedly (killed by {signal}: out of memory, or "
              "ended by hand); it is being restarted. Ask again in a moment.",
    },
    "error.local_server_exited": {
        "zh": "内置模型的服务进程意外退出（退出码 {code}），系统正在自动重启它；请稍后重新提问。",
        "en": "The built-in model's server process exited unexpectedly (code {code}); it is being restarted. "
              "Ask again in a moment.",
    },
    "error.local_model": {
        "zh": "内置离线模型不可用：{detail}",
        "en": "The built-in offline model is unavailable: {detail}",
    },
    "error.no_model": {
        "zh": "请为 {provider} 填写模型名（在「设置」页或用 --model）。",
        "en": "Enter a model name for {provider} (on the Settings page or with --model).",
    },
    "error.no_capability": {
        "zh": "模型服务 {provider} 不支持{capability}。",
        "en": "Provider {provider} does not support {capability}.",
    },
})


class AppError(Exception):
    """An error whose message is shown to the user; key and params select the localized text."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(i18n.t(key, "en", **params))

    def message(self, lang: str = i18n.DEFAULT_LANG) -> str:
        """The message in the given UI language."""
        return i18n.t(self.key, lang, **self.params)


class ProviderError(AppError):
    """A model provider failed: bad key, limits, outage, unknown model, cut stream."""

    def __init__(self, key: str, *, retryable: bool = False, **params: object) -> None:
        super().__init__(key, **params)
        self.retryable = retryable


class StreamCut(ProviderError):
    """An answer cut off mid-way (the part received is kept); its cause is told in the reader's language too."""

    def __init__(self, cause: AppError) -> None:
        super().__init__("error.stream_cut", detail=cause.message("en"))
        self.cause = cause

    def message(self, lang: str = i18n.DEFAULT_LANG) -> str:
        return i18n.t(self.key, lang, detail=self.cause.message(lang))


class InputError(AppError):
    """The user's input cannot be processed as given."""


def user_message(exc: BaseException, lang: str = i18n.DEFAULT_LANG) -> str:
    """A one-line message for any exception, never a traceback."""
    if isinstance(exc, AppError):
        return exc.message(lang)
    detail = f"{type(exc).__name__}: {exc}".strip()
    return i18n.t("error.unexpected", lang, detail=detail[:300])
