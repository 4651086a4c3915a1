"""Router: the pages and the shared sidebar (language and model choice)."""
import streamlit as st

from services import i18n, storage
from ui import session

st.set_page_config(page_title="Office AI Assistant · 办公智能助手", page_icon=":material/smart_toy:", layout="wide")

lang = session.lang()
storage.cleanup_if_due()  # old sessions' uploads go after ASSISTANT_RETENTION_DAYS; checked at most hourly

# (file, title key, icon); titles are registered in services/i18n.py so the menu is right before any page runs.
PAGES = [
    ("pages/chat.py", "page.chat", ":material/chat:"),
    ("pages/knowledge_base.py", "page.kb", ":material/library_books:"),
    ("pages/financials.py", "page.financials", ":material/account_balance:"),
    ("pages/chatbi.py", "page.chatbi", ":material/query_stats:"),
    ("pages/contracts.py", "page.contracts", ":material/gavel:"),
    ("pages/minutes.py", "page.minutes", ":material/groups:"),
    ("pages/settings.py", "page.settings", ":material/settings:"),
]

with st.sidebar:
    st.title(i18n.t("app.title", lang))
    menu = st.container()
    session.apply_start_choice()
    session.language_picker()
    session.model_picker()

# The menu is drawn here, not by Streamlit: its own sidebar menu (off in .streamlit/config.toml) showed the raw file
# names of pages/ (app, chat, chatbi, …) during the first run of a fresh server, before this router had run once.
pages = [st.Page(path, title=i18n.t(title, lang), icon=icon) for path, title, icon in PAGES]
navigation = st.navigation(pages, position="hidden")
with menu:
    for page in pages:
        st.page_link(page)
navigation.run()
