"""Credentials as use cases: issue, revoke, look up, verify, publish the status list.

The signing and document code lives in ``evaluator_cert.credentials``; this module decides
what to issue, stores it, and answers the public questions about it. Only a credential's
public facts ever leave through here: never annotations, gold, e-mail or user ids.
"""

from __future__ import annotations

import calendar
import io
import re
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit

import pandas as pd
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from evaluator_cert.config import Settings, get_settings
from evaluator_cert.credentials import (
    AchievementInfo,
    AgreementResult,
    IssuerProfile,
    KeyRing,
    StatusEntry,
    StatusListFullError,
    Verification,
    allocate_index,
    build_credential,
    build_status_list_credential,
    encode_status_list,
    hash_email,
    sign_credential,
    verify_credential_jwt,
)
from evaluator_cert.credentials.jwt import StatusLookup
from evaluator_cert.credentials.status_list import MIN_SIZE
from evaluator_cert.db.models import Credential, User, utcnow
from evaluator_cert.errors import (
    ConflictError,
    InvalidInputError,
    NotEligibleError,
    NotFoundError,
)
from evaluator_cert.services import audit
from evaluator_cert.services.actors import Actor, require_role

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog
    from evaluator_cert.content.schema import Level
    from evaluator_cert.runtime import AppContext

Status = Literal["active", "revoked", "expired"]

# One revocation list holds MIN_SIZE (131,072) credentials; a second list would need a
# list-id column on Credential, which this installation size does not call for yet.
STATUS_LIST_ID = "1"
STATUS_LIST_SIZE = MIN_SIZE
# Verifiers may cache the list this long; revocations are published on the next request.
STATUS_LIST_TTL_MS = 5 * 60 * 1000
MAX_BULK_IDS = 1000
BULK_STATUSES = ("active", "expired", "revoked", "unknown", "invalid")
MAX_REASON_LENGTH = 500
PUBLIC_FIELDS = (
    "id",
    "status",
    "level",
    "achievement",
    "issued_at",
    "valid_until",
    "holder_name",
    "revocation_reason",
    "credential_jwt",
)
# What grading.combined_agreement computes, named in full: a verifier must not read it as a
# plain Cohen's kappa.
AGREEMENT_METRIC = (
    "Cohen's kappa over categorical decisions, quadratic weighted kappa over rubric ratings "
    "and mean item score over other task types, weighted by their item counts"
)
DEMO_COHORT = "demo-cohort"
DEMO_EXCLUDED_USER = "trainee"  # the demo account people log in as keeps a clean record

# Room for a share link on a long base URL; anything longer is not one of ours.
MAX_ID_TEXT_LENGTH = 2048

