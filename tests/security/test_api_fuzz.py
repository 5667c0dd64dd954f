"""Arbitrary paths, methods, headers and bodies against every HTTP route: never a 500, never
a traceback, never an annotation or gold in the answer."""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from evaluator_cert import api, runtime
from evaluator_cert.config import get_settings
from evaluator_cert.db.models import User, utcnow
from evaluator_cert.services import accounts, credentials

CASES = {"count": 0}
EXAMPLES = int(os.environ.get("EVALUATOR_CERT_FUZZ_EXAMPLES", "300"))
FORBIDDEN = ("Traceback", "password_hash", "$argon2", '"explanation"', '"gold"', '"answer"')


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    saved = {k: os.environ.get(k) for k in ("EVALUATOR_CERT_DATA_DIR", "EVALUATOR_CERT_SECRET_KEY")}
    os.environ["EVALUATOR_CERT_DATA_DIR"] = str(data)
    os.environ["EVALUATOR_CERT_SECRET_KEY"] = "fuzz-secret"
    os.environ.pop("EVALUATOR_CERT_DATABASE_URL", None)
    get_settings.cache_clear()
    runtime._context = None
    ctx = runtime.get_app()
    with ctx.session() as s:
        user = accounts.create_user(
            s, ctx.settings, username="holder", password="pass-word-123", role="trainee"
        )
        cred = credentials.issue_credential(
            s, s.get(User, user.id), ctx.base_catalog, "L1", 0.91, utcnow()
        )
        s.commit()
        cred_id = cred.id
    # Our routes first, then a stand-in for Streamlit's page (any GET), as st.App orders them.
    app = Starlette(routes=[*api.routes, STREAMLIT_FALLBACK])
    with TestClient(app, raise_server_exceptions=False) as tc:
        yield tc, cred_id
    ctx.dispose()
    runtime._context = None
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()
    print(f"\napi fuzz cases run: {CASES['count']}")


TEMPLATES = [
    "/healthz",
    "/auth/handoff?code={}",
    "/auth/logout",
    "/.well-known/jwks.json",
    "/keys/{}",
    "/api/v1/credentials/{}",
    "/api/v1/verify",
    "/api/v1/verify/bulk",
    "/status/{}",
    "/{}",
    "/api/{}",
    "/api/v1/{}",
    "/api/v1/verify/{}",
    "/api/v1/credentials/{}/x",
]
segment = st.text(min_size=0, max_size=80)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(st.text(max_size=60), max_size=30).map(lambda ids: json.dumps({"ids": ids}).encode()),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.", max_size=400).map(
        lambda t: json.dumps({"credential_jwt": t}).encode()
    ),
    st.sampled_from([b"a.b.c", b"eyJhbGciOiJub25lIn0.e30.", b"{", b"\xff\xfe", b"{}" * 10]),
)
headers = st.dictionaries(
    st.sampled_from(["content-type", "content-length", "cookie", "origin", "accept", "x-x"]),
    st.text(alphabet=string.printable.strip(), max_size=60),
    max_size=4,
)


def _check(response: object) -> None:
    CASES["count"] += 1
    status = response.status_code  # type: ignore[attr-defined]
    body = response.text  # type: ignore[attr-defined]
    assert status < 500, (status, body[:300])
    for bad in FORBIDDEN:
        assert bad not in body, (bad, body[:300])


def _check_api_answer(method: str, path: str, response: object) -> None:
    """Under /api/ every answer is the API's own: JSON (errors as {"error": ...}) with the
    CORS headers, never the app's HTML page."""
    status = response.status_code  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert headers.get("access-control-allow-origin") == "*", (method, path, status)
    if status == 204 and method == "OPTIONS":
        return  # a preflight answer has no body
    assert headers["content-type"].startswith("application/json"), (method, path, status)
    if status >= 400 and method != "HEAD":
        assert set(response.json()) == {"error"}, (method, path)  # type: ignore[attr-defined]
    if status == 405:
        assert headers["allow"], (method, path)


async def _streamlit_page(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Streamlit</title>")


STREAMLIT_FALLBACK = Route("/{path:path}", _streamlit_page, methods=["GET"])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "POST", "OPTIONS", "PUT", "DELETE", "HEAD", "PATCH"]),
    template=st.sampled_from(TEMPLATES),
    param=segment,
    body=bodies,
    extra=headers,
)
def test_any_request_gets_a_clean_answer(
    client: tuple[TestClient, str],
    method: str,
    template: str,
    param: str,
    body: bytes,
    extra: dict[str, str],
) -> None:
    tc, _ = client
    path = template.format(quote(param, safe=""))
    try:
        response = tc.request(method, path, content=body, headers=extra)
    except (ValueError, UnicodeError):
        return  # the client itself refuses the header (cannot be sent over HTTP at all)
    _check(response)
    if response.request.url.path.startswith("/api/"):
        _check_api_answer(method, response.request.url.path, response)


@settings(
    max_examples=max(50, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ids=st.lists(st.one_of(st.uuids().map(str), st.text(max_size=50), json_values), max_size=40))
def test_bulk_verify_takes_any_id_list(client: tuple[TestClient, str], ids: list[object]) -> None:
    tc, cred_id = client
    response = tc.post("/api/v1/verify/bulk", json={"ids": [*ids, cred_id]})
    _check(response)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        rows = response.json()["results"]
        assert len(rows) == len(ids) + 1


def test_known_credential_answers_with_public_facts_only(client: tuple[TestClient, str]) -> None:
    tc, cred_id = client
    response = tc.get(f"/api/v1/credentials/{quote(cred_id, safe='')}")
    _check(response)
    assert response.status_code == 200
    facts = response.json()
    assert facts["status"] == "active"
    for private in ("email", "password", "annotations", "answers", "user_id"):
        assert private not in json.dumps(facts)


def test_oversized_bodies_are_refused_not_read(client: tuple[TestClient, str]) -> None:
    tc, _ = client
    big = b"x" * (api.MAX_BODY_BYTES + 10)
    for path in ("/api/v1/verify", "/api/v1/verify/bulk"):
        response = tc.post(path, content=big)
        _check(response)
        assert response.status_code == 413 and "larger than" in response.json()["error"]


def test_fuzz_count_is_reported(client: tuple[TestClient, str], tmp_path: Path) -> None:
    # Runs last in this file: the cases above went through _check.
    assert CASES["count"] >= EXAMPLES
