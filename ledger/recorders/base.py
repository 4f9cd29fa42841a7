"""What both ledger recorders add to eventsourcing's: leaves, checkpoints, and the reads over them.

The SQL is written once, with `%s` placeholders and `{events}`, `{leaves}`, `{checkpoints}`,
`{case_keys}`, `{access_log}` table names; each backend supplies its cursor, its placeholder style
and its table names.
"""

import sqlite3
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError, ProgrammingError, StoredEvent

from ledger.leaves import Leaf, LeafKey
from ledger.recorders.access_log_records import AccessLogQueries
from ledger.recorders.cosignature_records import CosignatureRecords
from ledger.recorders.session_records import SessionRecords
from ledger.recorders.verification_records import VerificationRecords
from ledger.recorders.case_keys import NO_KEY_CHANGES, CaseKeyChanges, CaseKeyTable
from ledger.recorders.checkpoint_records import CheckpointRecords
from ledger.recorders.rows import KnownEvent, LeanRow, LoggedEvent, LogHead
from ledger.recorders.stream_records import StreamQueries


CREATE_ATTEMPTS = 5
SQLITE_BUSY = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED"})  # another connection holds the lock
# PostgreSQL's "already exists" (duplicate table, object; a unique key of its catalogs): eventsourcing
# creates its composite type outside any lock, ignoring only the second of these, and a type made
# at the same moment by another process can raise any of them.
POSTGRES_ALREADY_MADE = frozenset({"42P07", "42710", "23505"})


def create_alongside_others(create: Callable[[], None]) -> None:
    """Runs `create` (tables made if missing) again if another process making the same tables at
    that moment made it fail: by then they are there. Processes started together on a new
    database (the API and `ledger project --follow`, say) do this: on PostgreSQL two CREATE TABLE
    IF NOT EXISTS of one table at once can clash on a duplicate key in pg_type; on either backend
    only one may record the creation of eventsourcing's tracking table; and SQLite refuses at once
    ("database is locked") a transaction that read the schema and then wants to change it while
    another does."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            create()
            return
        except (IntegrityError, OperationalError, ProgrammingError) as error:
            if attempt == CREATE_ATTEMPTS or not _clashed(error):
                raise
            time.sleep(0.05 * attempt)


def _clashed(error: Exception) -> bool:
    """Whether `error` is another process's table creation getting in the way (and not, say, an
    unreachable database, which trying again would only report later)."""
    if isinstance(error, IntegrityError):
        return True
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in POSTGRES_ALREADY_MADE:
        return True
    return isinstance(cause, sqlite3.OperationalError) and getattr(cause, "sqlite_errorname", "") in SQLITE_BUSY


class DatastoreTransactions:
    """Cursors on eventsourcing's datastore (SQLite or PostgreSQL), each in its own transaction:
    the ledger's recorders and the read model read and write through these."""

    datastore: Any

    def _read(self) -> AbstractContextManager[Any]:
        """A cursor in a read-only transaction."""
        return self.datastore.transaction(commit=False)

    def _write(self) -> AbstractContextManager[Any]:
        """A cursor in a transaction that commits."""
        return self.datastore.transaction(commit=True)


