"""Signed tree heads as C2SP checkpoints (c2sp.org/tlog-checkpoint) in Ed25519
signed notes (c2sp.org/signed-note).

A signed checkpoint reads::

    ledger.example/ms-l
    42
    <standard base64 of the 32-byte root hash>
    timestamp 2026-11-25T04:00:00.123456Z

    — ledger.example/ms-l <base64(4-byte key ID || 64-byte Ed25519 signature)>

The signature covers the note text (the four lines, final newline included); the
key name is the origin.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ROOT_HASH_SIZE = 32
_ED25519_SIGNATURE_TYPE = b"\x01"
_EM_DASH = "\u2014"
_TIMESTAMP_KEYWORD = "timestamp "
# ASCII-only on purpose: \d would also match non-ASCII digits. At most 20 digits (uint64),
# so int() is never fed an unbounded string.
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_MAX_TREE_SIZE = 2**64 - 1


class CheckpointError(ValueError):
    """A checkpoint is malformed, or its signature is missing or does not verify."""


class KeyFileError(ValueError):
    """The signing key file exists but does not hold an unencrypted Ed25519 PEM key."""


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


def _key_id(key_name: str, public_key_raw: bytes) -> bytes:
    return hashlib.sha256(
        key_name.encode() + b"\n" + _ED25519_SIGNATURE_TYPE + public_key_raw
    ).digest()[:4]


def _has_control(text: str) -> bool:
    return any(c != "\n" and unicodedata.category(c) == "Cc" for c in text)


def _is_key_name(name: str) -> bool:
    return bool(name) and not _has_control(name) and not any(c.isspace() or c == "+" for c in name)


def _check_origin(origin: str) -> None:
    # The origin doubles as the signature key name, so it obeys the key name rules.
    if not _is_key_name(origin):
        raise CheckpointError(
            f"invalid origin {origin!r}: must be non-empty, without spaces, '+' or control characters"
        )


def _check_timestamp(timestamp: str) -> None:
    if _TIMESTAMP.fullmatch(timestamp):
        try:
            datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ")
            return
        except ValueError:
            pass
    raise CheckpointError(
        f"invalid timestamp {timestamp!r}: expected UTC like 2026-11-25T04:00:00.123456Z"
    )


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise CheckpointError(f"{what} is not valid base64") from None
    # Reject alternative encodings (non-zero padding bits) so each value has one spelling.
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _note_text(origin: str, tree_size: int, root_hash: bytes, timestamp: str) -> str:
    _check_origin(origin)
    if not 0 <= tree_size <= _MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {tree_size} is not a uint64")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise CheckpointError(f"root hash is {len(root_hash)} bytes, not {ROOT_HASH_SIZE}")
    _check_timestamp(timestamp)
    root_b64 = base64.b64encode(root_hash).decode("ascii")
    return f"{origin}\n{tree_size}\n{root_b64}\n{_TIMESTAMP_KEYWORD}{timestamp}\n"


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey, origin: str) -> None:
        _check_origin(origin)
        self._private_key = private_key
        self._origin = origin
        self._public_key_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = _key_id(origin, self._public_key_raw)

    @property
    def public_key_raw(self) -> bytes:
        return self._public_key_raw

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def sign(self, tree_size: int, root_hash: bytes, timestamp: str) -> Checkpoint:
        text = _note_text(self._origin, tree_size, root_hash, timestamp)
        signature = base64.b64encode(self._key_id + self._private_key.sign(text.encode()))
        note = f"{text}\n{_EM_DASH} {self._origin} {signature.decode('ascii')}\n"
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
    try:
        return _read_signing_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        # Mode 0600 at creation, not chmod afterwards, so the key is never readable by
        # others; O_EXCL so two processes cannot both install a key.
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return _read_signing_key(path)  # another process created it first: use theirs
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        os.fsync(f.fileno())  # losing the key in a crash would orphan what it signed
    return key


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a signed note into its text and its (key name, key ID, signature) lines."""
    if _has_control(note):
        raise CheckpointError("note contains control characters")
    try:
        note.encode()
    except UnicodeEncodeError:
        raise CheckpointError("note is not valid UTF-8") from None
    # Signature lines never contain blank lines, so the text ends at the last one.
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise CheckpointError("note has no signature lines")
    if not block.endswith("\n"):
        raise CheckpointError("note does not end with a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _EM_DASH or not _is_key_name(parts[1]):
            raise CheckpointError(f"malformed signature line {line!r}")
        raw = _b64decode(parts[2], "signature")
        if len(raw) < 5:
            raise CheckpointError(f"signature line {line!r} is too short for a key ID and signature")
        signatures.append((parts[1], raw[:4], raw[4:]))
    return text, signatures


def _parse_text(text: str) -> tuple[str, int, bytes, str]:
    lines = text[:-1].split("\n")  # _split_note guarantees the final newline
    if len(lines) != 4:
        raise CheckpointError(
            f"checkpoint has {len(lines)} lines, expected origin, tree size, root hash, timestamp"
        )
    origin, size_line, root_line, timestamp_line = lines
    _check_origin(origin)
    if not _TREE_SIZE.fullmatch(size_line) or int(size_line) > _MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {size_line!r} is not a canonical decimal uint64")
    root_hash = _b64decode(root_line, "root hash")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise CheckpointError(f"root hash is {len(root_hash)} bytes, not {ROOT_HASH_SIZE}")
    if not timestamp_line.startswith(_TIMESTAMP_KEYWORD):
        raise CheckpointError(f"line 4 {timestamp_line!r} is not a timestamp extension line")
    timestamp = timestamp_line[len(_TIMESTAMP_KEYWORD) :]
    _check_timestamp(timestamp)
    return origin, int(size_line), root_hash, timestamp


def parse_note(note: str) -> tuple[str, int, bytes, str]:
    """(origin, tree_size, root_hash, timestamp) of a signed checkpoint, WITHOUT checking
    its signature: use verify_note for anything that is trusted."""
    text, _ = _split_note(note)
    return _parse_text(text)


def verify_note(note: str, public_key_raw: bytes, origin: str) -> tuple[int, bytes, str]:
    """(tree_size, root_hash, timestamp) of a checkpoint signed by ``public_key_raw`` as
    ``origin``. Signatures by other keys (e.g. witness cosignatures) are ignored."""
    text, signatures = _split_note(note)
    note_origin, tree_size, root_hash, timestamp = _parse_text(text)
    if note_origin != origin:
        raise CheckpointError(f"checkpoint origin {note_origin!r} is not {origin!r}")
    key_id = _key_id(origin, public_key_raw)
    ours = [sig for name, kid, sig in signatures if name == origin and kid == key_id]
    if not ours:
        raise CheckpointError(f"no signature by key {origin} (key ID {key_id.hex()})")
    public_key = Ed25519PublicKey.from_public_bytes(public_key_raw)
    for signature in ours:  # a bad signature from the trusted key voids the whole note
        try:
            public_key.verify(signature, text.encode())
        except InvalidSignature:
            raise CheckpointError(f"signature by key {origin} does not verify") from None
    return tree_size, root_hash, timestamp
