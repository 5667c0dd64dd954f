"""The after-an-action mechanism: a flashed notice survives the rerun and app.py shows it
once; a form keeps its input when the action is refused and empties only on success."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from evaluator_cert.db.models import User
from evaluator_cert.ui.notices import PENDING_KEY
from tests.app.conftest import app_as

FORM_SCRIPT = """
import streamlit as st
from evaluator_cert.ui.notices import flash, form_key, reset_form, show_flashes

show_flashes()
key = form_key("name")
with st.form(key):
    name = st.text_input("Name", key=f"{key}_name")
    sent = st.form_submit_button("Save")
if sent:
    if len(name) < 3:
        st.error("Too short.")
    else:
        flash(f"Saved {name}.")
        reset_form("name")
        st.rerun()
"""


def test_app_shows_a_flashed_notice_once(make_user: Callable[..., User]) -> None:
    at = app_as(make_user("ivy", "instructor"))
    at.session_state[PENDING_KEY] = [("success", "Override recorded.")]
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.toast] == ["Override recorded."]
    at.run()
    assert not at.toast


def test_form_keeps_input_when_refused_and_empties_on_success() -> None:
    at = AppTest.from_string(FORM_SCRIPT).run()
    at.text_input[0].input("Al")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Too short."]
    assert at.text_input[0].value == "Al"  # kept for the fix
    at.text_input[0].input("Alice")
    at.button[0].click().run()
    assert not at.error
    assert [t.value for t in at.toast] == ["Saved Alice."]  # survived the rerun
    assert at.text_input[0].value == ""  # a fresh form
