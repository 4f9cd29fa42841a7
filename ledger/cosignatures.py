"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 `cosignature/v1`): the message a
witness signs, its signature line, and checking one in a checkpoint note against a witness's key.

A cosignature line reads `— <witness name> base64(key ID || u64 timestamp || Ed25519 signature)`,
its key ID computed with signature type 0x04, and it signs

    cosignature/v1
    time <timestamp, POSIX seconds>
    <the checkpoint's note text: origin, size, root hash, extension lines>

A witness names no log and carries no state in this module: what the signature attests (the
checkpoint is consistent with everything the witness saw) is the witness's work (witness/).

Standard library only: copied into the bundle's verify.py, which checks signatures with
ledger.ed25519; the ledger and the witness use `cryptography`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass

from ledger.signed_notes import EM_DASH, CheckpointError, NoteSignature, _split_note
from ledger.vkeys import VerifierKey

COSIGNATURE_HEADER = "cosignature/v1\n"
_COSIGNATURE_BYTES = 8 + 64  # u64 timestamp, Ed25519 signature
_MAX_TIMESTAMP = 2**63 - 1
_CHECKPOINT_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")

# (public key, message, signature) -> whether the Ed25519 signature verifies
Ed25519Check = Callable[[bytes, bytes, bytes], bool]


@dataclass(frozen=True)
class CheckpointBody:
    """The three lines every C2SP checkpoint starts with (extension lines may follow)."""

    origin: str
    tree_size: int
    root_hash: bytes
    text: str  # the whole note text the signatures cover


@dataclass(frozen=True)
class CosignatureCheck:
    """One witness's standing on one checkpoint: `valid` with its timestamp, `missing`, or `invalid`."""

    witness: str
    status: str
    timestamp: int | None = None


def cosignature_message(note_text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{note_text}".encode()


def cosignature_line(witness: VerifierKey, timestamp: int, signature: bytes) -> str:
    raw = witness.key_id + timestamp.to_bytes(8, "big") + signature
    return f"{EM_DASH} {witness.name} {base64.b64encode(raw).decode('ascii')}\n"


def checkpoint_body(note: str) -> tuple[CheckpointBody, list[NoteSignature]]:
    """A signed checkpoint's first three lines and its (key name, key ID, signature) lines, with
    no signature checked. Raises CheckpointError if it is not a well-formed signed checkpoint."""
    text, signatures = _split_note(note)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has at least three lines: origin, tree size, root hash")
    origin, size_line, root_line = lines[:3]
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise CheckpointError(f"invalid origin {origin!r}")
    if not _CHECKPOINT_SIZE.fullmatch(size_line) or int(size_line) >= 2**64:
        raise CheckpointError(f"tree size {size_line!r} is not a canonical decimal uint64")
    try:
        root_hash = base64.b64decode(root_line, validate=True)
    except ValueError:
        raise CheckpointError("the root hash is not base64") from None
    if len(root_hash) != 32 or base64.b64encode(root_hash).decode("ascii") != root_line:
        raise CheckpointError("the root hash is not the canonical base64 of 32 bytes")
    if any(not line for line in lines[3:]):
        raise CheckpointError("a checkpoint's extension lines are not empty")
    return CheckpointBody(origin, int(size_line), root_hash, text), signatures


def signed_by_log(note: str, log: VerifierKey, verifies: Ed25519Check) -> CheckpointBody:
    """The checkpoint, if the log's key signed it (others' signatures ignored, per signed-note);
    CheckpointError otherwise, or if a signature by that key fails to verify."""
    body, signatures = checkpoint_body(note)
    ours = [sig for name, kid, sig in signatures if name == log.name and kid == log.key_id]
    if not ours:
        raise CheckpointError(f"no signature by {log.name} key {log.key_id.hex()}")
    if not all(verifies(log.public_key, body.text.encode(), sig) for sig in ours):
        raise CheckpointError(f"the signature by {log.name} key {log.key_id.hex()} does not verify")
    return body


def check_cosignature(note: str, witness: VerifierKey, verifies: Ed25519Check) -> CosignatureCheck:
    """Whether `witness` cosigned the checkpoint `note` (its lines matched by name and key ID)."""
    body, signatures = checkpoint_body(note)
    theirs = [sig for name, kid, sig in signatures if name == witness.name and kid == witness.key_id]
    if not theirs:
        return CosignatureCheck(witness.name, "missing")
    newest = None
    for raw in theirs:  # a bad signature from a trusted key voids its word
        timestamp = int.from_bytes(raw[:8], "big") if len(raw) == _COSIGNATURE_BYTES else _MAX_TIMESTAMP + 1
        message = cosignature_message(body.text, timestamp)
        if timestamp > _MAX_TIMESTAMP or not verifies(witness.public_key, message, raw[8:]):
            return CosignatureCheck(witness.name, "invalid")
        newest = timestamp if newest is None else max(newest, timestamp)
    return CosignatureCheck(witness.name, "valid", newest)
