"""Per-browser-session state shared by every page: language, chosen model, keys typed in settings."""
from __future__ import annotations

import os

import uuid
from pathlib import Path

import streamlit as st

from services import i18n, storage
from services.errors import AppError, user_message
from services.providers import all_providers, default_provider, get_provider
from services.providers.base import Connection

# Keys typed on the settings page live only in this browser session's state.
KEYS = "settings.keys"
BASE_URLS = "settings.base_urls"
MODELS = "settings.models"
# Seconds to wait for a model's answer to start (or for its next piece); slow local servers may need more.
TIMEOUT_ENV = "ASSISTANT_MODEL_TIMEOUT_S"


def through_router() -> None:
    """Make sure pages run inside app.py's st.navigation, also when the server's first visitor opens a page link.

    Streamlit treats an app with a pages/ folder as an old-style multipage app until st.navigation has been called
    once in the process; a first visit to e.g. /financials then ran pages/financials.py alone (no sidebar, no
    language or model choice) and kept the whole server in that mode. Leave it and run again through the router.
    """
    from streamlit.runtime.pages_manager import PagesManager
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        # Once per session: AppTest sets the old mode again before every run, and a rerun there would drop the
        # clicks of that run; on a server the flag stays off after the first rerun anyway.
        if not st.session_state.get("app.routed"):
            st.session_state["app.routed"] = True
            st.rerun()


def lang() -> str:
    """The UI language of this session: "zh" (default) or "en"."""
    through_router()
    if "app.lang" not in st.session_state:
        # A reload starts a new session: the language comes back from the address (lang=en), like the conversation.
        wanted = st.query_params.get("lang")
        st.session_state["app.lang"] = wanted if wanted in i18n.LANGUAGES else i18n.DEFAULT_LANG
    chosen = st.session_state["app.lang"]
    # Checked on every call: moving to another page clears the address's parameters.
    in_address = st.query_params.get("lang")
    if chosen == i18n.DEFAULT_LANG and in_address is not None:
        st.query_params.pop("lang", None)
    elif chosen != i18n.DEFAULT_LANG and in_address != chosen:
        st.query_params["lang"] = chosen
    return chosen


def t(key: str, **params: object) -> str:
    """Text for key in this session's language."""
    return i18n.t(key, lang(), **params)


def session_id() -> str:
    """A random id for this browser session (not the user's identity)."""
    return st.session_state.setdefault("app.session_id", uuid.uuid4().hex)


def owner() -> str:
    """Whose private things these are: the logged-in account, else this browser's id (kept in the address as u=,
    the same id the chat page uses), else the shared workspace when the deployment turned it on."""
    from services.chat.store import new_browser_id, owner_for, valid_browser_id
    account = None
    try:
        if st.user.is_logged_in:
            account = st.user.get("email") or st.user.get("sub")
    except Exception:  # noqa: BLE001 - no auth configured
        account = None
    if account:
        return owner_for(account, None)
    if "chat.browser_id" not in st.session_state:
        from_url = st.query_params.get("u")
        st.session_state["chat.browser_id"] = from_url if valid_browser_id(from_url) else new_browser_id()
    if st.query_params.get("u") != st.session_state["chat.browser_id"]:
        st.query_params["u"] = st.session_state["chat.browser_id"]
    return owner_for(None, st.session_state["chat.browser_id"])


def typed_keys() -> dict[str, str]:
    """API keys typed on the settings page, by provider name."""
    return st.session_state.setdefault(KEYS, {})


def typed_base_urls() -> dict[str, str]:
    """Base URLs typed on the settings page, by provider name."""
    return st.session_state.setdefault(BASE_URLS, {})


def typed_models() -> dict[str, str]:
    """Model names typed on the settings page, by provider name."""
    return st.session_state.setdefault(MODELS, {})


def configured_providers() -> list[str]:
    """Providers usable now: configured by environment/secrets or by what this session typed."""
    names = []
    for p in all_providers():
        if p.name == "replay":
            if st.session_state.get("app.replay_path"):
                names.append(p.name)
            continue
        if p.name in ("local",) or p.is_configured() or p.name in typed_keys() or p.name in typed_base_urls():
            names.append(p.name)
    return names


def provider_name() -> str:
    """The provider chosen in the sidebar (the first configured one until the user picks)."""
    if "app.provider" not in st.session_state:
        st.session_state["app.provider"] = default_provider().name
    return st.session_state["app.provider"]


def model_name() -> str:
    """The model chosen in the sidebar for the current provider."""
    provider = get_provider(provider_name())
    chosen = st.session_state.get("app.model")
    names = model_choices(provider.name)
    if chosen not in names:
        chosen = names[0] if names else ""
        st.session_state["app.model"] = chosen
    return chosen


def model_choices(name: str) -> list[str]:
    """Models offered for a provider, including one the user typed in settings."""
    provider = get_provider(name)
    names = [m.name for m in provider.models()]
    typed = typed_models().get(name)
    if typed and typed not in names:
        names.insert(0, typed)
    return names


