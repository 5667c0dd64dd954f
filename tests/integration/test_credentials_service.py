"""The credentials service on SQLite and PostgreSQL: issue, revoke, status list, verify,
list, recertify and the demo credentials."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc import jwt as jose_jwt
from sqlalchemy import select

from evaluator_cert import cli
from evaluator_cert.config import Settings
from evaluator_cert.credentials import decode_status_list, verify_credential_jwt
from evaluator_cert.db.models import AuditLog, Credential, User
from evaluator_cert.errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotEligibleError,
    NotFoundError,
)
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services import credentials as creds
from evaluator_cert.services.actors import Actor

PASSWORD = "correct horse battery"
FIXTURE_CONTENT = Path(__file__).parents[1] / "fixtures" / "content"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The small fixture catalog, so these tests do not depend on the shipped curriculum."""
    return Settings(
        data_dir=tmp_path / "data",
        content_dir=FIXTURE_CONTENT,
        base_url="http://testserver",
        secret_key="test-secret",
    )


ISSUED = datetime(2026, 1, 31, 10, 0, 0, 654321, tzinfo=UTC)


def _user(ctx: AppContext, username: str, role: str = "trainee", **extra: object) -> User:
    with ctx.session() as s:
        return accounts.create_user(
            s, ctx.settings, username=username, password=PASSWORD, role=role, **extra
        )


def _issue(
    ctx: AppContext, user: User, at: datetime = ISSUED, level: str = "L1", agreement=0.81
) -> str:
    with ctx.session() as s:
        holder = s.get(User, user.id)
        assert holder is not None
        row = creds.issue_credential(
            s, holder, ctx.base_catalog, level, agreement, at, settings=ctx.settings
        )
        s.commit()
        return row.id


def _admin(ctx: AppContext) -> Actor:
    return Actor.of(_user(ctx, "root", role="admin"))


def _decoded(ctx: AppContext, token: str) -> dict:
    ring = creds.keyring(ctx.settings)
    return dict(jose_jwt.decode(token, ring.active.key, algorithms=["ES256"]).claims)


def test_issue_builds_a_signed_ob3_credential(ctx: AppContext) -> None:
    ada = _user(ctx, "ada", display_name="Ada Lovelace", email="ada@example.org")
    cid = _issue(ctx, ada)
    level = ctx.base_catalog.level("L1")
    with ctx.session() as s:
        row = s.get(Credential, cid)
        assert row is not None
        assert cid.startswith("urn:uuid:") and row.subject_id.startswith("urn:uuid:")
        assert row.subject_id != cid
        assert row.issued_at == ISSUED.replace(microsecond=0)
        assert row.valid_until == datetime(2027, 1, 31, 10, 0, tzinfo=UTC)  # 12 months
        assert 0 <= row.status_list_index < creds.STATUS_LIST_SIZE
        audit_row = s.scalar(select(AuditLog).where(AuditLog.action == "credential.issue"))
        assert audit_row is not None and audit_row.target == cid
    vc = _decoded(ctx, row.jwt)["vc"]
    assert vc == row.document
    assert vc["issuer"]["name"] == ctx.settings.issuer_name
    assert vc["issuer"]["id"] == ctx.settings.base_url
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["description"] == level.description
    assert level.title in achievement["name"]
    narrative = achievement["criteria"]["narrative"]
    assert f"{level.exam.pass_threshold:.2f}" in narrative
    assert str(level.exam.form_size) in narrative
    # The figure is the exam's combined agreement, and the document says how it is made.
    (description,) = achievement["resultDescription"]
    for text in (narrative, description["name"]):
        assert "quadratic weighted kappa over rubric ratings" in text
        assert "mean item score over other task types" in text
    assert vc["credentialStatus"]["statusListIndex"] == str(row.status_list_index)
    assert vc["credentialStatus"]["statusListCredential"] == creds.status_list_url(ctx.settings)
    identifiers = vc["credentialSubject"]["identifier"]
    # name private at issue time: only the salted e-mail hash, never the address
    assert [i["identityType"] for i in identifiers] == ["emailAddress"]
    assert "ada@example.org" not in json.dumps(vc)
    assert "Ada Lovelace" not in json.dumps(vc)


