"""Open Badges 3.0 documents, signing keys and VC-JWT signing/verification."""

from __future__ import annotations

import base64
import copy
import json
import stat
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt as jose_jwt

from evaluator_cert.credentials import (
    AchievementInfo,
    AgreementResult,
    IssuerProfile,
    KeyRing,
    SigningKeyError,
    StatusEntry,
    build_credential,
    decode_status_list,
    encode_status_list,
    hash_email,
    sign_credential,
    verify_credential_jwt,
    verify_offline,
)
from evaluator_cert.credentials.document import parse_xsd_datetime

BASE_URL = "https://cert.example.org"
STATUS_URL = f"{BASE_URL}/status/1"
SCHEMA_PATH = (
    Path(__file__).parents[1]
    / "fixtures"
    / "credentials"
    / ("ob_v3p0_achievementcredential_schema.json")
)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ISSUED = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
EXPIRES = ISSUED + timedelta(days=365)


# -- helpers ---------------------------------------------------------------------------
ISSUER = IssuerProfile(id=BASE_URL, name="Evaluator Certification Board", url=BASE_URL)
ACHIEVEMENT = AchievementInfo(
    id=f"{BASE_URL}/achievements/L1",
    level_id="L1",
    name="Certified AI Evaluator: Foundation",
    description="Annotation fundamentals, rubric-based assessment and written justifications.",
    criteria_narrative="Pass every L1 module, then the L1 exam at Cohen's kappa >= 0.70.",
)


def make_document(
    *,
    holder_name: str | None = "Ada Example",
    email: str | None = "ada@example.org",
    index: int = 4242,
) -> dict[str, Any]:
    salt = "pepper-7"
    return build_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer=ISSUER,
        achievement=ACHIEVEMENT,
        subject_id=f"urn:uuid:{uuid.uuid4()}",
        valid_from=ISSUED,
        valid_until=EXPIRES,
        result=AgreementResult(metric="Cohen's kappa", value=0.7812, required=0.70),
        status=StatusEntry(list_url=STATUS_URL, index=index),
        holder_name=holder_name,
        email_hash=hash_email(email, salt) if email else None,
        email_salt=salt if email else None,
    )


