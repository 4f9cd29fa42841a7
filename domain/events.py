"""The one shape every stored event has, and the stream ids events are filed under.

Every event in the log, whatever its stream, carries the same fields, so a single decoder serves
the log, a case's history, verification and exports. Stored fields are plain JSON values: the
payload was validated at the door by its pydantic model, and replay must never re-judge history.
"""

from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import AggregateEvent

# Fixed forever: stream ids are derived from it, and they are hashed into every Merkle leaf.
STREAM_NAMESPACE = UUID("5b0f6c3e-8d7a-4f43-9a51-3c8e2f6d9b10")


@lru_cache(maxsize=65536)
def case_stream_id(case_id: str) -> UUID:
    return uuid5(STREAM_NAMESPACE, f"case/{case_id}")


def token_stream_id(name: str) -> UUID:
    return uuid5(STREAM_NAMESPACE, f"token/{name}")


SETTLEMENT_STREAM_ID = uuid5(STREAM_NAMESPACE, "settlement")


class LedgerEvent(AggregateEvent):
    """Base of all stored events. Its TOPIC (set on each subclass) is the catalog type name."""

    event_id: str
    case_id: str  # the stream's public name: a case id, SETTLEMENT, or a token's name
    occurred_at: str  # ISO 8601 UTC with microseconds, as domain.values.utc_text writes it
    organization: str  # who posted it (recorded_by), or LEDGER for the operator's own events
    token_name: str
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return type(self).TOPIC  # type: ignore[attr-defined, no-any-return]

    def apply(self, aggregate: Any) -> None:
        aggregate.record_entry(self)

    def envelope(self) -> dict[str, Any]:
        """The event as an agency posted it, plus who posted it."""
        return {
            "event_id": self.event_id,
            "case_id": self.case_id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "data": self.data,
            "recorded_by": {"organization": self.organization, "token": self.token_name},
        }