def test_issue_does_not_commit(ctx: AppContext) -> None:
    ada = _user(ctx, "ada")
    with ctx.session() as s:
        holder = s.get(User, ada.id)
        assert holder is not None
        creds.issue_credential(
            s, holder, ctx.base_catalog, "L1", 0.8, ISSUED, settings=ctx.settings
        )
        s.rollback()
    with ctx.session() as s:
        assert s.scalars(select(Credential)).all() == []


def test_holder_name_follows_the_current_choice(ctx: AppContext) -> None:
    ada = _user(ctx, "ada", display_name="Ada Lovelace")
    with ctx.session() as s:
        accounts.set_name_public(s, Actor.of(ada), True)
    cid = _issue(ctx, ada)
    now = ISSUED + timedelta(days=1)
    with ctx.session() as s:
        facts = creds.public_facts(s, cid, now)
    assert facts is not None and facts["holder_name"] == "Ada Lovelace"
    assert "Ada Lovelace" in json.dumps(_decoded(ctx, facts["credential_jwt"]))
    with ctx.session() as s:
        accounts.set_name_public(s, Actor.of(ada), False)
    with ctx.session() as s:
        hidden = creds.public_facts(s, cid, now)
    assert hidden is not None
    assert hidden["holder_name"] is None
    # the token baked the name in, so it is withheld too once the holder hides the name
    assert hidden["credential_jwt"] is None
    assert "Ada Lovelace" not in json.dumps(hidden)


def test_an_operator_can_leave_the_email_hash_out(ctx: AppContext) -> None:
    ada = _user(ctx, "ada", email="ada@example.org")
    with_hash = _decoded(ctx, _jwt(ctx, _issue(ctx, ada)))["vc"]
    assert [i["identityType"] for i in with_hash["credentialSubject"]["identifier"]] == [
        "emailAddress"
    ]
    ctx.settings = ctx.settings.with_(credential_email_hash=False)
    without = _decoded(ctx, _jwt(ctx, _issue(ctx, ada, level="L1")))["vc"]
    assert "identifier" not in without["credentialSubject"]
    assert "ada@example.org" not in json.dumps(without)


def _jwt(ctx: AppContext, cid: str) -> str:
    with ctx.session() as s:
        row = s.get(Credential, cid)
        assert row is not None
        return row.jwt


def test_public_facts_hold_exactly_the_public_fields(ctx: AppContext) -> None:
    ada = _user(ctx, "ada", email="ada@example.org")
    cid = _issue(ctx, ada)
    bare = cid.removeprefix("urn:uuid:")
    with ctx.session() as s:
        facts = creds.public_facts(s, bare.upper(), ISSUED + timedelta(days=1))
        assert (
            creds.public_facts(s, "urn:uuid:" + "0" * 8 + "-0000-4000-8000-" + "0" * 12, ISSUED)
            is None
        )
        assert creds.public_facts(s, "not-an-id", ISSUED) is None
    assert facts is not None
    assert set(facts) == set(creds.PUBLIC_FIELDS)
    assert facts["id"] == cid and facts["status"] == "active" and facts["level"] == "L1"
    text = json.dumps(facts)
    assert "ada@example.org" not in text and '"user_id"' not in text
    assert str(facts["credential_jwt"]).count(".") == 2


def test_status_active_expired_revoked(ctx: AppContext) -> None:
    admin = _admin(ctx)
    ada = _user(ctx, "ada")
    cid = _issue(ctx, ada)
    with ctx.session() as s:
        row = s.get(Credential, cid)
        assert row is not None
        assert creds.credential_status(row, ISSUED + timedelta(days=10)) == "active"
        assert creds.credential_status(row, row.valid_until) == "expired"
    with ctx.session() as s:
        creds.revoke_credential(s, admin, cid, "  Exam taken with outside help.  ")
    with ctx.session() as s:
        facts = creds.public_facts(s, cid, ISSUED + timedelta(days=10))
        action = s.scalar(select(AuditLog.action).where(AuditLog.action == "credential.revoke"))
    assert facts is not None
    assert facts["status"] == "revoked"
    assert facts["revocation_reason"] == "Exam taken with outside help."
    assert action == "credential.revoke"


