"""evaluator-cert: each role sees its own pages; every page checks the role again."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from evaluator_cert.ui import state
from evaluator_cert.ui.errors import show_error
from evaluator_cert.ui.navigation import ROLE_PAGES
from evaluator_cert.ui.notices import show_flashes

# Not "pages": Streamlit runs the files of a pages/ folder beside its entry script as pages
# of their own until st.navigation has run once in the process, so the first deep link
# after a start would skip this script (its navigation, its banner).
PAGES = Path(__file__).parent / "app_pages"


def navigation_for(role: str | None) -> dict[str, list[st.Page]]:
    return {
        section: [st.Page(PAGES / file, title=title, icon=icon) for file, title, icon in pages]
        for section, pages in ROLE_PAGES[role].items()
    }


st.set_page_config(page_title="evaluator-cert", page_icon=":material/verified:", layout="wide")

try:
    ctx = state.app()
    actor = state.current_actor()
    # Load the content now, so broken content is reported here (naming file:line). Assigned,
    # not a bare expression: Streamlit's magic would print a bare expression on the page.
    catalog = ctx.base_catalog
except Exception as exc:  # database down or data folder unusable: one sentence, no traceback
    show_error(exc)
    st.stop()

if ctx.is_demo():
    st.warning(
        "Demo mode: sample content and demo accounts. Do not use these passwords elsewhere.",
        icon=":material/science:",
    )

if actor is not None:
    with st.sidebar:
        st.caption(f"Signed in as **{actor.display_name}** ({actor.role})")
        if st.button("Log out", icon=":material/logout:", key="logout"):
            state.log_out()
            if state.sso_configured() and st.user.is_logged_in:
                st.logout()
            st.html(
                "<script>window.location.href = '/auth/logout';</script>",
                unsafe_allow_javascript=True,
            )
            st.stop()

page = st.navigation(navigation_for(actor.role if actor else None), position="sidebar")
show_flashes()
page.run()
