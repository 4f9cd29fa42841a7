"""Signed tree heads: C2SP checkpoints in Ed25519 signed notes, signed and verified with
`cryptography`, and the signing key file. The note format itself is in ledger.signed_notes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import ConfigurationError
from ledger import signed_notes
from ledger.key_files import read_or_create
from ledger.signed_notes import CheckpointError, parse_note

__all__ = ["Checkpoint", "CheckpointError", "KeyFileError", "Signer", "SigningKeyMismatch", "load_or_create_signing_key", "parse_note", "verify_note"]


class KeyFileError(ConfigurationError):
    """The signing key file exists but does not hold an unencrypted Ed25519 PEM key."""


class SigningKeyMismatch(KeyFileError):
    """The signing key (or origin) is not the one the log's latest checkpoint verifies with."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str
    note: str  # the full signed note: text, blank line, signature line

    def as_json(self, public_key: bytes) -> dict[str, str | int]:
        return {
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "note": self.note,
            "public_key": base64.b64encode(public_key).decode("ascii"),
        }


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey, origin: str) -> None:
        signed_notes.check_origin(origin)
        self._private_key = private_key
        self._origin = origin
        self._public_key_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = signed_notes.key_id(origin, self._public_key_raw)

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def public_key_raw(self) -> bytes:
        return self._public_key_raw

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def sign(self, tree_size: int, root_hash: bytes, timestamp: str) -> Checkpoint:
        text = signed_notes.note_text(self._origin, tree_size, root_hash, timestamp)
        signature = self._private_key.sign(text.encode())
        note = f"{text}\n{signed_notes.signature_line(self._origin, self._key_id, signature)}"
        return Checkpoint(self._origin, tree_size, root_hash, timestamp, note)

    def derive_secret(self, purpose: str) -> bytes:
        """A 32-byte secret for `purpose` (e.g. signing the dashboard's session cookies), derived
        one way from the signing key with HKDF-SHA256: every process holding the key derives the
        same secret, and the secret reveals nothing about the key."""
        raw = self._private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(raw)


def _read_signing_key(path: Path) -> Ed25519PrivateKey:
    data = path.read_bytes()
    # `from None`: the chained parser error is noise, and nothing derived from the key
    # material belongs in a message that ends up in logs.
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the PKCS8 PEM Ed25519 key at ``path``, creating it (mode 0600) if absent."""
    read_or_create(
        path,
        lambda: Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return _read_signing_key(path)


def ed25519_verifies(public_key_raw: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_note(note: str, public_key_raw: bytes, origin: str) -> tuple[int, bytes, str]:
    """(tree_size, root_hash, timestamp) of a checkpoint signed by ``public_key_raw`` as
    ``origin``. Signatures by other keys (e.g. witness cosignatures) are ignored."""
    return signed_notes.verify_note(note, public_key_raw, origin, ed25519_verifies)
