"""What both ledger recorders add to eventsourcing's: leaves, checkpoints, and the reads over them.

The SQL is written once, with `%s` placeholders and `{events}`, `{leaves}`, `{checkpoints}` table
names; each backend supplies its cursor, its placeholder style and its table names.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.leaves import Leaf, LeafKey, leaves_for, next_recorded_at


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A stored event with its place in the log and its leaf (None if the leaf row is missing)."""

    position: int
    stored: StoredEvent
    recorded_at: str | None
    leaf_hash: bytes | None


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    timestamp: str
    note: str


class LedgerRecorder(ABC):
    """Mixin for an eventsourcing application recorder that keeps the ledger's extra tables."""

    events_table: str
    leaves_table: str
    checkpoints_table: str
    placeholder = "%s"

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A cursor in a read-only transaction."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """A cursor in a transaction that commits."""

    @abstractmethod
    def _stream_param(self, stream_id: UUID) -> Any:
        """A stream id as the events table stores it."""

    def _sql(self, template: str, marks: int = 0) -> str:
        sql = template.format(
            events=self.events_table,
            leaves=self.leaves_table,
            checkpoints=self.checkpoints_table,
            marks=",".join(["%s"] * marks),
        )
        return sql.replace("%s", self.placeholder)

    def _rows(self, template: str, params: Sequence[Any] = (), marks: int = 0) -> list[Mapping[str, Any]]:
        with self._read() as cursor:
            cursor.execute(self._sql(template, marks), params)
            return list(cursor.fetchall())

    # --- writing leaves, inside the transaction that inserts the events -----------------------

    def _leaves_in_transaction(
        self, cursor: Any, stored_events: Sequence[StoredEvent], positions: Sequence[int], kwargs: Mapping[str, Any]
    ) -> list[Leaf]:
        cursor.execute(self._sql("SELECT recorded_at FROM {leaves} ORDER BY position DESC LIMIT 1"))
        last = cursor.fetchone()
        recorded_at = next_recorded_at(last["recorded_at"] if last else None)
        keys: Sequence[LeafKey] | None = kwargs.get("leaf_keys")
        leaves = leaves_for(stored_events, positions, keys, recorded_at)
        self._insert_leaves(cursor, leaves)
        sink = kwargs.get("leaves_out")
        if sink is not None:
            sink.extend(leaves)
        return leaves

    @abstractmethod
    def _insert_leaves(self, cursor: Any, leaves: Sequence[Leaf]) -> None: ...

    # --- reads --------------------------------------------------------------------------------

    def tree_size(self) -> int:
        rows = self._rows("SELECT MAX(position) AS size FROM {leaves}")
        return int(rows[0]["size"] or 0)

    def leaf_hashes(self, first: int, last: int) -> list[bytes]:
        """Leaf hashes of positions first..last inclusive, in order."""
        rows = self._rows(
            "SELECT leaf_hash FROM {leaves} WHERE position >= %s AND position <= %s ORDER BY position",
            (first, last),
        )
        return [bytes(row["leaf_hash"]) for row in rows]

    def known_event_ids(self, event_ids: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        """event_id → (position, request digest) for the ids already in the log."""
        if not event_ids:
            return {}
        rows = self._rows(
            "SELECT event_id, position, request_digest FROM {leaves} WHERE event_id IN ({marks})",
            list(event_ids),
            marks=len(event_ids),
        )
        return {row["event_id"]: (int(row["position"]), row["request_digest"]) for row in rows}

    _LOGGED = (
        "SELECT e.notification_id AS position, e.originator_id, e.originator_version, e.topic, e.state,"
        " l.recorded_at, l.leaf_hash FROM {events} e LEFT JOIN {leaves} l ON l.position = e.notification_id "
    )

    def _logged(self, rows: Sequence[Mapping[str, Any]]) -> list[LoggedEvent]:
        return [
            LoggedEvent(
                position=int(row["position"]),
                stored=StoredEvent(
                    originator_id=self.convert_stored_id(row["originator_id"]),
                    originator_version=int(row["originator_version"]),
                    topic=row["topic"],
                    state=bytes(row["state"]),
                ),
                recorded_at=row["recorded_at"],
                leaf_hash=None if row["leaf_hash"] is None else bytes(row["leaf_hash"]),
            )
            for row in rows
        ]

    def convert_stored_id(self, value: Any) -> UUID | str:
        return value

    def logged_after(self, after: int, limit: int) -> list[LoggedEvent]:
        rows = self._rows(self._LOGGED + "WHERE e.notification_id > %s ORDER BY e.notification_id LIMIT %s", (after, limit))
        return self._logged(rows)

    def recorded_after(self, after: int, limit: int) -> list[tuple[int, str, int, bytes, str | None]]:
        """(position, topic, version, stored payload, recorded_at) after `after`, in order: the lean
        read a projection tails the log with (no leaf hash, no object per row)."""
        rows = self._rows(
            "SELECT e.notification_id AS position, e.topic, e.originator_version AS version, e.state, l.recorded_at"
            " FROM {events} e LEFT JOIN {leaves} l ON l.position = e.notification_id"
            " WHERE e.notification_id > %s ORDER BY e.notification_id LIMIT %s",
            (after, limit),
        )
        return [
            (row["position"], row["topic"], row["version"], bytes(row["state"]), row["recorded_at"]) for row in rows
        ]

    def logged_at(self, positions: Sequence[int]) -> list[LoggedEvent]:
        if not positions:
            return []
        rows = self._rows(
            self._LOGGED + "WHERE e.notification_id IN ({marks}) ORDER BY e.notification_id",
            list(positions),
            marks=len(positions),
        )
        return self._logged(rows)

    def logged_stream(self, stream_id: UUID, up_to_version: int | None = None) -> list[LoggedEvent]:
        rows = self._rows(
            self._LOGGED + "WHERE e.originator_id = %s AND e.originator_version <= %s ORDER BY e.originator_version",
            (self._stream_param(stream_id), up_to_version if up_to_version is not None else 2**62),
        )
        return self._logged(rows)

    def logged_stream_through(self, stream_id: UUID, position: int) -> list[LoggedEvent]:
        """The stream's events among positions 1..position, in version order (a stream as of then)."""
        rows = self._rows(
            self._LOGGED + "WHERE e.originator_id = %s AND e.notification_id <= %s ORDER BY e.originator_version",
            (self._stream_param(stream_id), position),
        )
        return self._logged(rows)

    def iter_logged(self, page: int = 5000) -> Iterator[LoggedEvent]:
        """The whole log in position order, a page at a time (bounded memory)."""
        after = 0
        while batch := self.logged_after(after, page):
            yield from batch
            after = batch[-1].position

    def leaves_without_events(self, limit: int = 1) -> list[int]:
        rows = self._rows(
            "SELECT l.position FROM {leaves} l LEFT JOIN {events} e ON e.notification_id = l.position"
            " WHERE e.notification_id IS NULL ORDER BY l.position LIMIT %s",
            (limit,),
        )
        return [int(row["position"]) for row in rows]

    def streams_written_after(self, position: int) -> set[UUID]:
        rows = self._rows("SELECT DISTINCT originator_id FROM {events} WHERE notification_id > %s", (position,))
        return {self._stream_id(row["originator_id"]) for row in rows}

    def select_streams(self, stream_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Every event of each stream, in version order, in one query."""
        if not stream_ids:
            return {}
        params = [self._stream_param(stream_id) for stream_id in stream_ids]
        rows = self._rows(
            "SELECT originator_id, originator_version, topic, state FROM {events}"
            " WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version",
            params,
            marks=len(params),
        )
        streams: dict[UUID, list[StoredEvent]] = {}
        for row in rows:
            stream_id = self._stream_id(row["originator_id"])
            streams.setdefault(stream_id, []).append(
                StoredEvent(stream_id, int(row["originator_version"]), row["topic"], bytes(row["state"]))
            )
        return streams

    def _stream_id(self, value: Any) -> UUID:
        converted = self.convert_stored_id(value)
        return converted if isinstance(converted, UUID) else UUID(str(converted))

    def stream_version_at(self, stream_id: UUID, position: int) -> int:
        """The stream's version once the log held positions 1..position (0 if it had not begun)."""
        rows = self._rows(
            "SELECT MAX(originator_version) AS version FROM {events}"
            " WHERE originator_id = %s AND notification_id <= %s",
            (self._stream_param(stream_id), position),
        )
        return int(rows[0]["version"] or 0)

    def position_recorded_by(self, recorded_at: str) -> int:
        """The last position recorded at or before the instant (0 if none)."""
        # recorded_at never decreases with position, so the recorded_at index finds it directly;
        # MAX(position) WHERE ... walked the positions back from the head, row by row.
        rows = self._rows(
            "SELECT position FROM {leaves} WHERE recorded_at <= %s ORDER BY recorded_at DESC, position DESC LIMIT 1",
            (recorded_at,),
        )
        return int(rows[0]["position"]) if rows else 0

    # --- checkpoints --------------------------------------------------------------------------

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._write() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO {checkpoints} (tree_size, root_hash, timestamp, note)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING"
                ),
                (checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp, checkpoint.note),
            )

    def checkpoints(self, tree_size: int | None = None, latest: bool = False) -> list[StoredCheckpoint]:
        template = "SELECT tree_size, root_hash, timestamp, note FROM {checkpoints}"
        params: tuple[Any, ...] = ()
        if tree_size is not None:
            template += " WHERE tree_size = %s"
            params = (tree_size,)
        template += " ORDER BY tree_size DESC LIMIT 1" if latest else " ORDER BY tree_size"
        return [
            StoredCheckpoint(int(r["tree_size"]), bytes(r["root_hash"]), r["timestamp"], r["note"])
            for r in self._rows(template, params)
        ]
