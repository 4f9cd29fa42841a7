"""Verifier keys in the C2SP/Go note form, `<name>+<key ID hex>+<base64(type byte || public key)>`
(c2sp.org/signed-note, "Verifier keys"): how the ledger publishes its key and how a witness, a
policy file or LEDGER_WITNESSES names one, in the form independent implementations read.

Standard library only: copied into the bundle's verify.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

NOTE_ED25519 = 0x01  # a log's checkpoint signature (c2sp.org/signed-note)
COSIGNATURE_ED25519 = 0x04  # a witness's timestamped cosignature/v1 (c2sp.org/tlog-cosignature)
_KEY_TYPES = {NOTE_ED25519: "Ed25519 note key", COSIGNATURE_ED25519: "Ed25519 cosignature/v1 key"}
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class VerifierKeyError(ValueError):
    """A verifier key is malformed, of a type we do not verify, or its key ID does not match it."""


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        """SHA-256(name || 0x0A || type || public key)[:4], the signed-note recommendation that
        tlog-checkpoint and tlog-cosignature make mandatory."""
        return hashlib.sha256(self.name.encode() + b"\n" + bytes([self.key_type]) + self.public_key).digest()[:4]

    def __str__(self) -> str:
        material = base64.b64encode(bytes([self.key_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"


def _valid_key_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name)


def parse_verifier_key(text: str, key_type: int | None = None) -> VerifierKey:
    """The key `text` spells; `key_type` (0x01 or 0x04), if given, is the only type accepted."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise VerifierKeyError(f"{text!r} is not a verifier key: expected <name>+<key ID hex>+<base64 key>")
    name, hex_id, material = parts
    if not _valid_key_name(name):
        raise VerifierKeyError(f"verifier key name {name!r} is empty or holds a space, '+' or control character")
    if not _KEY_ID_HEX.fullmatch(hex_id):
        raise VerifierKeyError(f"verifier key {name}: key ID {hex_id!r} is not 8 lowercase hex digits")
    try:
        raw = base64.b64decode(material, validate=True)
    except ValueError:
        raise VerifierKeyError(f"verifier key {name}: its key material is not base64") from None
    if not raw or base64.b64encode(raw).decode("ascii") != material:
        raise VerifierKeyError(f"verifier key {name}: its key material is not canonical base64")
    if raw[0] not in _KEY_TYPES:
        raise VerifierKeyError(f"verifier key {name}: signature type 0x{raw[0]:02x} is not one we verify (0x01, 0x04)")
    if key_type is not None and raw[0] != key_type:
        raise VerifierKeyError(f"verifier key {name}: a {_KEY_TYPES[raw[0]]}, where a {_KEY_TYPES[key_type]} is needed")
    if len(raw) != 33:
        raise VerifierKeyError(f"verifier key {name}: an Ed25519 public key is 32 bytes, not {len(raw) - 1}")
    key = VerifierKey(name, raw[0], raw[1:])
    if key.key_id.hex() != hex_id:
        raise VerifierKeyError(f"verifier key {name}: key ID {hex_id} does not match its key ({key.key_id.hex()})")
    return key


def log_verifier_key(origin: str, public_key: bytes) -> str:
    """The ledger's own key, as published: the origin is the key name."""
    return str(VerifierKey(origin, NOTE_ED25519, public_key))
