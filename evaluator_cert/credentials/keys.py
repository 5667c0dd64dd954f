"""P-256 signing keys for credentials, and the public key set that verifies them.

Layout inside the key directory:

``signing-key.pem``
    the active private key (PKCS#8 PEM, mode 0600), generated on first use unless an
    operator supplies one by path (``EVALUATOR_CERT_SIGNING_KEY_FILE``).
``public-keys/<key_id>.pem``
    the public part of every key that has ever been active. Retired keys stay here so
    that credentials signed before a rotation still verify.

A key's ``key_id`` is its RFC 7638 JWK thumbprint; the ``kid`` placed in JWT headers is
the URL where that public JWK is served: ``{base_url}/keys/{key_id}``.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
PRIVATE_KEY_NAME = "signing-key.pem"
PUBLIC_DIR_NAME = "public-keys"
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class SigningKeyError(Exception):
    """A signing key cannot be created, read or used; the message is one sentence."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key: its thumbprint id, the URL used as JWT ``kid``, and the key itself."""

    key_id: str
    kid: str
    key: ECKey


def key_id_from_kid(kid: str) -> str:
    """The bare thumbprint from a ``kid`` that is either a key URL or the thumbprint itself."""
    return kid.rstrip("/").rsplit("/", 1)[-1]


def _thumbprint(key: ECKey) -> str:
    return key.thumbprint()


