"""Key resolution order, masking, saving on request; both UI languages for every message."""
from __future__ import annotations

import os
import stat

import pytest

from services import i18n, keys
from services.errors import AppError
from services.providers import all_providers, default_provider, get_provider


def test_key_comes_from_argument_then_stored_then_environment(monkeypatch):
    monkeypatch.setenv("DASHSCOPE_API_KEY", "env-key-123456")
    assert keys.resolve_api_key("DashScope", "DASHSCOPE_API_KEY", "arg-key", {"DASHSCOPE_API_KEY": "stored"}) == "arg-key"
    assert keys.resolve_api_key("DashScope", "DASHSCOPE_API_KEY", None, {"DASHSCOPE_API_KEY": "stored"}) == "stored"
    assert keys.resolve_api_key("DashScope", "DASHSCOPE_API_KEY", None, {}) == "env-key-123456"


def test_missing_key_names_the_variable_in_both_languages(monkeypatch):
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    with pytest.raises(AppError) as info:
        get_provider("dashscope").connect("qwen-plus", stored={})
    assert "DASHSCOPE_API_KEY" in info.value.message("zh") and "DASHSCOPE_API_KEY" in info.value.message("en")
    assert "环境变量" in info.value.message("zh")


def test_mask_never_shows_the_middle_of_a_key():
    secret = "sk-test-abcdefgh-ijklmnop-1234"
    masked = keys.mask(secret)
    assert masked.startswith("sk-") and masked.endswith("1234") and "abcdefgh" not in masked
    assert keys.mask("short") == "•••••"


def test_connection_repr_hides_the_key(monkeypatch):
    conn = get_provider("openai").connect("gpt-4o-mini", api_key="sk-secret-value-9999")
    assert "sk-secret-value-9999" not in repr(conn) and "sk-secret-value-9999" not in str(conn)


def test_saved_key_file_is_private_and_read_back(tmp_path):
    path = tmp_path / "secrets.toml"
    keys.save_setting("DASHSCOPE_API_KEY", 'sk-"quoted"', path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.stored_settings(path) == {"DASHSCOPE_API_KEY": 'sk-"quoted"'}


def test_default_provider_is_local_without_configuration_and_the_first_configured_otherwise(monkeypatch):
    assert default_provider(stored={}).name == "local"
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deepseek-test")
    assert default_provider(stored={}).name == "deepseek"
    assert default_provider(stored={"DASHSCOPE_API_KEY": "sk-x"}).name == "dashscope"


def test_every_provider_declares_capabilities_and_models():
    names = [p.name for p in all_providers()]
    assert {"dashscope", "openai", "deepseek", "siliconflow", "ollama", "vllm", "openai-compatible", "local",
            "replay"} <= set(names)
    assert get_provider("ollama").default_base_url == "http://localhost:11434/v1"
    assert get_provider("vllm").default_base_url == "http://localhost:8000/v1"
    assert get_provider("local").capabilities.json_schema
    assert get_provider("dashscope").capabilities.reasoning and get_provider("dashscope").capabilities.embeddings


def test_unknown_provider_lists_the_choices():
    with pytest.raises(AppError) as info:
        get_provider("nope")
    assert "dashscope" in info.value.message("en")


def test_registering_a_message_without_both_languages_is_refused():
    with pytest.raises(ValueError):
        i18n.register({"x.only_zh": {"zh": "只有中文"}})


def test_placeholders_missing_from_params_stay_visible_and_braces_in_values_are_safe():
    i18n.register({"x.test": {"zh": "文件 {file} 共 {n} 页", "en": "file {file} has {n} pages"}})
    assert i18n.t("x.test", "en", file="{weird}.pdf") == "file {weird}.pdf has {n} pages"
    assert i18n.t("x.unknown.key", "en") == "x.unknown.key"
