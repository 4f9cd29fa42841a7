"""The log's events as the projection reads them, and a page of them cut where the terms change."""

from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from domain.catalog import SETTLEMENT_EVENTS
from ledger.recorders.base import LeanRow
from projections.projection_faults import EventNotProjected


class Recorded(NamedTuple):
    """One logged event as the projection reads it.

    Read straight from the stored JSON rather than through eventsourcing's mapper: the projection
    needs these fields only, and the mapper's per-event object building was a third of its time.
    tests/test_projection.py holds the two readings equal for every event type.
    """

    position: int
    type: str
    version: int
    recorded_at: str | None
    event_id: str
    case_id: str
    occurred_at: str
    organization: str
    data: dict[str, Any]

    @property
    def originator_version(self) -> int:  # as FamilyCase.record_entry reads it
        return self.version

    @classmethod
    def of(cls, row: LeanRow) -> "Recorded":
        fields = orjson.loads(row.state)
        return cls(
            row.position, row.topic, row.version, row.recorded_at, fields["event_id"], fields["case_id"],
            fields["occurred_at"], fields["organization"], fields["data"],
        )


def read_recorded(rows: Sequence[LeanRow]) -> list[Recorded]:
    recorded = []
    for row in rows:
        try:
            recorded.append(Recorded.of(row))
        except Exception as error:  # stored JSON the projection cannot read (a number past 64 bits, say)
            raise EventNotProjected(row.position, error) from error
    return recorded


def segments(rows: Sequence[LeanRow], after: int, end: int) -> list[tuple[Sequence[LeanRow], int]]:
    """The page of positions after+1..end in parts, each with the position it runs through: a
    settlement event gets a part of its own (it re-reads the clocks as the tables hold them). The
    parts depend on positions and settlement events only, so a rebuild's workers, each reading its
    own share of the page, cut it alike."""
    segments: list[tuple[Sequence[LeanRow], int]] = []
    start, last = 0, after
    for i, row in enumerate(rows):
        if row.topic in SETTLEMENT_EVENTS:
            if row.position - 1 > last:
                segments.append((rows[start:i], row.position - 1))
            segments.append((rows[i : i + 1], row.position))
            start, last = i + 1, row.position
    if end > last:
        segments.append((rows[start:], end))
    return segments
