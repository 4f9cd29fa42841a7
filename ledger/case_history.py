"""A case's history a page at a time, each event marked with the later events that amend it.

The history tells the truth about itself: an event that a later EntryCorrected corrected carries
the corrections (their positions, event ids, changed values, in order), one that an
EntryRetracted withdrew carries the retraction, on whatever page the amendment itself sits. The
amendment events stay in the history as recorded; nothing is edited.

Pages are cut by the case's version, not by log position. Within one case both order the events
alike, but the events table is indexed by (stream, version) and a case's versions run 1, 2, 3… with no
gaps: the page after version V is the range V+1..V+limit, one bounded read of that index, where a
page after a position would have to pick the case's events out of the whole log's positions
(nothing indexes stream and position together) or read the case whole. And the version is the
case's own number, which its receipts and `expected_version` already speak: `after=V` means "I
have its first V events", and a reader who reached the end resumes from its last version to get
only what came since.

The amendments are read with each page, whole (they are few: a correction or retraction per
mistake), in the same statement, so that a page and its marks are one snapshot of the case.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.catalog import AMENDMENTS
from domain.events import LedgerEvent
from ledger.receipts import Receipt, receipt_of
from ledger.recorders.base import LedgerRecorder

HISTORY_PAGE = 500  # events in a page unless asked otherwise: 300 KB of contact attempts
HISTORY_PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class Amendment:
    """A later event of the case (EntryCorrected or EntryRetracted) amending one of its events."""

    event: LedgerEvent
    position: int

    @property
    def amended_event_id(self) -> str:
        return str(self.event.data["event_id"])

    def as_json(self) -> dict[str, Any]:
        """The amendment as its amended event shows it: where it sits, and what it says."""
        mark: dict[str, Any] = {
            "event_id": self.event.event_id,
            "position": self.position,
            "version": self.event.originator_version,
        }
        data = self.event.data
        if self.event.type == "EntryCorrected":
            mark["changes"] = data.get("changes", {})
            mark["occurred_at"] = data.get("occurred_at")  # stored only when corrected
        mark["reason"] = data["reason"]
        return mark


@dataclass(frozen=True, slots=True)
class HistoryItem:
    event: LedgerEvent
    receipt: Receipt
    corrections: tuple[Amendment, ...] = ()  # in the order they were recorded: the last word stands
    retraction: Amendment | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.event.envelope(),
            "receipt": self.receipt.as_json(),
            "corrections": [correction.as_json() for correction in self.corrections],
            "retraction": None if self.retraction is None else self.retraction.as_json(),
        }


@dataclass(frozen=True, slots=True)
class HistoryPage:
    case_id: str
    version: int  # the case's version when the page was read
    items: list[HistoryItem]

    @property
    def next_after(self) -> int | None:
        """The `after` of the next page: the last version here, or None if the case ends here."""
        if not self.items or self.items[-1].receipt.version >= self.version:
            return None
        return self.items[-1].receipt.version


def history_page(
    store: LedgerRecorder,
    decode: Callable[[StoredEvent], LedgerEvent],
    case_id: str,
    stream_id: UUID,
    after: int,
    limit: int,
) -> HistoryPage | None:
    """The case's events after version `after`, at most `limit` of them, marked with their
    amendments; None if there is no such case."""
    if after < 0 or not 1 <= limit <= HISTORY_PAGE_MAX:
        raise ValueError(f"a history page starts after a version >= 0 and holds 1..{HISTORY_PAGE_MAX} events")
    read = store.stream_page(stream_id, after, limit, sorted(AMENDMENTS))
    if not read.version:
        return None
    amendments: dict[str, list[Amendment]] = {}
    for logged in read.of_topics:
        amendment = Amendment(decode(logged.stored), logged.position)
        amendments.setdefault(amendment.amended_event_id, []).append(amendment)
    items = []
    for logged in read.events:
        event = decode(logged.stored)
        amending = amendments.get(event.event_id, [])
        items.append(
            HistoryItem(
                event,
                receipt_of(event, logged),
                corrections=tuple(a for a in amending if a.event.type == "EntryCorrected"),
                retraction=next((a for a in amending if a.event.type == "EntryRetracted"), None),
            )
        )
    return HistoryPage(case_id, read.version, items)
