"""Settings: add a DashScope key or an OpenAI-compatible endpoint for this browser session."""
import streamlit as st

from services import agent, keys, settings
from services.errors import AppError, InputError
from services.providers import all_providers, get_provider
from ui import session
from ui.session import t

st.header(t("settings.title"))
st.caption(t("settings.intro"))
st.info(t("settings.local_help"), icon=":material/info:")
st.caption(t("settings.retention", days=f"{settings.retention_days():g}"))
if flash := st.session_state.pop("settings.flash", None):
    st.success(flash)
if warning := st.session_state.pop("settings.flash_warning", None):
    st.warning(warning, icon=":material/warning:")

name = st.selectbox(t("settings.provider"), settings.editable_providers(), key="settings.provider",
                    format_func=lambda n: get_provider(n).label)
provider = get_provider(name)

current_key, source = settings.key_source(provider.key_env, session.typed_keys().get(name))
if current_key:
    st.caption(t("settings.current_key", masked=keys.mask(current_key), source=t(f"settings.source.{source}")))
elif provider.key_env:
    st.caption(t("settings.no_key"))

with st.form(f"settings.form.{name}", clear_on_submit=True):  # else the typed key stays in the page source
    typed_key = st.text_input(t("settings.api_key", env_var=provider.key_env or "-"), type="password",
                              disabled=not provider.key_env)
    base_url = st.text_input(t("settings.base_url"), value=session.typed_base_urls().get(name) or provider.default_base_url or "")
    model = st.text_input(t("settings.model"), value=session.typed_models().get(name, ""))
    save_disk = st.checkbox(t("settings.save_disk"), value=False)
    col_apply, col_test = st.columns(2)
    apply = col_apply.form_submit_button(t("settings.apply"), type="primary")
    test = col_test.form_submit_button(t("settings.test"))

if apply or test:
    try:
        url = settings.check_base_url(base_url)
        chosen_model = model.strip() or session.typed_models().get(name) or (session.model_choices(name) or [""])[0]
        key_in_use = typed_key.strip() or session.typed_keys().get(name)
        attempt = settings.attempt_fingerprint(name, url or session.typed_base_urls().get(name), chosen_model,
                                               key_in_use)
        # A failed test of exactly these settings: every page would fail the same way, so the save says so.
        failed_before = apply and st.session_state.get("settings.failed_test") == attempt
        if typed_key:
            session.typed_keys()[name] = typed_key.strip()
        if url and url != provider.default_base_url:
            session.typed_base_urls()[name] = url
        elif not provider.needs_key and url:
            session.typed_base_urls()[name] = url
        if model.strip():
            session.typed_models()[name] = model.strip()
        if save_disk and typed_key and provider.key_env:
            path = keys.save_setting(provider.key_env, typed_key.strip())
            st.success(t("settings.saved_disk", path=path.name))
        if test:
            try:
                with st.spinner():
                    reply = settings.test_connection(session.connection(name, chosen_model))
            except AppError:
                st.session_state["settings.failed_test"] = attempt
                raise
            st.session_state.pop("settings.failed_test", None)
            st.success(t("settings.test_ok", model=chosen_model, reply=reply))
        else:
            session.choose_model(name, chosen_model)
            st.session_state["settings.flash"] = t("settings.saved", provider=provider.label)
            if failed_before:
                st.session_state["settings.flash_warning"] = t("settings.test_failed_saved")
            st.rerun()
    except AppError as exc:
        session.show_error(exc)

st.subheader(t("settings.status"))
st.dataframe(settings.status_rows(session.typed_keys(), session.lang()), hide_index=True, width="stretch")

st.subheader(t("settings.local_title"))
local_state = session.local_model_state()
st.caption(t("settings.local_state", state=t(f"app.local_state.{local_state['state']}")))
if local_state["reason"]:
    st.caption(t("settings.local_reason", reason=local_state["reason"]))
if local_state["restarts"]:
    st.caption(t("settings.local_restarts", n=local_state["restarts"]))
st.dataframe([{t("settings.local_col.model"): m["name"], t("settings.local_col.upstream"): m["upstream"],
               t("settings.local_col.licence"): m["licence"], t("settings.local_col.speed"): m["tokens_per_s"] or ""}
              for m in local_state["models"]], hide_index=True, width="stretch")

st.subheader(t("agent.mcp.title"))
st.caption(t("agent.mcp.intro"))
added: list[str] = st.session_state.setdefault("app.mcp_urls", [])  # specs typed here; read by the chat page
servers, problems = agent.session_servers(added)
for problem in problems:
    session.show_error(problem)
added_names = {spec.split("=", 1)[0] for spec in added}  # stored as name=URL by the form below
if servers:
    st.dataframe([{t("agent.mcp.col.name"): c.name, t("agent.mcp.col.address"): agent.server_address(c),
                   t("agent.mcp.col.source"): t("agent.mcp.source.session" if c.name in added_names
                                                else "agent.mcp.source.admin")}
                  for c in servers], hide_index=True, width="stretch")
else:
    st.caption(t("agent.mcp.none"))

with st.form("settings.mcp_form", clear_on_submit=True):
    spec = st.text_input(t("agent.mcp.add"), placeholder="name=https://example.com/mcp", key="settings.mcp_spec")
    add = st.form_submit_button(t("agent.mcp.add_button"))
if add and spec.strip():
    try:
        config = agent.McpServerConfig.parse(spec, allow_command=False)
        if config.name in {c.name for c in servers}:
            raise InputError("agent.error.mcp_duplicate", server=config.name)
        with st.spinner():
            tools = agent.probe(config)
        added.append(f"{config.name}={config.url}")
        st.session_state["settings.flash"] = t("agent.mcp.added", server=config.name, n=len(tools),
                                               tools=", ".join(tool.name for tool in tools) or "-")
        st.rerun()
    except AppError as exc:
        session.show_error(exc)
if added and st.button(t("agent.mcp.remove"), key="settings.mcp_remove"):
    added.clear()
    st.rerun()