def test_revoke_rules(ctx: AppContext) -> None:
    admin = _admin(ctx)
    ada = _user(ctx, "ada")
    cid = _issue(ctx, ada)
    with ctx.session() as s:
        with pytest.raises(NotAllowedError):
            creds.revoke_credential(s, Actor.of(ada), cid, "mine")
        with pytest.raises(InvalidInputError):
            creds.revoke_credential(s, admin, cid, "   ")
        with pytest.raises(NotFoundError):
            creds.revoke_credential(
                s, admin, "urn:uuid:" + "1" * 8 + "-1111-4111-8111-" + "1" * 12, "x"
            )
        creds.revoke_credential(s, admin, cid.removeprefix("urn:uuid:"), "duplicate account")
        with pytest.raises(ConflictError):
            creds.revoke_credential(s, admin, cid, "again")


def test_status_list_sets_exactly_the_revoked_bits(ctx: AppContext) -> None:
    admin = _admin(ctx)
    ids = [_issue(ctx, _user(ctx, f"t{i}")) for i in range(3)]
    with ctx.session() as s:
        creds.revoke_credential(s, admin, ids[1], "fraud")
        index = {c.id: c.status_list_index for c in s.scalars(select(Credential))}
        token = creds.status_list_credential(s, ctx.settings, creds.STATUS_LIST_ID)
        with pytest.raises(NotFoundError):
            creds.status_list_credential(s, ctx.settings, "2")
    jwks = creds.keyring(ctx.settings).jwks()
    checked = verify_credential_jwt(token, jwks, now=datetime.now(UTC))
    assert checked.checks["signature"]["ok"] and checked.checks["claims"]["ok"]
    bits = decode_status_list(checked.credential["credentialSubject"]["encodedList"])
    assert bits.size == creds.STATUS_LIST_SIZE
    assert bits.indices() == {index[ids[1]]}


def test_indices_are_distinct(ctx: AppContext) -> None:
    ada = _user(ctx, "ada")
    for i in range(15):
        _issue(ctx, ada, at=ISSUED + timedelta(minutes=i))
    with ctx.session() as s:
        indices = list(s.scalars(select(Credential.status_list_index)))
    assert len(set(indices)) == 15


def test_verify_token_reports_each_check(ctx: AppContext) -> None:
    admin = _admin(ctx)
    cid = _issue(ctx, _user(ctx, "ada"))
    with ctx.session() as s:
        token = s.get(Credential, cid).jwt  # type: ignore[union-attr]
        ok = creds.verify_token(s, ctx.settings, token, ISSUED + timedelta(days=5))
        late = creds.verify_token(s, ctx.settings, token, ISSUED + timedelta(days=400))
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        forged = creds.verify_token(s, ctx.settings, tampered, ISSUED + timedelta(days=5))
    assert ok.valid and all(c["ok"] for c in ok.checks.values())
    assert not late.valid and not late.checks["expiry"]["ok"] and late.checks["signature"]["ok"]
    assert not forged.valid and not forged.checks["signature"]["ok"]
    with ctx.session() as s:
        creds.revoke_credential(s, admin, cid, "fraud")
        revoked = creds.verify_token(s, ctx.settings, token, ISSUED + timedelta(days=5))
    assert not revoked.valid
    assert revoked.checks["status"] == {"ok": False, "detail": "Revoked by the issuer."}


def test_credentials_issued_under_an_earlier_base_url_still_verify(ctx: AppContext) -> None:
    # The installation moved (or a demo was served on another port): the token names the
    # status list at the old address.
    cid = _issue(ctx, _user(ctx, "ada"))
    moved = ctx.settings.with_(base_url="https://cert.example.org")
    when = ISSUED + timedelta(days=5)
    with ctx.session() as s:
        token = s.get(Credential, cid).jwt  # type: ignore[union-attr]
        assert creds.verify_token(s, moved, token, when).valid
        creds.revoke_credential(s, _admin(ctx), cid, "fraud")
        revoked = creds.verify_token(s, moved, token, when)
    assert revoked.checks["status"] == {"ok": False, "detail": "Revoked by the issuer."}
    assert revoked.checks["signature"]["ok"]


