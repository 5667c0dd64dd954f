"""The verify, my-credentials and admin-credentials pages, through Streamlit's AppTest."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from evaluator_cert import runtime
from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.db.models import Credential, User
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services import credentials as creds
from evaluator_cert.services.actors import Actor
from evaluator_cert.ui import state
from evaluator_cert.ui.notices import PENDING_KEY
from tests.conftest import fixture_content_settings

PAGES = REPO_ROOT / "app_pages"
PASSWORD = "correct horse battery"
NOW = datetime.now(UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fixture_content_settings(tmp_path)


@pytest.fixture
def app_ctx(sqlite_ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """Pages reach this test's database through ``state.app()``."""
    monkeypatch.setattr(runtime, "_context", sqlite_ctx)
    state.app.clear()
    yield sqlite_ctx
    state.app.clear()


def _user(ctx: AppContext, username: str, **extra: object) -> User:
    with ctx.session() as s:
        return accounts.create_user(s, ctx.settings, username=username, password=PASSWORD, **extra)


def _issue(ctx: AppContext, user: User, at: datetime) -> str:
    with ctx.session() as s:
        holder = s.get(User, user.id)
        assert holder is not None
        row = creds.issue_credential(
            s, holder, ctx.base_catalog, "L1", 0.8, at, settings=ctx.settings
        )
        s.commit()
        return row.id


@pytest.fixture
def three(app_ctx: AppContext) -> dict[str, str]:
    ada = _user(app_ctx, "ada", display_name="Ada Lovelace")
    with app_ctx.session() as s:
        accounts.set_name_public(s, Actor.of(ada), True)
    ids = {
        "active": _issue(app_ctx, ada, NOW - timedelta(days=3)),
        "expired": _issue(app_ctx, _user(app_ctx, "bob"), NOW - timedelta(days=400)),
        "revoked": _issue(app_ctx, _user(app_ctx, "cy"), NOW - timedelta(days=3)),
    }
    with app_ctx.session() as s:
        creds.revoke_credential(s, None, ids["revoked"], "Exam taken with outside help.")
    return ids


def _verify_page(credential_id: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / "verify.py"), default_timeout=30)
    if credential_id is not None:
        at.query_params["id"] = credential_id
    return at.run()


def _markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def _alerts(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.success, *at.warning, *at.error, *at.info])


def test_deep_link_shows_each_verdict(three: dict[str, str]) -> None:
    active = _verify_page(three["active"])
    assert not active.exception
    assert active.success and "Valid" in active.success[0].value
    assert "Ada Lovelace" in _markdown(active)

    expired = _verify_page(three["expired"])
    assert expired.warning and "Expired" in expired.warning[0].value
    assert not expired.success

    revoked = _verify_page(three["revoked"].removeprefix("urn:uuid:"))
    assert revoked.error and "Revoked" in revoked.error[0].value
    assert "Exam taken with outside help." in revoked.error[0].value
    assert not revoked.success


def test_unknown_id_and_no_login_needed(app_ctx: AppContext) -> None:
    at = _verify_page(f"urn:uuid:{uuid.uuid4()}")
    assert not at.exception
    assert "Unknown" in _alerts(at)
    assert "log in" not in _alerts(at).lower()
    blank = _verify_page()
    assert not blank.exception and not blank.error and not blank.success


def test_pasted_share_link_is_checked(three: dict[str, str], app_ctx: AppContext) -> None:
    # The link exactly as My credentials hands it out, on an ordinary host name: longer than
    # the 80 characters the field used to take.
    served = app_ctx.settings.with_(base_url="https://certificates.evaluators.example.org:8600")
    link = creds.verify_url(served, three["active"])
    assert len(link) > 80
    for pasted in (link, f"  <{link}>\n", link.replace("urn:uuid:", "")):
        at = _verify_page()
        at.text_input[0].input(pasted).run()
        assert not at.exception
        assert at.success and "Valid" in at.success[0].value, pasted
        assert "Ada Lovelace" in _markdown(at)
        assert at.query_params["id"] == three["active"]  # the address stays shareable


def test_each_id_typed_in_turn_gets_its_own_verdict(
    three: dict[str, str], app_ctx: AppContext
) -> None:
    at = _verify_page()
    unknown = f"urn:uuid:{uuid.uuid4()}"
    for typed, verdict in [
        (three["active"], "Valid"),
        (unknown, "Unknown"),
        (three["revoked"], "Revoked"),
        (three["active"], "Valid"),
    ]:
        at.text_input[0].input(typed).run()
        assert not at.exception
        assert at.text_input[0].value == typed
        assert verdict in _alerts(at), typed
        assert at.query_params["id"] == typed


def test_text_that_holds_no_id_says_so(app_ctx: AppContext) -> None:
    for text in ("not-an-id", "https://certs.example/verify?id=typo"):
        at = _verify_page()
        at.text_input[0].input(text).run()
        assert not at.exception
        assert "not a credential ID or share link" in _alerts(at)
        assert "Unknown" not in _alerts(at) and not at.success


