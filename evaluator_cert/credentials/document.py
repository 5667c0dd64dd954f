"""The Open Badges 3.0 ``OpenBadgeCredential`` issued for a passed level exam.

Pure construction: every value comes in as an argument, so the same inputs always give
the same document (the service layer supplies ids, dates and the status-list slot).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
OB_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
# Kappa-style coefficients are not among OB's fixed result types; "ext:" is the
# spec's convention for extending that vocabulary.
AGREEMENT_RESULT_TYPE = "ext:ChanceCorrectedAgreement"


@dataclass(frozen=True, slots=True)
class IssuerProfile:
    """The issuing organisation (an OB ``Profile``)."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None

    def as_profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        for key in ("url", "email", "description"):
            value = getattr(self, key)
            if value:
                profile[key] = value
        return profile


@dataclass(frozen=True, slots=True)
class AchievementInfo:
    """What a level's credential certifies (an OB ``Achievement``)."""

    id: str  # a stable URL per level, e.g. {base_url}/achievements/L1
    level_id: str
    name: str
    description: str
    criteria_narrative: str


@dataclass(frozen=True, slots=True)
class AgreementResult:
    """Agreement with expert gold at certification time, e.g. 0.78 against a required 0.70."""

    metric: str  # how the value is computed, in words a verifier can read
    value: float
    required: float | None = None
    value_min: float = -1.0
    value_max: float = 1.0


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """This credential's slot in a Bitstring Status List."""

    list_url: str
    index: int
    purpose: str = "revocation"


def to_xsd_datetime(moment: datetime) -> str:
    """UTC, whole seconds, trailing ``Z`` (so it equals the JWT's integer nbf/exp)."""
    if moment.tzinfo is None:
        raise ValueError("credential dates must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_xsd_datetime(value: str) -> datetime:
    """Inverse of :func:`to_xsd_datetime`; accepts any ISO 8601 date-time with an offset."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"date-time without a time zone: {value!r}")
    return moment.astimezone(UTC)


def hash_email(email: str, salt: str) -> str:
    """OB ``IdentityHash`` of an e-mail address: ``sha256$`` + hex(sha256(email + salt)).

    The address is trimmed and lower-cased first, so a verifier typing it differently
    still gets a match.
    """
    digest = hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def _format_value(value: float) -> str:
    return f"{value:.2f}"


def build_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    achievement: AchievementInfo,
    subject_id: str,
    valid_from: datetime,
    valid_until: datetime | None,
    result: AgreementResult | None,
    status: StatusEntry | None,
    holder_name: str | None = None,
    email_hash: str | None = None,
    email_salt: str | None = None,
) -> dict[str, Any]:
    """An unsigned OB 3.0 ``OpenBadgeCredential`` for one trainee and one level.

    ``subject_id`` should be a random ``urn:uuid`` so the credential does not identify
    the trainee by itself; ``holder_name`` (only when the trainee made it public) and a
    salted ``email_hash`` (see :func:`hash_email`) are optional identifiers.
    """
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be later than valid_from")

    achievement_doc: dict[str, Any] = {
        "id": achievement.id,
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": achievement.name,
        "description": achievement.description,
        "criteria": {"narrative": achievement.criteria_narrative},
        "humanCode": achievement.level_id,
        "creator": issuer.as_profile(),
    }
    subject: dict[str, Any] = {
        "id": subject_id,
        "type": ["AchievementSubject"],
        "achievement": achievement_doc,
    }

    if result is not None:
        description_id = f"{achievement.id}#agreement"
        rd: dict[str, Any] = {
            "id": description_id,
            "type": ["ResultDescription"],
            "name": f"Agreement with expert gold labels ({result.metric})",
            "resultType": AGREEMENT_RESULT_TYPE,
            "valueMin": _format_value(result.value_min),
            "valueMax": _format_value(result.value_max),
        }
        if result.required is not None:
            rd["requiredValue"] = _format_value(result.required)
        achievement_doc["resultDescription"] = [rd]
        subject["result"] = [
            {
                "type": ["Result"],
                "resultDescription": description_id,
                "value": _format_value(result.value),
            }
        ]

    identifiers: list[dict[str, Any]] = []
    if holder_name:
        identifiers.append(
            {
                "type": "IdentityObject",
                "hashed": False,
                "identityHash": holder_name,
                "identityType": "name",
            }
        )
    if email_hash:
        email_identity: dict[str, Any] = {
            "type": "IdentityObject",
            "hashed": True,
            "identityHash": email_hash,
            "identityType": "emailAddress",
        }
        if email_salt is not None:
            email_identity["salt"] = email_salt
        identifiers.append(email_identity)
    if identifiers:
        subject["identifier"] = identifiers

    document: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.name,
        "description": achievement.description,
        "issuer": issuer.as_profile(),
        "validFrom": to_xsd_datetime(valid_from),
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA_URL, "type": OB_SCHEMA_TYPE}],
    }
    if valid_until is not None:
        document["validUntil"] = to_xsd_datetime(valid_until)
    if status is not None:
        if status.index < 0:
            raise ValueError("status list index must be non-negative")
        document["credentialStatus"] = {
            "id": f"{status.list_url}#{status.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": status.purpose,
            "statusListIndex": str(status.index),
            "statusListCredential": status.list_url,
        }
    return document


def status_entry_of(document: dict[str, Any]) -> StatusEntry | None:
    """The revocation slot a credential points at, or None if it has none or it is unusable."""
    status = document.get("credentialStatus")
    if isinstance(status, list):  # VC 2.0 allows several entries; ours is the revocation one
        status = next(
            (s for s in status if isinstance(s, dict) and s.get("statusPurpose") == "revocation"),
            None,
        )
    if not isinstance(status, dict) or status.get("type") != "BitstringStatusListEntry":
        return None
    url = status.get("statusListCredential")
    raw_index = status.get("statusListIndex")
    if not isinstance(url, str) or not isinstance(raw_index, str) or not raw_index.isdigit():
        return None
    return StatusEntry(
        list_url=url, index=int(raw_index), purpose=str(status.get("statusPurpose", ""))
    )
