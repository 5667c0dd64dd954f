"""Credential core: Open Badges 3.0 documents, signing keys, VC-JWT, status list, PDF.

Pure code with no database: the services layer decides what to issue and stores it.
"""

from evaluator_cert.credentials.document import (
    AchievementInfo,
    AgreementResult,
    IssuerProfile,
    StatusEntry,
    build_credential,
    hash_email,
    status_entry_of,
)
from evaluator_cert.credentials.jwt import (
    Verification,
    sign_credential,
    verify_credential_jwt,
    verify_offline,
)
from evaluator_cert.credentials.keys import KeyRing, SigningKey, SigningKeyError, key_id_from_kid
from evaluator_cert.credentials.pdf import certificate_pdf, qr_png
from evaluator_cert.credentials.status_list import (
    StatusBits,
    StatusListError,
    StatusListFullError,
    allocate_index,
    build_status_list_credential,
    decode_status_list,
    encode_status_list,
    is_set,
)

__all__ = [
    "AchievementInfo",
    "AgreementResult",
    "IssuerProfile",
    "KeyRing",
    "SigningKey",
    "SigningKeyError",
    "StatusBits",
    "StatusEntry",
    "StatusListError",
    "StatusListFullError",
    "Verification",
    "allocate_index",
    "build_credential",
    "build_status_list_credential",
    "certificate_pdf",
    "decode_status_list",
    "encode_status_list",
    "hash_email",
    "is_set",
    "key_id_from_kid",
    "qr_png",
    "sign_credential",
    "status_entry_of",
    "verify_credential_jwt",
    "verify_offline",
]