class LedgerRecorder(
    DatastoreTransactions,
    StreamQueries, CheckpointRecords, SessionRecords, VerificationRecords, AccessLogQueries, CosignatureRecords, CaseKeyTable
):
    """Mixin for an eventsourcing application recorder that keeps the ledger's extra tables."""

    events_table: str
    leaves_table: str
    checkpoints_table: str
    case_keys_table: str  # per-case data keys, wrapped: zeroed to forget a case (ledger/recorders/case_keys.py)
    access_log_table: str  # who read personal data or exported the log: append-only
    placeholder = "%s"

    def create_table(self) -> None:
        create_alongside_others(super().create_table)  # type: ignore[misc]  # the library recorder's

    def _query(self) -> AbstractContextManager[Any]:
        """A cursor for one statement, which the database runs atomically on its own."""
        return self._read()

    @abstractmethod
    def _stream_param(self, stream_id: UUID) -> Any:
        """A stream id as the events table stores it."""

    def _sql(self, template: str, marks: int = 0) -> str:
        sql = template.format(
            events=self.events_table,
            leaves=self.leaves_table,
            checkpoints=self.checkpoints_table,
            case_keys=self.case_keys_table,
            access_log=self.access_log_table,
            marks=",".join(["%s"] * marks),
        )
        return sql.replace("%s", self.placeholder)

    @abstractmethod
    def has_log_tables(self) -> bool:
        """Whether the log's tables are there (a database never migrated has none)."""

    def _rows(self, template: str, params: Sequence[Any] = (), marks: int = 0) -> list[Mapping[str, Any]]:
        with self._query() as cursor:
            cursor.execute(self._sql(template, marks), params)
            return list(cursor.fetchall())

    # --- appending: events and their leaves, one transaction --------------------------------

    def append(
        self,
        stored_events: Sequence[StoredEvent],
        keys: Sequence[LeafKey] | None = None,
        after: LogHead | None = None,
        case_keys: CaseKeyChanges = NO_KEY_CHANGES,
    ) -> list[Leaf]:
        """Inserts the events at the next positions with their leaves, in one transaction, and
        returns the leaves. recorded_at is stamped under the append lock, never before the last.

        `after` is the head the caller decided the events on: where a backend can, the events go
        right after it, and if anyone appended since, their positions clash (IntegrityError) and
        nothing is written. Without it, they go after whatever the head is under the lock.
        `case_keys`: the case keys the batch creates or destroys, in the same transaction (a
        first key that another writer created meanwhile clashes too).
        """
        if not stored_events:
            return []
        return self._write_batch(stored_events, keys, after, case_keys)

    def _write_batch(
        self, stored_events: Sequence[StoredEvent], keys: Sequence[LeafKey] | None, after: LogHead | None, case_keys: CaseKeyChanges
    ) -> list[Leaf]:
        """The batch's one transaction: the case keys it changes, its events and their leaves."""
        with self._append_transaction() as cursor:
            if case_keys:  # under the append lock: a first key another writer created meanwhile is seen
                self._change_case_keys_in(cursor, case_keys)
            leaves = self._append_in(cursor, stored_events, keys, after)
            if len(leaves) != len(stored_events):  # raised in the transaction: none of the batch is kept
                raise ProgrammingError(f"appended {len(leaves)} leaves, expected {len(stored_events)}")
            return leaves

    def _append_transaction(self) -> AbstractContextManager[Any]:
        """A cursor in a transaction that commits, holding the append lock from its start."""
        return self._write()

    @abstractmethod
    def _append_in(
        self, cursor: Any, stored_events: Sequence[StoredEvent], keys: Sequence[LeafKey] | None, after: LogHead | None
    ) -> list[Leaf]:
        """Inserts the events after the head (`after`, where the backend uses it) and their leaves,
        in the append's transaction, and returns the leaves the database says it wrote."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """eventsourcing's recorder contract (its own tests, and Application.save for tokens):
        appended at the head, with leaves that carry no envelope."""
        return [leaf.position for leaf in self.append(stored_events)]

    @abstractmethod
    def settled_instant(self) -> str:
        """The ledger's clock, read while holding the append lock, less a microsecond: no append
        still running when this returns, nor any that starts later, is recorded at or before it
        (each stamps recorded_at under the same lock, from the same clock). A report may resolve
        any instant up to it (ledger/as_of.py)."""

    # The recorded_at of the log's last leaf, which the next leaves' recorded_at may not precede.
    _LAST_RECORDED_AT = "(SELECT recorded_at FROM {leaves} ORDER BY position DESC LIMIT 1)"

    # --- reads --------------------------------------------------------------------------------

    def tree_size(self) -> int:
        rows = self._rows("SELECT MAX(position) AS size FROM {leaves}")
        return int(rows[0]["size"] or 0)

    def head(self) -> LogHead:
        return self.head_and_known_event_ids(())[0]

    def recorded_at_of(self, position: int) -> str | None:
        rows = self._rows("SELECT recorded_at FROM {leaves} WHERE position = %s", (position,))
        return rows[0]["recorded_at"] if rows else None

    def leaf_hashes(self, first: int, last: int) -> list[bytes]:
        """Leaf hashes of positions first..last inclusive, in order."""
        rows = self._rows(
            "SELECT leaf_hash FROM {leaves} WHERE position >= %s AND position <= %s ORDER BY position",
            (first, last),
        )
        return [bytes(row["leaf_hash"]) for row in rows]

    def known_event_ids(self, event_ids: Sequence[str]) -> dict[str, KnownEvent]:
        """event_id → where it is and the digest of its request, for the ids already in the log."""
        return self.head_and_known_event_ids(event_ids)[1]

    def head_and_known_event_ids(self, event_ids: Sequence[str]) -> tuple[LogHead, dict[str, KnownEvent]]:
        """The log's head, and known_event_ids(event_ids), from one snapshot in one statement: the
        write path needs both before every batch, and on PostgreSQL each statement is a round trip."""
        # One row for the head (its event_id is NULL: only leaves with an event_id match the IN
        # list), whose `detail` is the last recorded_at; one per known id, whose `detail` is its digest.
        sql = (
            "SELECT NULL AS event_id, MAX(position) AS position, "
            + self._LAST_RECORDED_AT
            + " AS detail FROM {leaves}"
        )
        if event_ids:
            sql += " UNION ALL SELECT event_id, position, request_digest FROM {leaves} WHERE event_id IN ({marks})"
        head = LogHead(0, None)
        known: dict[str, KnownEvent] = {}
        for row in self._rows(sql, list(event_ids), marks=len(event_ids)):
            if row["event_id"] is None:
                head = LogHead(int(row["position"] or 0), row["detail"])
            else:
                known[row["event_id"]] = KnownEvent(int(row["position"]), row["detail"])
        return head, known

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

    def streams_written_after(self, position: int) -> set[UUID]:
        rows = self._rows("SELECT DISTINCT originator_id FROM {events} WHERE notification_id > %s", (position,))
        return {self._stream_id(row["originator_id"]) for row in rows}

    def _stream_id(self, value: Any) -> UUID:
        converted = self.convert_stored_id(value)
        return converted if isinstance(converted, UUID) else UUID(str(converted))

    # What a LoggedEvent is read from: the columns, and the tables they come from.
    _LOGGED_COLUMNS_AND_TABLES = (
        "e.notification_id AS position, e.originator_id, e.originator_version, e.topic, e.state,"
        " l.recorded_at, l.leaf_hash FROM {events} e LEFT JOIN {leaves} l ON l.position = e.notification_id"
    )
    _LOGGED = "SELECT " + _LOGGED_COLUMNS_AND_TABLES + " "

    def _logged(self, rows: Sequence[Mapping[str, Any]]) -> list[LoggedEvent]:
        return [
            LoggedEvent(
                position=int(row["position"]),
                stored=StoredEvent(
                    originator_id=self.convert_stored_id(row["originator_id"]),
                    originator_version=_as_written(int, row["originator_version"]),
                    topic=row["topic"],
                    state=_as_written(_octets, row["state"]),
                ),
                recorded_at=row["recorded_at"],
                leaf_hash=None if row["leaf_hash"] is None else _as_written(_octets, row["leaf_hash"]),
            )
            for row in rows
        ]

    def convert_stored_id(self, value: Any) -> UUID | str:
        return value

    def logged_after(self, after: int, limit: int) -> list[LoggedEvent]:
        rows = self._rows(self._LOGGED + "WHERE e.notification_id > %s ORDER BY e.notification_id LIMIT %s", (after, limit))
        return self._logged(rows)

    # The low four bits of an event's stream id, in SQL: how a rebuild's workers share the streams.
    _STREAM_NIBBLE: str

    def recorded_between(
        self, after: int, through: int, nibbles: Sequence[int] | None = None, topics: Sequence[str] = ()
    ) -> list[LeanRow]:
        """The events at positions after+1..through, in order; given `nibbles`, only those of streams
        whose id ends in one of them, and those of `topics`."""
        template = (
            "SELECT e.notification_id AS position, e.topic,"
            " e.originator_version AS version, e.state, l.recorded_at"
            " FROM {events} e LEFT JOIN {leaves} l ON l.position = e.notification_id"
            " WHERE e.notification_id > %s AND e.notification_id <= %s"
        )
        if nibbles is not None:
            owned = ",".join(str(int(nibble)) for nibble in nibbles) or "-1"
            also = " OR e.topic IN ({marks})" if topics else ""
            template += f" AND (({self._STREAM_NIBBLE}) IN ({owned}){also})"
        params = (after, through, *(topics if nibbles is not None else ()))
        rows = self._rows(template + " ORDER BY e.notification_id", params, marks=len(params) - 2)
        return [
            LeanRow(row["position"], row["topic"], row["version"], bytes(row["state"]), row["recorded_at"]) for row in rows
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

    def leaf_event_id(self, position: int) -> str | None:
        """The event id the leaf row at `position` keeps (None without one): what names an event
        whose own row is gone."""
        rows = self._rows("SELECT event_id FROM {leaves} WHERE position = %s", (position,))
        return rows[0]["event_id"] if rows else None

    def position_recorded_by(self, recorded_at: str) -> int:
        """The last position recorded at or before the instant (0 if none)."""
        # recorded_at never decreases with position, so the recorded_at index finds it directly;
        # MAX(position) WHERE ... walked the positions back from the head, row by row.
        rows = self._rows(
            "SELECT position FROM {leaves} WHERE recorded_at <= %s ORDER BY recorded_at DESC, position DESC LIMIT 1",
            (recorded_at,),
        )
        return int(rows[0]["position"]) if rows else 0


def _octets(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{type(value).__name__} is not bytes")
    return bytes(value)


def _as_written(convert: Callable[[Any], Any], value: Any) -> Any:
    """The column's value converted as the ledger wrote it; or as it is, if someone wrote another
    type behind the ledger's back (a NULL, text for bytes): verification names it, not a crash."""
    try:
        return convert(value)
    except (TypeError, ValueError):
        return value