_UUID_RE = re.compile(
    r"(?:urn:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------- keys


_keyrings: dict[tuple[Path, str, Path | None], KeyRing] = {}
_keyrings_lock = threading.Lock()


def keyring(settings: Settings) -> KeyRing:
    """The issuer's key ring, one per key folder (and base URL) in this process."""
    cache_key = (settings.keys_dir.resolve(), settings.base_url, settings.signing_key_file)
    with _keyrings_lock:
        ring = _keyrings.get(cache_key)
        if ring is None:
            ring = KeyRing(settings.keys_dir, settings.base_url, settings.signing_key_file)
            _keyrings[cache_key] = ring
        return ring


def _settings_for(session: Session, settings: Settings | None) -> Settings:
    """Explicit settings, else those the session's app context attached to it."""
    if settings is not None:
        return settings
    return session.info.get("settings") or get_settings()


def issuer_profile(settings: Settings) -> IssuerProfile:
    return IssuerProfile(id=settings.base_url, name=settings.issuer_name, url=settings.base_url)


def status_list_url(settings: Settings, list_id: str = STATUS_LIST_ID) -> str:
    return f"{settings.base_url}/status/{list_id}"


def verify_url(settings: Settings, credential_id: str) -> str:
    """The public page for one credential (``app_pages/verify.py`` is served at ``/verify``)."""
    return f"{settings.base_url}/verify?id={credential_id}"


# ------------------------------------------------------------------------------ ids


def normalize_id(raw: object) -> str | None:
    """``urn:uuid:<uuid>`` for a full urn or a bare uuid (any case), else None."""
    if not isinstance(raw, str):
        return None
    match = _UUID_RE.fullmatch(raw.strip())
    return f"urn:uuid:{match.group(1).lower()}" if match else None


def credential_id_from_text(text: object) -> str | None:
    """The credential id in what a person pastes: an id (see :func:`normalize_id`) or a
    share link of any scheme and host (``.../verify?id=<id>``), with surrounding whitespace
    or angle brackets (``<https://...>``, as mail clients quote links). None otherwise.

    Every place that takes an id from a person (verify page, CSV upload, bulk API) uses
    this, so they all accept the same things.
    """
    if not isinstance(text, str) or len(text) > MAX_ID_TEXT_LENGTH:
        return None
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    direct = normalize_id(text)
    if direct is not None or "?" not in text:
        return direct
    values = parse_qs(urlsplit(text).query).get("id", [])
    found = {normalize_id(v) for v in values}
    # One id, however often repeated; two different ones leave no right answer.
    return found.pop() if len(found) == 1 else None


def _new_urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# ---------------------------------------------------------------------------- issuing


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later, clamped to the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def achievement_name(level: Level) -> str:
    return f"Certified AI Evaluator, {level.id} {level.title}"


def criteria_narrative(level: Level, catalog: Catalog) -> str:
    rules = level.exam
    modules = ", ".join(m.id for m in catalog.modules_of(level.id)) or "none"
    text = (
        f"Passed every {level.id} module ({modules}) at the required agreement with expert "
        f"gold labels, then the {level.id} {level.title} exam: a timed form of "
        f"{rules.form_size} items drawn from the level's bank, answered within "
        f"{rules.time_limit_minutes} minutes, at agreement with expert gold "
        f"({AGREEMENT_METRIC}) of at least {rules.pass_threshold:.2f} overall, with no task "
        f"type or rubric dimension below {rules.dimension_threshold:.2f} on the evidence of "
        "the form."
    )
    if level.requires:
        text += f" Requires an active {level.requires} credential."
    text += (
        f" Valid for {level.credential_valid_months} months; renewed by passing a "
        f"recertification calibration batch at {level.recertification_threshold:.2f} or more."
    )
    return text


def achievement_info(settings: Settings, catalog: Catalog, level_id: str) -> AchievementInfo:
    level = _level(catalog, level_id)
    return AchievementInfo(
        id=f"{settings.base_url}/achievements/{level.id}",
        level_id=level.id,
        name=achievement_name(level),
        description=level.description,
        criteria_narrative=criteria_narrative(level, catalog),
    )


def _level(catalog: Catalog, level_id: str) -> Level:
    try:
        return catalog.level(level_id)
    except KeyError:
        raise NotFoundError(f"There is no level {level_id!r}.") from None


def _used_indices(session: Session) -> set[int]:
    return set(session.scalars(select(Credential.status_list_index)))


def issue_credential(
    session: Session,
    user: User,
    catalog: Catalog,
    level_id: str,
    agreement: float,
    at: datetime,
    *,
    settings: Settings | None = None,
) -> Credential:
    """Issue, sign and store ``level_id``'s credential for ``user`` as of ``at``.

    Runs inside the caller's transaction (the exam submission): it flushes but does not
    commit, so a failed exam write never leaves a credential behind.
    """
    settings = _settings_for(session, settings)
    level = _level(catalog, level_id)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    issued = at.astimezone(UTC).replace(microsecond=0)  # the JWT carries whole seconds
    valid_until = add_months(issued, level.credential_valid_months)
    credential_id = _new_urn()
    subject_id = _new_urn()
    try:
        index = allocate_index(_used_indices(session), STATUS_LIST_SIZE)
    except StatusListFullError:
        raise ConflictError(
            "The revocation list is full; no more credentials can be issued."
        ) from None
    email_hash = email_salt = None
    if user.email and settings.credential_email_hash:
        email_salt = secrets.token_hex(8)
        email_hash = hash_email(user.email, email_salt)
    document = build_credential(
        credential_id=credential_id,
        issuer=issuer_profile(settings),
        achievement=achievement_info(settings, catalog, level.id),
        subject_id=subject_id,
        valid_from=issued,
        valid_until=valid_until,
        result=AgreementResult(
            metric=AGREEMENT_METRIC, value=float(agreement), required=level.exam.pass_threshold
        ),
        status=StatusEntry(list_url=status_list_url(settings), index=index),
        # the choice at issue time is baked into the signed document
        holder_name=user.display_name if user.show_name_publicly else None,
        email_hash=email_hash,
        email_salt=email_salt,
    )
    ring = keyring(settings)
    token = sign_credential(document, ring)
    row = Credential(
        id=credential_id,
        user_id=user.id,
        level_id=level.id,
        subject_id=subject_id,
        issued_at=issued,
        valid_until=valid_until,
        agreement=float(agreement),
        status_list_index=index,
        kid=ring.active.kid,
        jwt=token,
        document=document,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        None,
        "credential.issue",
        credential_id,
        holder=user.username,
        level=level.id,
        agreement=round(float(agreement), 4),
    )
    return row


def recertify(
    session: Session,
    user: User,
    catalog: Catalog,
    level_id: str,
    agreement: float,
    at: datetime,
    *,
    settings: Settings | None = None,
) -> Credential:
    """A fresh credential after a recertification calibration batch passed at the level's
    threshold. Like :func:`issue_credential`, it joins the caller's transaction."""
    level = _level(catalog, level_id)
    if agreement < level.recertification_threshold:
        raise NotEligibleError(
            f"Recertification needs agreement of at least {level.recertification_threshold:.2f} "
            f"on the calibration batch; this batch reached {agreement:.2f}."
        )
    held = session.scalars(
        select(Credential).where(Credential.user_id == user.id, Credential.level_id == level.id)
    ).all()
    if not any(c.revoked_at is None for c in held):
        raise NotEligibleError(
            f"Recertification renews an {level.id} credential you already hold; "
            f"pass the {level.id} exam first."
        )
    row = issue_credential(session, user, catalog, level.id, agreement, at, settings=settings)
    audit.record(session, Actor.of(user), "credential.recertify", row.id, level=level.id)
    return row


# ------------------------------------------------------------------------ status, facts


def credential_status(row: Credential, now: datetime) -> Status:
    if row.revoked_at is not None:
        return "revoked"
    if now >= row.valid_until:
        return "expired"
    return "active"


def _achievement_of(document: dict[str, Any]) -> dict[str, Any]:
    subject = document.get("credentialSubject") or {}
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    return achievement if isinstance(achievement, dict) else {}


def _document_names_holder(document: dict[str, Any]) -> bool:
    subject = document.get("credentialSubject") or {}
    identifiers = subject.get("identifier", []) if isinstance(subject, dict) else []
    return any(i.get("identityType") == "name" for i in identifiers if isinstance(i, dict))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def facts_of(row: Credential, holder: User | None, now: datetime) -> dict[str, Any]:
    """The public facts of one stored credential (see :data:`PUBLIC_FIELDS`)."""
    achievement = _achievement_of(row.document)
    public = bool(holder is not None and holder.show_name_publicly)
    # A token issued while the name was public still carries it; once the holder hides
    # their name, the token is withheld as well, so the name cannot leak through it.
    jwt = row.jwt if public or not _document_names_holder(row.document) else None
    return {
        "id": row.id,
        "status": credential_status(row, now),
        "level": row.level_id,
        "achievement": {
            "name": achievement.get("name"),
            "description": achievement.get("description"),
            "criteria": (achievement.get("criteria") or {}).get("narrative"),
        },
        "issued_at": _iso(row.issued_at),
        "valid_until": _iso(row.valid_until),
        "holder_name": holder.display_name if public and holder is not None else None,
        "revocation_reason": row.revocation_reason if row.revoked_at is not None else None,
        "credential_jwt": jwt,
    }


def public_facts(session: Session, credential_id: str, now: datetime) -> dict[str, Any] | None:
    """What anyone may know about a credential (full urn or bare uuid), or None if unknown."""
    normal = normalize_id(credential_id)
    if normal is None:
        return None
    found = session.execute(_with_holder().where(Credential.id == normal)).first()
    return facts_of(*found, now) if found is not None else None


def _with_holder() -> Select[tuple[Credential, User]]:
    """A credential with its holder, in one query (the public API answers with both)."""
    return select(Credential, User).outerjoin(User, User.id == Credential.user_id)


def ids_from_csv(data: bytes) -> list[str]:
    """Ids from an uploaded CSV: the ``id`` column, or else the first column (with or
    without a header row). Raises ValueError (or pandas' ParserError) on unreadable files."""
    text = data.decode("utf-8-sig")
    if not text.strip():
        return []
    frame = pd.read_csv(io.StringIO(text), dtype=str, header=None, skip_blank_lines=True)
    header = [str(v).strip().lower() for v in frame.iloc[0].tolist()]
    column = header.index("id") if "id" in header else 0
    values = frame.iloc[:, column].dropna().astype(str).str.strip().tolist()
    if values and credential_id_from_text(values[0]) is None and values[0].lower() in header:
        values = values[1:]  # a header row, not an id
    return [v for v in values if v]


def verify_many(session: Session, ids: Iterable[object], now: datetime) -> list[dict[str, Any]]:
    """One row per id or share link, in order: ``{"id", "status", "level", "issued_at",
    "valid_until"}``, ``id`` being the canonical urn when the input held one.

    ``status`` is active/revoked/expired, ``unknown`` for a well-formed id we never issued,
    or ``invalid`` for something that is not a credential id.
    """
    given = list(ids)
    normal = [credential_id_from_text(i) for i in given]
    wanted = sorted({n for n in normal if n is not None})
    rows: dict[str, Credential] = {}
    for start in range(0, len(wanted), 500):  # keep IN lists within every backend's limits
        chunk = wanted[start : start + 500]
        rows.update(
            {r.id: r for r in session.scalars(select(Credential).where(Credential.id.in_(chunk)))}
        )
    out: list[dict[str, Any]] = []
    for raw, norm in zip(given, normal, strict=True):
        row = rows.get(norm) if norm else None
        shown = raw if isinstance(raw, str) else str(raw)
        if row is None:
            out.append(
                {
                    "id": norm or shown,
                    "status": "unknown" if norm else "invalid",
                    "level": None,
                    "issued_at": None,
                    "valid_until": None,
                }
            )
            continue
        out.append(
            {
                "id": row.id,
                "status": credential_status(row, now),
                "level": row.level_id,
                "issued_at": _iso(row.issued_at),
                "valid_until": _iso(row.valid_until),
            }
        )
    return out


# ------------------------------------------------------------------------- status list


def revoked_indices(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(Credential.status_list_index).where(Credential.revoked_at.is_not(None))
        )
    )


