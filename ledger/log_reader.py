"""Reading the log: what it held at any point, a case's state and history, the terms in force.

Every read of the log's events goes through here (reports, case reads, exports, the write path's
own re-reads), so an event is decoded one way and an as-of point is resolved one way.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import Mapper, StoredEvent

from domain.as_of import AsOf, Point
from domain.events import SETTLEMENT_STREAM_ID, LedgerEvent, case_stream_id
from domain.family_case import FamilyCase
from domain.terms import Terms, fold_terms
from ledger.as_of import resolve
from ledger.case_history import HISTORY_PAGE, HistoryPage, history_page
from ledger.personal_data import PersonalData, Revealed
from ledger.receipts import Receipt, receipt_of, warnings_when_recorded
from ledger.recorders.base import LedgerRecorder, LoggedEvent
from ledger.recorders.rows import LeanRow


class LogReader:
    def __init__(self, store: LedgerRecorder, mapper: Mapper[UUID], repository: Repository[UUID], personal: PersonalData | None) -> None:
        self._store = store
        self._mapper = mapper
        self._repository = repository
        self._personal = personal

    def tree_size(self) -> int:
        """How many entries the log holds (its last position)."""
        return self._store.tree_size()

    def stored_after(self, after: int, limit: int) -> list[LoggedEvent]:
        """The entries after position `after` (at most `limit`), as stored: not decoded (an export's pages)."""
        return self._store.logged_after(after, limit)

    def recorded_between(
        self, after: int, through: int, nibbles: Sequence[int] | None = None, topics: Sequence[str] = ()
    ) -> list[LeanRow]:
        """The events at positions after+1..through as stored, lean (a projection's feed); given
        `nibbles`, only those of streams whose id ends in one of them, and those of `topics`."""
        return self._store.recorded_between(after, through, nibbles, topics)

    def leaf_hashes(self, first: int, last: int) -> list[bytes]:
        """The leaf hashes of positions first..last inclusive, in order."""
        return self._store.leaf_hashes(first, last)

    def decode(self, stored: StoredEvent) -> Any:
        return self._mapper.to_domain_event(stored)

    def aggregate(self, cls: type, stream_id: UUID, version: int | None = None) -> Any:
        """The stream's aggregate (at `version`, or now) if it is a `cls`; else None."""
        try:
            aggregate = self._repository.get(stream_id, version=version)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def resolve(self, as_of: AsOf) -> Point:
        """The point of the log `as_of` stands for; raises BeyondTheLog past the latest one that
        can be reported (ledger/as_of.py)."""
        return resolve(self._store, as_of)

    def case(self, case_id: str, position: int | None = None) -> FamilyCase | None:
        """The case as the log stood once it held positions 1..position, or now."""
        stream_id = case_stream_id(case_id)
        if position is None:
            return self.aggregate(FamilyCase, stream_id)
        version = self._store.stream_version_at(stream_id, position)
        return self.aggregate(FamilyCase, stream_id, version) if version else None

    def merged_into(self, case_id: str) -> tuple[str, ...]:
        """The cases merged into this one, and into those, and so on: one family's records."""
        found: list[str] = []
        case = self.aggregate(FamilyCase, case_stream_id(case_id))
        waiting = list(case.absorbed) if case is not None else []
        while waiting:
            duplicate_id = waiting.pop()
            if duplicate_id in found or duplicate_id == case_id:
                continue
            found.append(duplicate_id)
            duplicate = self.aggregate(FamilyCase, case_stream_id(duplicate_id))
            waiting.extend(duplicate.absorbed if duplicate is not None else ())
        return tuple(sorted(found))

    def history(self, case_id: str, after: int = 0, limit: int = HISTORY_PAGE) -> HistoryPage | None:
        """The case's events after version `after` (at most `limit`), each marked with the
        corrections and retraction amending it, wherever they sit; None if there is no such case."""
        return history_page(self._store, self.decode, case_id, case_stream_id(case_id), after, limit)

    def stream_through(self, stream_id: UUID, position: int) -> list[LedgerEvent]:
        """A stream's events among log positions 1..position, in order."""
        return [self.decode(stored) for stored in self._store.stream_through(stream_id, position)]

    def terms_at(self, position: int) -> Terms:
        """The settlement's terms in force once the log held positions 1..position."""
        return fold_terms((event.type, event.data) for event in self.stream_through(SETTLEMENT_STREAM_ID, position))

    def log(self, after: int, limit: int) -> list[tuple[LoggedEvent, LedgerEvent]]:
        return [(logged, self.decode(logged.stored)) for logged in self._store.logged_after(after, limit)]

    def receipts_at(self, positions: list[int]) -> list[Receipt]:
        """The receipts of events already in the log, as they were given (their warnings derived again)."""
        if not positions:
            return []
        logged = [(entry, self.decode(entry.stored)) for entry in self._store.logged_at(positions)]
        warnings = warnings_when_recorded(self._store, self.decode, (event for _, event in logged))
        by_position = {entry.position: receipt_of(event, entry, warnings.get(event.event_id, ())) for entry, event in logged}
        return [by_position[position] for position in positions]

    def reveal(self, case_id: str, data: Any) -> Revealed:
        """`data` of the case with its sealed personal values opened (redacted where forgotten), and
        how many were opened. Who reads them is for the caller to record (AccessLog)."""
        if self._personal is None:
            return Revealed(data, 0)
        return self._personal.reveal(case_id, data)
