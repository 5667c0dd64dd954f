"""The app context (cached once per process), the logged-in actor, and the page guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from sqlalchemy.orm import Session

from evaluator_cert import security
from evaluator_cert.db.models import User
from evaluator_cert.errors import NotAllowedError
from evaluator_cert.runtime import AppContext, get_app
from evaluator_cert.services import accounts
from evaluator_cert.services.actors import Actor, require_role

ACTOR_KEY = "actor"
SESSION_KEY = "auth_session_id"
T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def app() -> AppContext:
    return get_app()


def run(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call a service with a fresh Session (never cached, never kept across reruns)."""
    with app().session() as session:
        return fn(session, *args, **kwargs)


def log_in(user: User, auth_session_id: str | None = None) -> Actor:
    """Mark this browser session as logged in (the login form and tests use this)."""
    actor = Actor.of(user)
    st.session_state[ACTOR_KEY] = actor
    if auth_session_id:
        st.session_state[SESSION_KEY] = auth_session_id
    return actor


def log_out() -> None:
    sid = st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(ACTOR_KEY, None)
    if sid:
        run(accounts.end_session, sid)


def _actor_from_cookie() -> Actor | None:
    raw = st.context.cookies.get(security.COOKIE_NAME)
    if not isinstance(raw, str) or not raw:
        return None
    ctx = app()
    sid = security.unsign_value(raw, security.secret_key(ctx.settings))
    if sid is None:
        return None
    with ctx.session() as session:
        user = accounts.resume_session(session, ctx.settings, sid)
        if user is None:
            return None
        return log_in(user, sid)


def current_actor() -> Actor | None:
    actor = st.session_state.get(ACTOR_KEY)
    if actor is not None:
        sid = st.session_state.get(SESSION_KEY)
        if not sid:
            return actor
        fresh = _session_actor(sid)
        if fresh is None:
            # Logged out elsewhere, password changed, or idle too long.
            st.session_state.pop(ACTOR_KEY, None)
            st.session_state.pop(SESSION_KEY, None)
            return None
        # Read each run: a name changed on another device shows here at once.
        st.session_state[ACTOR_KEY] = fresh
        return fresh
    if st.session_state.get("_cookie_checked"):
        return _actor_from_single_sign_on()
    st.session_state["_cookie_checked"] = True
    return _actor_from_cookie() or _actor_from_single_sign_on()


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _actor_from_single_sign_on() -> Actor | None:
    """With an [auth] section in secrets, an identity-provider login maps to our account by
    e-mail; the role still comes from our database."""
    if not sso_configured() or not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "").strip().lower()
    if not email:
        return None
    with app().session() as session:
        user = accounts.user_by_email(session, email)
        if user is None or not user.is_active:
            st.error(f"No active account uses {email}. Ask an administrator to create one.")
            return None
        return log_in(user)


def _session_actor(sid: str) -> Actor | None:
    ctx = app()
    with ctx.session() as session:
        user = accounts.resume_session(session, ctx.settings, sid)
        return None if user is None else Actor.of(user)


def require(*roles: str) -> Actor:
    """The guard at the top of every page: the right role, or a refusal and a stop."""
    actor = st.session_state.get(ACTOR_KEY)
    try:
        return require_role(actor, *roles)
    except NotAllowedError as exc:
        st.error(str(exc), icon=":material/lock:")
        st.stop()
        raise  # unreachable: st.stop() ends the run


def session() -> Session:
    return app().session()