def decode_segment(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def vc2_schema() -> dict[str, Any]:
    """The fixture schema with the OB 3.0.3 move to VC 2.0 dates applied (see its README)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    renames = {"issuanceDate": "validFrom", "expirationDate": "validUntil"}
    schema["required"] = [renames.get(name, name) for name in schema["required"]]
    for old, new in renames.items():
        schema["properties"][new] = schema["properties"].pop(old)
    return schema


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None and "T" in value


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time")(_is_datetime)  # the optional rfc3339 package is not installed


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "keys", BASE_URL)


@pytest.fixture
def document() -> dict[str, Any]:
    return make_document()


@pytest.fixture
def token(document: dict[str, Any], keyring: KeyRing) -> str:
    return sign_credential(document, keyring)


DURING = ISSUED + timedelta(days=30)


# -- the document ----------------------------------------------------------------------
def test_document_validates_against_open_badges_schema(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft201909Validator(vc2_schema(), format_checker=FORMATS)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert errors == []


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (("credentialSubject", "achievement", "criteria"), "criteria"),
        (("validFrom",), "validFrom"),
        (("credentialSubject", "achievement"), "achievement"),
    ],
)
def test_schema_check_rejects_a_document_missing_required_parts(
    document: dict[str, Any], path: tuple[str, ...], label: str
) -> None:
    broken = copy.deepcopy(document)
    parent = broken
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    validator = jsonschema.Draft201909Validator(vc2_schema(), format_checker=FORMATS)
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any(label in m for m in messages)


def test_document_shape(document: dict[str, Any]) -> None:
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["issuer"]["type"] == ["Profile"]
    assert document["validFrom"] == "2026-03-02T09:30:15Z"
    assert document["validUntil"] == "2027-03-02T09:30:15Z"
    subject = document["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"].startswith("urn:uuid:")
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"]["narrative"] == ACHIEVEMENT.criteria_narrative
    (description,) = achievement["resultDescription"]
    assert description["type"] == ["ResultDescription"]
    (result,) = subject["result"]
    assert result["resultDescription"] == description["id"]
    assert result["value"] == "0.78"
    assert description["requiredValue"] == "0.70"
    status = document["credentialStatus"]
    assert status == {
        "id": f"{STATUS_URL}#4242",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4242",
        "statusListCredential": STATUS_URL,
    }


def test_holder_identity_is_only_present_when_chosen() -> None:
    private = make_document(holder_name=None, email=None)
    assert "identifier" not in private["credentialSubject"]
    assert "Ada" not in json.dumps(private)

    public = make_document()
    identities = {i["identityType"]: i for i in public["credentialSubject"]["identifier"]}
    assert identities["name"] == {
        "type": "IdentityObject",
        "hashed": False,
        "identityHash": "Ada Example",
        "identityType": "name",
    }
    email = identities["emailAddress"]
    assert email["hashed"] is True
    assert "ada@example.org" not in json.dumps(public)
    # a verifier who knows the address and the published salt can confirm it
    assert email["identityHash"] == hash_email("ada@example.org", email["salt"])
    assert email["identityHash"] != hash_email("bob@example.org", email["salt"])


def test_naive_dates_and_inverted_validity_are_refused() -> None:
    with pytest.raises(ValueError):
        build_credential(
            credential_id="urn:uuid:1",
            issuer=ISSUER,
            achievement=ACHIEVEMENT,
            subject_id="urn:uuid:2",
            valid_from=datetime(2026, 1, 1),
            valid_until=None,
            result=None,
            status=None,
        )
    with pytest.raises(ValueError):
        build_credential(
            credential_id="urn:uuid:1",
            issuer=ISSUER,
            achievement=ACHIEVEMENT,
            subject_id="urn:uuid:2",
            valid_from=EXPIRES,
            valid_until=ISSUED,
            result=None,
            status=None,
        )


# -- signing and verification ----------------------------------------------------------
def test_round_trip(document: dict[str, Any], keyring: KeyRing, token: str) -> None:
    header_segment, payload_segment, _ = token.split(".")
    header = decode_segment(header_segment)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": keyring.active.kid}
    assert header["kid"] == f"{BASE_URL}/keys/{keyring.active.key_id}"
    claims = decode_segment(payload_segment)
    assert claims["vc"] == document
    assert claims["iss"] == BASE_URL
    assert claims["jti"] == document["id"]
    assert claims["sub"] == document["credentialSubject"]["id"]
    assert claims["nbf"] == int(parse_xsd_datetime(document["validFrom"]).timestamp())
    assert claims["exp"] == int(parse_xsd_datetime(document["validUntil"]).timestamp())

    seen: list[tuple[str, int]] = []

    def lookup(url: str, index: int) -> bool:
        seen.append((url, index))
        return False

    result = verify_credential_jwt(token, keyring.jwks(), now=DURING, status_lookup=lookup)
    assert result.valid, result.checks
    assert result.credential == document
    assert set(result.checks) >= {"signature", "not_before", "expiry", "status"}
    assert all(check["ok"] for check in result.checks.values())
    assert seen == [(STATUS_URL, 4242)]
    assert result.as_dict()["reason"] == "valid"


def test_every_single_character_change_is_rejected(keyring: KeyRing, token: str) -> None:
    jwks = keyring.jwks()
    started = time.perf_counter()
    accepted = []
    for position, char in enumerate(token):
        # a different base64url character (a '.' becomes one too, merging two parts)
        replacement = B64URL[(B64URL.find(char) + 1) % 64] if char != "." else "A"
        mutated = token[:position] + replacement + token[position + 1 :]
        if verify_credential_jwt(mutated, jwks, now=DURING).valid:
            accepted.append(position)
    elapsed = time.perf_counter() - started
    assert accepted == []
    assert elapsed < 30, f"{len(token)} verifications took {elapsed:.1f}s"


def test_every_alternative_last_character_is_rejected(keyring: KeyRing, token: str) -> None:
    """The last character of each part carries spare bits; none may be flipped unnoticed."""
    jwks = keyring.jwks()
    parts = token.split(".")
    for part_index, part in enumerate(parts):
        for replacement in B64URL:
            if replacement == part[-1]:
                continue
            changed = [*parts]
            changed[part_index] = part[:-1] + replacement
            result = verify_credential_jwt(".".join(changed), jwks, now=DURING)
            assert not result.valid, (part_index, replacement)


def test_token_signed_by_another_key_is_rejected(
    document: dict[str, Any], keyring: KeyRing, tmp_path: Path
) -> None:
    stranger = KeyRing(tmp_path / "stranger", BASE_URL)
    foreign = sign_credential(document, stranger)
    result = verify_credential_jwt(foreign, keyring.jwks(), now=DURING)
    assert not result.valid
    assert not result.checks["signature"]["ok"]
    assert "not in the published key set" in result.checks["signature"]["detail"]

    # the same forgery claiming our kid fails on the signature itself
    claims = decode_segment(foreign.split(".")[1])
    header = {"alg": "ES256", "typ": "JWT", "kid": keyring.active.kid}
    forged = jose_jwt.encode(header, claims, stranger.active.key, algorithms=["ES256"])
    result = verify_credential_jwt(forged, keyring.jwks(), now=DURING)
    assert not result.valid
    assert result.checks["signature"] == {
        "ok": False,
        "detail": "The signature does not match the token.",
    }
    assert result.credential is None


def test_claims_that_disagree_with_the_credential_are_rejected(
    document: dict[str, Any], keyring: KeyRing
) -> None:
    claims = decode_segment(sign_credential(document, keyring).split(".")[1])
    claims["exp"] += 365 * 24 * 3600  # stretch the validity outside the signed credential
    header = {"alg": "ES256", "typ": "JWT", "kid": keyring.active.kid}
    stretched = jose_jwt.encode(header, claims, keyring.active.key, algorithms=["ES256"])
    result = verify_credential_jwt(stretched, keyring.jwks(), now=DURING)
    assert result.checks["signature"]["ok"]
    assert not result.valid
    assert "exp" in result.checks["claims"]["detail"]


def test_expired_and_not_yet_valid(keyring: KeyRing, token: str) -> None:
    jwks = keyring.jwks()
    late = verify_credential_jwt(token, jwks, now=EXPIRES + timedelta(seconds=1))
    assert not late.valid
    assert not late.checks["expiry"]["ok"]
    assert late.checks["expiry"]["detail"].startswith("Expired on 2027-03-02")
    assert late.checks["not_before"]["ok"] and late.checks["signature"]["ok"]

    early = verify_credential_jwt(token, jwks, now=ISSUED - timedelta(minutes=5))
    assert not early.valid
    assert not early.checks["not_before"]["ok"]
    assert early.checks["not_before"]["detail"].startswith("Not yet valid")
    assert early.checks["expiry"]["ok"]

    # the boundaries: valid from the very second of validFrom, invalid at validUntil
    assert verify_credential_jwt(token, jwks, now=ISSUED.replace(microsecond=0)).valid
    assert not verify_credential_jwt(token, jwks, now=EXPIRES.replace(microsecond=0)).valid


def test_revoked_credential_is_reported(keyring: KeyRing, token: str) -> None:
    published = encode_status_list({17, 4242, 99_999})

    def lookup(url: str, index: int) -> bool:
        assert url == STATUS_URL
        return decode_status_list(published).is_set(index)

    result = verify_credential_jwt(token, keyring.jwks(), now=DURING, status_lookup=lookup)
    assert not result.valid
    assert result.checks["status"] == {"ok": False, "detail": "Revoked by the issuer."}
    assert result.reason == "Revoked by the issuer."
    assert result.credential is not None  # the revoked credential is still shown

    cleared = encode_status_list({17, 99_999})
    result = verify_credential_jwt(
        token, keyring.jwks(), now=DURING, status_lookup=lambda u, i: is_revoked(cleared, i)
    )
    assert result.valid


def is_revoked(encoded: str, index: int) -> bool:
    return decode_status_list(encoded).is_set(index)


def test_status_lookup_failure_is_not_read_as_active(keyring: KeyRing, token: str) -> None:
    def broken(url: str, index: int) -> bool:
        raise LookupError("unknown status list")

    result = verify_credential_jwt(token, keyring.jwks(), now=DURING, status_lookup=broken)
    assert not result.valid
    assert "unknown status list" in result.checks["status"]["detail"]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a token",
        "a.b",
        "a.b.c",
        "....",
        "eyJhbGciOiJub25lIn0.e30.",
        "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
        "bnVsbA.e30.AAAA",
        "€€€.e30.AAAA",
        "x" * 300_000,
    ],
)
def test_malformed_input_gives_a_reason_not_an_exception(keyring: KeyRing, bad: str) -> None:
    result = verify_credential_jwt(bad, keyring.jwks(), now=DURING)
    assert not result.valid
    assert result.reason and result.reason != "valid"
    assert result.credential is None


def test_non_text_token_and_garbage_jwks(keyring: KeyRing, token: str) -> None:
    assert not verify_credential_jwt(None, keyring.jwks(), now=DURING).valid  # type: ignore[arg-type]
    for jwks in ({}, {"keys": "nope"}, {"keys": [{"kty": "EC", "crv": "P-256"}]}, [], "x"):
        result = verify_credential_jwt(token, jwks, now=DURING)
        assert not result.valid
        assert not result.checks["signature"]["ok"]


def test_unsigned_token_with_alg_none_is_rejected(keyring: KeyRing, token: str) -> None:
    payload = token.split(".")[1]
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    result = verify_credential_jwt(f"{header}.{payload}.", keyring.jwks(), now=DURING)
    assert not result.valid
    assert "Unsupported algorithm" in result.checks["signature"]["detail"]


def test_key_found_by_bare_thumbprint_kid(document: dict[str, Any], keyring: KeyRing) -> None:
    claims = decode_segment(sign_credential(document, keyring).split(".")[1])
    header = {"alg": "ES256", "typ": "JWT", "kid": keyring.active.key_id}
    bare = jose_jwt.encode(header, claims, keyring.active.key, algorithms=["ES256"])
    assert verify_credential_jwt(bare, keyring.jwks(), now=DURING).valid


# -- keys ------------------------------------------------------------------------------
def test_key_file_is_created_private(keyring: KeyRing) -> None:
    assert not keyring.private_key_path.exists()  # nothing happens before first use
    _ = keyring.active
    mode = stat.S_IMODE(keyring.private_key_path.stat().st_mode)
    assert mode == 0o600
    assert keyring.private_key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_key_persists_across_instances(keyring: KeyRing) -> None:
    first = keyring.active.key_id
    again = KeyRing(keyring.directory, BASE_URL)
    assert again.active.key_id == first


def test_jwks_and_public_jwk(keyring: KeyRing) -> None:
    (jwk,) = keyring.jwks()["keys"]
    assert jwk["kid"] == keyring.active.kid
    assert (jwk["use"], jwk["alg"], jwk["kty"], jwk["crv"]) == ("sig", "ES256", "EC", "P-256")
    assert "d" not in jwk
    assert keyring.public_jwk(keyring.active.key_id) == jwk
    assert keyring.public_jwk(keyring.active.kid) == jwk
    assert keyring.public_jwk("../../etc/passwd") is None
    assert keyring.public_jwk("A" * 43) is None


def test_rotation_keeps_old_credentials_verifiable(
    document: dict[str, Any], keyring: KeyRing
) -> None:
    old_token = sign_credential(document, keyring)
    old_id = keyring.active.key_id
    new_id = keyring.rotate()
    assert new_id != old_id
    assert keyring.active.key_id == new_id
    new_token = sign_credential(document, keyring)
    assert decode_segment(new_token.split(".")[0])["kid"].endswith(new_id)

    # a fresh instance (another process, a restart) publishes both keys
    restarted = KeyRing(keyring.directory, BASE_URL)
    jwks = restarted.jwks()
    assert {k["kid"] for k in jwks["keys"]} == {
        restarted.kid_for(old_id),
        restarted.kid_for(new_id),
    }
    assert restarted.active.key_id == new_id
    assert verify_credential_jwt(old_token, jwks, now=DURING).valid
    assert verify_credential_jwt(new_token, jwks, now=DURING).valid
    assert stat.S_IMODE(restarted.private_key_path.stat().st_mode) == 0o600


def test_supplied_key_file_is_used_and_not_rotated(tmp_path: Path) -> None:
    native = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "operator.pem"
    key_file.write_bytes(
        native.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    ring = KeyRing(tmp_path / "keys", BASE_URL, key_file=key_file)
    expected = native.public_key().public_numbers()
    assert ring.active.key.public_key.public_numbers() == expected
    assert not (tmp_path / "keys" / "signing-key.pem").exists()
    with pytest.raises(SigningKeyError, match="replacing that file"):
        ring.rotate()


def _assert_one_sentence(message: str, path: Path) -> None:
    assert str(path) in message
    assert "\n" not in message
    assert message.endswith(".")
    assert message.count(". ") == 0


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"",
    ],
)
def test_corrupt_key_file_gives_a_clear_error(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "broken.pem"
    key_file.write_bytes(content)
    ring = KeyRing(tmp_path / "keys", BASE_URL, key_file=key_file)
    with pytest.raises(SigningKeyError) as caught:
        _ = ring.active
    _assert_one_sentence(str(caught.value), key_file)
    assert "not a valid PEM private key" in str(caught.value)


def test_corrupt_generated_key_and_wrong_curve(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", BASE_URL)
    _ = ring.active
    ring.private_key_path.write_bytes(b"\x00garbage")
    with pytest.raises(SigningKeyError) as caught:
        _ = KeyRing(tmp_path / "keys", BASE_URL).active
    _assert_one_sentence(str(caught.value), ring.private_key_path)

    p384 = tmp_path / "p384.pem"
    p384.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(SigningKeyError, match="P-256") as caught:
        _ = KeyRing(tmp_path / "k2", BASE_URL, key_file=p384).active
    _assert_one_sentence(str(caught.value), p384)

    missing = tmp_path / "missing.pem"
    with pytest.raises(SigningKeyError, match="does not exist"):
        _ = KeyRing(tmp_path / "k3", BASE_URL, key_file=missing).active


# -- offline verification --------------------------------------------------------------
def test_verify_offline_from_files(keyring: KeyRing, token: str, tmp_path: Path) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(keyring.jwks()), encoding="utf-8")
    token_file = tmp_path / "credential.jwt"
    token_file.write_text(token + "\n", encoding="utf-8")

    assert verify_offline(str(token_file), str(jwks_file), now=DURING).valid
    assert verify_offline(token, str(jwks_file), now=DURING).valid
    api_answer = tmp_path / "answer.json"
    api_answer.write_text(json.dumps({"status": "active", "jwt": token}), encoding="utf-8")
    offline = verify_offline(str(api_answer), str(jwks_file), now=DURING)
    assert offline.valid
    assert offline.checks["status"]["detail"].startswith("Not checked")

    assert not verify_offline(token, None).valid
    missing = verify_offline(token, str(tmp_path / "nope.json"), now=DURING)
    assert not missing.valid and "could not be read" in missing.reason
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert not verify_offline(tampered, str(jwks_file), now=DURING).valid
