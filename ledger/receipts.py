"""The receipt the ledger gives for each appended event: what an agency keeps as proof of posting,
and what a case's history shows beside every event."""

from dataclasses import dataclass
from typing import Any

from domain.events import LedgerEvent
from ledger.leaves import Leaf
from ledger.recorders.base import LoggedEvent


@dataclass(frozen=True, slots=True)
class Receipt:
    event_id: str
    case_id: str
    type: str
    version: int
    position: int
    recorded_at: str
    leaf_hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "case_id": self.case_id,
            "type": self.type,
            "version": self.version,
            "position": self.position,
            "recorded_at": self.recorded_at,
            "leaf_hash": self.leaf_hash,
        }


def receipt_of(event: LedgerEvent, leaf: Leaf | LoggedEvent) -> Receipt:
    assert leaf.recorded_at is not None and leaf.leaf_hash is not None, f"position {leaf.position} has no leaf"
    return Receipt(
        event_id=event.event_id,
        case_id=event.case_id,
        type=event.type,
        version=event.originator_version,
        position=leaf.position,
        recorded_at=leaf.recorded_at,
        leaf_hash=leaf.leaf_hash.hex(),
    )
