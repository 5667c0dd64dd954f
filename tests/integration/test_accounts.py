"""Accounts, roles, throttling and login sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from evaluator_cert.db.models import AuditLog, User, utcnow
from evaluator_cert.errors import (
    AccountLockedError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotAllowedError,
)
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.setup import ensure_admin

PASSWORD = "correct horse battery"


def _make(ctx: AppContext, username: str, role: str = "trainee") -> User:
    with ctx.session() as s:
        return accounts.create_user(
            s, ctx.settings, username=username, password=PASSWORD, role=role
        )


def test_create_and_authenticate_stores_argon2id(ctx: AppContext) -> None:
    _make(ctx, "ada")
    with ctx.session() as s:
        user = accounts.authenticate(s, ctx.settings, "Ada", PASSWORD)
        assert user.username == "ada"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_unknown_user_and_wrong_password_get_the_same_message(ctx: AppContext) -> None:
    _make(ctx, "ada")
    with ctx.session() as s:
        with pytest.raises(AuthenticationError) as wrong:
            accounts.authenticate(s, ctx.settings, "ada", "not the password")
        with pytest.raises(AuthenticationError) as unknown:
            accounts.authenticate(s, ctx.settings, "nobody", "not the password")
    assert str(wrong.value) == str(unknown.value) == accounts.BAD_LOGIN


def test_five_failures_in_fifteen_minutes_lock_the_account(ctx: AppContext) -> None:
    _make(ctx, "ada")
    now = utcnow()
    with ctx.session() as s:
        for i in range(4):
            with pytest.raises(AuthenticationError) as exc:
                accounts.authenticate(s, ctx.settings, "ada", "bad", now=now + timedelta(seconds=i))
            assert not isinstance(exc.value, AccountLockedError)
        with pytest.raises(AccountLockedError):
            accounts.authenticate(s, ctx.settings, "ada", "bad", now=now + timedelta(seconds=5))
        # Even the right password is refused while locked, with the time left.
        with pytest.raises(AccountLockedError, match="Try again in 15 minutes"):
            accounts.authenticate(s, ctx.settings, "ada", PASSWORD, now=now + timedelta(seconds=6))
        later = now + timedelta(minutes=16)
        assert accounts.authenticate(s, ctx.settings, "ada", PASSWORD, now=later).username == "ada"


def test_unknown_names_lock_exactly_like_real_accounts(ctx: AppContext) -> None:
    # Otherwise "locked" would be said of real accounts only, and reveal which names exist.
    _make(ctx, "ada")
    now = utcnow()

    def answers(name: str) -> list[tuple[str, str]]:
        seen = []
        with ctx.session() as s:
            for offset in [*range(7), 60 * 14, 60 * 16, 60 * 16 + 1]:
                with pytest.raises(AuthenticationError) as exc:
                    accounts.authenticate(
                        s, ctx.settings, name, "bad", now=now + timedelta(seconds=offset)
                    )
                seen.append((type(exc.value).__name__, str(exc.value)))
        return seen

    real, unknown = answers("ada"), answers("nobody")
    assert unknown == real
    kinds = [kind for kind, _ in real]
    assert kinds[:4] == ["AuthenticationError"] * 4
    assert kinds[4:8] == ["AccountLockedError"] * 4  # fifth failure, then locked till 15 min
    assert kinds[8:] == ["AuthenticationError"] * 2  # after the lockout: fresh window


def test_failures_spread_over_more_than_the_window_do_not_lock(ctx: AppContext) -> None:
    _make(ctx, "ada")
    now = utcnow()
    with ctx.session() as s:
        for i in range(6):
            with pytest.raises(AuthenticationError) as exc:
                accounts.authenticate(
                    s, ctx.settings, "ada", "bad", now=now + timedelta(minutes=4 * i)
                )
            assert not isinstance(exc.value, AccountLockedError)


def test_rehash_on_login_when_parameters_change(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with ctx.session() as s:
        s.get(User, user.id).password_hash = weak
        s.commit()
        accounts.authenticate(s, ctx.settings, "ada", PASSWORD)
        assert s.get(User, user.id).password_hash != weak


def test_session_lifecycle_handoff_resume_logout(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    with ctx.session() as s:
        auth = accounts.start_session(s, ctx.settings, user)
        code = auth.handoff_code
        assert accounts.redeem_handoff(s, code).id == auth.id
        assert accounts.redeem_handoff(s, code) is None  # one time only
        assert accounts.resume_session(s, ctx.settings, auth.id).username == "ada"
        accounts.end_session(s, auth.id)
        assert accounts.resume_session(s, ctx.settings, auth.id) is None


def test_idle_and_expired_sessions_end(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    with ctx.session() as s:
        auth = accounts.start_session(s, ctx.settings, user)
        idle = utcnow() + timedelta(minutes=ctx.settings.session_idle_minutes + 1)
        assert accounts.resume_session(s, ctx.settings, auth.id, now=idle) is None
        auth2 = accounts.start_session(s, ctx.settings, user)
        expired = utcnow() + timedelta(hours=ctx.settings.session_hours + 1)
        assert accounts.resume_session(s, ctx.settings, auth2.id, now=expired) is None


def test_password_change_ends_other_sessions(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    with ctx.session() as s:
        auth = accounts.start_session(s, ctx.settings, user)
        actor = Actor.of(user)
        with pytest.raises(AuthenticationError):
            accounts.change_password(s, ctx.settings, actor, "wrong", "a new password 1")
        with pytest.raises(InvalidInputError):
            accounts.change_password(s, ctx.settings, actor, PASSWORD, "short")
        accounts.change_password(s, ctx.settings, actor, PASSWORD, "a new password 1")
        assert accounts.resume_session(s, ctx.settings, auth.id) is None
        assert accounts.authenticate(s, ctx.settings, "ada", "a new password 1")


def test_password_change_keeps_the_session_it_is_made_from(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    with ctx.session() as s:
        here = accounts.start_session(s, ctx.settings, user)
        elsewhere = accounts.start_session(s, ctx.settings, user)
        accounts.change_password(
            s,
            ctx.settings,
            Actor.of(user),
            PASSWORD,
            "a new password 1",
            current_session_id=here.id,
        )
        assert accounts.resume_session(s, ctx.settings, here.id).username == "ada"
        assert accounts.resume_session(s, ctx.settings, elsewhere.id) is None


def test_new_password_equal_to_the_current_one_is_refused(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    with ctx.session() as s:
        auth = accounts.start_session(s, ctx.settings, user)
        with pytest.raises(InvalidInputError, match="same as the current one"):
            accounts.change_password(s, ctx.settings, Actor.of(user), PASSWORD, PASSWORD)
        # nothing changed: the old password works and no session ended
        assert accounts.resume_session(s, ctx.settings, auth.id) is not None
        assert accounts.authenticate(s, ctx.settings, "ada", PASSWORD)


def test_display_name_change_is_trimmed_checked_and_audited(ctx: AppContext) -> None:
    user = _make(ctx, "ada")
    actor = Actor.of(user)
    with ctx.session() as s:
        saved = accounts.set_display_name(s, actor, "  Ada Lovelace \n")
        assert saved.display_name == "Ada Lovelace"
        assert s.get(User, user.id).display_name == "Ada Lovelace"
        # names in any script, including the joiners some of them need
        for name in ("José Núñez-Pérez", "محمد\u200cرضا", "李小龍", "O'Brien, Jr.", "x" * 120):
            assert accounts.set_display_name(s, actor, name).display_name == name
        for bad, why in (
            ("", "Enter a display name"),
            ("   ", "Enter a display name"),
            ("x" * 121, "limited to 120"),
            ("Ada\tLovelace", "control characters"),
            ("Ada\nLovelace", "control characters"),
            ("Ada\x00", "control characters"),
            ("Ada\u2028Lovelace", "control characters"),
            ("Ada \u202eecalevol", "control characters"),  # reads backwards when printed
        ):
            with pytest.raises(InvalidInputError, match=why):
                accounts.set_display_name(s, actor, bad)
        assert s.get(User, user.id).display_name == "x" * 120  # refusals change nothing
        accounts.set_display_name(s, actor, "x" * 120)  # unchanged: no audit row
        changes = s.scalars(
            select(AuditLog).where(AuditLog.action == "user.display_name_change")
        ).all()
    assert len(changes) == 6
    assert changes[0].target == "ada" and changes[0].actor == "ada"
    assert changes[0].details == {"old": "ada", "new": "Ada Lovelace"}


def test_create_user_checks_display_names_the_same_way(ctx: AppContext) -> None:
    with ctx.session() as s:
        with pytest.raises(InvalidInputError, match="control characters"):
            accounts.create_user(
                s, ctx.settings, username="ada", password=PASSWORD, display_name="A\x07da"
            )
        blank = accounts.create_user(
            s, ctx.settings, username="bob", password=PASSWORD, display_name="  "
        )
        assert blank.display_name == "bob"


def test_last_admin_cannot_be_removed(ctx: AppContext) -> None:
    admin = _make(ctx, "root", "admin")
    actor = Actor.of(admin)
    with ctx.session() as s:
        with pytest.raises(ConflictError):
            accounts.set_role(s, actor, "root", "trainee")
        with pytest.raises(ConflictError):
            accounts.set_active(s, actor, "root", False)
        _make(ctx, "second", "admin")
        accounts.set_role(s, actor, "second", "instructor")
        assert s.scalar(select(User.role).where(User.username == "second")) == "instructor"


def test_only_admins_manage_users_and_changes_are_audited(ctx: AppContext) -> None:
    admin = Actor.of(_make(ctx, "root", "admin"))
    trainee = Actor.of(_make(ctx, "ada"))
    with ctx.session() as s:
        with pytest.raises(NotAllowedError):
            accounts.set_role(s, trainee, "ada", "admin")
        with pytest.raises(NotAllowedError):
            accounts.users_frame(s, trainee)
        accounts.set_role(s, admin, "ada", "instructor")
        new_password = accounts.reset_password(s, ctx.settings, admin, "ada")
        assert accounts.authenticate(s, ctx.settings, "ada", new_password)
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target == "ada")).all()
    assert {"user.create", "user.role_change", "user.password_reset", "user.login"} <= set(actions)


def test_duplicate_username_and_bad_input(ctx: AppContext) -> None:
    _make(ctx, "ada")
    with pytest.raises(ConflictError):
        _make(ctx, "ADA")
    with pytest.raises(InvalidInputError):
        _make(ctx, "no spaces please")
    with pytest.raises(InvalidInputError):
        _make(ctx, "bob", role="superuser")


def test_ensure_admin_creates_one_admin_once(ctx: AppContext) -> None:
    with ctx.session() as s:
        password = ensure_admin(s, ctx.settings)
        assert password and len(password) >= 12
        assert ensure_admin(s, ctx.settings) is None
        assert accounts.authenticate(s, ctx.settings, "admin", password).role == "admin"
