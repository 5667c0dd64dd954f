"""W3C Bitstring Status List encoding, index allocation and the status-list credential."""

from __future__ import annotations

import base64
import gzip
import itertools
import random
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluator_cert.credentials import (
    IssuerProfile,
    KeyRing,
    StatusListError,
    StatusListFullError,
    allocate_index,
    build_status_list_credential,
    decode_status_list,
    encode_status_list,
    is_set,
    sign_credential,
    verify_credential_jwt,
)

SIZE = 131_072
# The all-clear 16 KB list given as the example in the W3C Bitstring Status List v1.0 spec.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def raw_bytes(encoded: str) -> bytes:
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=SIZE - 1), max_size=300))
def test_decodes_to_exactly_the_bits_set(revoked: set[int]) -> None:
    encoded = encode_status_list(revoked)
    bits = decode_status_list(encoded)
    assert bits.size == SIZE
    assert bits.indices() == revoked
    for index in list(revoked)[:20]:
        assert is_set(encoded, index)
    for neighbour in {i + 1 for i in revoked if i + 1 < SIZE} - revoked:
        assert not bits.is_set(neighbour)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).map(lambda k: SIZE * k),
    st.data(),
)
def test_larger_lists_round_trip(size: int, data: st.DataObject) -> None:
    revoked = data.draw(st.sets(st.integers(min_value=0, max_value=size - 1), max_size=50))
    assert decode_status_list(encode_status_list(revoked, size)).indices() == revoked


def test_bit_order_is_leftmost_bit_first() -> None:
    raw = raw_bytes(encode_status_list({0, 7, 8, 13}))
    assert raw[0] == 0b1000_0001  # indices 0 and 7
    assert raw[1] == 0b1000_0100  # indices 8 and 13
    assert not any(raw[2:])
    assert len(raw) == SIZE // 8


def test_encoding_format() -> None:
    encoded = encode_status_list({5})
    assert encoded.startswith("u")
    assert re.fullmatch(r"u[A-Za-z0-9_-]+", encoded)  # base64url, no padding
    assert encode_status_list({5}) == encoded  # deterministic (no gzip timestamp)


def test_spec_example_decodes_to_an_empty_list() -> None:
    bits = decode_status_list(SPEC_EXAMPLE)
    assert bits.size == SIZE
    assert bits.indices() == set()
    assert decode_status_list(encode_status_list(set())).indices() == set()


def test_invalid_sizes_and_indices() -> None:
    with pytest.raises(StatusListError):
        encode_status_list({1}, size=SIZE + 4)
    with pytest.raises(StatusListError):
        encode_status_list({1}, size=1024)  # below the spec's privacy minimum
    with pytest.raises(StatusListError):
        encode_status_list({SIZE})
    with pytest.raises(StatusListError):
        encode_status_list({-1})
    with pytest.raises(StatusListError):
        is_set(encode_status_list(set()), SIZE)


@pytest.mark.parametrize(
    "bad",
    ["", "u", "u!!!", "uAAAA", "u" + base64.urlsafe_b64encode(b"plain text").decode()],
)
def test_undecodable_lists_raise_status_list_error(bad: str) -> None:
    with pytest.raises(StatusListError):
        decode_status_list(bad)


def test_oversized_list_is_refused() -> None:
    bomb = gzip.compress(bytes(20 * 1024 * 1024))  # 20 MB of zeros, ~20 KB compressed
    encoded = "u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    with pytest.raises(StatusListError, match="larger than allowed"):
        decode_status_list(encoded)


def test_allocate_index_is_unused_and_not_sequential() -> None:
    rng = random.Random(20260301)
    used: set[int] = set()
    picks = []
    for _ in range(500):
        index = allocate_index(used, SIZE, rng=rng)
        assert 0 <= index < SIZE
        assert index not in used
        used.add(index)
        picks.append(index)
    steps = [b - a for a, b in itertools.pairwise(picks)]
    assert len(set(steps)) > 400  # no fixed stride
    assert sorted(picks) != picks
    assert max(picks) - min(picks) > SIZE // 2  # spread over the whole list


def test_allocate_index_in_a_nearly_full_list() -> None:
    size = SIZE
    free = {3, 65_000, size - 1}
    used = set(range(size)) - free
    seen = {allocate_index(used, size) for _ in range(30)}
    assert seen <= free
    assert allocate_index(used, size, rng=secrets.SystemRandom()) in free
    with pytest.raises(StatusListFullError):
        allocate_index(set(range(size)), size)


def test_status_list_credential_is_signed_and_verifiable(tmp_path: Path) -> None:
    base = "https://cert.example.org"
    keyring = KeyRing(tmp_path / "keys", base)
    issuer = IssuerProfile(id=base, name="Evaluator Certification Board")
    published = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    url = f"{base}/status/1"
    encoded = encode_status_list({11, 4242})
    document = build_status_list_credential(
        "1", url, encoded, issuer, published, valid_until=published + timedelta(days=1)
    )
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == url
    subject = document["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert subject["encodedList"] == encoded

    token = sign_credential(document, keyring)
    result = verify_credential_jwt(token, keyring.jwks(), now=published + timedelta(hours=1))
    assert result.valid, result.checks
    assert result.credential is not None
    listed = decode_status_list(result.credential["credentialSubject"]["encodedList"])
    assert listed.indices() == {11, 4242}
    stale = verify_credential_jwt(token, keyring.jwks(), now=published + timedelta(days=2))
    assert not stale.valid and not stale.checks["expiry"]["ok"]