def _load_private_pem(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except PermissionError:
        raise SigningKeyError(
            f"Signing key file {path} cannot be read (permission denied)."
        ) from None
    except IsADirectoryError:
        raise SigningKeyError(f"Signing key file {path} is a directory, not a PEM file.") from None
    except FileNotFoundError:
        raise SigningKeyError(f"Signing key file {path} does not exist.") from None
    except OSError as exc:
        raise SigningKeyError(f"Signing key file {path} cannot be read ({exc.strerror}).") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SigningKeyError(
            f"Signing key file {path} is encrypted; supply an unencrypted PEM private key."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"Signing key file {path} is not a valid PEM private key (corrupt or wrong format)."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningKeyError(f"Signing key file {path} does not hold a P-256 (ES256) private key.")
    return key


def _load_public_pem(path: Path) -> ec.EllipticCurvePublicKey:
    try:
        data = path.read_bytes()
        key = serialization.load_pem_public_key(data)
    except OSError as exc:
        raise SigningKeyError(f"Public key file {path} cannot be read ({exc.strerror}).") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError(f"Public key file {path} is not a valid PEM public key.") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningKeyError(f"Public key file {path} does not hold a P-256 public key.")
    return key


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_temp(directory: Path, data: bytes, mode: int) -> Path:
    """Write ``data`` to a new file in ``directory`` created with ``mode`` from the start."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".key-", suffix=".tmp")
    try:
        os.fchmod(fd, mode)  # mkstemp already uses 0600; public files are widened explicitly
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


class KeyRing:
    """The issuer's signing keys: one active private key plus every public key ever used.

    Nothing touches the disk until a key is needed. Several app instances may share the
    directory: the first one to need a key creates it, the others load that same key.
    """

    def __init__(self, directory: Path, base_url: str, key_file: Path | None = None) -> None:
        self.directory = Path(directory)
        self.base_url = base_url.rstrip("/")
        self.key_file = Path(key_file) if key_file is not None else None
        self._active: SigningKey | None = None

    # -- paths -------------------------------------------------------------------------
    @property
    def private_key_path(self) -> Path:
        """Where the active private key lives (the supplied file, if any)."""
        return self.key_file if self.key_file is not None else self.directory / PRIVATE_KEY_NAME

    @property
    def public_dir(self) -> Path:
        return self.directory / PUBLIC_DIR_NAME

    def kid_for(self, key_id: str) -> str:
        """The URL of a public JWK, used as the ``kid`` header of JWTs it signs."""
        return f"{self.base_url}/keys/{key_id}"

    # -- active key --------------------------------------------------------------------
    @property
    def active(self) -> SigningKey:
        """The key that signs new credentials, created on first use if there is none."""
        if self._active is None:
            self._active = self._load_or_create()
        return self._active

    def _ensure_dirs(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.public_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise SigningKeyError(
                f"Key directory {self.directory} cannot be created ({exc.strerror})."
            ) from None

    def _wrap(self, native: ec.EllipticCurvePrivateKey) -> SigningKey:
        key = ECKey.import_key(native)
        key_id = _thumbprint(key)
        return SigningKey(key_id=key_id, kid=self.kid_for(key_id), key=key)

    def _record_public(self, native: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
        """Publish a key's public part (idempotent) and return its key id."""
        public = native.public_key() if isinstance(native, ec.EllipticCurvePrivateKey) else native
        key_id = _thumbprint(ECKey.import_key(public))
        target = self.public_dir / f"{key_id}.pem"
        if not target.exists():
            try:
                tmp = _write_temp(self.public_dir, _public_pem(public), 0o644)
                os.replace(tmp, target)
            except OSError as exc:
                raise SigningKeyError(
                    f"Public key {target} cannot be written ({exc.strerror})."
                ) from None
        return key_id

    def _load_or_create(self) -> SigningKey:
        self._ensure_dirs()
        path = self.private_key_path
        if self.key_file is None and not path.exists():
            self._create_if_absent(path)
        native = _load_private_pem(path)
        self._record_public(native)
        return self._wrap(native)

    def _create_if_absent(self, path: Path) -> None:
        native = ec.generate_private_key(ec.SECP256R1())
        try:
            tmp = _write_temp(self.directory, _private_pem(native), 0o600)
        except OSError as exc:
            raise SigningKeyError(
                f"Signing key cannot be written in {self.directory} ({exc.strerror})."
            ) from None
        try:
            # link() fails if another process won the race; its key is then the one we use
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError as exc:
            raise SigningKeyError(
                f"Signing key file {path} cannot be created ({exc.strerror})."
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def rotate(self) -> str:
        """Make a fresh key the active one and return its key id.

        The previous key's public part stays published so its credentials keep verifying.
        """
        if self.key_file is not None:
            raise SigningKeyError(
                f"The signing key is supplied by {self.key_file}; rotate it by replacing that file."
            )
        previous = self.active  # makes sure the current key is recorded before it is replaced
        self._record_public(previous.key.public_key)
        native = ec.generate_private_key(ec.SECP256R1())
        # published before it can sign anything, so no token ever names an unknown key
        self._record_public(native)
        path = self.private_key_path
        try:
            tmp = _write_temp(self.directory, _private_pem(native), 0o600)
            os.replace(tmp, path)
        except OSError as exc:
            raise SigningKeyError(
                f"Signing key file {path} cannot be replaced ({exc.strerror})."
            ) from None
        self._active = self._wrap(native)
        return self._active.key_id

    def reload(self) -> None:
        """Forget the cached active key (e.g. after another instance rotated it)."""
        self._active = None

    # -- publication -------------------------------------------------------------------
    def key_ids(self) -> list[str]:
        """Ids of every published key, the active one first."""
        active_id = self.active.key_id
        others = sorted(p.stem for p in self.public_dir.glob("*.pem") if p.stem != active_id)
        return [active_id, *others]

    def _jwk(self, key: ECKey, key_id: str) -> dict[str, Any]:
        data: dict[str, Any] = dict(key.as_dict(private=False))
        data.update({"kid": self.kid_for(key_id), "use": "sig", "alg": ALGORITHM})
        return data

    def public_jwk(self, key_id: str) -> dict[str, Any] | None:
        """The public JWK of ``key_id`` (thumbprint or key URL), or None if it is unknown."""
        key_id = key_id_from_kid(key_id)
        if key_id == self.active.key_id:
            return self._jwk(self.active.key, key_id)
        # the id comes from a URL: only a SHA-256 thumbprint shape may become a file name
        if not _KEY_ID_RE.fullmatch(key_id):
            return None
        path = self.public_dir / f"{key_id}.pem"
        if not path.is_file():
            return None
        key = ECKey.import_key(_load_public_pem(path))
        if _thumbprint(key) != key_id:
            raise SigningKeyError(f"Public key file {path} does not match its name.")
        return self._jwk(key, key_id)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWK Set of every key ever used, for ``/.well-known/jwks.json``."""
        keys = [self.public_jwk(key_id) for key_id in self.key_ids()]
        return {"keys": [k for k in keys if k is not None]}
