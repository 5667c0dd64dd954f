"""One typed settings object, read from ``EVALUATOR_CERT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "EVALUATOR_CERT_"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(PREFIX + name)
    return value if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name} must be a number, got {raw!r}") from exc


def _env_int(name: str, default: int, *, minimum: int = 1) -> int:
    # A count of 0 would lock every account on its first login, or allow empty passwords.
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{PREFIX}{name} must be at least {minimum}, got {raw!r}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{PREFIX}{name} must be true or false, got {raw!r}")


class ConfigError(ValueError):
    """A setting has a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = REPO_ROOT / "data"
    content_dir: Path = REPO_ROOT
    database_url: str = ""
    base_url: str = "http://localhost:8501"
    issuer_name: str = "evaluator-cert"
    signing_key_file: Path | None = None
    secret_key: str | None = None
    # Login sessions: absolute lifetime and inactivity timeout.
    session_hours: float = 12.0
    session_idle_minutes: float = 120.0
    # Throttling: this many failures within the window lock the account for lockout_minutes.
    lockout_failures: int = 5
    lockout_window_minutes: float = 15.0
    lockout_minutes: float = 15.0
    min_password_length: int = 10
    # A salted hash of the holder's e-mail in new credentials, so a verifier who knows the
    # address can match it; off where policy forbids any trace of the address.
    credential_email_hash: bool = True

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{self.data_dir / 'evaluator_cert.db'}"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("DATA_DIR", str(REPO_ROOT / "data"))).expanduser()  # type: ignore[arg-type]
        key_file = _env("SIGNING_KEY_FILE")
        return cls(
            data_dir=data_dir,
            content_dir=Path(_env("CONTENT_DIR", str(REPO_ROOT))).expanduser(),  # type: ignore[arg-type]
            database_url=_env("DATABASE_URL", "") or "",
            base_url=(_env("BASE_URL", "http://localhost:8501") or "").rstrip("/"),
            issuer_name=_env("ISSUER_NAME", "evaluator-cert") or "evaluator-cert",
            signing_key_file=Path(key_file) if key_file else None,
            secret_key=_env("SECRET_KEY"),
            session_hours=_env_float("SESSION_HOURS", 12.0),
            session_idle_minutes=_env_float("SESSION_IDLE_MINUTES", 120.0),
            lockout_failures=_env_int("LOCKOUT_FAILURES", cls.lockout_failures),
            lockout_window_minutes=_env_float("LOCKOUT_WINDOW_MINUTES", cls.lockout_window_minutes),
            lockout_minutes=_env_float("LOCKOUT_MINUTES", cls.lockout_minutes),
            min_password_length=_env_int("MIN_PASSWORD_LENGTH", cls.min_password_length),
            credential_email_hash=_env_bool("CREDENTIAL_EMAIL_HASH", cls.credential_email_hash),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
