"""What the ledger's recorders return: a logged event, a projection's lean row, the log's head, a
page of a stream, a stored checkpoint; and the largest integer both backends store.

Kept apart from the recorders (ledger/recorders/base.py and its mixins) so the readers of these
values need not import the SQL that produces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from eventsourcing.persistence import StoredEvent

# The largest integer both backends store (SQLite INTEGER, PostgreSQL bigint): a larger position,
# id or version would overflow a query, so the API refuses one with the other invalid input.
BIGINT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A stored event with its place in the log and its leaf (None if the leaf row is missing)."""

    position: int
    stored: StoredEvent
    recorded_at: str | None
    leaf_hash: bytes | None


class LeanRow(NamedTuple):
    """One event as a projection tails the log: no leaf hash, no object built from its payload."""

    position: int
    topic: str
    version: int
    state: bytes
    recorded_at: str | None


@dataclass(frozen=True, slots=True)
class LogHead:
    """The log's size and the recorded_at of its last leaf (None while it is empty)."""

    position: int
    recorded_at: str | None


class KnownEvent(NamedTuple):
    """An event id already in the log: where, and the digest of the request that posted it (None:
    posted by the ledger itself), which a retry's digest must match."""

    position: int
    digest: str | None


@dataclass(frozen=True, slots=True)
class StreamPage:
    """Part of one stream, read at one moment (see LedgerRecorder.stream_page)."""

    version: int  # the stream's last version then (0: there is no such stream)
    events: list[LoggedEvent]  # the page, in version order
    of_topics: list[LoggedEvent]  # the stream's events of the topics asked for, in version order


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    timestamp: str
    note: str
