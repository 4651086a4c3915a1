"""Settings work: which providers can be set up, checking a connection, saving a key on request."""
from __future__ import annotations

from services import i18n, keys, llm
from services.errors import AppError
from services.providers import all_providers
from services.providers.base import Connection

i18n.register({
    "settings.title": {"zh": "设置", "en": "Settings"},
    "settings.intro": {
        "zh": "密钥只保存在当前浏览器会话中，关闭页面即失效；勾选「保存到本机」才会写入 .streamlit/secrets.toml（仅本机用户可读）。",
        "en": "Keys stay in this browser session only and are gone when you close the page; they are written to "
              ".streamlit/secrets.toml (readable by this machine's user only) only if you tick 'Save on this machine'.",
    },
    "settings.provider": {"zh": "模型服务", "en": "Provider"},
    "settings.api_key": {"zh": "API 密钥（{env_var}）", "en": "API key ({env_var})"},
    "settings.base_url": {"zh": "服务地址（Base URL）", "en": "Base URL"},
    "settings.model": {"zh": "模型名（可留空使用默认）", "en": "Model name (blank for the default)"},
    "settings.save_disk": {"zh": "保存到本机（写入 secrets.toml）", "en": "Save on this machine (writes secrets.toml)"},
    "settings.apply": {"zh": "保存并使用", "en": "Save and use"},
    "settings.test": {"zh": "测试连接", "en": "Test connection"},
    "settings.test_ok": {"zh": "连接成功：{model} 回复了「{reply}」", "en": "Connected: {model} replied '{reply}'"},
    "settings.saved": {"zh": "已保存，当前模型服务：{provider}", "en": "Saved; current provider: {provider}"},
    "settings.saved_disk": {"zh": "已写入 {path}", "en": "Written to {path}"},
    "settings.current_key": {"zh": "当前密钥：{masked}（来源：{source}）", "en": "Current key: {masked} (from {source})"},
    "settings.source.session": {"zh": "本次会话", "en": "this session"},
    "settings.source.stored": {"zh": "secrets.toml", "en": "secrets.toml"},
    "settings.source.env": {"zh": "环境变量", "en": "environment"},
    "settings.no_key": {"zh": "未设置密钥", "en": "No key set"},
    "settings.status": {"zh": "各服务状态", "en": "Provider status"},
    "settings.configured": {"zh": "已配置", "en": "configured"},
    "settings.not_configured": {"zh": "未配置", "en": "not configured"},
    "settings.local_help": {
        "zh": "内置离线模型无需任何配置：Qwen2.5-Coder-1.5B-Instruct（默认，中英文问答、抽取、SQL、摘要）和 "
              "Qwen2.5-Coder-0.5B-Instruct（更快，适合按选项打标签）。它们在单独的本机进程中运行，断网也能用。",
        "en": "The built-in offline models need no setup: Qwen2.5-Coder-1.5B-Instruct (the default: Chinese and "
              "English answers, extraction, SQL, summaries) and Qwen2.5-Coder-0.5B-Instruct (faster, for labels). "
              "They run in a separate process on this machine and work with no network.",
    },
    "settings.local_title": {"zh": "内置离线模型", "en": "Built-in offline model"},
    "settings.local_state": {"zh": "服务进程：{state}", "en": "Server process: {state}"},
    "settings.local_reason": {"zh": "原因：{reason}", "en": "Reason: {reason}"},
    "settings.local_restarts": {"zh": "已自动重启 {n} 次", "en": "Restarted {n} times"},
    "settings.local_col.model": {"zh": "模型", "en": "model"},
    "settings.local_col.upstream": {"zh": "上游模型", "en": "upstream model"},
    "settings.local_col.licence": {"zh": "许可", "en": "licence"},
    "settings.local_col.speed": {"zh": "本机速度（词元/秒）", "en": "speed here (tokens/s)"},
    "settings.retention": {
        "zh": "上传的文件保存在本机数据目录中，{days} 天后自动删除（环境变量 ASSISTANT_RETENTION_DAYS）。",
        "en": "Uploaded files are kept in this machine's data folder and deleted after {days} days "
              "(environment variable ASSISTANT_RETENTION_DAYS).",
    },
    "settings.col.provider": {"zh": "服务", "en": "Provider"},
    "settings.col.name": {"zh": "名称", "en": "Name"},
    "settings.col.status": {"zh": "状态", "en": "Status"},
    "settings.col.key": {"zh": "密钥变量", "en": "Key variable"},
    "settings.col.models": {"zh": "模型", "en": "Models"},
    "settings.key_not_needed": {"zh": "无需密钥", "en": "no key needed"},
    "settings.key_optional": {"zh": "无需密钥（可选 {env_var}）", "en": "no key needed (optional {env_var})"},
    "settings.test_failed_saved": {
        "zh": "注意：刚才对这组设置的连接测试失败了。已按要求保存，但在修正服务地址、模型名或密钥之前，使用它的页面会报同样的错误。",
        "en": "Note: the connection test for these settings just failed. They were saved as asked, but pages using "
              "them will fail the same way until the base URL, model name or key is fixed.",
    },
    "settings.bad_url": {"zh": "服务地址必须以 http:// 或 https:// 开头。", "en": "The base URL must start with http:// or https://."},
})


def retention_days() -> float:
    """Days uploaded files are kept (ASSISTANT_RETENTION_DAYS, default 7)."""
    from services import storage
    return storage.retention_days()


def editable_providers() -> list[str]:
    """Providers a user can set up on the settings page (not the built-in or replay ones)."""
    return [p.name for p in all_providers() if p.name not in ("local", "replay")]


def key_source(env_var: str | None, typed: str | None) -> tuple[str | None, str | None]:
    """The key in effect and where it came from: session, stored settings or environment."""
    import os
    if typed:
        return typed, "session"
    if env_var:
        stored = keys.stored_settings().get(env_var)
        if stored:
            return stored, "stored"
        if os.environ.get(env_var):
            return os.environ[env_var], "env"
    return None, None


def check_base_url(url: str | None) -> str | None:
    """A cleaned base URL, or an error for anything that is not http(s)."""
    if not url:
        return None
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise AppError("settings.bad_url")
    return url


def status_rows(typed_keys: dict[str, str], lang: str) -> list[dict[str, str]]:
    """The providers' status table, with headers and cells in the UI language (the replay test hook left out)."""
    rows = []
    for p in all_providers():
        if p.name == "replay":
            continue
        configured = p.is_configured() or p.name in typed_keys or p.name == "local"
        if p.needs_key:
            key = p.key_env or ""
        elif p.key_env:
            key = i18n.t("settings.key_optional", lang, env_var=p.key_env)
        else:
            key = i18n.t("settings.key_not_needed", lang)
        rows.append({i18n.t("settings.col.provider", lang): p.label, i18n.t("settings.col.name", lang): p.name,
                     i18n.t("settings.col.status", lang):
                         i18n.t("settings.configured" if configured else "settings.not_configured", lang),
                     i18n.t("settings.col.key", lang): key,
                     i18n.t("settings.col.models", lang): ", ".join(m.name for m in p.models())})
    return rows


def attempt_fingerprint(provider: str, base_url: str | None, model: str, key: str | None) -> str:
    """What identifies one set of connection settings, without keeping the key itself."""
    import hashlib
    raw = "\x00".join([provider, base_url or "", model, key or ""])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def test_connection(conn: Connection) -> str:
    """Send a one-word question; the reply's first characters, or a ProviderError."""
    result = llm.complete(conn, [{"role": "user", "content": "Reply with the single word: OK"}])
    return result.text.strip()[:40]
