"""Compact VC-JWT signing (ES256) and verification that reports every check.

The claims are the credential under ``vc`` plus ``iss``/``jti``/``sub``/``nbf``/``exp``
mirroring issuer/id/subject/validFrom/validUntil. Verification never raises on bad
input: it returns a :class:`Verification` whose checks say what failed and why.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from evaluator_cert.credentials.document import parse_xsd_datetime, status_entry_of
from evaluator_cert.credentials.keys import ALGORITHM, KeyRing, key_id_from_kid

CHECK_NAMES = ("signature", "claims", "not_before", "expiry", "status")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
MAX_TOKEN_LENGTH = 256 * 1024  # a credential is a few KB; refuse to parse megabytes

StatusLookup = Callable[[str, int], bool]
"""``(status list URL, index) -> revoked?``; may raise if the list is unknown."""


@dataclass(slots=True)
class Verification:
    """The outcome of verifying one token; ``checks`` maps a name to ``{ok, detail}``."""

    valid: bool
    checks: dict[str, dict[str, Any]]
    credential: dict[str, Any] | None = None
    header: dict[str, Any] | None = None
    claims: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def reason(self) -> str:
        """The first failed check's detail, or "valid"."""
        for name in CHECK_NAMES:
            check = self.checks.get(name)
            if check is not None and not check["ok"]:
                return check["detail"]
        return "valid"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the verification API."""
        return {
            "valid": self.valid,
            "reason": self.reason,
            "checks": self.checks,
            "credential": self.credential,
        }


def _check(ok: bool, detail: str) -> dict[str, Any]:
    return {"ok": ok, "detail": detail}


def _failed(
    name: str,
    detail: str,
    header: dict[str, Any] | None = None,
    passed: Mapping[str, dict[str, Any]] | None = None,
) -> Verification:
    """A verification that stopped at ``name``; later checks are marked not performed."""
    checks: dict[str, dict[str, Any]] = dict(passed or {})
    checks[name] = _check(False, detail)
    for check in CHECK_NAMES:
        checks.setdefault(check, _check(False, "Not checked: an earlier check failed."))
    return Verification(valid=False, checks=checks, header=header)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _b64url_decode_strict(segment: str) -> bytes:
    """Decode base64url, rejecting padding, stray characters and non-canonical tails.

    The last character of a segment can carry unused low bits; requiring the canonical
    form here means no altered token is accepted, whatever the JOSE library's decoder does.
    """
    if not _B64URL_RE.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        raise ValueError("non-canonical base64url")
    return raw


def _subject_id(document: Mapping[str, Any]) -> str | None:
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return subject["id"]
    return None


def _issuer_id(document: Mapping[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def sign_credential(document: Mapping[str, Any], keyring: KeyRing) -> str:
    """Sign a credential (OB credential or status-list credential) as a compact VC-JWT."""
    issuer = _issuer_id(document)
    credential_id = document.get("id")
    valid_from = document.get("validFrom")
    if not issuer or not isinstance(credential_id, str) or not isinstance(valid_from, str):
        raise ValueError("a credential needs issuer, id and validFrom to be signed")
    claims: dict[str, Any] = {
        "vc": dict(document),
        "iss": issuer,
        "jti": credential_id,
        "nbf": _epoch(parse_xsd_datetime(valid_from)),
    }
    subject = _subject_id(document)
    if subject is not None:
        claims["sub"] = subject
    if isinstance(document.get("validUntil"), str):
        claims["exp"] = _epoch(parse_xsd_datetime(document["validUntil"]))
    active = keyring.active
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": active.kid}
    return jose_jwt.encode(header, claims, active.key, algorithms=[ALGORITHM])


def _find_key(jwks: Mapping[str, Any], kid: str) -> ECKey | None:
    """The JWKS entry for a ``kid`` given as key URL or bare thumbprint.

    Matching is by the key's own thumbprint, not only by its declared ``kid``, so a JWKS
    whose ``kid`` values use another URL base still works.
    """
    if not isinstance(jwks, Mapping):
        return None
    wanted = key_id_from_kid(kid)
    entries = jwks.get("keys") if isinstance(jwks.get("keys"), list) else [jwks]
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("kty") != "EC":
            continue
        try:
            key = ECKey.import_key(
                {k: v for k, v in entry.items() if k in ("kty", "crv", "x", "y")}
            )
        except (JoseError, ValueError, TypeError):
            continue
        if key.thumbprint() == wanted or entry.get("kid") == kid:
            return key
    return None


def _claims_consistent(claims: Mapping[str, Any], vc: Mapping[str, Any]) -> str | None:
    """Why the JWT claims disagree with the credential they carry, or None."""
    if claims.get("iss") != _issuer_id(vc):
        return "The iss claim does not match the credential issuer."
    if claims.get("jti") != vc.get("id"):
        return "The jti claim does not match the credential id."
    if "sub" in claims and claims.get("sub") != _subject_id(vc):
        return "The sub claim does not match the credential subject."
    for claim, field_name in (("nbf", "validFrom"), ("exp", "validUntil")):
        value = vc.get(field_name)
        if value is None and claim not in claims:
            continue
        try:
            expected = _epoch(parse_xsd_datetime(value)) if isinstance(value, str) else None
        except ValueError:
            return f"The credential's {field_name} is not a valid date-time."
        if claims.get(claim) != expected:
            return f"The {claim} claim does not match the credential's {field_name}."
    return None


def verify_credential_jwt(
    token: str,
    jwks: Mapping[str, Any],
    *,
    now: datetime,
    status_lookup: StatusLookup | None = None,
) -> Verification:
    """Verify signature, claims, validity dates and revocation status of a VC-JWT."""
    if not isinstance(token, str):
        return _failed("signature", "The token is not text.")
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        return _failed("signature", "The token is too long to be a credential.")
    parts = token.split(".")
    if len(parts) != 3:
        return _failed("signature", "The token is not a compact JWT (expected three parts).")
    try:
        header = json.loads(_b64url_decode_strict(parts[0]))
        _b64url_decode_strict(parts[1])
        _b64url_decode_strict(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return _failed("signature", "The token is malformed (bad base64url or header JSON).")
    if not isinstance(header, dict):
        return _failed("signature", "The token header is not a JSON object.")
    if header.get("alg") != ALGORITHM:
        return _failed("signature", f"Unsupported algorithm {header.get('alg')!r}.", header)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return _failed("signature", "The token header names no key (kid).", header)
    key = _find_key(jwks, kid)
    if key is None:
        return _failed(
            "signature", f"The signing key {kid} is not in the published key set.", header
        )
    try:
        decoded = jose_jwt.decode(token, key, algorithms=[ALGORITHM])
    except Exception:  # any failure inside the JOSE library means the token is not genuine
        return _failed("signature", "The signature does not match the token.", header)
    checks: dict[str, dict[str, Any]] = {
        "signature": _check(True, f"Signed by key {key_id_from_kid(kid)}."),
    }
    claims = dict(decoded.claims)
    vc = claims.get("vc")
    if not isinstance(vc, dict):
        return _failed("claims", "The token carries no credential (vc claim).", header, checks)
    mismatch = _claims_consistent(claims, vc)
    checks["claims"] = _check(mismatch is None, mismatch or "Claims match the credential.")

    now_s = _epoch(now if now.tzinfo else now.replace(tzinfo=UTC))
    nbf = claims.get("nbf")
    if isinstance(nbf, int) and now_s < nbf:
        since = datetime.fromtimestamp(nbf, UTC).isoformat()
        checks["not_before"] = _check(False, f"Not yet valid: valid from {since}.")
    elif nbf is not None and not isinstance(nbf, int):
        checks["not_before"] = _check(False, "The nbf claim is not a number of seconds.")
    else:
        checks["not_before"] = _check(True, "Already valid.")
    exp = claims.get("exp")
    if exp is None:
        checks["expiry"] = _check(True, "Does not expire.")
    elif not isinstance(exp, int):
        checks["expiry"] = _check(False, "The exp claim is not a number of seconds.")
    elif now_s >= exp:
        checks["expiry"] = _check(
            False, f"Expired on {datetime.fromtimestamp(exp, UTC).isoformat()}."
        )
    else:
        checks["expiry"] = _check(
            True, f"Valid until {datetime.fromtimestamp(exp, UTC).isoformat()}."
        )

    entry = status_entry_of(vc)
    if "credentialStatus" in vc and entry is None:
        checks["status"] = _check(False, "The credential's status entry is not understood.")
    elif entry is None:
        checks["status"] = _check(True, "The credential has no status entry.")
    elif status_lookup is None:
        checks["status"] = _check(True, "Not checked: no status source was available.")
    else:
        try:
            revoked = status_lookup(entry.list_url, entry.index)
        except Exception as exc:  # a lookup failure must not read as "not revoked"
            checks["status"] = _check(False, f"Status could not be determined: {exc}")
        else:
            checks["status"] = (
                _check(False, "Revoked by the issuer.") if revoked else _check(True, "Not revoked.")
            )

    valid = all(check["ok"] for check in checks.values())
    return Verification(valid=valid, checks=checks, credential=vc, header=header, claims=claims)


def _read_source(source: str) -> str:
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=10) as response:
            return response.read(1024 * 1024).decode("utf-8")
    return Path(source).read_text(encoding="utf-8")


def _token_from_text(text: str) -> str:
    """Accept a bare token, or a JSON answer of the credentials API that holds one."""
    text = text.strip()
    if text.startswith("{"):
        data = json.loads(text)
        for key in ("jwt", "token", "credential_jwt"):
            if isinstance(data.get(key), str):
                return data[key]
    return text


def verify_offline(
    token_or_path: str,
    jwks_source: str | None,
    *,
    now: datetime | None = None,
    status_lookup: StatusLookup | None = None,
) -> Verification:
    """Verify a token (or a file holding one) against a JWKS file or URL.

    Offline, revocation cannot be known unless ``status_lookup`` is given; the status
    check then says it was not performed.
    """
    try:
        candidate = Path(token_or_path)
        is_file = len(token_or_path) < 4096 and candidate.is_file()
    except (OSError, ValueError):
        is_file = False
    try:
        text = candidate.read_text(encoding="utf-8") if is_file else token_or_path
        token = _token_from_text(text)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return _failed("signature", f"The token could not be read: {exc}.")
    if not jwks_source:
        return _failed("signature", "No public key set (JWKS) was given to verify against.")
    try:
        jwks = json.loads(_read_source(jwks_source))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return _failed("signature", f"The public key set {jwks_source} could not be read: {exc}.")
    if not isinstance(jwks, dict):
        return _failed("signature", f"The public key set {jwks_source} is not a JSON object.")
    return verify_credential_jwt(
        token, jwks, now=now or datetime.now(UTC), status_lookup=status_lookup
    )