def test_rotation_keeps_old_credentials_verifiable(ctx: AppContext) -> None:
    admin = _admin(ctx)
    old = _issue(ctx, _user(ctx, "ada"))
    with ctx.session() as s:
        first_kid = s.get(Credential, old).kid  # type: ignore[union-attr]
        new_key = creds.rotate_signing_key(s, ctx.settings, admin)
        with pytest.raises(NotAllowedError):
            creds.rotate_signing_key(s, ctx.settings, Actor.of(_user(ctx, "bob")))
    new = _issue(ctx, _user(ctx, "cy"))
    with ctx.session() as s:
        rows = {c.id: c for c in s.scalars(select(Credential))}
        assert rows[new].kid.endswith(new_key) and rows[new].kid != first_kid
        for cid in (old, new):
            assert creds.verify_token(
                s, ctx.settings, rows[cid].jwt, ISSUED + timedelta(days=2)
            ).valid
        assert s.scalar(select(AuditLog.target).where(AuditLog.action == "key.rotate")) == new_key


def test_verify_many_keeps_order_and_flags_unknown_and_invalid(ctx: AppContext) -> None:
    admin = _admin(ctx)
    a = _issue(ctx, _user(ctx, "ada"))
    b = _issue(ctx, _user(ctx, "bob"), at=ISSUED - timedelta(days=800))
    c = _issue(ctx, _user(ctx, "cy"))
    with ctx.session() as s:
        creds.revoke_credential(s, admin, c, "fraud")
    unknown = "urn:uuid:" + "2" * 8 + "-2222-4222-8222-" + "2" * 12
    with ctx.session() as s:
        rows = creds.verify_many(
            s, [c, a.removeprefix("urn:uuid:"), "nonsense", b, unknown], ISSUED + timedelta(days=1)
        )
    assert [r["status"] for r in rows] == ["revoked", "active", "invalid", "expired", "unknown"]
    assert rows[1]["id"] == a and rows[2]["id"] == "nonsense"


def test_list_and_my_credentials(ctx: AppContext) -> None:
    admin = _admin(ctx)
    ada = _user(ctx, "ada", display_name="Ada Lovelace")
    bob = _user(ctx, "bob")
    a = _issue(ctx, ada)
    _issue(ctx, bob)
    with ctx.session() as s:
        creds.revoke_credential(s, admin, a, "fraud")
        everything = creds.list_credentials(s, admin)
        lovelace = creds.list_credentials(s, admin, "lovelace")
        revoked = creds.list_credentials(s, admin, status="revoked")
        with pytest.raises(NotAllowedError):
            creds.list_credentials(s, Actor.of(ada))
        mine = creds.my_credentials(s, Actor.of(ada))
        with pytest.raises(NotAllowedError):
            creds.my_credentials(s, admin)
    assert len(everything) == 2 and list(everything.columns) == creds.LIST_COLUMNS
    assert lovelace["id"].tolist() == [a]
    assert revoked["username"].tolist() == ["ada"]
    assert [m.id for m in mine] == [a] and mine[0].status == "revoked"


def test_recertify_needs_a_held_credential_and_the_threshold(ctx: AppContext) -> None:
    level = ctx.base_catalog.level("L1")
    ada = _user(ctx, "ada")
    later = ISSUED + timedelta(days=300)
    with ctx.session() as s:
        holder = s.get(User, ada.id)
        assert holder is not None
        with pytest.raises(NotEligibleError):
            creds.recertify(s, holder, ctx.base_catalog, "L1", 0.9, later, settings=ctx.settings)
    _issue(ctx, ada)
    with ctx.session() as s:
        holder = s.get(User, ada.id)
        assert holder is not None
        with pytest.raises(NotEligibleError, match="at least"):
            creds.recertify(
                s,
                holder,
                ctx.base_catalog,
                "L1",
                level.recertification_threshold - 0.01,
                later,
                settings=ctx.settings,
            )
        row = creds.recertify(
            s,
            holder,
            ctx.base_catalog,
            "L1",
            level.recertification_threshold,
            later,
            settings=ctx.settings,
        )
        s.commit()
        assert row.valid_until == creds.add_months(later.replace(microsecond=0), 12)
        assert len(creds.my_credentials(s, Actor.of(ada))) == 2


