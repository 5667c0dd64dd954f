"""The Account page: display name and password changes.

AppTest runs a page it switched to inside app.py, as the browser does; what the app does on
a later click (check the login session again, show the sidebar) is checked by running the
app afresh with the same browser state."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import TextInput

from evaluator_cert.db.models import User
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.ui.notices import PENDING_KEY
from evaluator_cert.ui.state import ACTOR_KEY, SESSION_KEY
from tests.app.conftest import PASSWORD, app_as, page_text

NEW_PASSWORD = "a brand new pass-word"


def _account(user: User, auth_session_id: str | None = None) -> AppTest:
    at = app_as(user)
    if auth_session_id is not None:
        at.session_state[SESSION_KEY] = auth_session_id  # as the login form leaves it
    at.switch_page("app_pages/account.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _next_click(page: AppTest) -> AppTest:
    """The app, as it runs on this browser's next click after ``page``."""
    at = app_as(None)
    for key in (ACTOR_KEY, SESSION_KEY, PENDING_KEY):
        if key in page.session_state:
            at.session_state[key] = page.session_state[key]
    at.run()
    assert not at.exception, at.exception
    return at


def _clears_on_submit(at: AppTest) -> dict[str, bool]:
    """Each form's name (without the generation suffix) and its clear_on_submit flag."""
    forms = [node.proto.form for node in at._tree if getattr(node, "type", None) == "form"]
    return {f.form_id.rstrip("_0123456789"): f.clear_on_submit for f in forms}


def _field(at: AppTest, label: str) -> TextInput:
    return next(t for t in at.text_input if t.label == label)


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception


def _change_password(at: AppTest, current: str, new: str, again: str | None = None) -> None:
    _field(at, "Current password").input(current)
    _field(at, "New password").input(new)
    _field(at, "New password again").input(new if again is None else again)
    _submit(at, "Change password")


def test_password_change_logs_out_other_devices_but_not_this_one(
    app_ctx: AppContext, make_user
) -> None:
    user = make_user("ada")
    with app_ctx.session() as s:
        here = accounts.start_session(s, app_ctx.settings, user)
        elsewhere = accounts.start_session(s, app_ctx.settings, user)
    at = _account(user, here.id)
    _change_password(at, PASSWORD, NEW_PASSWORD)
    assert any("Other devices have been logged out" in m.value for m in at.success)

    after = _next_click(at)  # still logged in, not sent to the login page
    assert "Signed in as" in page_text(after)
    assert after.session_state[ACTOR_KEY].username == "ada"
    with app_ctx.session() as s:
        assert accounts.resume_session(s, app_ctx.settings, here.id) is not None
        assert accounts.resume_session(s, app_ctx.settings, elsewhere.id) is None


def test_refused_password_change_says_why_and_keeps_no_password(
    app_ctx: AppContext, make_user
) -> None:
    user = make_user("ada")
    with app_ctx.session() as s:
        here = accounts.start_session(s, app_ctx.settings, user)
    at = _account(user, here.id)
    _change_password(at, PASSWORD, PASSWORD)
    assert [e.value for e in at.error] == [
        "The new password is the same as the current one: choose another."
    ]
    # Nothing secret stays on the page (the browser empties the form on submit), while a
    # refused display name does stay in its field (see below).
    assert _clears_on_submit(at) == {"display_name": False, "change_password": True}
    _change_password(at, PASSWORD, NEW_PASSWORD, again="something else")
    assert [e.value for e in at.error] == ["The two new passwords differ."]
    with app_ctx.session() as s:
        assert accounts.authenticate(s, app_ctx.settings, "ada", PASSWORD)


def test_display_name_change_shows_everywhere_at_once(app_ctx: AppContext, make_user) -> None:
    user = make_user("ada", display_name="ada")
    at = _account(user)
    assert "keep the name they were signed with" in page_text(at)
    _field(at, "Display name").input("  Ada Lovelace ")
    _submit(at, "Save name")
    assert not at.error
    assert at.session_state[ACTOR_KEY].display_name == "Ada Lovelace"  # PDFs print this
    assert "**Ada Lovelace** · `ada`" in page_text(at)
    assert _field(at, "Display name").value == "Ada Lovelace"
    # The rerun after saving shows the notice and the sidebar under the new name.
    assert [t.value for t in at.toast] == ["Display name saved."]
    assert "Signed in as **Ada Lovelace**" in page_text(at)
    after = _next_click(at)
    assert not after.toast  # shown once
    assert "Signed in as **Ada Lovelace**" in page_text(after)
    with app_ctx.session() as s:
        assert s.get(User, user.id).display_name == "Ada Lovelace"  # type: ignore[union-attr]


def test_a_name_changed_on_one_device_shows_on_the_other_at_its_next_click(
    app_ctx: AppContext, make_user
) -> None:
    user = make_user("ada", display_name="ada")
    with app_ctx.session() as s:
        laptop = accounts.start_session(s, app_ctx.settings, user)
        phone = accounts.start_session(s, app_ctx.settings, user)
    on_phone = _account(user, phone.id)
    assert "Signed in as **ada**" in page_text(_next_click(on_phone))
    on_laptop = _account(user, laptop.id)
    _field(on_laptop, "Display name").input("Ada Lovelace")
    _submit(on_laptop, "Save name")
    after = _next_click(on_phone)
    assert after.session_state[ACTOR_KEY].display_name == "Ada Lovelace"
    assert "Signed in as **Ada Lovelace**" in page_text(after)


def test_refused_display_name_stays_in_the_field(app_ctx: AppContext, make_user) -> None:
    user = make_user("ada", display_name="Ada")
    at = _account(user)
    _field(at, "Display name").input("Ada\tLovelace")
    _submit(at, "Save name")
    assert any("control characters" in e.value for e in at.error)
    assert _field(at, "Display name").value == "Ada\tLovelace"  # to be corrected, not retyped
    with app_ctx.session() as s:
        assert s.get(User, user.id).display_name == "Ada"  # type: ignore[union-attr]


def test_staff_get_no_credential_note(app_ctx: AppContext, make_user) -> None:
    at = _account(make_user("ines", "instructor"))
    assert "Display name" in [t.label for t in at.text_input]
    assert "keep the name they were signed with" not in page_text(at)


def test_name_visibility_toggle_shows_and_saves_the_stored_choice(
    app_ctx: AppContext, make_user
) -> None:
    user = make_user("ada")
    at = _account(user)
    toggle = next(t for t in at.toggle if t.label == "Show my name on my public credential pages")
    assert toggle.value is False  # the stored default
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.toast] == ["Saved."]
    with app_ctx.session() as s:
        assert accounts.shows_name_publicly(s, user.id) is True
    again = _account(user)  # a fresh visit reads it back
    assert [t.value for t in again.toggle] == [True]
    assert not again.toast