def connection(provider: str | None = None, model: str | None = None) -> Connection:
    """The Connection for the sidebar's choice (or the given provider/model), keys resolved."""
    name = provider or provider_name()
    p = get_provider(name)
    if name == "replay":
        return p.connect(model, replay_path=st.session_state.get("app.replay_path"))
    return p.connect(model or model_name(), api_key=typed_keys().get(name), base_url=typed_base_urls().get(name),
                     timeout_s=model_timeout_s())


def model_timeout_s() -> float:
    """How long a model may stay silent: ASSISTANT_MODEL_TIMEOUT_S, else 60 seconds."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, "") or 60)
    except ValueError:
        value = 60.0
    return value if value > 0 else 60.0


def show_error(exc: BaseException) -> None:
    """The error as one clear message in the UI language; never a traceback."""
    st.error(user_message(exc, lang()), icon=":material/error:")


def uploads_dir() -> Path:
    """This browser session's own upload folder under the app's data folder."""
    return storage.session_dir(session_id(), "uploads")


def guarded(action, *args, **kwargs):
    """Run an action; show its error instead of raising. Returns (result, error)."""
    try:
        return action(*args, **kwargs), None
    except AppError as exc:
        show_error(exc)
        return None, exc


def choose_model(provider: str, model: str | None = None) -> None:
    """Switch the sidebar's choice; applied on the next run, before the sidebar widgets exist."""
    st.session_state["app.pending_choice"] = (provider, model)


def bound_widget(widget, label: str, options: list, state_key: str, **kwargs):
    """A sidebar widget whose value lives in a plain session key.

    Streamlit drops a widget's own state on runs that skip the widget, which made the model choice fall back to the
    default after a click; a plain key survives every run, and the widget is re-synced from it each time.
    """
    widget_key = f"{state_key}.widget"
    current = st.session_state.get(state_key)
    value = current if current in options else options[0]
    st.session_state[state_key] = value
    st.session_state[widget_key] = value

    def keep() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    return widget(label, options, key=widget_key, on_change=keep, **kwargs)


def language_picker() -> None:
    """Sidebar switch between Chinese and English."""
    bound_widget(st.radio, t("app.language"), list(i18n.LANGUAGES), "app.lang", horizontal=True,
                 format_func=i18n.LANGUAGES.get)


def apply_start_choice() -> bool:
    """Once per browser session: start on ASSISTANT_CHAT_PROVIDER, or on replay when ASSISTANT_REPLAY_FILE is set.

    The replay file is the documented test hook (docs/chat.md); returns True when a choice was queued.
    """
    if st.session_state.get("app.started"):
        return False
    st.session_state["app.started"] = True
    start = os.environ.get("ASSISTANT_CHAT_PROVIDER", "").strip()
    if os.environ.get("ASSISTANT_REPLAY_FILE") and not st.session_state.get("app.replay_path"):
        st.session_state["app.replay_path"] = os.environ["ASSISTANT_REPLAY_FILE"]
        start = start or "replay"
    if start:
        choose_model(start)
    return bool(start)


def model_picker() -> None:
    """Sidebar controls: provider and model, with a plain word about the built-in model."""
    pending = st.session_state.pop("app.pending_choice", None)
    if pending:
        st.session_state["app.provider"] = pending[0]
        st.session_state["app.model"] = pending[1] or (model_choices(pending[0]) or [""])[0]
    names = configured_providers()
    current = provider_name()
    if current not in names:
        names.insert(0, current)
    bound_widget(st.selectbox, t("app.provider"), names, "app.provider", format_func=lambda n: get_provider(n).label)
    choices = model_choices(st.session_state["app.provider"])
    if choices:
        model_name()  # keep the stored choice valid before the widget reads it
        bound_widget(st.selectbox, t("app.model"), choices, "app.model")
    else:
        st.caption(t("app.no_models"))
    if st.session_state["app.provider"] == "local":
        local_model_status()
        st.info(t("app.local_notice"), icon=":material/info:")


def local_model_state() -> dict:
    """The built-in model server's state, with each model's origin and measured speed, for the settings page."""
    from services.local_model.files import MODEL_FILES
    state = get_provider("local").state()
    speeds = state.get("tokens_per_s") or {}
    state["models"] = [{"name": name, "upstream": spec.upstream, "licence": spec.licence,
                        "tokens_per_s": speeds.get(name)} for name, spec in MODEL_FILES.items()]
    return state


def local_model_status() -> None:
    """Which built-in model answers, whether its server is up, and how fast it decodes on this machine."""
    if os.environ.get("ASSISTANT_LOCAL_PREWARM", "1") != "0":
        from services.local_model.supervisor import supervisor
        supervisor().start_in_background()  # loading takes a while: begin before the first question
    state = get_provider("local").state()
    model = st.session_state.get("app.model") or ""
    speed = (state.get("tokens_per_s") or {}).get(model)
    label = t(f"app.local_state.{state['state']}")
    line = t("app.local_status", model=model, state=label)
    if speed:
        line += " · " + t("app.local_speed", speed=f"{speed:.1f}")
    st.caption(line)
    if state["state"] == "failed" and state.get("reason"):
        st.caption(t("app.local_failed", reason=state["reason"]))