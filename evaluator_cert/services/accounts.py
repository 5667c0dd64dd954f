"""Accounts, roles, login throttling and server-side login sessions."""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from evaluator_cert import security
from evaluator_cert.config import Settings
from evaluator_cert.db.models import ROLES, AuthSession, LoginEvent, User, utcnow
from evaluator_cert.errors import (
    AccountLockedError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from evaluator_cert.services import audit
from evaluator_cert.services.actors import Actor, require_role

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
BAD_LOGIN = "Unknown username or wrong password."
HANDOFF_SECONDS = 120
MAX_DISPLAY_NAME_LENGTH = 120  # the column's width
# Bidi embeddings, overrides and isolates could make a printed name read differently from
# what was typed; zero-width joiners stay allowed, as some scripts need them in names.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInputError(
            "Usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    return username


def check_display_name(name: str) -> str:
    """The name as stored and printed: trimmed, NFC, 1-120 characters, no control characters."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise InvalidInputError("Enter a display name.")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInputError(
            f"Display names are limited to {MAX_DISPLAY_NAME_LENGTH} characters."
        )
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS for ch in name):
        raise InvalidInputError(
            "Display names cannot hold line breaks, tabs or other control characters."
        )
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInputError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    return role


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str,
    role: str = "trainee",
    display_name: str | None = None,
    email: str | None = None,
    cohort: str | None = None,
    actor: Actor | None = None,
    check_policy: bool = True,
) -> User:
    """Create an account. ``actor`` is the admin doing it (None for the CLI/bootstrap)."""
    if actor is not None:
        require_role(actor, "admin")
    username = _check_username(username)
    _check_role(role)
    if check_policy:
        security.check_password_policy(password, settings, username=username)
    name = check_display_name(display_name) if display_name and display_name.strip() else username
    if cohort is not None and len(cohort) > 64:
        raise InvalidInputError("Cohort names are limited to 64 characters.")
    if email is not None and len(email) > 254:
        raise InvalidInputError("E-mail addresses are limited to 254 characters.")
    if get_user(session, username) is not None:
        raise ConflictError(f"The username {username!r} is taken.")
    user = User(
        username=username,
        display_name=name,
        email=email,
        role=role,
        cohort=cohort,
        password_hash=security.hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", username, role=role)
    session.commit()
    return user


def _unknown_name_locked_until(
    session: Session, settings: Settings, name: str, now: datetime
) -> datetime | None:
    """When a name that has no account would be locked, by the rule real accounts follow.

    Replays the name's recent failed logins: five within the window lock it for the lockout
    time. Without this, "locked" would only ever be said of real accounts, and so would tell
    anyone which usernames exist.
    """
    window = timedelta(minutes=settings.lockout_window_minutes)
    lockout = timedelta(minutes=settings.lockout_minutes)
    failures = session.scalars(
        select(LoginEvent.at)
        .where(
            LoginEvent.username == name,
            LoginEvent.success.is_(False),
            LoginEvent.at >= now - window - lockout,
        )
        .order_by(LoginEvent.at)
    ).all()
    recent: deque[datetime] = deque()
    until = None
    for at in failures:
        if until is not None and at < until:
            continue  # tries during a lock are refused before they count
        recent.append(at)
        while recent[0] < at - window:
            recent.popleft()
        if len(recent) >= settings.lockout_failures:
            until, recent = at + lockout, deque()
    return until


def _locked_until(
    session: Session, settings: Settings, user: User | None, name: str, now: datetime
) -> datetime | None:
    if user is not None:
        return user.locked_until
    return _unknown_name_locked_until(session, settings, name, now) if name else None


def authenticate(
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
) -> User:
    """Check a login. An unknown user and a wrong password get the same answers, lockout
    included: any name locks after ``lockout_failures`` failures within the window."""
    now = now or utcnow()
    name = username.strip().lower()[:64]
    user = get_user(session, name) if name else None
    locked_until = _locked_until(session, settings, user, name, now)
    if locked_until and locked_until > now:
        minutes = max(1, round((locked_until - now).total_seconds() / 60))
        raise AccountLockedError(
            f"This account is locked after {settings.lockout_failures} failed logins. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
    ok, new_hash = security.verify_password(user.password_hash if user else None, password)
    if ok and user is not None and not user.is_active:
        ok = False
    session.add(LoginEvent(username=name, success=ok, at=now))
    if not ok:
        if user is not None:
            since = now - timedelta(minutes=settings.lockout_window_minutes)
            last_success = session.scalar(
                select(func.max(LoginEvent.at)).where(
                    LoginEvent.username == name, LoginEvent.success.is_(True)
                )
            )
            if last_success and last_success > since:
                since = last_success
            session.flush()  # this failure counts too
            failures = session.scalar(
                select(func.count()).where(
                    LoginEvent.username == name,
                    LoginEvent.success.is_(False),
                    LoginEvent.at >= since,
                )
            )
            if (failures or 0) >= settings.lockout_failures:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                audit.record(session, None, "user.locked", name, failures=failures)
        session.commit()
        locked_until = _locked_until(session, settings, user, name, now)
        if locked_until and locked_until > now:
            raise AccountLockedError(
                f"Too many failed logins: this account is locked for "
                f"{int(settings.lockout_minutes)} minutes."
            )
        raise AuthenticationError(BAD_LOGIN)
    assert user is not None
    if new_hash:
        user.password_hash = new_hash
    user.locked_until = None
    user.last_active_at = now
    audit.record(session, Actor.of(user), "user.login", name)
    session.commit()
    return user


def start_session(
    session: Session, settings: Settings, user: User, *, now: datetime | None = None
) -> AuthSession:
    """A server-side login session, with a one-time code the browser trades for its cookie."""
    now = now or utcnow()
    auth = AuthSession(
        id=security.new_token(),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
        handoff_code=security.new_token(),
        handoff_expires_at=now + timedelta(seconds=HANDOFF_SECONDS),
    )
    session.add(auth)
    session.commit()
    return auth


def redeem_handoff(
    session: Session, code: str, *, now: datetime | None = None
) -> AuthSession | None:
    """Trade a one-time code for its session (once, and only within two minutes)."""
    now = now or utcnow()
    auth = session.scalar(select(AuthSession).where(AuthSession.handoff_code == code))
    if auth is None:
        return None
    valid = auth.handoff_expires_at is not None and auth.handoff_expires_at > now
    auth.handoff_code = None
    auth.handoff_expires_at = None
    session.commit()
    return auth if valid and auth.revoked_at is None else None


def resume_session(
    session: Session, settings: Settings, session_id: str, *, now: datetime | None = None
) -> User | None:
    """The user of a live session, or None when it is unknown, revoked, expired or idle."""
    now = now or utcnow()
    auth = session.get(AuthSession, session_id, populate_existing=True)
    if auth is None or auth.revoked_at is not None or auth.expires_at <= now:
        return None
    if now - auth.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        auth.revoked_at = now
        session.commit()
        return None
    user = auth.user
    if not user.is_active:
        return None
    if now - auth.last_seen_at > timedelta(minutes=1):  # touch at most once a minute
        auth.last_seen_at = now
        user.last_active_at = now
        session.commit()
    return user


def end_session(session: Session, session_id: str) -> None:
    auth = session.get(AuthSession, session_id)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = utcnow()
        audit.record(session, Actor.of(auth.user), "user.logout", auth.user.username)
        session.commit()


def _end_all_sessions(session: Session, user_id: int, *, keep: str | None = None) -> None:
    """Revoke the user's live login sessions, all but ``keep`` (the one making the change)."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    session.execute(stmt.values(revoked_at=utcnow()))


def _own_account(session: Session, actor: Actor) -> User:
    require_role(actor, *ROLES)
    user = session.get(User, actor.id)
    if user is None:
        raise NotFoundError("Your account no longer exists.")
    return user


def change_password(
    session: Session,
    settings: Settings,
    actor: Actor,
    current: str,
    new: str,
    *,
    current_session_id: str | None = None,
) -> None:
    """Change one's own password. Every login session of the account ends except
    ``current_session_id``, the one the change is made from, so this device stays in."""
    user = _own_account(session, actor)
    ok, _ = security.verify_password(user.password_hash, current)
    if not ok:
        raise AuthenticationError("The current password is not right.")
    if new == current:
        raise InvalidInputError("The new password is the same as the current one: choose another.")
    security.check_password_policy(new, settings, username=user.username)
    user.password_hash = security.hash_password(new)
    user.password_changed_at = utcnow()
    _end_all_sessions(session, user.id, keep=current_session_id)
    audit.record(session, actor, "user.password_change", user.username)
    session.commit()


def set_display_name(session: Session, actor: Actor, name: str) -> User:
    """Change one's own display name (see :func:`check_display_name`); returns the account.

    Credentials already issued are signed documents and keep the name they carry.
    """
    user = _own_account(session, actor)
    name = check_display_name(name)
    if name == user.display_name:
        return user
    old = user.display_name
    user.display_name = name
    audit.record(session, actor, "user.display_name_change", user.username, old=old, new=name)
    session.commit()
    return user


def _target(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFoundError(f"There is no user {username!r}.")
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(select(func.count()).where(User.role == "admin", User.is_active.is_(True)))
        or 0
    )


def set_role(session: Session, actor: Actor | None, username: str, role: str) -> None:
    if actor is not None:
        require_role(actor, "admin")
    _check_role(role)
    user = _target(session, username)
    if user.role == role:
        return
    if user.role == "admin" and user.is_active and _active_admins(session) <= 1:
        raise ConflictError("This is the last admin: make another admin first.")
    old = user.role
    user.role = role
    _end_all_sessions(session, user.id)
    audit.record(session, actor, "user.role_change", user.username, old=old, new=role)
    session.commit()


def set_active(session: Session, actor: Actor, username: str, active: bool) -> None:
    require_role(actor, "admin")
    user = _target(session, username)
    if not active and user.role == "admin" and user.is_active and _active_admins(session) <= 1:
        raise ConflictError("This is the last admin: make another admin first.")
    user.is_active = active
    if not active:
        _end_all_sessions(session, user.id)
    audit.record(session, actor, "user.activate" if active else "user.deactivate", username)
    session.commit()


def reset_password(
    session: Session,
    settings: Settings,
    actor: Actor,
    username: str,
    new_password: str | None = None,
) -> str:
    """Set a new password for someone else (admins); returns it so it can be handed over."""
    require_role(actor, "admin")
    user = _target(session, username)
    password = new_password or security.generate_password()
    security.check_password_policy(password, settings, username=user.username)
    user.password_hash = security.hash_password(password)
    user.password_changed_at = utcnow()
    user.locked_until = None
    _end_all_sessions(session, user.id)
    audit.record(session, actor, "user.password_reset", username)
    session.commit()
    return password


def shows_name_publicly(session: Session, user_id: int) -> bool:
    """Whether the account lets its name show on its public credential pages; False for an
    account that no longer exists, as nothing of it may then be shown."""
    user = session.get(User, user_id)
    return bool(user and user.show_name_publicly)


def set_name_public(session: Session, actor: Actor, public: bool) -> None:
    user = _own_account(session, actor)
    user.show_name_publicly = public
    audit.record(session, actor, "user.name_visibility", user.username, public=public)
    session.commit()


def users_frame(session: Session, actor: Actor) -> pd.DataFrame:
    require_role(actor, "admin")
    rows = session.execute(
        select(
            User.username,
            User.display_name,
            User.role,
            User.is_active,
            User.cohort,
            User.created_at,
            User.last_active_at,
            User.locked_until,
        ).order_by(User.username)
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "username",
            "display_name",
            "role",
            "active",
            "cohort",
            "created",
            "last_active",
            "locked_until",
        ],
    )
