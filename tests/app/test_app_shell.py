"""What every page shares: nothing stray is printed by the app shell."""

from __future__ import annotations

from tests.app.conftest import app_as, page_text


def test_app_shell_prints_nothing_but_the_page(app_ctx, make_user) -> None:
    at = app_as(make_user("tina"))
    at.run()
    assert not at.exception
    text = page_text(at)
    # A bare expression in app.py would be rendered by Streamlit's magic (e.g. a help table).
    assert "No docs available" not in text
    assert "Catalog(" not in text
    assert not at.get("help")
