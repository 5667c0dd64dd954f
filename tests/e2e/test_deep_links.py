"""A deep link as the first visit after the server starts (a share link, a QR code, a
bookmark) goes through app.py like any other visit: the role's navigation, not a list of
every page file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/admin_users", "/verify"])
def test_the_first_visit_after_a_start_gets_the_apps_navigation(
    live_server: Any, page: Any, wait_for_app: Callable[..., None], path: str
) -> None:
    page.goto(live_server.url(path))  # no session has run app.py in this process yet
    wait_for_app(page)
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    links.first.wait_for()
    shown = sorted(text.splitlines()[-1] for text in links.all_inner_texts())  # after the icon
    assert shown == ["Log in", "Verify a credential"]
    if path == "/admin_users":  # a page the visitor may not open: the login form instead
        page.get_by_role("button", name="Log in").wait_for()
