"""What a person may paste where a credential id is asked for: an id or a share link."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluator_cert.config import Settings
from evaluator_cert.services.credentials import (
    MAX_ID_TEXT_LENGTH,
    credential_id_from_text,
    normalize_id,
    verify_url,
)

BARE = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
URN = f"urn:uuid:{BARE}"


@pytest.mark.parametrize(
    "text",
    [
        URN,
        BARE,
        BARE.upper(),
        f"  {URN}\n",
        f"<{URN}>",
        f"http://localhost:8600/verify?id={URN}",
        f"https://certs.example.org/verify?id={BARE}",
        f"  <https://certs.example.org/verify?id={URN}>  ",
        f"https://certs.example.org/verify?id=urn%3Auuid%3A{BARE}",
        f"https://certs.example.org/verify?utm_source=mail&id={URN}#top",
        f"certs.example.org/verify?id={URN}",  # copied without the scheme
        f"localhost:8501/verify?id={URN}",
        f"https://x.example/verify?id={URN}&id={BARE}",  # the same id twice
    ],
)
def test_ids_and_share_links_give_the_canonical_id(text: str) -> None:
    assert credential_id_from_text(text) == URN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "typo",
        f"{URN}x",
        f"https://certs.example.org/verify/{URN}",  # not the id parameter
        "https://certs.example.org/verify?id=typo",
        f"https://certs.example.org/verify?id={URN}&id=urn:uuid:{uuid.uuid4()}",  # which one?
        f"https://certs.example.org/verify?other={URN}",
        f"https://certs.example.org/verify?id={URN}" + "&x=y" * MAX_ID_TEXT_LENGTH,
        None,
        42,
    ],
)
def test_anything_else_is_not_an_id(text: object) -> None:
    assert credential_id_from_text(text) is None


def test_the_share_link_the_app_hands_out_reads_back() -> None:
    settings = Settings(base_url="http://localhost:8600")
    assert credential_id_from_text(verify_url(settings, URN)) == URN


def test_a_single_id_stays_strict() -> None:
    # /api/v1/credentials/{id} names one id in its path: no links there.
    assert normalize_id(f"https://x.example/verify?id={URN}") is None
    assert normalize_id(URN) == URN


@given(
    credential=st.uuids(),
    scheme=st.sampled_from(["http", "https"]),
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){0,2}(:[0-9]{2,5})?", fullmatch=True),
    bare=st.booleans(),
)
def test_any_host_and_form_of_the_id(
    credential: uuid.UUID, scheme: str, host: str, bare: bool
) -> None:
    given_id = str(credential) if bare else f"urn:uuid:{credential}"
    link = f"{scheme}://{host}/verify?id={given_id}"
    assert credential_id_from_text(link) == f"urn:uuid:{credential}"
