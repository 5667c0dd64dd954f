"""HTTP routes served beside the Streamlit UI (``asgi.py``): health, login cookie, and the
public credential-verification API. No route returns annotations or gold."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from evaluator_cert import security
from evaluator_cert.credentials import SigningKeyError
from evaluator_cert.db.engine import DatabaseUnavailableError, check_database
from evaluator_cert.db.models import utcnow
from evaluator_cert.errors import NotFoundError
from evaluator_cert.runtime import get_app
from evaluator_cert.services import accounts
from evaluator_cert.services import credentials as creds

log = logging.getLogger("evaluator_cert.api")


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
            # the count and the first problem (file:line: message), for the operator
            {"status": "error", "database": "ok", "content": " ".join(str(exc).splitlines()[:2])},
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


# ------------------------------------------------------------------ credential API
# Hiring platforms call these from browser code on their own origin, so CORS is open;
# nothing here depends on cookies, so "*" exposes no logged-in state.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
MAX_BODY_BYTES = 512 * 1024  # 1,000 ids or one credential fit many times over
VC_JWT_MEDIA_TYPE = "application/vc+jwt"

Handler = Callable[[Request], Awaitable[Response]]


class BadRequestError(Exception):
    """Input the API refuses; the message is returned as the 400 reason."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _public(handler: Handler) -> Handler:
    """CORS headers on every answer, and JSON errors instead of tracebacks."""

    @wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            response = await handler(request)
        except BadRequestError as exc:
            response = _error(exc.status, str(exc))
        except NotFoundError as exc:
            response = _error(404, str(exc))
        except DatabaseUnavailableError:
            response = _error(503, "The credential database is not available right now.")
        except SigningKeyError:
            log.exception("signing key unusable")
            response = _error(503, "The issuer's keys are not available right now.")
        except Exception:
            log.exception("credential API failure")
            response = _error(500, "Internal error; it has been logged.")
        response.headers.update(CORS_HEADERS)
        return response

    return wrapped


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=CORS_HEADERS)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadRequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
    return body


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequestError("The request body is not valid JSON.") from None


async def jwks(request: Request) -> Response:
    ctx = get_app()
    data = await run_in_threadpool(lambda: creds.keyring(ctx.settings).jwks())
    return JSONResponse(data, headers={"Cache-Control": "public, max-age=300"})


async def single_key(request: Request) -> Response:
    ctx = get_app()
    kid = request.path_params["kid"]
    jwk = await run_in_threadpool(lambda: creds.keyring(ctx.settings).public_jwk(kid))
    if jwk is None:
        raise NotFoundError("No published key has this id.")
    return JSONResponse(jwk, headers={"Cache-Control": "public, max-age=86400"})


async def credential_facts(request: Request) -> Response:
    ctx = get_app()
    # A malformed id names no credential: the same 404 as an id never issued.
    raw = request.path_params["credential_id"]

    def lookup() -> dict[str, Any] | None:
        with ctx.read_session() as session:
            return creds.public_facts(session, raw, utcnow())

    facts = await run_in_threadpool(lookup)
    if facts is None:
        raise NotFoundError("No credential has this id.")
    return JSONResponse(facts, headers={"Cache-Control": "no-store"})


def _token_of(raw: bytes, content_type: str) -> str:
    text = raw.decode("utf-8", errors="strict").strip() if raw else ""
    if not text:
        raise BadRequestError('Send the credential JWT as the body, or {"credential_jwt": ...}.')
    if "json" in content_type or text.startswith("{"):
        data = _json_body(raw)
        token = data.get("credential_jwt") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise BadRequestError('The JSON body needs a "credential_jwt" string.')
        text = token.strip()
    # One split, not a per-character scan: a credential is 1-2 kB and this runs per request.
    if text.count(".") != 2 or len(text.split(maxsplit=1)) != 1:
        raise BadRequestError("The credential is not a compact JWT (three dot-separated parts).")
    return text


async def verify(request: Request) -> Response:
    ctx = get_app()
    raw = await _body(request)
    try:
        token = _token_of(raw, request.headers.get("content-type", ""))
    except UnicodeDecodeError:
        raise BadRequestError("The request body is not UTF-8 text.") from None

    def check() -> dict[str, Any]:
        with ctx.read_session() as session:
            result, facts = creds.check_token(session, ctx.settings, token, utcnow())
        if result.header is None:  # not even a parseable JWT
            raise BadRequestError(result.reason)
        return {
            "valid": result.valid,
            "reason": result.reason,
            "checks": result.checks,
            "credential": facts,
        }

    return JSONResponse(await run_in_threadpool(check), headers={"Cache-Control": "no-store"})


