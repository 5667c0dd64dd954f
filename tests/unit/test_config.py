"""Settings.from_env: every setting read from its EVALUATOR_CERT_* variable, bad values named."""

from __future__ import annotations

import dataclasses
import os

import pytest

from evaluator_cert.config import PREFIX, ConfigError, Settings

# field -> (variable, a value other than the default as the environment holds it, parsed)
THROTTLING = {
    "lockout_failures": ("LOCKOUT_FAILURES", "3", 3),
    "lockout_window_minutes": ("LOCKOUT_WINDOW_MINUTES", "7.5", 7.5),
    "lockout_minutes": ("LOCKOUT_MINUTES", "45", 45.0),
    "min_password_length": ("MIN_PASSWORD_LENGTH", "14", 14),
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The run's own settings (a CI database URL, say) must not leak into these checks.
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("field", sorted(THROTTLING))
def test_each_throttling_setting_is_read_from_its_variable(
    monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    variable, raw, parsed = THROTTLING[field]
    default = getattr(Settings(), field)
    assert parsed != default  # else the test could not tell
    assert getattr(Settings.from_env(), field) == default
    monkeypatch.setenv(PREFIX + variable, "")  # set but empty: the default, as for the others
    assert getattr(Settings.from_env(), field) == default
    monkeypatch.setenv(PREFIX + variable, raw)
    settings = Settings.from_env()
    assert getattr(settings, field) == parsed
    assert type(getattr(settings, field)) is type(default)
    for other in THROTTLING.keys() - {field}:  # the others keep their defaults
        assert getattr(settings, other) == getattr(Settings(), other)


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("LOCKOUT_FAILURES", "five", "must be a whole number, got 'five'"),
        ("LOCKOUT_FAILURES", "2.5", "must be a whole number, got '2.5'"),
        ("LOCKOUT_FAILURES", "0", "must be at least 1, got '0'"),
        ("MIN_PASSWORD_LENGTH", "ten", "must be a whole number, got 'ten'"),
        ("MIN_PASSWORD_LENGTH", "-4", "must be at least 1, got '-4'"),
        ("LOCKOUT_WINDOW_MINUTES", "a while", "must be a number, got 'a while'"),
        ("LOCKOUT_MINUTES", "15m", "must be a number, got '15m'"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, raw: str, message: str
) -> None:
    monkeypatch.setenv(PREFIX + variable, raw)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env()
    assert str(caught.value) == f"{PREFIX}{variable} {message}"


@pytest.mark.parametrize(
    ("raw", "expected"), [("false", False), ("0", False), ("off", False), ("Yes", True), ("", True)]
)
def test_the_credential_email_hash_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    assert Settings.from_env().credential_email_hash is True
    monkeypatch.setenv(PREFIX + "CREDENTIAL_EMAIL_HASH", raw)
    assert Settings.from_env().credential_email_hash is expected
    monkeypatch.setenv(PREFIX + "CREDENTIAL_EMAIL_HASH", "sometimes")
    with pytest.raises(ConfigError, match="CREDENTIAL_EMAIL_HASH must be true or false"):
        Settings.from_env()


def test_every_field_has_a_variable() -> None:
    # A field no variable sets could only ever hold its default.
    read = {"data_dir", "content_dir", "database_url", "base_url", "issuer_name"}
    read |= {"signing_key_file", "secret_key", "session_hours", "session_idle_minutes"}
    read |= {"credential_email_hash"}
    assert {f.name for f in dataclasses.fields(Settings)} == read | THROTTLING.keys()
