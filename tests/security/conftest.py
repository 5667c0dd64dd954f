"""The page fixtures of tests/app, shared with the security tests."""

from tests.app.conftest import app_ctx, make_user  # noqa: F401