async def verify_bulk(request: Request) -> Response:
    ctx = get_app()
    data = _json_body(await _body(request))
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list):
        raise BadRequestError('Send {"ids": [...]} with up to 1,000 credential ids.')
    if len(ids) > creds.MAX_BULK_IDS:
        raise BadRequestError(f"At most {creds.MAX_BULK_IDS} ids per request; got {len(ids)}.")
    # A string that is not a credential id gets its own "invalid" row, so one typo in a
    # batch does not hide the answers for the rest; a non-string means a broken client.
    not_text = [n for n, i in enumerate(ids) if not isinstance(i, str)]
    if not_text:
        shown = ", ".join(str(n) for n in not_text[:5]) + (", ..." if len(not_text) > 5 else "")
        raise BadRequestError(
            f"Every id must be a JSON string; the entries at 0-based positions {shown} "
            f"({len(not_text)} in all) are not."
        )

    def check() -> list[dict[str, Any]]:
        with ctx.read_session() as session:
            return creds.verify_many(session, ids, utcnow())

    results = await run_in_threadpool(check)
    return JSONResponse(
        {"count": len(results), "results": results}, headers={"Cache-Control": "no-store"}
    )


async def status_list(request: Request) -> Response:
    ctx = get_app()
    list_id = request.path_params["list_id"]

    def build() -> str:
        with ctx.session() as session:
            return creds.status_list_credential(session, ctx.settings, list_id)

    token = await run_in_threadpool(build)
    max_age = creds.STATUS_LIST_TTL_MS // 1000
    return Response(
        token,
        media_type=VC_JWT_MEDIA_TYPE,
        headers={"Cache-Control": f"public, max-age={max_age}"},
    )


# Streamlit answers every path no route of ours takes, and it answers a GET with its HTML
# page: so a wrong method on an API path, and any unknown path under /api/, must be
# answered here, as JSON.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def _method_not_allowed(allowed: list[str]) -> Handler:
    allow = ", ".join(allowed)

    async def method_not_allowed(request: Request) -> Response:
        return JSONResponse(
            {"error": f"{request.method} is not allowed here; use {allow}."},
            status_code=405,
            headers={"Allow": allow},
        )

    return method_not_allowed


async def api_not_found(request: Request) -> Response:
    raise NotFoundError("No API endpoint has this path; the endpoints are under /api/v1/.")


def _api(path: str, handler: Handler, method: str) -> list[Route]:
    allowed = [method, "HEAD", "OPTIONS"] if method == "GET" else [method, "OPTIONS"]
    return [
        Route(path, _public(handler), methods=[method]),
        Route(path, preflight, methods=["OPTIONS"], name=f"{handler.__name__}_preflight"),
        # Tried after the two above, so it only takes the methods they do not.
        Route(
            path,
            _public(_method_not_allowed(allowed)),
            methods=[m for m in HTTP_METHODS if m not in allowed],
            name=f"{handler.__name__}_method_not_allowed",
        ),
    ]


def _whole_rest(route: Route) -> Route:
    # Starlette's path convertor stops at a newline; a decoded %0A in the path would slip
    # past this route to the app's HTML page.
    route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
    return route


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/auth/handoff", auth_handoff, methods=["GET"]),
    Route("/auth/logout", auth_logout, methods=["GET"]),
    *_api("/.well-known/jwks.json", jwks, "GET"),
    *_api("/keys/{kid}", single_key, "GET"),
    *_api("/api/v1/credentials/{credential_id}", credential_facts, "GET"),
    *_api("/api/v1/verify", verify, "POST"),
    *_api("/api/v1/verify/bulk", verify_bulk, "POST"),
    *_api("/status/{list_id}", status_list, "GET"),
    # Last: whatever under /api/ no route above took, in any method.
    Route("/api", _public(api_not_found), methods=list(HTTP_METHODS), name="api_root_not_found"),
    _whole_rest(Route("/api/{rest:path}", _public(api_not_found), methods=list(HTTP_METHODS))),
]
