"""The Merkle leaf of one stored event, and the monotonic clock that stamps recorded_at.

A leaf commits to where the event sits (position, stream, version), what it is (type), when the
ledger accepted it (recorded_at) and exactly what was stored (SHA-256 of the stored payload bytes).
The encoding is a compact JSON array, so any auditor can recompute it with a standard library.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.values import utc_text
from ledger.merkle import hash_leaf


@lru_cache(maxsize=4096)
def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def leaf_input(position: int, stream_id: UUID | str, version: int, event_type: str, recorded_at: str, payload: bytes) -> bytes:
    """Exactly `json.dumps([...], separators=(",", ":"), ensure_ascii=False)`, written out because
    this runs once per appended event (tests hold the two byte-identical)."""
    payload_sha256 = hashlib.sha256(payload).hexdigest()
    return (
        f"[{int(position)},{_json_string(str(stream_id))},{int(version)},{_json_string(event_type)},"
        f"{_json_string(recorded_at)},\"{payload_sha256}\"]"
    ).encode()


def leaf_hash_of(position: int, stream_id: UUID | str, version: int, event_type: str, recorded_at: str, payload: bytes) -> bytes:
    return hash_leaf(leaf_input(position, stream_id, version, event_type, recorded_at, payload))


@dataclass(frozen=True, slots=True)
class LeafKey:
    """What the ledger knows of an event beyond its stored form: its idempotency key and digest."""

    event_id: str | None = None
    request_digest: str | None = None


@dataclass(frozen=True, slots=True)
class Leaf:
    position: int
    event_id: str | None
    request_digest: str | None
    recorded_at: str
    leaf_hash: bytes


def next_recorded_at(last_recorded_at: str | None) -> str:
    """Now, but never before the last recorded_at: clocks of several API processes may disagree."""
    now = utc_text(datetime.now(UTC))
    return max(now, last_recorded_at or "")  # fixed-width UTC text sorts chronologically


def leaves_for(
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    keys: Sequence[LeafKey] | None,
    recorded_at: str,
) -> list[Leaf]:
    if keys is None:  # appended without envelopes (e.g. the library's own recorder tests)
        keys = [LeafKey()] * len(stored_events)
    if not len(stored_events) == len(positions) == len(keys):
        raise ValueError("every stored event needs one position and one leaf key")
    return [
        Leaf(
            position=position,
            event_id=key.event_id,
            request_digest=key.request_digest,
            recorded_at=recorded_at,
            leaf_hash=leaf_hash_of(
                position, stored.originator_id, stored.originator_version, stored.topic, recorded_at, stored.state
            ),
        )
        for stored, position, key in zip(stored_events, positions, keys, strict=True)
    ]
