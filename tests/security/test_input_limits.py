"""User text is stored as given and shown as text, never as HTML; every text field, upload
and free-text service input has a size limit with a clear message."""

from __future__ import annotations

import ast
import random
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evaluator_cert.config import REPO_ROOT
from evaluator_cert.db.models import Annotation, Dispute
from evaluator_cert.errors import InvalidInputError
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import (
    accounts,
    attempts,
    calibration,
    credentials,
    disputes,
    overrides,
    reviews,
)
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer
from tests.app.conftest import app_as
from tests.security.test_gold_hidden import rendered_text
from tests.security.test_service_roles import OTTO, Env, env, template  # noqa: F401

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
UI_FILES = sorted(
    [
        REPO_ROOT / "app.py",
        *(REPO_ROOT / "app_pages").glob("*.py"),
        *(REPO_ROOT / "evaluator_cert" / "ui").glob("*.py"),
    ]
)
SAFE_WRAPPERS = {"quote", "escape", "quote_plus", "dumps"}  # escaped before entering HTML


def _calls(path: Path) -> Iterator[ast.Call]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            yield node


def _name(call: ast.Call) -> str:
    fn = call.func
    return fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _only_constant_or_escaped(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(v, ast.Constant)
            or (
                isinstance(v, ast.FormattedValue)
                and isinstance(v.value, ast.Call)
                and _name(v.value) in SAFE_WRAPPERS
            )
            for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return _only_constant_or_escaped(node.left) and _only_constant_or_escaped(node.right)
    return False


def test_no_page_passes_user_text_to_raw_html() -> None:
    offenders = []
    for path in UI_FILES:
        for call in _calls(path):
            raw = _name(call) == "html" or any(
                k.arg in ("unsafe_allow_html", "unsafe_allow_javascript")
                and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                for k in call.keywords
            )
            if raw and not all(_only_constant_or_escaped(a) for a in call.args):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{call.lineno}")
    assert not offenders, f"raw HTML built from variable text: {offenders}"


def test_every_text_field_has_a_length_limit() -> None:
    missing = []
    for path in UI_FILES:
        for call in _calls(path):
            if _name(call) not in ("text_input", "text_area", "chat_input"):
                continue
            disabled = _kw(call, "disabled")
            if isinstance(disabled, ast.Constant) and disabled.value is True:
                continue  # read-only display, nothing typed
            if _kw(call, "max_chars") is None:
                missing.append(f"{path.relative_to(REPO_ROOT)}:{call.lineno}")
    assert not missing, f"text fields without max_chars: {missing}"


def test_uploads_are_bounded_by_the_server() -> None:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert 0 < config["server"]["maxUploadSize"] <= 50  # megabytes, refused with a message
    uploads = [
        f"{p.name}:{c.lineno}" for p in UI_FILES for c in _calls(p) if _name(c) == "file_uploader"
    ]
    for path in UI_FILES:
        for call in _calls(path):
            if _name(call) == "file_uploader":
                assert _kw(call, "type") is not None, f"{path.name}:{call.lineno} takes any file"
    assert uploads  # the check saw the uploaders


# ------------------------------------------------------------------- service limits

Limit = Callable[[Env, Any], Any]
LONG = "x" * 100_000


def _answer_with(e: Env, s: Any, **extra: Any) -> Any:
    tina = e.actors["trainee"]
    view = attempts.attempt_view(s, tina, e.catalog, e.tina_attempt)
    key = view.next_item_id
    item = e.catalog.item(attempts.base_item_id(key))
    answer = {**simulated_answer(item, 1.0, random.Random(0)), **extra}
    return attempts.record_answer(s, tina, e.catalog, e.tina_attempt, key, answer)


LIMITS: dict[str, Limit] = {
    "display name": lambda e, s: accounts.create_user(
        s, e.ctx.settings, username="zed", password="pass-word-123", display_name=LONG
    ),
    "cohort": lambda e, s: accounts.create_user(
        s, e.ctx.settings, username="zed", password="pass-word-123", cohort=LONG
    ),
    "email": lambda e, s: accounts.create_user(
        s, e.ctx.settings, username="zed", password="pass-word-123", email=LONG + "@x.org"
    ),
    "username": lambda e, s: accounts.create_user(
        s, e.ctx.settings, username=LONG, password="pass-word-123"
    ),
    "password": lambda e, s: accounts.create_user(
        s, e.ctx.settings, username="zed", password="Ab1-" + LONG
    ),
    "answer text": lambda e, s: _answer_with(e, s, text=LONG),
    "answer size": lambda e, s: _answer_with(e, s, spans=[{"start": 0}] * 20_000),
    "dispute reason": lambda e, s: disputes.open_dispute(
        s, e.actors["trainee"], e.catalog, e.tina_answered_item, LONG
    ),
    "dispute resolution": lambda e, s: disputes.reject_dispute(
        s, e.actors["instructor"], e.dispute_id, LONG
    ),
    "override reason": lambda e, s: overrides.grant_extra_attempt(
        s, e.actors["instructor"], e.catalog, e.actors[OTTO].id, "L1", LONG
    ),
    "revocation reason": lambda e, s: credentials.revoke_credential(
        s, e.actors["admin"], e.credential_id, LONG
    ),
    "review feedback": lambda e, s: reviews.submit_review(
        s, e.actors["instructor"], e.catalog, e.otto_annotation, {"evidence": 3}, LONG
    ),
    "calibration title": lambda e, s: calibration.create_session(
        s, e.actors["instructor"], e.catalog, level_id="L1", title=LONG
    ),
}


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_over_long_input_is_refused_with_a_clear_message(env: Env, field: str) -> None:  # noqa: F811
    with env.ctx.session() as s, pytest.raises(InvalidInputError) as info:
        LIMITS[field](env, s)
    message = str(info.value)
    assert message.endswith(".") and len(message) < 200
    assert "x" * 50 not in message  # the message does not echo the input back


def test_over_long_cohort_is_refused_on_every_backend(ctx: AppContext) -> None:
    # PostgreSQL would raise a driver error on the varchar(64) column: the service checks first.
    with ctx.session() as s, pytest.raises(InvalidInputError, match="64 characters"):
        accounts.create_user(
            s, ctx.settings, username="zed", password="pass-word-123", cohort="c" * 65
        )


# ------------------------------------------------------------- stored as given, shown as text


def _payload_elements(at: Any) -> list[Any]:
    found = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and PAYLOAD in str(getattr(node, "value", "")) + str(proto):
            found.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _assert_shown_as_text(at: Any) -> None:
    assert not at.exception
    assert PAYLOAD in rendered_text(at)
    for node in _payload_elements(at):
        assert node.type not in ("html", "iframe"), node.type
        assert not getattr(node.proto, "allow_html", False), "rendered with allow_html"
        assert node.type in (
            "text",
            "code",
            "caption",
            "markdown",
            "dataframe",
            "arrow_data_frame",
            "alert",
        )


def test_script_in_a_dispute_reason_is_stored_as_given_and_shown_as_text(
    app_ctx: AppContext, make_user: Any
) -> None:
    trainee = make_user("sam")
    staff = make_user("ivy", "instructor")
    actor, catalog = Actor.of(trainee), app_ctx.base_catalog
    module_id = catalog.modules_of("L1")[0].id
    with app_ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id)
        key = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids[0]
        item = catalog.item(attempts.base_item_id(key))
        attempts.record_answer(
            s, actor, catalog, attempt_id, key, simulated_answer(item, 0.0, random.Random(0))
        )
        disputes.open_dispute(s, actor, catalog, item.id, f"Gold looks wrong {PAYLOAD}")
        assert s.scalar(select(Dispute.reason)) == f"Gold looks wrong {PAYLOAD}"
    at = app_as(staff)
    at.switch_page("app_pages/disputes.py")
    at.run()
    _assert_shown_as_text(at)


