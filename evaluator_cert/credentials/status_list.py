"""W3C Bitstring Status List v1.0: the published, signed revocation list.

Bit ``i`` is the ``i``-th bit counting from the most significant (leftmost) bit of the
first byte; a set bit means "revoked". The list is GZIP-compressed, base64url-encoded
without padding and given the multibase prefix ``u``.
"""

from __future__ import annotations

import base64
import gzip
import random
import secrets
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from evaluator_cert.credentials.document import VC_CONTEXT_V2, IssuerProfile, to_xsd_datetime

# The spec's minimum: a list this long hides which credential a verifier asks about.
MIN_SIZE = 131_072
# Refuse to inflate anything larger (a gzip bomb guard); 2^27 bits is ~1000 full lists.
MAX_DECODED_BYTES = 16 * 1024 * 1024


class StatusListError(ValueError):
    """An encoded list that cannot be decoded, or an index outside a list."""


class StatusListFullError(StatusListError):
    """Every index of a list is taken; a new list must be started."""


@dataclass(frozen=True, slots=True)
class StatusBits:
    """A decoded bitstring."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data) * 8

    def is_set(self, index: int) -> bool:
        if not 0 <= index < self.size:
            raise StatusListError(f"index {index} is outside a list of {self.size} entries")
        return bool(self.data[index >> 3] & (0x80 >> (index & 7)))

    __contains__ = is_set

    def indices(self) -> set[int]:
        """Every set index."""
        bits = np.unpackbits(np.frombuffer(self.data, dtype=np.uint8))  # big-endian per byte
        return {int(i) for i in np.flatnonzero(bits)}


def encode_status_list(revoked_indices: Iterable[int], size: int = MIN_SIZE) -> str:
    """The ``encodedList`` value for a list of ``size`` entries with these bits set."""
    if size < MIN_SIZE or size % 8:
        raise StatusListError(f"size must be a multiple of 8 and at least {MIN_SIZE}")
    bits = np.zeros(size, dtype=np.uint8)
    indices = np.fromiter((int(i) for i in revoked_indices), dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise StatusListError(f"status index outside 0..{size - 1}")
    bits[indices] = 1
    packed = np.packbits(bits).tobytes()  # bit 0 lands in the high bit of byte 0
    compressed = gzip.compress(packed, compresslevel=9, mtime=0)  # mtime=0: same list, same bytes
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> StatusBits:
    """Decode an ``encodedList`` value (with or without the multibase ``u`` prefix)."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("encoded status list is empty")
    body = encoded[1:] if encoded[0] == "u" else encoded
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError):
        raise StatusListError("encoded status list is not base64url") from None
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing only
    try:
        data = inflater.decompress(compressed, MAX_DECODED_BYTES)
    except zlib.error:
        raise StatusListError("encoded status list is not GZIP data") from None
    if inflater.unconsumed_tail:
        raise StatusListError("decoded status list is larger than allowed")
    if not inflater.eof:
        raise StatusListError("encoded status list is truncated")
    return StatusBits(data)


def is_set(encoded: str, index: int) -> bool:
    """Whether bit ``index`` of an encoded list is set (i.e. that credential is revoked)."""
    return decode_status_list(encoded).is_set(index)


def allocate_index(used: set[int], size: int = MIN_SIZE, rng: random.Random | None = None) -> int:
    """A random unused index, so that list positions do not reveal issuance order."""
    if len(used) >= size:
        raise StatusListFullError(f"all {size} indices of this status list are in use")
    rng = rng or secrets.SystemRandom()
    # Sampling is cheap while the list is sparse; past half full, draw from what is free.
    if len(used) < size // 2:
        while True:
            candidate = rng.randrange(size)
            if candidate not in used:
                return candidate
    taken = np.zeros(size, dtype=bool)
    taken[[i for i in used if 0 <= i < size]] = True
    free = np.flatnonzero(~taken)
    if not free.size:
        raise StatusListFullError(f"all {size} indices of this status list are in use")
    return int(free[rng.randrange(free.size)])


def build_status_list_credential(
    list_id: str,
    url: str,
    encoded: str,
    issuer: IssuerProfile,
    valid_from: datetime,
    *,
    valid_until: datetime | None = None,
    purpose: str = "revocation",
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` to be signed with ``sign_credential``."""
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded,
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "name": f"Revocation list {list_id}",
        "issuer": {"id": issuer.id, "name": issuer.name},
        "validFrom": to_xsd_datetime(valid_from),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        document["validUntil"] = to_xsd_datetime(valid_until)
    return document
