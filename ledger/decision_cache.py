"""The aggregates this process's write path decides on, kept between batches.

Deciding on a batch needs the current state of every case it touches. Replaying each case from
the store on every batch dominated the append path; instead the cases are kept here. Before each
batch, the log's head (read by the caller with the batch's known event ids, in one statement)
tells whether anyone else has appended since this process last looked; if so, the streams they
wrote are forgotten. Missing cases are then loaded with one query. While no other writer shows
up, a batch may skip that read (see trusted_head). Used only under the ledger's write lock. A
batch that fails leaves its cases half-decided, so they are forgotten; a batch that is saved
leaves them exactly as stored. Should anything slip through, saving on a stale case fails on its
version and the batch is decided again.
"""

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from ledger.leaves import Leaf
from ledger.recorders.base import LedgerRecorder, LogHead


class DecisionCache:
    def __init__(self, store: LedgerRecorder, mapper: Mapper[UUID], max_size: int = 20_000) -> None:
        self._store = store
        self._mapper = mapper
        self._max_size = max_size
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        # Every kept aggregate includes all events up to this head.
        self._head = LogHead(0, None)
        # Whether the head is believed to be the log's: no other writer was seen at the last
        # read, and every save since landed right after it.
        self._trusted = False

    def trusted_head(self) -> LogHead | None:
        """The log's head, if this process has reason to think no one else has appended since it
        last looked: a batch may then be decided without reading first, its save clashing should
        the belief be wrong."""
        return self._head if self._trusted else None

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

    def catch_up(self, head: LogHead) -> None:
        """Forget the kept streams that another writer has appended to, now that the log's head
        is `head`. Call it before load(), with a head read after the last save."""
        synced = self._head.position
        self._trusted = head.position == synced
        if head.position != synced:
            if head.position - synced >= len(self._items):
                self._items.clear()
            else:
                for stream_id in self._store.streams_written_after(synced):
                    self._items.pop(stream_id, None)
        self._head = head

    def keep(self, aggregates: Iterable[Any], leaves: Sequence[Leaf]) -> None:
        """After a save whose leaves these are: the aggregates now match the store."""
        for aggregate in aggregates:
            aggregate.collect_events()
            self._put(aggregate.id, aggregate)
        if leaves[0].position == self._head.position + 1:  # no other writer slipped in before it
            self._head = LogHead(leaves[-1].position, leaves[-1].recorded_at)
        else:
            self._trusted = False

    def forget(self, aggregates: Iterable[Any]) -> None:
        """After a decision or save that failed: these aggregates may be half-decided."""
        self._trusted = False
        for aggregate in aggregates:
            self._items.pop(aggregate.id, None)

    def _put(self, stream_id: UUID, aggregate: Any) -> None:
        self._items[stream_id] = aggregate
        self._items.move_to_end(stream_id)
        while len(self._items) > self._max_size:
            self._items.popitem(last=False)
