"""What a page shows after an action: a notice that survives the rerun which refreshes the
page, and forms that keep the user's input until an action succeeds.

After a successful action a page calls ``flash("...")``, resets its form with
``reset_form(name)`` if it has one, then ``st.rerun()``: the page renders again from fresh
data and app.py's ``show_flashes()`` shows the message. A refused action reruns nothing, so
what the user typed stays in the form.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["success", "info", "warning"]

PENDING_KEY = "_flash_notices"  # [(kind, message)] waiting for the next run
GENERATIONS = "_form_generations"  # form name -> how many times it was reset
_ICONS: dict[Kind, str] = {
    "success": ":material/check_circle:",
    "info": ":material/info:",
    "warning": ":material/warning:",
}


def flash(message: str, kind: Kind = "success") -> None:
    """Keep ``message`` for the next run of the page (shown by :func:`show_flashes`)."""
    st.session_state.setdefault(PENDING_KEY, []).append((kind, message))


def show_flashes() -> None:
    """Show, then forget, the notices left by the previous run. A toast, so the message is in
    view wherever the page was scrolled to when the action was taken."""
    for kind, message in st.session_state.pop(PENDING_KEY, []):
        st.toast(message, icon=_ICONS[kind], duration="long")


def form_key(name: str) -> str:
    """The key for ``st.form`` (and a prefix for its widgets' keys): it changes only when
    :func:`reset_form` is called, so input survives a refused submit."""
    return f"{name}_{st.session_state.get(GENERATIONS, {}).get(name, 0)}"


def reset_form(name: str) -> None:
    """Empty the form on its next render: its widgets get new keys, hence their defaults."""
    generations = st.session_state.setdefault(GENERATIONS, {})
    generations[name] = generations.get(name, 0) + 1
