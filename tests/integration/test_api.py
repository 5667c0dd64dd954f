"""The public credential API (JWKS, facts, verify, bulk, status list) through Starlette's
TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from evaluator_cert import api, runtime
from evaluator_cert.config import Settings
from evaluator_cert.credentials import decode_status_list, verify_credential_jwt
from evaluator_cert.db.models import Credential, User
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services import credentials as creds
from evaluator_cert.services.actors import Actor
from tests.conftest import fixture_content_settings, statements_run

PASSWORD = "correct horse battery"
NOW = datetime.now(UTC)
SOME_ID = "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427"  # fixed: test ids must not vary


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fixture_content_settings(tmp_path)


async def _streamlit_page(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Streamlit</title>")


# st.App tries our routes first, then Streamlit's, the last of which serves its HTML page for
# a GET of any path (and a plain-text 405 otherwise): the same order here.
STREAMLIT_FALLBACK = Route("/{path:path}", _streamlit_page, methods=["GET"])


@pytest.fixture
def client(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # the routes use the process's context; point it at this test's database
    monkeypatch.setattr(runtime, "_context", ctx)
    app = Starlette(routes=[*api.routes, STREAMLIT_FALLBACK])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


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
def three(ctx: AppContext) -> dict[str, str]:
    """An active, an expired and a revoked credential."""
    admin = Actor.of(_user(ctx, "root", role="admin"))
    ids = {
        "active": _issue(ctx, _user(ctx, "ada", email="ada@example.org"), NOW - timedelta(days=3)),
        "expired": _issue(ctx, _user(ctx, "bob"), NOW - timedelta(days=400)),
        "revoked": _issue(ctx, _user(ctx, "cy"), NOW - timedelta(days=3)),
    }
    with ctx.session() as s:
        creds.revoke_credential(s, admin, ids["revoked"], "Exam taken with outside help.")
    return ids


def _jwt(ctx: AppContext, cid: str) -> str:
    with ctx.session() as s:
        return s.get(Credential, cid).jwt  # type: ignore[union-attr]


def test_facts_report_each_status_with_exactly_the_public_fields(
    client: TestClient, ctx: AppContext, three: dict[str, str]
) -> None:
    for status, cid in three.items():
        for path_id in (cid, cid.removeprefix("urn:uuid:")):
            r = client.get(f"/api/v1/credentials/{path_id}")
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == set(creds.PUBLIC_FIELDS)
            assert body["status"] == status and body["id"] == cid
            assert r.headers["access-control-allow-origin"] == "*"
    revoked = client.get(f"/api/v1/credentials/{three['revoked']}").json()
    assert revoked["revocation_reason"] == "Exam taken with outside help."
    body = client.get(f"/api/v1/credentials/{three['active']}").json()
    # nested keys too: only the achievement's public description
    assert set(body["achievement"]) == {"name", "description", "criteria"}
    # Not the id: a random uuid may hold "ada" (three hex digits) by chance.
    text = json.dumps({k: v for k, v in body.items() if k not in ("credential_jwt", "id")})
    for secret in ("ada@example.org", "ada", '"user_id"', '"email"', "password", '"agreement":'):
        assert secret not in text
    for item in ctx.base_catalog.items:  # no item, hence no gold or answer, is ever named
        assert item.id not in text


def test_unknown_and_malformed_ids(client: TestClient) -> None:
    unknown = client.get(f"/api/v1/credentials/{SOME_ID}")
    _assert_json_error(unknown, 404)
    # a malformed id names no credential either: the very same answer
    for malformed in ("nope", "not-a-credential", SOME_ID + "0", "urn:uuid:", quote(" ")):
        r = client.get(f"/api/v1/credentials/{malformed}")
        _assert_json_error(r, 404)
        assert r.json() == unknown.json(), malformed
    # the path names one id; a share link is not one (its slashes make it another path)
    r = client.get(f"/api/v1/credentials/{quote(f'http://x.example/verify?id={SOME_ID}')}")
    assert r.status_code == 404 and set(r.json()) == {"error"}
    r = client.get(f"/api/v1/credentials/{quote(f'verify?id={SOME_ID}', safe='')}")
    assert r.json() == unknown.json()


def _assert_json_error(r: Any, status: int) -> None:  # an httpx response
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert set(r.json()) == {"error"} and r.json()["error"]
    assert r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api"),
        ("GET", "/api/"),
        ("GET", "/api/v1"),
        ("GET", "/api/v1/nothing-here"),
        ("POST", "/api/v1/nothing-here"),
        ("DELETE", "/api/v2/verify"),
        ("OPTIONS", "/api/v1/nothing-here"),
        ("GET", "/api/v1/credentials/"),
        ("GET", f"/api/v1/credentials/{SOME_ID}/extra"),
    ],
)
def test_unknown_api_paths_are_a_json_404(client: TestClient, method: str, path: str) -> None:
    _assert_json_error(client.request(method, path), 404)


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("GET", "/api/v1/verify", "POST, OPTIONS"),
        ("GET", "/api/v1/verify/bulk", "POST, OPTIONS"),
        ("PUT", "/api/v1/verify", "POST, OPTIONS"),
        ("POST", f"/api/v1/credentials/{SOME_ID}", "GET, HEAD, OPTIONS"),
        ("DELETE", f"/api/v1/credentials/{SOME_ID}", "GET, HEAD, OPTIONS"),
        ("POST", "/.well-known/jwks.json", "GET, HEAD, OPTIONS"),
        ("PATCH", "/keys/some-key", "GET, HEAD, OPTIONS"),
        ("POST", "/status/1", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_method_on_an_api_path_is_a_json_405(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    r = client.request(method, path)
    _assert_json_error(r, 405)
    assert r.headers["allow"] == allow
    assert method in r.json()["error"]


def test_the_app_pages_are_still_served_beside_the_api(client: TestClient) -> None:
    for path in ("/", "/verify", "/apiary"):  # /apiary: a page, not under /api/
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")


def test_verify_accepts_raw_and_json_bodies(
    client: TestClient, ctx: AppContext, three: dict[str, str]
) -> None:
    token = _jwt(ctx, three["active"])
    raw = client.post("/api/v1/verify", content=token, headers={"content-type": "text/plain"})
    wrapped = client.post("/api/v1/verify", json={"credential_jwt": token})
    for r in (raw, wrapped):
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["valid"] is True
        assert set(body["checks"]) == {"signature", "claims", "not_before", "expiry", "status"}
        assert body["credential"]["id"] == three["active"]
        assert set(body["credential"]) == set(creds.PUBLIC_FIELDS)

    revoked = client.post("/api/v1/verify", content=_jwt(ctx, three["revoked"])).json()
    assert revoked["valid"] is False and revoked["checks"]["status"]["ok"] is False
    assert revoked["credential"]["status"] == "revoked"
    expired = client.post("/api/v1/verify", content=_jwt(ctx, three["expired"])).json()
    assert expired["valid"] is False and expired["checks"]["expiry"]["ok"] is False
    assert expired["checks"]["signature"]["ok"] is True


def test_verification_and_facts_each_cost_one_query(
    client: TestClient, ctx: AppContext, three: dict[str, str]
) -> None:
    """Hiring platforms call these in bulk: the revocation check reads the credential with
    its holder, and the facts in the answer come from that same row."""
    for name in ("active", "revoked"):
        token = _jwt(ctx, three[name])
        with statements_run(ctx.engine) as sent:
            body = client.post("/api/v1/verify", content=token).json()
        assert body["credential"]["id"] == three[name]
        assert body["checks"]["status"]["ok"] is (name == "active")
        assert len(sent) == 1, sent
        with statements_run(ctx.engine) as sent:
            facts = client.get("/api/v1/credentials/" + quote(three[name])).json()
        assert facts == body["credential"]
        assert len(sent) == 1, sent


def test_verify_flags_a_tampered_token(
    client: TestClient, ctx: AppContext, three: dict[str, str]
) -> None:
    head, _, sig = _jwt(ctx, three["active"]).split(".")
    other_payload = _jwt(ctx, three["revoked"]).split(".")[1]
    r = client.post("/api/v1/verify", content=f"{head}.{other_payload}.{sig}")
    assert r.status_code == 200
    assert r.json()["valid"] is False and r.json()["checks"]["signature"]["ok"] is False


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"", "text/plain"),
        (b"not a jwt", "text/plain"),
        (b"a.b", "text/plain"),
        (b"!!!.???.***", "text/plain"),
        (b"{not json", "application/json"),
        (b'{"credential_jwt": 42}', "application/json"),
        (b'["a.b.c"]', "application/json"),
        (b"\xff\xfe.\x00.x", "text/plain"),
    ],
)
def test_malformed_verify_input_is_a_400_json(
    client: TestClient, body: bytes, content_type: str
) -> None:
    r = client.post("/api/v1/verify", content=body, headers={"content-type": content_type})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]


def test_oversized_body_is_refused(client: TestClient) -> None:
    r = client.post("/api/v1/verify", content=b"a" * (api.MAX_BODY_BYTES + 1))
    assert r.status_code == 413 and "error" in r.json()


def test_bulk_takes_share_links_too(
    client: TestClient, ctx: AppContext, three: dict[str, str]
) -> None:
    ids = [
        creds.verify_url(ctx.settings, three["active"]),
        f"  <https://elsewhere.example:8600/verify?id={three['revoked']}>  ",
        f"http://localhost:8600/verify?id={uuid.uuid4()}",
    ]
    r = client.post("/api/v1/verify/bulk", json={"ids": ids})
    assert r.status_code == 200, r.text
    rows = r.json()["results"]
    assert [row["status"] for row in rows] == ["active", "revoked", "unknown"]
    assert rows[0]["id"] == three["active"] and rows[1]["id"] == three["revoked"]
    typo = "https://x.example/verify?id=typo"
    bad = client.post("/api/v1/verify/bulk", json={"ids": [typo]})
    assert bad.status_code == 200, bad.text
    assert bad.json()["results"] == [
        {"id": typo, "status": "invalid", "level": None, "issued_at": None, "valid_until": None}
    ]


def test_bulk_checks_in_order(client: TestClient, three: dict[str, str]) -> None:
    unknown = f"urn:uuid:{uuid.uuid4()}"
    ids = [three["revoked"], three["active"].removeprefix("urn:uuid:"), unknown, three["expired"]]
    r = client.post("/api/v1/verify/bulk", json={"ids": ids})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 4
    assert [row["status"] for row in body["results"]] == ["revoked", "active", "unknown", "expired"]
    for row in body["results"]:
        assert set(row) == {"id", "status", "level", "issued_at", "valid_until"}


def test_bulk_gives_a_malformed_id_its_own_row(client: TestClient, three: dict[str, str]) -> None:
    ids = ["x", three["active"], "", "nope", three["revoked"], "urn:uuid:1", SOME_ID]
    r = client.post("/api/v1/verify/bulk", json={"ids": ids})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(ids) == len(body["results"])
    assert [row["status"] for row in body["results"]] == [
        "invalid",
        "active",
        "invalid",
        "invalid",
        "revoked",
        "invalid",
        "unknown",
    ]
    assert [row["id"] for row in body["results"]] == ids  # each row names what was sent
    for row in body["results"]:
        assert set(row) == {"id", "status", "level", "issued_at", "valid_until"}
        if row["status"] == "invalid":
            assert row["level"] is row["issued_at"] is row["valid_until"] is None
    assert body["results"][1]["level"] == "L1"


def test_bulk_answers_a_batch_of_only_malformed_ids(client: TestClient) -> None:
    r = client.post("/api/v1/verify/bulk", json={"ids": ["x"]})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "count": 1,
        "results": [
            {"id": "x", "status": "invalid", "level": None, "issued_at": None, "valid_until": None}
        ],
    }


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"ids": [SOME_ID] * (creds.MAX_BULK_IDS + 1)}, f"At most {creds.MAX_BULK_IDS} ids"),
        ({"ids": "urn:uuid:1"}, '{"ids": [...]}'),
        (
            {"ids": [1, 2]},
            "must be a JSON string; the entries at 0-based positions 0, 1 (2 in all)",
        ),
        (
            {"ids": [SOME_ID, None]},
            "positions 1 (1 in all) are not",
        ),
        ({"ids": [[SOME_ID]]}, "must be a JSON string"),
        ({"ids": [{"id": SOME_ID}]}, "must be a JSON string"),
        ({"ids": [True] * 7}, "positions 0, 1, 2, 3, 4, ... (7 in all)"),
        ({"wrong": []}, '{"ids": [...]}'),
        ([], '{"ids": [...]}'),
    ],
)
def test_bulk_rejects_bad_requests(client: TestClient, payload: object, reason: str) -> None:
    r = client.post("/api/v1/verify/bulk", content=json.dumps(payload))
    _assert_json_error(r, 400)
    assert reason in r.json()["error"]


def test_bulk_rejects_a_body_that_is_not_json(client: TestClient) -> None:
    r = client.post("/api/v1/verify/bulk", content=b'{"ids": ["x"')
    _assert_json_error(r, 400)
    assert "not valid JSON" in r.json()["error"]


def test_bulk_accepts_exactly_the_limit(client: TestClient) -> None:
    ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(creds.MAX_BULK_IDS)]
    r = client.post("/api/v1/verify/bulk", json={"ids": ids})
    assert r.status_code == 200 and r.json()["count"] == creds.MAX_BULK_IDS


def test_status_list_route_tracks_revocations(
    client: TestClient, ctx: AppContext, three: dict[str, str]
) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    with ctx.session() as s:
        index = {c.id: c.status_list_index for c in s.scalars(select(Credential))}

    def bits() -> set[int]:
        r = client.get("/status/1")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(api.VC_JWT_MEDIA_TYPE)
        checked = verify_credential_jwt(r.text, jwks, now=datetime.now(UTC))
        assert checked.checks["signature"]["ok"], checked.checks
        return decode_status_list(checked.credential["credentialSubject"]["encodedList"]).indices()

    assert bits() == {index[three["revoked"]]}
    with ctx.session() as s:
        creds.revoke_credential(s, None, three["active"], "duplicate account")
    assert bits() == {index[three["revoked"]], index[three["active"]]}
    assert client.get("/status/99").status_code == 404


def test_jwks_and_single_key(client: TestClient, ctx: AppContext, three: dict[str, str]) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert "d" not in key  # never the private part
    kid = key["kid"].rsplit("/", 1)[-1]
    single = client.get(f"/keys/{kid}")
    assert single.status_code == 200 and single.json() == key
    assert client.get("/keys/unknown").status_code == 404
    with ctx.session() as s:
        creds.rotate_signing_key(s, ctx.settings, None)
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
    # a credential signed before the rotation still verifies through the API
    assert client.post("/api/v1/verify", content=_jwt(ctx, three["active"])).json()["valid"]


def test_cors_preflight(client: TestClient) -> None:
    r = client.options(
        "/api/v1/verify",
        headers={"Origin": "https://hiring.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]


def test_healthz_still_answers(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
