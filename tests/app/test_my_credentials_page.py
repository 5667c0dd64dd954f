"""The My credentials page reads the name-visibility choice through the service layer."""

from __future__ import annotations

from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.actors import Actor
from evaluator_cert.ui.state import ACTOR_KEY
from tests.app.conftest import app_as

PAGE = "my_credentials.py"
TOGGLE = "Show my name on my public credential pages"


def test_toggle_shows_the_stored_choice_both_ways(app_ctx: AppContext, make_user) -> None:
    user = make_user("ada")
    at = app_as(user, PAGE)
    at.run()
    assert not at.exception, at.exception
    assert [(t.label, t.value) for t in at.toggle] == [(TOGGLE, False)]
    with app_ctx.session() as s:
        accounts.set_name_public(s, Actor.of(user), True)
    at.run()
    assert not at.exception, at.exception
    assert [(t.label, t.value) for t in at.toggle] == [(TOGGLE, True)]
    assert not at.toast  # showing the stored value saves nothing


def test_an_account_that_no_longer_exists_shows_the_name_hidden(
    app_ctx: AppContext, make_user
) -> None:
    user = make_user("ada")
    at = app_as(None, PAGE)
    at.session_state[ACTOR_KEY] = Actor(user.id + 1000, "gone", "trainee", "Gone")
    at.run()
    assert not at.exception, at.exception
    assert [(t.label, t.value) for t in at.toggle] == [(TOGGLE, False)]
    assert "Pass a level exam to earn your first credential" in at.info[0].value
