"""SQLAlchemy 2.x typed models. Schema changes go through Alembic (db/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


ROLES = ("trainee", "instructor", "admin")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    cohort: Mapped[str | None] = mapped_column(String(64), index=True)
    show_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime | None]


class LoginEvent(Base):
    """Every login try, for throttling and the audit trail."""

    __tablename__ = "login_events"
    __table_args__ = (Index("ix_login_events_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthSession(Base):
    """Server-side login session; the browser holds only a signed reference to it."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    # One-time code the browser trades for the cookie right after login.
    handoff_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("user_id", "level_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    level_id: Mapped[str] = mapped_column(String(8))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(Base):
    """One sitting of an item set: a practice set, an exam form or a calibration batch."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_user_kind", "user_id", "kind", "level_id"),
        Index("ix_attempts_session", "calibration_session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # practice | exam | calibration
    level_id: Mapped[str] = mapped_column(String(8))
    module_id: Mapped[str | None] = mapped_column(String(16), index=True)
    calibration_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE")
    )
    content_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|submitted|expired
    form: Mapped[list[Any]] = mapped_column(default=list)  # item ids, in the order served
    seed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    agreement: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[dict[str, Any] | None]


class Annotation(Base):
    """A trainee's answer to one item, saved the moment it is given."""

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("attempt_id", "item_id"),
        Index("ix_annotations_user_created", "user_id", "created_at"),
        Index("ix_annotations_item", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(32))
    answer: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    grade: Mapped[Grade | None] = relationship(back_populates="annotation", uselist=False)


class Grade(Base):
    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[float] = mapped_column(Float)
    correct: Mapped[bool] = mapped_column(Boolean)
    pending_review: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_version: Mapped[str] = mapped_column(String(32))
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)

    annotation: Mapped[Annotation] = relationship(back_populates="grade")


class ModuleProgress(Base):
    """Running state of a trainee in a module, updated with each graded practice answer."""

    __tablename__ = "module_progress"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(String(16))
    graded_items: Mapped[int] = mapped_column(Integer, default=0)
    agreement: Mapped[float | None] = mapped_column(Float)
    passed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TraineeRolling(Base):
    """Per-trainee rolling agreement, kept current where answers are written so the cohort
    view reads one row per trainee instead of re-deriving it from stored grades.

    ``rolling_agreement`` is the figure the drift rule and the trainee's dashboard use
    (``grading.rolling_agreement``); the kappa columns are the pooled kappa over the label
    decisions alone, with its interval, as a second view of the same window.
    """

    __tablename__ = "trainee_rolling"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    graded: Mapped[int] = mapped_column(Integer, default=0)  # practice answers, duplicates too
    rolling_kappa: Mapped[float | None] = mapped_column(Float)  # the last drift window
    kappa_low: Mapped[float | None] = mapped_column(Float)
    kappa_high: Mapped[float | None] = mapped_column(Float)
    previous_kappa: Mapped[float | None] = mapped_column(Float)  # the window before (trend)
    rolling_agreement: Mapped[float | None] = mapped_column(Float)  # the last drift window
    previous_agreement: Mapped[float | None] = mapped_column(Float)  # the window before
    last_activity: Mapped[datetime | None]  # the latest answer of any kind
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Review(Base):
    """An instructor's rubric scores for a written justification."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("annotation_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict[str, Any]]  # criterion -> 0..4
    feedback: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalibrationSession(Base):
    __tablename__ = "calibration_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    level_id: Mapped[str] = mapped_column(String(8))
    item_ids: Mapped[list[Any]]
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|closed|published
    published_at: Mapped[datetime | None]


class CalibrationParticipant(Base):
    __tablename__ = "calibration_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class CalibrationNote(Base):
    """The discussion note and adjudicated label for one item of a session."""

    __tablename__ = "calibration_notes"
    __table_args__ = (UniqueConstraint("session_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE")
    )
    item_id: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    adjudicated: Mapped[dict[str, Any] | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(32), index=True)
    annotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|accepted|rejected
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GoldOverride(Base):
    """Corrected gold for an item (after an accepted dispute): a new content version."""

    __tablename__ = "gold_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), index=True)
    gold: Mapped[dict[str, Any]]  # {"gold": <value in the item's own shape>}
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Remediation(Base):
    __tablename__ = "remediations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    module_ids: Mapped[list[Any]]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Override(Base):
    """An instructor's exception to a gate: always with a reason, always audited."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # unlock_module|extra_attempt|lift_remediation
    target: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Credential(Base):
    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # urn:uuid:...
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    level_id: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime]
    agreement: Mapped[float] = mapped_column(Float)
    status_list_index: Mapped[int] = mapped_column(Integer, unique=True)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(255))
    jwt: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]]


class AuditLog(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action", "action"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # username at the time, or "system"
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AppMeta(Base):
    """Key-value facts about this installation (demo mode, seeded, ...)."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
