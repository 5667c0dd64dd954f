"""Each role sees exactly its pages, and every page refuses the roles it is not for."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator_cert.config import REPO_ROOT
from evaluator_cert.ui.navigation import ROLE_PAGES, pages_for
from tests.app.conftest import PASSWORD, app_as

ROLES = ["trainee", "instructor", "admin"]
PUBLIC = pages_for(None)
ALL_PAGES = sorted(p.name for p in (REPO_ROOT / "app_pages").glob("*.py"))


def test_every_page_file_is_reachable_by_some_role() -> None:
    listed = set().union(*(pages_for(role) for role in ROLE_PAGES))
    assert set(ALL_PAGES) <= listed


def test_anonymous_visitors_get_login_and_verify_only(app_ctx) -> None:
    at = app_as(None)
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == [] or "Log in" in [
        b.label for b in at.form_submit_button
    ]
    assert at.text_input[0].label == "Username" and at.text_input[1].label == "Password"
    assert {"login.py", "verify.py"} == PUBLIC


REFUSED = [
    (role, page)
    for role in ROLES
    for page in ALL_PAGES
    if page not in pages_for(role) and page not in PUBLIC
]


@pytest.mark.parametrize(("role", "page"), REFUSED)
def test_page_refuses_roles_it_is_not_for(app_ctx, make_user, role: str, page: str) -> None:
    user = make_user(f"u-{role}", role)
    at = app_as(user, page)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "only open to" in at.error[0].value
    # Nothing but the refusal: no tables, charts or forms of the page leaked.
    assert not at.dataframe and not at.text_input and not at.radio


@pytest.mark.parametrize("page", sorted(set(ALL_PAGES) - PUBLIC))
def test_anonymous_visitor_is_asked_to_log_in(app_ctx, page: str) -> None:
    at = app_as(None, page)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Please log in to continue."]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_own_first_page(app_ctx, make_user, role: str) -> None:
    user = make_user(f"u-{role}", role)
    at = app_as(user)
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    first_file = next(iter(ROLE_PAGES[role].values()))[0][0]
    assert Path(first_file).name in pages_for(role)


def test_login_form_logs_in_and_wrong_password_is_one_sentence(app_ctx, make_user) -> None:
    make_user("ada", "trainee", display_name="Ada L")
    at = app_as(None)
    at.run()
    at.text_input[0].input("ada")
    at.text_input[1].input("wrong password")
    at.form_submit_button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["Unknown username or wrong password."]
    at.text_input[1].input(PASSWORD)
    at.form_submit_button[0].click()
    at.run()
    assert not at.exception
    assert any("Welcome, Ada L" in s.value for s in at.success)
    assert at.session_state["actor"].username == "ada"


def test_locked_account_message_is_shown(app_ctx, make_user) -> None:
    make_user("ada")
    at = app_as(None)
    at.run()
    for _ in range(5):
        at.text_input[0].input("ada")
        at.text_input[1].input("nope nope nope")
        at.form_submit_button[0].click()
        at.run()
    assert "locked" in at.error[0].value
    assert "Traceback" not in str(at)
