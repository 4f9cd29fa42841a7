"""The Merkle leaf of one stored event, and the clock that stamps recorded_at.

A leaf commits to where the event sits (position, stream, version), what it is (type), when the
ledger accepted it (recorded_at) and exactly what was stored (SHA-256 of the stored payload bytes).
The encoding is a compact JSON array, so any auditor can recompute it with a standard library.

recorded_at is stamped by the recorder while it holds the append lock (ledger/recorders), so that
it never decreases in commit order and an as-of reader that takes the same lock can tell which
instants no append still running can fall at or before (ledger/as_of.py). Everything else in the
leaf is known before the lock is taken: `LeafInput` holds the leaf input around the recorded_at.
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


def _around(position: int, stream_id: UUID | str, version: int, event_type: str, payload: bytes) -> tuple[str, str]:
    payload_sha256 = hashlib.sha256(payload).hexdigest()
    return (
        f"[{int(position)},{_json_string(str(stream_id))},{int(version)},{_json_string(event_type)},",
        f",\"{payload_sha256}\"]",
    )


def leaf_input(position: int, stream_id: UUID | str, version: int, event_type: str, recorded_at: str, payload: bytes) -> bytes:
    """Exactly `json.dumps([...], separators=(",", ":"), ensure_ascii=False)`, written out because
    this runs once per appended event (tests hold the two byte-identical)."""
    before, after = _around(position, stream_id, version, event_type, payload)
    return (before + _json_string(recorded_at) + after).encode()


def leaf_hash_of(position: int, stream_id: UUID | str, version: int, event_type: str, recorded_at: str, payload: bytes) -> bytes:
    return hash_leaf(leaf_input(position, stream_id, version, event_type, recorded_at, payload))


@dataclass(frozen=True, slots=True)
class LeafKey:
    """What the ledger knows of an event beyond its stored form: its idempotency key and digest."""

    event_id: str | None = None
    request_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LeafInput:
    """One event's leaf input but for its recorded_at: `before + recorded_at + after` is its
    leaf_input (a recorded_at, as utc_text writes it, is its own JSON string but for the quotes,
    which `before` and `after` hold)."""

    position: int
    key: LeafKey
    before: bytes
    after: bytes

    @classmethod
    def of(cls, stored: StoredEvent, position: int, key: LeafKey) -> "LeafInput":
        before, after = _around(position, stored.originator_id, stored.originator_version, stored.topic, stored.state)
        return cls(position, key, f'{before}"'.encode(), f'"{after}'.encode())

    def leaf(self, recorded_at: str) -> "Leaf":
        return Leaf(self.position, self.key.event_id, self.key.request_digest, recorded_at, self.leaf_hash(recorded_at))

    def leaf_hash(self, recorded_at: str) -> bytes:
        return hash_leaf(self.before + recorded_at.encode() + self.after)


@dataclass(frozen=True, slots=True)
class Leaf:
    position: int
    event_id: str | None
    request_digest: str | None
    recorded_at: str
    leaf_hash: bytes


def leaf_inputs(stored_events: Sequence[StoredEvent], first_position: int, keys: Sequence[LeafKey] | None) -> list[LeafInput]:
    """The leaf inputs of events appended at first_position, first_position + 1, ..."""
    if keys is None:  # appended without envelopes (the operator's tokens, the library's own tests)
        keys = [LeafKey()] * len(stored_events)
    if len(keys) != len(stored_events):
        raise ValueError("every stored event needs one leaf key")
    return [LeafInput.of(stored, first_position + i, key) for i, (stored, key) in enumerate(zip(stored_events, keys, strict=True))]


def next_recorded_at(last_recorded_at: str | None, now: datetime | None = None) -> str:
    """Now, but never before the last recorded_at: the clock may be set back."""
    stamp = utc_text(now or datetime.now(UTC))
    return max(stamp, last_recorded_at or "")  # fixed-width UTC text sorts chronologically
