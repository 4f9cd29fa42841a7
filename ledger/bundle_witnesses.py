"""A bundle checked against a witness policy (`verify.py --policy FILE`, `ledger verify DIR
--policy FILE`): its last checkpoint, which must cover every event, needs the policy's quorum of
valid witness cosignatures, and the bundle's key must be one of the policy's logs if it lists any.

Run after the bundle itself verified (every leaf, root, log signature and consistency proof): this
adds the other parties' word that they saw the same history, so a split view cannot pass.

Standard library only: copied into the bundle's verify.py.
"""

from __future__ import annotations

import json
import os

from ledger.ed25519 import verify_signature
from ledger.witness_policy import PolicyError, enforce, parse_policy

BUNDLE_CHECKPOINTS = "checkpoints.jsonl"


def _last_checkpoint(directory: str) -> dict | None:
    last = None
    with open(os.path.join(directory, BUNDLE_CHECKPOINTS), encoding="utf-8") as file:
        for line in file:
            if line.strip():
                last = line
    record = json.loads(last) if last else None
    return record if isinstance(record, dict) else None


def witnessed_bundle(directory: str, policy_text: str, origin: str, public_key: bytes, tree_size: int) -> list[str]:
    """The policy's witnesses that validly cosigned the bundle's last checkpoint, if they make its
    quorum; PolicyError naming the witnesses missing or invalid otherwise."""
    policy = parse_policy(policy_text)
    if policy.logs and not any(log.name == origin and log.public_key == public_key for log in policy.logs):
        raise PolicyError(f"the bundle's log ({origin}, its key) is not one of the policy's logs")
    record = _last_checkpoint(directory)
    if record is None or record.get("tree_size") != tree_size or not isinstance(record.get("note"), str):
        raise PolicyError(f"the bundle has no checkpoint covering its {tree_size} events to be witnessed")
    return enforce(policy, record["note"], verify_signature)
