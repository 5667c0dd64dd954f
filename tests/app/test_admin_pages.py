"""The admin pages after an action: a confirmation, fresh figures, and the input kept when
the action is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from evaluator_cert.db.models import Credential, User, utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts, audit
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.credentials import issue_credential
from tests.app.test_instructor_pages import _form, notices, open_page


@pytest.fixture
def root(make_user: Callable[..., User]) -> User:
    return make_user("root", "admin")


def _field(at: AppTest, form: str, name: str) -> Any:
    key = f"{_form(at, form)}_{name}"
    for widgets in (at.text_input, at.text_area, at.selectbox, at.checkbox):
        try:
            return widgets(key=key)
        except KeyError:
            continue
    raise KeyError(key)


def test_create_user_keeps_input_when_refused_and_confirms(root: User, app_ctx) -> None:
    at = open_page(root, "admin_users.py")
    at.run()
    typed = {"username": "zoe", "name": "Zoe Park", "cohort": "autumn", "password": "short"}
    for name, value in typed.items():
        _field(at, "create_user", name).input(value)
    next(b for b in at.button if b.label == "Create").click()
    at.run()
    assert at.error  # the password policy
    assert {n: _field(at, "create_user", n).value for n in typed} == typed  # nothing lost
    _field(at, "create_user", "password").input("a-long-enough-secret")
    next(b for b in at.button if b.label == "Create").click()
    at.run()
    assert not at.exception, at.exception
    assert "Created zoe (trainee)." in notices(at)
    assert "zoe" in at.dataframe[0].value["username"].tolist()
    assert all(_field(at, "create_user", n).value == "" for n in typed)
    with app_ctx.session() as s:
        assert accounts.get_user(s, "zoe") is not None


def test_role_and_activation_changes_are_confirmed(
    root: User, make_user: Callable[..., User], app_ctx
) -> None:
    make_user("amy")
    at = open_page(root, "admin_users.py")
    at.run()
    next(s for s in at.selectbox if s.label == "User").set_value("amy").run()
    labels = [s.label for s in at.selectbox]
    assert labels.count("Role of the new user") == 1 and labels.count("New role") == 1
    next(s for s in at.selectbox if s.label == "New role").set_value("instructor").run()
    next(b for b in at.button if b.label == "Save role").click().run()
    assert not at.exception, at.exception
    assert "amy is now instructor." in notices(at)
    next(b for b in at.button if b.label == "Deactivate").click().run()
    assert "amy deactivated." in notices(at)
    row = at.dataframe[0].value.set_index("username").loc["amy"]
    assert row["role"] == "instructor" and not row["active"]


def _credentials(app_ctx: AppContext, make_user: Callable[..., User], n: int) -> list[str]:
    ids = []
    for k in range(n):
        user = make_user(f"holder{k}")
        with app_ctx.session() as s:
            held = s.get(User, user.id)
            cred = issue_credential(s, held, app_ctx.base_catalog, "L1", 0.8, utcnow())
            s.commit()
            ids.append(cred.id)
    return ids


def test_revoke_keeps_input_until_done_then_shows_it_revoked(
    root: User, make_user: Callable[..., User], app_ctx
) -> None:
    (cid,) = _credentials(app_ctx, make_user, 1)
    at = open_page(root, "admin_credentials.py")
    at.run()
    assert "1 credential, newest first" in [c.value for c in at.caption]
    _field(at, "revoke", "credential").set_value(cid)
    _field(at, "revoke", "reason").input("Issued to a duplicate account.")
    next(b for b in at.button if b.label == "Revoke").click()
    at.run()
    assert "Tick the confirmation first." in [e.value for e in at.error]
    assert _field(at, "revoke", "credential").value == cid  # choice and reason kept
    assert _field(at, "revoke", "reason").value == "Issued to a duplicate account."
    _field(at, "revoke", "confirm").check()
    next(b for b in at.button if b.label == "Revoke").click()
    at.run()
    assert not at.exception, at.exception
    assert any(n.startswith(f"Revoked {cid}.") for n in notices(at))
    assert at.dataframe[0].value.set_index("id").loc[cid, "status"] == "revoked"
    assert cid not in _field(at, "revoke", "credential").options  # not offered again
    assert _field(at, "revoke", "reason").value == ""
    with app_ctx.session() as s:
        assert s.scalar(select(Credential.revoked_at).where(Credential.id == cid)) is not None


def test_rotating_the_key_shows_the_new_active_key(root: User, app_ctx) -> None:
    at = open_page(root, "admin_credentials.py")
    at.run()
    before = next(m.value for m in at.markdown if m.value.startswith("Active key:"))
    _field(at, "rotate", "sure").check()
    next(b for b in at.button if b.label == "Rotate key").click()
    at.run()
    assert not at.exception, at.exception
    after = next(m.value for m in at.markdown if m.value.startswith("Active key:"))
    new_key = next(n for n in notices(at) if n.startswith("New signing key: "))
    assert after != before and new_key.removeprefix("New signing key: ") in after
    assert not _field(at, "rotate", "sure").value


def test_audit_log_finds_part_of_a_name_and_exports_json(
    root: User, make_user: Callable[..., User], app_ctx
) -> None:
    ivy = make_user("ivy_smith", "instructor")
    with app_ctx.session() as s:
        audit.record(s, Actor.of(ivy), "test.note", "x", reason="it's 'quoted'", n=1)
        s.commit()
    at = open_page(root, "admin_audit.py")
    at.run()
    at.text_input[0].input("IVY").run()
    frame = at.dataframe[0].value
    assert frame["actor"].tolist() == ["ivy_smith"]
    assert json.loads(frame.iloc[0]["details"]) == {"reason": "it's 'quoted'", "n": 1}
    assert "1 entry, newest first" in [c.value for c in at.caption]
