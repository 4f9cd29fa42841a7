"""The bundle's signed checkpoints, and those the auditor saved: each signature, and each
checkpoint's consistency with the one before.

Part of the offline verifier (standard library only, flattened into verify.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.bundle_format import CHECKPOINTS_FILE, Tampered, has_fields, hex32
from ledger.ed25519 import verify_signature
from ledger.merkle import EMPTY_ROOT, verify_consistency
from ledger.signed_notes import CheckpointError, verify_note

_CHECKPOINT_FIELDS = {
    "origin": str,
    "tree_size": int,
    "root_hash": str,
    "timestamp": str,
    "note": str,
    "consistency_proof": list,
}


@dataclass(frozen=True)
class SignedHead:
    tree_size: int
    root_hash: bytes
    source: str  # how to name it in a report



def read_checkpoints(directory: str, origin: str, public_key: bytes, tree_size: int) -> list[SignedHead]:
    """Every published checkpoint, signature and consistency with the one before checked."""
    heads: list[SignedHead] = []
    previous = SignedHead(0, EMPTY_ROOT, "the empty tree")
    try:
        file = open(os.path.join(directory, CHECKPOINTS_FILE), "rb")
    except FileNotFoundError:
        raise Tampered(f"{CHECKPOINTS_FILE} is missing") from None
    with file:
        for number, line in enumerate(file, start=1):
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                record = None
            if not has_fields(record, _CHECKPOINT_FIELDS):
                raise Tampered(f"line {number} of {CHECKPOINTS_FILE} is not a checkpoint record")
            size = record["tree_size"]
            try:
                signed = verify_note(record["note"], public_key, origin, verify_signature)
            except CheckpointError as error:
                raise Tampered(f"the checkpoint at tree size {size} is not validly signed: {error}", checkpoint=size) from None
            root = hex32(record["root_hash"])
            if (signed[0], signed[1], signed[2], origin) != (size, root, record["timestamp"], record["origin"]):
                raise Tampered(f"the checkpoint at tree size {size} differs from its signed note", checkpoint=size)
            if size <= previous.tree_size and heads:
                raise Tampered(
                    f"the checkpoint at tree size {size} is out of order: it follows tree size {previous.tree_size}",
                    checkpoint=size,
                )
            if size > tree_size:
                raise Tampered(
                    f"the checkpoint at tree size {size} covers more than the bundle's {tree_size} events", checkpoint=size
                )
            proof = [hex32(node) for node in record["consistency_proof"]]
            if any(node is None for node in proof) or not verify_consistency(
                previous.tree_size, size, previous.root_hash, signed[1], proof  # type: ignore[arg-type]
            ):
                raise Tampered(
                    f"the checkpoint at tree size {size} does not extend {previous.source}: "
                    "its consistency proof does not verify",
                    checkpoint=size,
                )
            previous = SignedHead(size, signed[1], f"the checkpoint at tree size {size}")
            heads.append(previous)
    return heads


def read_trusted(notes: Sequence[str], origin: str, public_key: bytes) -> list[SignedHead]:
    """Checkpoints the auditor saved earlier (e.g. from GET /v1/checkpoint): the bundle must agree."""
    heads = []
    for number, note in enumerate(notes, start=1):
        try:
            size, root, _ = verify_note(note, public_key, origin, verify_signature)
        except CheckpointError as error:
            raise Tampered(f"your checkpoint #{number} is not validly signed by the bundle's key: {error}") from None
        heads.append(SignedHead(size, root, f"your checkpoint at tree size {size}"))
    return heads