def test_private_holder_name_is_not_shown(three: dict[str, str], app_ctx: AppContext) -> None:
    at = _verify_page(three["expired"])  # bob never made his name public
    details = _markdown(at)
    assert "Not shown" in details and "bob" not in details


def test_pasted_token_shows_each_check(three: dict[str, str], app_ctx: AppContext) -> None:
    with app_ctx.session() as s:
        tokens = {c.id: c.jwt for c in s.scalars(select(Credential))}
    at = _verify_page()
    at.text_area[0].input(tokens[three["revoked"]])
    at.button[0].click().run()
    assert "Not valid" in at.error[0].value
    checks = " ".join(m.value for m in at.markdown)
    assert "Signature" in checks and "Revoked by the issuer." in checks

    at.text_area[0].input(tokens[three["active"]])
    at.button[0].click().run()
    assert at.success and "Valid" in at.success[0].value

    at.text_area[0].input("not.a.token")
    at.button[0].click().run()
    assert not at.exception and "Not valid" in at.error[0].value


def test_bulk_csv_upload_checks_every_id(three: dict[str, str]) -> None:
    unknown = f"urn:uuid:{uuid.uuid4()}"
    csv = "candidate,id\n" + "".join(
        f"c{i},{cid}\n" for i, cid in enumerate([*three.values(), unknown, "typo"])
    )
    at = _verify_page()
    at.file_uploader[0].upload("ids.csv", csv.encode(), "text/csv").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["status"].tolist() == ["active", "expired", "revoked", "unknown", "invalid"]
    summary = _markdown(at)
    assert "**1** active" in summary and "**1** invalid" in summary


def test_bulk_csv_upload_takes_share_links(three: dict[str, str], app_ctx: AppContext) -> None:
    rows = [
        creds.verify_url(app_ctx.settings, three["active"]),
        f"<https://certs.example:8600/verify?id={three['revoked']}>",
        "https://certs.example/verify?id=typo",
    ]
    at = _verify_page()
    at.file_uploader[0].upload("links.csv", ("id\n" + "\n".join(rows)).encode(), "text/csv")
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["status"].tolist() == ["active", "revoked", "invalid"]
    assert frame["id"].tolist()[:2] == [three["active"], three["revoked"]]


def test_bulk_csv_upload_refuses_oversized_and_unreadable_files(app_ctx: AppContext) -> None:
    at = _verify_page()
    big = b"id\n" + b"x" * (1024 * 1024 + 1)
    at.file_uploader[0].upload("big.csv", big, "text/csv").run()
    assert "the limit is 1024 KB" in _alerts(at)
    assert not at.dataframe
    at.file_uploader[0].upload("bad.csv", b"\xff\xfe\x00\x01", "text/csv").run()
    assert "not a readable CSV" in _alerts(at)


def test_my_credentials_page(three: dict[str, str], app_ctx: AppContext) -> None:
    at = AppTest.from_file(str(PAGES / "my_credentials.py"), default_timeout=30)
    with app_ctx.session() as s:
        ada = accounts.get_user(s, "ada")
        assert ada is not None
        at.session_state[state.ACTOR_KEY] = Actor.of(ada)
    at.run()
    assert not at.exception
    link = at.text_input[0].value
    assert link == f"{app_ctx.settings.base_url}/verify?id={three['active']}"
    assert at.toggle[0].value is True
    at.toggle[0].set_value(False).run()
    with app_ctx.session() as s:
        assert s.scalar(select(User.show_name_publicly).where(User.username == "ada")) is False


def test_my_credentials_empty_state(app_ctx: AppContext) -> None:
    newbie = _user(app_ctx, "newbie")
    at = AppTest.from_file(str(PAGES / "my_credentials.py"), default_timeout=30)
    at.session_state[state.ACTOR_KEY] = Actor.of(newbie)
    at.run()
    assert not at.exception
    assert "Pass a level exam to earn your first credential" in at.info[0].value


def test_admin_page_needs_admin_and_revokes(three: dict[str, str], app_ctx: AppContext) -> None:
    trainee = AppTest.from_file(str(PAGES / "admin_credentials.py"), default_timeout=30)
    with app_ctx.session() as s:
        ada = accounts.get_user(s, "ada")
        assert ada is not None
    trainee.session_state[state.ACTOR_KEY] = Actor.of(ada)
    trainee.run()
    assert trainee.error and not trainee.dataframe

    admin = Actor.of(_user(app_ctx, "root", role="admin"))
    at = AppTest.from_file(str(PAGES / "admin_credentials.py"), default_timeout=30)
    at.session_state[state.ACTOR_KEY] = admin
    at.run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 3
    form_select = at.selectbox[1]
    form_select.set_value(three["active"])
    at.text_area[0].input("Duplicate account.")
    at.checkbox[0].check()
    at.button[0].click().run()
    assert not at.exception
    # The confirmation is flashed for app.py to show after the page's rerun.
    assert any(m.startswith("Revoked") for _, m in at.session_state[PENDING_KEY])
    with app_ctx.session() as s:
        assert s.get(Credential, three["active"]).revocation_reason == "Duplicate account."  # type: ignore[union-attr]
