"""Passwords, session tokens and signed cookie values: all of security in one module."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from evaluator_cert.config import Settings
from evaluator_cert.errors import InvalidInputError

# argon2id with the library's current defaults (RFC 9106 low-memory profile); when they
# change, hashes are upgraded on the next successful login.
_hasher = PasswordHasher()

# Used to spend the same time on unknown usernames as on wrong passwords.
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")

COOKIE_NAME = "evaluator_cert_session"
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password. Returns ``(ok, new_hash)``; ``new_hash`` is set when the stored hash
    uses outdated parameters and should be replaced."""
    if password_hash is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False, None
    try:
        _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(password_hash):
        return True, _hasher.hash(password)
    return True, None


def check_password_policy(password: str, settings: Settings, *, username: str = "") -> None:
    """Raise InvalidInputError with one sentence when the password is too weak."""
    if len(password) < settings.min_password_length:
        raise InvalidInputError(
            f"Choose a password of at least {settings.min_password_length} characters."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(f"Passwords are limited to {MAX_PASSWORD_LENGTH} characters.")
    if username and password.lower() == username.lower():
        raise InvalidInputError("The password must not be the username.")
    if len(set(password)) < 4:
        raise InvalidInputError("The password needs more variety than a repeated character.")


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def secret_key(settings: Settings) -> bytes:
    """The key that signs cookies: from the environment, or created once in the data folder."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path: Path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def sign_value(value: str, key: bytes) -> str:
    mac = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign_value(signed: str, key: bytes) -> str | None:
    """The original value, or None when the signature does not match."""
    value, _, mac = signed.rpartition(".")
    if not value:
        return None
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None
