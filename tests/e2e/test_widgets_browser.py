"""In the browser: the answer widgets whose behaviour lives partly in the client.

A word that occurs twice is two pills the trainee can tell apart (the pill state is kept by
label in the browser), and dragging a box on the image fills the corner inputs. The widgets
run on a one-item page served by ``streamlit run``, so each test opens the item it needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import app_env, free_port, running_app

pytestmark = pytest.mark.browser

ONE_ITEM_PAGE = """
import json

import streamlit as st

from evaluator_cert.content.catalog import load_catalog
from evaluator_cert.ui.widgets import answer_widget

catalog = load_catalog()
item = catalog.item(st.query_params["item"])
answer = answer_widget(item, seed=7, media=catalog.media_path, key="w")
if answer is not None:
    st.code(json.dumps(answer), language="json")
"""


@pytest.fixture(scope="module")
def widget_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``widget_page(item_id)``: the URL of a page showing that item's answer widget."""
    folder = tmp_path_factory.mktemp("widgets")
    script = folder / "one_item.py"
    script.write_text(ONE_ITEM_PAGE)
    with running_app(
        app_env({}), free_port(), folder / "server.log", str(script), "/_stcore/health"
    ) as base_url:
        yield lambda item_id: f"{base_url}/?item={item_id}"


def _open(page: Any, url: str, wait: Callable[..., None]) -> None:
    page.goto(url)
    page.get_by_test_id("stForm").first.wait_for()
    wait(page)


def test_the_first_of_two_identical_words_is_marked_on_its_own(
    widget_page: Callable[[str], str], page: Any, wait_for_app: Callable[..., None]
) -> None:
    # "Canberra rejected the proposal on Tuesday, officials in Canberra confirmed."
    _open(page, widget_page("L1_M001_P27"), wait_for_app)
    org = page.get_by_test_id("stButtonGroup").nth(1)  # PERSON, ORG, LOC, DATE
    org.get_by_text("ORG").wait_for()
    pills = org.get_by_role("button")
    first, second = pills.nth(0), pills.nth(9)
    assert first.inner_text().strip("\u200b") == second.inner_text().strip("\u200b") == "Canberra"
    first.click()
    assert first.get_attribute("aria-pressed") == "true"
    assert second.get_attribute("aria-pressed") != "true"
    page.get_by_role("button", name="Submit answer").click()
    page.get_by_test_id("stCode").wait_for()
    wait_for_app(page)
    answer = json.loads(page.get_by_test_id("stCode").inner_text())
    assert answer == {"spans": [{"start": 0, "end": 1, "label": "ORG"}]}


def test_dragging_on_the_image_fills_the_corner_inputs(
    widget_page: Callable[[str], str], page: Any, wait_for_app: Callable[..., None]
) -> None:
    _open(page, widget_page("L3_M203_P01"), wait_for_app)  # a 480 x 320 street scene
    area = page.get_by_test_id("stPlotlyChart").locator(".nsewdrag").first
    area.wait_for()
    box = area.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    # The drag reruns the app, which writes the box into the inputs.
    page.wait_for_function(
        "document.querySelector(\"input[aria-label='x0']\")?.value > 0", timeout=15_000
    )
    wait_for_app(page)
    corners = [int(page.get_by_label(c).input_value()) for c in ("x0", "y0", "x1", "y1")]
    assert 0 < corners[0] < corners[2] <= 480 and 0 < corners[1] < corners[3] <= 320, corners
    page.get_by_role("button", name="Add box").click()
    page.get_by_text(f"at {corners}").wait_for()