def test_script_in_a_justification_is_stored_as_given_and_shown_as_text(
    app_ctx: AppContext, make_user: Any
) -> None:
    trainee = make_user("sam")
    staff = make_user("ivy", "instructor")
    actor, catalog = Actor.of(trainee), app_ctx.base_catalog
    module = next(
        m
        for m in catalog.modules
        if any(i.type == "justification" for i in catalog.practice_items(m.id))
    )
    item = next(i for i in catalog.practice_items(module.id) if i.type == "justification")
    text = f"{PAYLOAD} " + " ".join(["because the response cites no source"] * 12)
    with app_ctx.session() as s:
        overrides.unlock_module(
            s, Actor.of(staff), catalog, trainee.id, module.id, "Testing the review page."
        )
        attempt_id = attempts.start_practice(s, actor, catalog, module.id)
        attempts.record_answer(
            s, actor, catalog, attempt_id, item.id, {"choice": item.choices[0], "text": text}
        )
        assert s.scalar(select(Annotation.answer))["text"] == text
    at = app_as(staff)
    at.switch_page("app_pages/reviews.py")
    at.run()
    _assert_shown_as_text(at)


# ------------------------------------------------------------------- accounts (gaps only)


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short1!", "at least 10 characters"),
        ("aaaaaaaaaaaa", "more variety"),
        ("Quentin-Blake", "must not be the username"),
        ("Ab1-" + "z" * 300, "limited to 256"),
    ],
)
def test_password_policy_refuses_weak_passwords(
    sqlite_ctx: AppContext, password: str, says: str
) -> None:
    with sqlite_ctx.session() as s, pytest.raises(InvalidInputError, match=says):
        accounts.create_user(s, sqlite_ctx.settings, username="quentin-blake", password=password)


def test_deactivated_account_gets_the_same_message_as_a_wrong_password(
    sqlite_ctx: AppContext,
) -> None:
    from evaluator_cert.errors import AuthenticationError

    with sqlite_ctx.session() as s:
        accounts.create_user(
            s, sqlite_ctx.settings, username="root2", password="pass-word-123", role="admin"
        )
        accounts.create_user(s, sqlite_ctx.settings, username="gone", password="pass-word-123")
        admin = Actor.of(accounts.get_user(s, "root2"))  # type: ignore[arg-type]
        accounts.set_active(s, admin, "gone", False)
        with pytest.raises(AuthenticationError) as disabled:
            accounts.authenticate(s, sqlite_ctx.settings, "gone", "pass-word-123")
        with pytest.raises(AuthenticationError) as unknown:
            accounts.authenticate(s, sqlite_ctx.settings, "nobody", "pass-word-123")
    assert str(disabled.value) == str(unknown.value) == accounts.BAD_LOGIN