def status_list_credential(
    session: Session, settings: Settings, list_id: str, *, now: datetime | None = None
) -> str:
    """The signed Bitstring Status List credential for ``list_id``, built from the database
    on each call so a revocation shows at once."""
    if list_id != STATUS_LIST_ID:
        raise NotFoundError(f"There is no status list {list_id!r}.")
    now = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    url = status_list_url(settings, list_id)
    document = build_status_list_credential(
        list_id,
        url,
        encode_status_list(revoked_indices(session), STATUS_LIST_SIZE),
        issuer_profile(settings),
        now,
        ttl_ms=STATUS_LIST_TTL_MS,
    )
    return sign_credential(document, keyring(settings))


def _status_lookup(
    session: Session, settings: Settings, seen: dict[int, Any] | None = None
) -> StatusLookup:
    """The revocation check: is the credential at this status index revoked? ``seen``, when
    given, keeps the (credential, holder) row each check read."""
    own_path = urlsplit(status_list_url(settings)).path

    def lookup(list_url: str, index: int) -> bool:
        # Only tokens whose signature checked out against our keys get here, so the list they
        # name is ours, perhaps under an earlier base URL (the installation moved, or a demo
        # served on another port): match the path, not the host.
        if urlsplit(list_url).path != own_path:
            raise LookupError(f"the status list {list_url} is not published by this issuer")
        # One indexed row, not the whole revocation set: this runs on every verification.
        found = session.execute(_with_holder().where(Credential.status_list_index == index)).first()
        if seen is not None:
            seen[index] = found
        return found is not None and found[0].revoked_at is not None

    return lookup


