"""HTTP routes served beside the Streamlit UI (``asgi.py``): health, login cookie, and the
public credential-verification API. No route returns annotations or gold."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from evaluator_cert import security
from evaluator_cert.db.engine import DatabaseUnavailableError, check_database
from evaluator_cert.runtime import get_app
from evaluator_cert.services import accounts


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def healthz(request: Request) -> Response:
    try:
        ctx = get_app()
        check_database(ctx.engine)
    except DatabaseUnavailableError as exc:
        return JSONResponse(
            {"status": "error", "database": "unavailable", "detail": str(exc)}, status_code=503
        )
    try:
        version = ctx.base_catalog.version
    except Exception as exc:  # content broken: the app is up but cannot teach
        return JSONResponse(
            {"status": "error", "database": "ok", "content": str(exc).splitlines()[0]},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "content_version": version})


async def auth_handoff(request: Request) -> Response:
    """Trade the one-time code from the login form for an HttpOnly session cookie."""
    ctx = get_app()
    code = request.query_params.get("code", "")
    with ctx.session() as session:
        auth = accounts.redeem_handoff(session, code) if code else None
        session_id = auth.id if auth else None
        max_age = int(ctx.settings.session_hours * 3600)
    response = RedirectResponse("/", status_code=303)
    if session_id:
        response.set_cookie(
            security.COOKIE_NAME,
            security.sign_value(session_id, security.secret_key(ctx.settings)),
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=ctx.settings.base_url.startswith("https://"),
            path="/",
        )
    return response


async def auth_logout(request: Request) -> Response:
    ctx = get_app()
    raw = request.cookies.get(security.COOKIE_NAME)
    if raw:
        sid = security.unsign_value(raw, security.secret_key(ctx.settings))
        if sid:
            with ctx.session() as session:
                accounts.end_session(session, sid)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(security.COOKIE_NAME, path="/")
    return response


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/auth/handoff", auth_handoff, methods=["GET"]),
    Route("/auth/logout", auth_logout, methods=["GET"]),
]
