"""C2SP checkpoints (c2sp.org/tlog-checkpoint) in signed notes (c2sp.org/signed-note): the text
format, its parsing, and the checks around a signature, with the Ed25519 arithmetic left to the
caller.

Standard library only: this module is copied into the offline bundle verifier, which checks
signatures with ledger.ed25519; the server signs and verifies with `cryptography`
(ledger.checkpoints).

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
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

ROOT_HASH_SIZE = 32
ED25519_SIGNATURE_TYPE = b"\x01"
EM_DASH = "\u2014"
_TIMESTAMP_KEYWORD = "timestamp "
# ASCII-only on purpose: \d would also match non-ASCII digits. At most 20 digits (uint64),
# so int() is never fed an unbounded string.
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_MAX_TREE_SIZE = 2**64 - 1

# (public key, message, signature) -> whether the Ed25519 signature verifies
SignatureCheck = Callable[[bytes, bytes, bytes], bool]


class CheckpointError(ValueError):
    """A checkpoint is malformed, or its signature is missing or does not verify."""


def key_id(key_name: str, public_key_raw: bytes) -> bytes:
    return hashlib.sha256(key_name.encode() + b"\n" + ED25519_SIGNATURE_TYPE + public_key_raw).digest()[:4]


def _has_control(text: str) -> bool:
    return any(c != "\n" and unicodedata.category(c) == "Cc" for c in text)


def _is_key_name(name: str) -> bool:
    return bool(name) and not _has_control(name) and not any(c.isspace() or c == "+" for c in name)


def check_origin(origin: str) -> None:
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


def note_text(origin: str, tree_size: int, root_hash: bytes, timestamp: str) -> str:
    """The text a checkpoint's signature covers."""
    check_origin(origin)
    if not 0 <= tree_size <= _MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {tree_size} is not a uint64")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise CheckpointError(f"root hash is {len(root_hash)} bytes, not {ROOT_HASH_SIZE}")
    _check_timestamp(timestamp)
    root_b64 = base64.b64encode(root_hash).decode("ascii")
    return f"{origin}\n{tree_size}\n{root_b64}\n{_TIMESTAMP_KEYWORD}{timestamp}\n"


class NoteSignature(NamedTuple):
    """One signature line of a signed note: the key's name, its 4-byte key ID and the signature."""

    name: str
    key_id: bytes
    signature: bytes


class CheckpointText(NamedTuple):
    """A checkpoint's text, parsed: what its four lines say."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str


class VerifiedCheckpoint(NamedTuple):
    """What a checkpoint signed by the trusted key vouches for."""

    tree_size: int
    root_hash: bytes
    timestamp: str


def signature_line(origin: str, key: bytes, signature: bytes) -> str:
    return f"{EM_DASH} {origin} {base64.b64encode(key + signature).decode('ascii')}\n"


def _split_note(note: str) -> tuple[str, list[NoteSignature]]:
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
        if len(parts) != 3 or parts[0] != EM_DASH or not _is_key_name(parts[1]):
            raise CheckpointError(f"malformed signature line {line!r}")
        raw = _b64decode(parts[2], "signature")
        if len(raw) < 5:
            raise CheckpointError(f"signature line {line!r} is too short for a key ID and signature")
        signatures.append(NoteSignature(parts[1], raw[:4], raw[4:]))
    return text, signatures


def _parse_text(text: str) -> CheckpointText:
    lines = text[:-1].split("\n")  # _split_note guarantees the final newline
    if len(lines) != 4:
        raise CheckpointError(
            f"checkpoint has {len(lines)} lines, expected origin, tree size, root hash, timestamp"
        )
    origin, size_line, root_line, timestamp_line = lines
    check_origin(origin)
    if not _TREE_SIZE.fullmatch(size_line) or int(size_line) > _MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {size_line!r} is not a canonical decimal uint64")
    root_hash = _b64decode(root_line, "root hash")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise CheckpointError(f"root hash is {len(root_hash)} bytes, not {ROOT_HASH_SIZE}")
    if not timestamp_line.startswith(_TIMESTAMP_KEYWORD):
        raise CheckpointError(f"line 4 {timestamp_line!r} is not a timestamp extension line")
    timestamp = timestamp_line[len(_TIMESTAMP_KEYWORD) :]
    _check_timestamp(timestamp)
    return CheckpointText(origin, int(size_line), root_hash, timestamp)


def parse_note(note: str) -> CheckpointText:
    """(origin, tree_size, root_hash, timestamp) of a signed checkpoint, WITHOUT checking
    its signature: use verify_note for anything that is trusted."""
    text, _ = _split_note(note)
    return _parse_text(text)


def verify_note(
    note: str, public_key_raw: bytes, origin: str, signature_verifies: SignatureCheck
) -> VerifiedCheckpoint:
    """(tree_size, root_hash, timestamp) of a checkpoint signed by ``public_key_raw`` as
    ``origin``. Signatures by other keys (e.g. witness cosignatures) are ignored."""
    text, signatures = _split_note(note)
    note_origin, tree_size, root_hash, timestamp = _parse_text(text)
    if note_origin != origin:
        raise CheckpointError(f"checkpoint origin {note_origin!r} is not {origin!r}")
    our_key_id = key_id(origin, public_key_raw)
    ours = [sig for name, kid, sig in signatures if name == origin and kid == our_key_id]
    if not ours:
        raise CheckpointError(f"no signature by key {origin} (key ID {our_key_id.hex()})")
    for signature in ours:  # a bad signature from the trusted key voids the whole note
        if not signature_verifies(public_key_raw, text.encode(), signature):
            raise CheckpointError(f"signature by key {origin} does not verify")
    return VerifiedCheckpoint(tree_size, root_hash, timestamp)
