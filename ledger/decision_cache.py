"""The aggregates this process's write path decides on, kept between batches.

Deciding on a batch needs the current state of every case it touches. Replaying each case from
the store on every batch dominated the append path; instead the cases are kept here. Before each
batch, the log's head (read by the caller with the batch's known event ids, in one statement)
tells whether anyone else has appended since this process last looked; if so, the streams they
wrote are forgotten. Missing cases are then loaded with one query. Used only under the ledger's write lock. A batch that fails leaves its cases
half-decided, so they are forgotten; a batch that is saved leaves them exactly as stored. Should
anything slip through, saving on a stale case fails on its version and the batch is decided again.
"""

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from ledger.recorders.base import LedgerRecorder


class DecisionCache:
    def __init__(self, store: LedgerRecorder, mapper: Mapper[UUID], max_size: int = 20_000) -> None:
        self._store = store
        self._mapper = mapper
        self._max_size = max_size
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        # Every kept aggregate includes all events up to this position.
        self._synced_head = 0

    def load(self, stream_ids: Iterable[UUID]) -> dict[UUID, Any]:
        """Each stream's current aggregate, or None if the stream has no events."""
        found: dict[UUID, Any] = {}
        unknown = []
        for stream_id in dict.fromkeys(stream_ids):
            if stream_id in self._items:
                found[stream_id] = self._items[stream_id]
                self._items.move_to_end(stream_id)
            else:
                unknown.append(stream_id)
        loaded = self._store.select_streams(unknown)
        for stream_id in unknown:
            aggregate = None
            for stored in loaded.get(stream_id, ()):
                aggregate = self._mapper.to_domain_event(stored).mutate(aggregate)
            found[stream_id] = aggregate
            if aggregate is not None:
                self._put(stream_id, aggregate)
        return found

    def catch_up(self, head: int) -> None:
        """Forget the kept streams that another writer has appended to, now that the log's size is
        `head`. Call it before load(), with a head read after the last save."""
        if head == self._synced_head:
            return
        if head - self._synced_head >= len(self._items):
            self._items.clear()
        else:
            for stream_id in self._store.streams_written_after(self._synced_head):
                self._items.pop(stream_id, None)
        self._synced_head = head

    def keep(self, aggregates: Iterable[Any], first_position: int, last_position: int) -> None:
        """After a save of positions first..last: the aggregates now match the store."""
        for aggregate in aggregates:
            aggregate.collect_events()
            self._put(aggregate.id, aggregate)
        if first_position == self._synced_head + 1:  # no other writer slipped in before this save
            self._synced_head = last_position

    def forget(self, aggregates: Iterable[Any]) -> None:
        for aggregate in aggregates:
            self._items.pop(aggregate.id, None)

    def _put(self, stream_id: UUID, aggregate: Any) -> None:
        self._items[stream_id] = aggregate
        self._items.move_to_end(stream_id)
        while len(self._items) > self._max_size:
            self._items.popitem(last=False)
