"""What posting a batch comes to when it is not refused (domain/errors.py: BatchRejected): the
receipt the ledger gives for each event, what an agency keeps as proof of posting and what a
case's history shows beside every event.

A posted event's receipt also carries the warnings it drew (domain/sequence_warnings.py). They are
not stored: a replay of the posting derives them again from its case's entries before it, as the
projection does, so a retry's receipts are the original ones, warnings included. A dry run's
receipt (ProposedReceipt) is the receipt less what only storing gives: position, recorded_at,
leaf_hash.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.catalog import SETTLEMENT_EVENTS
from domain.events import LedgerEvent
from domain.sequence_warnings import SequenceWarning, sequence_warnings
from ledger.leaves import Leaf
from ledger.recorders.base import LedgerRecorder, LoggedEvent

Warnings = tuple[SequenceWarning, ...]


@dataclass(frozen=True, slots=True)
class ProposedReceipt:
    """A dry run's receipt for an event a real post would append."""

    event_id: str
    case_id: str
    type: str
    version: int
    warnings: Warnings = ()

    def as_json(self) -> dict[str, Any]:
        """As a case's history shows it (it reads no warnings): every field but those, in order."""
        return {field.name: getattr(self, field.name) for field in fields(self) if field.name != "warnings"}

    def posted_json(self) -> dict[str, Any]:
        """As POST /v1/events answers it."""
        return {**self.as_json(), "warnings": [warning.as_json() for warning in self.warnings]}


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt(ProposedReceipt):
    """The receipt of an event appended: the proposed receipt and what storing it gave."""

    position: int
    recorded_at: str
    leaf_hash: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    # In a dry run, a ProposedReceipt for each event a real post would append.
    receipts: list[Receipt | ProposedReceipt]
    appended: int  # 0 when every event was a replay of one already in the log (in a dry run: would be)
    dry_run: bool = False


def receipt_of(event: LedgerEvent, leaf: Leaf | LoggedEvent, warnings: Warnings = ()) -> Receipt:
    assert leaf.recorded_at is not None and leaf.leaf_hash is not None, f"position {leaf.position} has no leaf"
    return Receipt(
        event.event_id,
        event.case_id,
        event.type,
        event.originator_version,
        warnings,
        position=leaf.position,
        recorded_at=leaf.recorded_at,
        leaf_hash=leaf.leaf_hash.hex(),
    )


def proposed_receipt_of(event: LedgerEvent, warnings: Warnings = ()) -> ProposedReceipt:
    return ProposedReceipt(event.event_id, event.case_id, event.type, event.originator_version, warnings)


def warnings_when_recorded(
    store: LedgerRecorder, decode: Callable[[StoredEvent], Any], events: Iterable[LedgerEvent]
) -> dict[str, Warnings]:
    """The warnings each of these logged events drew when it was recorded, by event id: derived
    again from its case's entries before it (its stream read once, in one query for them all)."""
    wanted: dict[UUID, dict[int, LedgerEvent]] = {}
    for event in events:
        if event.type not in SETTLEMENT_EVENTS and event.originator_version > 1:
            wanted.setdefault(event.originator_id, {})[event.originator_version] = event
    found: dict[str, Warnings] = {}
    for stream_id, stored_events in store.select_streams(list(wanted)).items():
        versions = wanted[stream_id]
        last = max(versions)
        case = None
        for stored in stored_events:
            if stored.originator_version > last:
                break
            event = decode(stored)
            if stored.originator_version in versions and case is not None:
                found[event.event_id] = sequence_warnings(case, event.type, event.occurred_at, event.data)
            case = event.mutate(case)
    return found
