"""The aggregates this process's write path decides on, kept between batches.

Deciding on a batch needs the current state of every case it touches. Replaying each case from
the store on every batch dominated the append path; instead the cases are kept here, checked for
freshness with one query per batch (their current versions) and the stale or missing ones loaded
with one more. Used only under the ledger's write lock. A batch that fails leaves its cases
half-decided, so they are forgotten; a batch that is saved leaves them exactly as stored.
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

    def load(self, stream_ids: Iterable[UUID]) -> dict[UUID, Any]:
        """Each stream's current aggregate, or None if the stream has no events."""
        wanted = list(dict.fromkeys(stream_ids))
        versions = self._store.stream_versions(wanted)
        found: dict[UUID, Any] = {}
        stale = []
        for stream_id in wanted:
            cached = self._items.get(stream_id)
            if stream_id not in versions:
                found[stream_id] = None
            elif cached is not None and cached.version == versions[stream_id]:
                found[stream_id] = cached
                self._items.move_to_end(stream_id)
            else:
                stale.append(stream_id)
        for stream_id, stored_events in self._store.select_streams(stale).items():
            aggregate = None
            for stored in stored_events:
                aggregate = self._mapper.to_domain_event(stored).mutate(aggregate)
            found[stream_id] = aggregate
            self._put(stream_id, aggregate)
        return found

    def keep(self, aggregates: Iterable[Any]) -> None:
        """After a save: the aggregates now match the store."""
        for aggregate in aggregates:
            aggregate.collect_events()
            self._put(aggregate.id, aggregate)

    def forget(self, aggregates: Iterable[Any]) -> None:
        for aggregate in aggregates:
            self._items.pop(aggregate.id, None)

    def _put(self, stream_id: UUID, aggregate: Any) -> None:
        self._items[stream_id] = aggregate
        self._items.move_to_end(stream_id)
        while len(self._items) > self._max_size:
            self._items.popitem(last=False)