def verify_token(session: Session, settings: Settings, token: str, now: datetime) -> Verification:
    """Verify a VC-JWT against our published keys and the current revocation status."""
    return verify_credential_jwt(
        token,
        keyring(settings).jwks(),
        now=now,
        status_lookup=_status_lookup(session, settings),
    )


def check_token(
    session: Session, settings: Settings, token: str, now: datetime
) -> tuple[Verification, dict[str, Any] | None]:
    """Verify a VC-JWT (see :func:`verify_token`) and give the public facts of the
    credential it names, or None if it names none of ours.

    The revocation check reads the credential at the token's status index with its holder;
    for a token of ours that is the credential itself, so its facts cost no second query."""
    seen: dict[int, Any] = {}
    result = verify_credential_jwt(
        token,
        keyring(settings).jwks(),
        now=now,
        status_lookup=_status_lookup(session, settings, seen),
    )
    jti = result.claims.get("jti") if result.claims else None
    if not isinstance(jti, str):
        return result, None
    normal = normalize_id(jti)
    found = next((f for f in seen.values() if f is not None and f[0].id == normal), None)
    return result, facts_of(*found, now) if found is not None else public_facts(session, jti, now)


# --------------------------------------------------------------------------- admin


def revoke_credential(
    session: Session,
    actor: Actor | None,
    credential_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> Credential:
    """Revoke a credential (admins; ``actor=None`` is the operator at the command line)."""
    if actor is not None:
        require_role(actor, "admin")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError(
            "Give a reason for the revocation; the holder and verifiers see it."
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInputError(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    normal = normalize_id(credential_id)
    row = session.get(Credential, normal) if normal else None
    if row is None:
        raise NotFoundError(f"There is no credential {credential_id!r}.")
    if row.revoked_at is not None:
        raise ConflictError("This credential is already revoked.")
    row.revoked_at = now or utcnow()
    row.revocation_reason = reason
    audit.record(session, actor, "credential.revoke", row.id, reason=reason, level=row.level_id)
    session.commit()
    return row


def rotate_signing_key(session: Session, settings: Settings, actor: Actor | None) -> str:
    """Start signing with a fresh key; earlier keys stay published. Returns the new key id."""
    if actor is not None:
        require_role(actor, "admin")
    ring = keyring(settings)
    previous = ring.active.key_id
    new_id = ring.rotate()
    audit.record(session, actor, "key.rotate", new_id, previous=previous)
    session.commit()
    return new_id


LIST_COLUMNS = [
    "id",
    "username",
    "holder",
    "level",
    "status",
    "issued_at",
    "valid_until",
    "agreement",
    "revoked_at",
    "revocation_reason",
]


def list_credentials(
    session: Session,
    actor: Actor | None,
    query: str | None = None,
    *,
    status: str | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Every credential, newest first, matching ``query`` (id, username or name) and
    ``status``; admins only (``actor=None`` is the command line)."""
    if actor is not None:
        require_role(actor, "admin")
    now = now or utcnow()
    stmt = (
        select(Credential, User)
        .join(User, User.id == Credential.user_id)
        .order_by(Credential.issued_at.desc(), Credential.id)
    )
    if query and query.strip():
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(
            or_(
                Credential.id.ilike(like),
                User.username.ilike(like),
                User.display_name.ilike(like),
            )
        )
    records = []
    for row, user in session.execute(stmt):
        state = credential_status(row, now)
        if status and state != status:
            continue
        records.append(
            {
                "id": row.id,
                "username": user.username,
                "holder": user.display_name,
                "level": row.level_id,
                "status": state,
                "issued_at": row.issued_at,
                "valid_until": row.valid_until,
                "agreement": row.agreement,
                "revoked_at": row.revoked_at,
                "revocation_reason": row.revocation_reason,
            }
        )
    return pd.DataFrame(records, columns=LIST_COLUMNS)


# --------------------------------------------------------------------------- holder


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """One of the trainee's own credentials, with what the sharing tools need."""

    id: str
    level_id: str
    achievement_name: str
    status: Status
    issued_at: datetime
    valid_until: datetime
    agreement: float
    revocation_reason: str | None
    jwt: str
    document: dict[str, Any]


def my_credentials(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> list[HeldCredential]:
    """The trainee's own credentials, newest first."""
    require_role(actor, "trainee")
    now = now or utcnow()
    rows = session.scalars(
        select(Credential)
        .where(Credential.user_id == actor.id)
        .order_by(Credential.issued_at.desc(), Credential.id)
    )
    return [
        HeldCredential(
            id=r.id,
            level_id=r.level_id,
            achievement_name=str(_achievement_of(r.document).get("name") or r.level_id),
            status=credential_status(r, now),
            issued_at=r.issued_at,
            valid_until=r.valid_until,
            agreement=r.agreement,
            revocation_reason=r.revocation_reason,
            jwt=r.jwt,
            document=r.document,
        )
        for r in rows
    ]


# ----------------------------------------------------------------------------- demo


def issue_demo_credentials(ctx: AppContext, *, now: datetime | None = None) -> dict[str, int]:
    """Make sure the demo cohort shows one active, one revoked and one expired credential.

    Idempotent: a status already present among the cohort is not issued again. Returns
    how many credentials of each status were created.
    """
    now = now or utcnow()
    catalog = ctx.base_catalog
    level_id = catalog.levels[0].id
    created = {"active": 0, "revoked": 0, "expired": 0}
    with ctx.session() as session:
        trainees = session.scalars(
            select(User)
            .where(
                User.cohort == DEMO_COHORT,
                User.role == "trainee",
                User.username != DEMO_EXCLUDED_USER,
            )
            .order_by(User.username)
        ).all()
        if not trainees:
            return created
        ids = [t.id for t in trainees]
        rows = session.scalars(select(Credential).where(Credential.user_id.in_(ids))).all()
        present = {credential_status(r, now) for r in rows}
        holders = {r.user_id for r in rows}
        # prefer trainees without any credential so each example is a separate person
        free = [t for t in trainees if t.id not in holders] or list(trainees)
        plan: list[tuple[Status, timedelta]] = [
            ("active", timedelta(days=30)),
            ("revoked", timedelta(days=60)),
            ("expired", timedelta(days=400)),
        ]
        for i, (wanted, age) in enumerate(s for s in plan if s[0] not in present):
            user = free[i % len(free)]
            row = issue_credential(
                session, user, catalog, level_id, 0.74 + 0.03 * i, now - age, settings=ctx.settings
            )
            if wanted == "revoked":
                row.revoked_at = now - age + timedelta(days=20)
                row.revocation_reason = (
                    "Demo: withdrawn after an audit found the exam was taken with outside help."
                )
                audit.record(session, None, "credential.revoke", row.id, reason="demo")
            created[wanted] += 1
        session.commit()
    return created