def test_demo_credentials_cover_each_status_once(ctx: AppContext) -> None:
    from evaluator_cert.services.demo import ensure_demo_accounts

    ensure_demo_accounts(ctx)
    for i in range(3):
        _user(ctx, f"cohort{i}", cohort=creds.DEMO_COHORT)
    first = creds.issue_demo_credentials(ctx)
    second = creds.issue_demo_credentials(ctx)
    assert first == {"active": 1, "revoked": 1, "expired": 1}
    assert second == {"active": 0, "revoked": 0, "expired": 0}
    with ctx.session() as s:
        frame = creds.list_credentials(s, None)
    assert sorted(frame["status"]) == ["active", "expired", "revoked"]
    assert "trainee" not in set(frame["username"])
    assert frame["username"].nunique() == 3


def test_add_months_clamps_to_month_end() -> None:
    assert creds.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert creds.add_months(datetime(2027, 11, 15, tzinfo=UTC), 14) == datetime(
        2029, 1, 15, tzinfo=UTC
    )


def test_cli_reports_revoked_and_expired(ctx: AppContext, tmp_path, monkeypatch, capsys) -> None:
    admin = _admin(ctx)
    live = _issue(ctx, _user(ctx, "ada"), at=datetime.now(UTC) - timedelta(days=2))
    old = _issue(ctx, _user(ctx, "bob"), at=datetime.now(UTC) - timedelta(days=500))
    monkeypatch.setattr(cli, "get_settings", lambda: ctx.settings)
    with ctx.session() as s:
        tokens = {c.id: c.jwt for c in s.scalars(select(Credential))}

    assert cli.main(["credentials", "verify", tokens[live]]) == 0
    assert "VALID" in capsys.readouterr().out
    assert cli.main(["credentials", "verify", tokens[old]]) == 1
    out = capsys.readouterr().out
    assert "FAIL expiry" in out and "INVALID" in out

    assert cli.main(["credentials", "revoke", live, "--reason", "fraud"]) == 0
    capsys.readouterr()
    saved = tmp_path / "cred.jwt"
    saved.write_text(tokens[live])
    assert cli.main(["credentials", "verify", str(saved)]) == 1
    assert "FAIL status      Revoked by the issuer." in capsys.readouterr().out

    # offline against a saved key set: the signature holds, revocation cannot be known
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(creds.keyring(ctx.settings).jwks()))
    assert cli.main(["credentials", "verify", str(saved), "--jwks", str(jwks)]) == 0
    assert "ok   signature" in capsys.readouterr().out

    assert cli.main(["credentials", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["id"]: r["status"] for r in listed} == {live: "revoked", old: "expired"}
    assert cli.main(["credentials", "revoke", live, "--reason", "again"]) == 1
    assert "already revoked" in capsys.readouterr().err
    del admin


def test_ids_from_csv_accepts_an_id_column_or_the_first_column() -> None:
    a, b = f"urn:uuid:{uuid.uuid4()}", str(uuid.uuid4())
    assert creds.ids_from_csv(f"name,id\nx,{a}\ny,{b}\n".encode()) == [a, b]
    assert creds.ids_from_csv(f"{a}\n{b}\n".encode()) == [a, b]
    assert creds.ids_from_csv(f"\ufeffid\n{a}\n\n".encode()) == [a]
    assert creds.ids_from_csv(b"  \n") == []
    with pytest.raises(UnicodeDecodeError):
        creds.ids_from_csv(b"\xff\xfe\x00bad")


def test_a_read_session_reads_but_refuses_to_write(ctx: AppContext) -> None:
    """The public API's sessions run without a transaction; a write there would commit
    piecemeal, so it is refused and nothing is stored."""
    with ctx.session() as s:
        accounts.create_user(s, ctx.settings, username="ada", password="pass-word-123")
    with ctx.read_session() as s:
        user = s.scalar(select(User).where(User.username == "ada"))
        assert user is not None
        user.display_name = "Changed"
        with pytest.raises(RuntimeError, match="cannot write"):
            s.flush()
    with ctx.session() as s:
        assert s.scalar(select(User.display_name).where(User.username == "ada")) != "Changed"
