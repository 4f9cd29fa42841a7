"""The SQLite recorder: eventsourcing's, with each event's leaf written in its own transaction.

Two changes to the library's table: the position is an explicit INTEGER PRIMARY KEY (the library
relies on the implicit rowid, which VACUUM may renumber: a ledger position is forever), and
triggers refuse UPDATE and DELETE on the events, leaves and checkpoints.

Every write transaction begins IMMEDIATE, taking the write lock (waiting for it up to the lock
timeout) before its first statement. The library's BEGIN is deferred: a transaction that read
first and then wrote was refused at once ("database is locked", whatever the timeout) whenever
another connection wrote in between, as the API's projector does after every append: that made
`ledger forget` fail now and then while the API served.
"""

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore, SQLiteTransaction

from domain.values import utc_text
from ledger.leaves import Leaf, LeafKey, leaf_inputs, next_recorded_at
from ledger.recorders.base import SQLITE_BUSY, DatastoreTransactions, LedgerRecorder, LogHead
from ledger.recorders.case_keys import CaseKeyRow, ErasureAttempt
from ledger.recorders.access_log_records import ACCESS_LOG_INDEXES, CREATE_INDEX
from ledger.recorders.cosignature_records import COSIGNATURES, CREATE_COSIGNATURES
from ledger.recorders.session_records import CREATE_SESSIONS, CREATE_SESSIONS_INDEX, SESSIONS
from ledger.recorders.verification_records import CREATE_VERIFICATIONS, SQLITE_TYPES, VERIFICATIONS


# Pages (4 KiB) the WAL may hold before a commit checkpoints it: ~40 MB.
WAL_AUTOCHECKPOINT = 10_000


def in_wal_mode(path: str, timeout: float) -> None:
    """Switches a new database file to WAL mode, before the library's connection pool opens it.

    Processes opening a new file at once (the API and `ledger project --follow`, say) would each
    switch it as they connect, and SQLite refuses all but one at once ("database is locked",
    whatever the timeout): the library's pool does not recover from that, so it is done here,
    again until it takes (a file in WAL mode stays so).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with closing(sqlite3.connect(path, timeout=timeout)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorname", "") not in SQLITE_BUSY:
                return  # not a race (an unusable path, say): the library's own opening reports it
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class _Immediate(SQLiteTransaction):
    """The library's transaction, begun IMMEDIATE: with the write lock from the start."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:  # not granted within the lock timeout
            cursor.sqlite_cursor.close()
            raise OperationalError(error) from error
        return cursor


@contextmanager
def write_transaction(datastore: SQLiteDatastore, commit: bool = True) -> Iterator[SQLiteCursor]:
    """A cursor in a transaction that holds the write lock from its first statement (see above);
    committed, or (commit=False) rolled back."""
    with datastore.get_connection(commit=True) as connection, _Immediate(connection, commit=commit) as cursor, cursor:
        yield cursor


class ImmediateWrites(DatastoreTransactions):
    """Writes in a transaction begun IMMEDIATE (write_transaction): the ledger's SQLite recorder's,
    and the read model's on SQLite, which shares the log's database file and its write lock."""

    datastore: SQLiteDatastore

    def _write(self) -> AbstractContextManager[SQLiteCursor]:
        return write_transaction(self.datastore)


class LedgerSQLiteRecorder(ImmediateWrites, LedgerRecorder, SQLiteApplicationRecorder):
    leaves_table = "ledger_leaves"
    checkpoints_table = "ledger_checkpoints"
    case_keys_table = "ledger_case_keys"
    access_log_table = "ledger_access_log"
    sessions_table = f"ledger_{SESSIONS}"
    verifications_table = f"ledger_{VERIFICATIONS}"
    cosignatures_table = f"ledger_{COSIGNATURES}"
    placeholder = "?"
    _ZEROS = "zeroblob(length({column}))"
    _STREAM_NIBBLE = "instr('0123456789abcdef', lower(substr(e.originator_id, -1, 1))) - 1"  # ids stored as text

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        self.events_table = events_table_name
        super().__init__(datastore, events_table_name)
        self.insert_events_statement = (
            f"INSERT INTO {events_table_name} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)"
        )

    def has_log_tables(self) -> bool:
        return bool(self._rows("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = %s", (self.events_table,)))

    def construct_create_table_statements(self) -> list[str]:
        events = self.events_table_name
        statements = [
            f"CREATE TABLE IF NOT EXISTS {events} ("
            "notification_id INTEGER PRIMARY KEY, "
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "topic TEXT, "
            "state BLOB, "
            "UNIQUE (originator_id, originator_version))",
            f"CREATE TABLE IF NOT EXISTS {self.leaves_table} ("
            "position INTEGER PRIMARY KEY, "
            "event_id TEXT UNIQUE, "
            "request_digest TEXT, "
            "recorded_at TEXT NOT NULL, "
            "leaf_hash BLOB NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.leaves_table}_recorded_at ON {self.leaves_table} (recorded_at)",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints_table} ("
            "tree_size INTEGER PRIMARY KEY, "
            "root_hash BLOB NOT NULL, "
            "timestamp TEXT NOT NULL, "
            "note TEXT NOT NULL)",
        ]
        statements += [
            f"CREATE TABLE IF NOT EXISTS {self.case_keys_table} ("
            "case_id TEXT NOT NULL, "
            "key_id TEXT NOT NULL, "
            "wrapped BLOB NOT NULL, "
            "created_at TEXT NOT NULL, "
            "PRIMARY KEY (case_id, key_id))",
            f"CREATE TABLE IF NOT EXISTS {self.access_log_table} ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "at TEXT NOT NULL, "
            "token TEXT NOT NULL, "
            "organization TEXT NOT NULL, "
            "role TEXT NOT NULL, "
            "action TEXT NOT NULL, "
            "case_id TEXT, "
            "detail TEXT NOT NULL)",
            CREATE_SESSIONS.format(table=self.sessions_table),
            CREATE_SESSIONS_INDEX.format(index=f"{self.sessions_table}_token_name", table=self.sessions_table),
            CREATE_VERIFICATIONS.format(table=self.verifications_table, **SQLITE_TYPES),
            *(
                CREATE_INDEX.format(index=f"{self.access_log_table}_{suffix}", table=self.access_log_table, columns=columns)
                for suffix, columns in ACCESS_LOG_INDEXES
            ),
            CREATE_COSIGNATURES.format(table=self.cosignatures_table),
        ]
        for table in (
            events, self.leaves_table, self.checkpoints_table, self.access_log_table, self.verifications_table, self.cosignatures_table
        ):
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{operation.lower()} "
                    f"BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {operation} on {table} refused'); END"
                )
        return statements

    def _append_in(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], keys: Sequence[LeafKey] | None, after: LogHead | None
    ) -> list[Leaf]:
        """`after` is not needed here: the transaction holds the database's write lock, so the
        batch gets consecutive positions after whatever the head is, and its recorded_at is stamped
        under that lock. A batch decided on a stale case still clashes, on the case's version."""
        # A connection setting (cheap, and the writer may be any of the pool's connections):
        # checkpoint the WAL into the database every WAL_AUTOCHECKPOINT pages rather than
        # SQLite's 1,000. Each checkpoint writes and syncs the pages written since the last, and
        # the random pages of the unique indexes are written again and again: fewer checkpoints
        # coalesce them. Commits still sync the WAL (synchronous=FULL), so nothing is less durable.
        c.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        # One executemany instead of the library's execute per event. The first insert takes the
        # database's write lock, so this transaction's rows get consecutive positions, the last of
        # which is last_insert_rowid().
        c.executemany(
            self.insert_events_statement,
            [(self._id_param(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events],
        )
        if c.sqlite_cursor.rowcount != len(stored_events):  # positions below would not be theirs
            return []
        c.execute(self._sql("SELECT last_insert_rowid() AS last, " + self._LAST_RECORDED_AT + " AS recorded_at"))
        row = c.fetchone()
        recorded_at = next_recorded_at(row["recorded_at"])  # under the write lock
        leaves = [leaf_input.leaf(recorded_at) for leaf_input in leaf_inputs(stored_events, row["last"] - len(stored_events) + 1, keys)]
        written = self._insert_leaves(c, leaves)
        return leaves[:written]  # as many as the database wrote: a batch short of any is rolled back

    def settled_instant(self) -> str:
        # The writer connection, in a transaction begun IMMEDIATE: it waits for this process's
        # writer and for any other process's write transaction to end, and holds off new ones
        # while the clock is read. Nothing is written; the transaction is rolled back.
        with write_transaction(self.datastore, commit=False):
            return utc_text(datetime.now(UTC) - timedelta(microseconds=1))

    def _insert_leaves(self, cursor: SQLiteCursor, leaves: Sequence[Leaf]) -> int:
        """How many leaves the database wrote (a trigger may have skipped some)."""
        cursor.executemany(
            f"INSERT INTO {self.leaves_table} (position, event_id, request_digest, recorded_at, leaf_hash) "
            "VALUES (?,?,?,?,?)",
            [(leaf.position, leaf.event_id, leaf.request_digest, leaf.recorded_at, leaf.leaf_hash) for leaf in leaves],
        )
        return int(cursor.sqlite_cursor.rowcount)  # summed over the executemany

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        # The library's version reads the implicit rowid by name; ours is the explicit column.
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            clauses.append("notification_id >= ?" if inclusive_of_start else "notification_id > ?")
            params.append(start)
        if stop is not None:
            clauses.append("notification_id <= ?")
            params.append(stop)
        if topics:
            clauses.append(f"topic IN ({','.join('?' * len(topics))})")
            params.extend(topics)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        statement = f"SELECT * FROM {self.events_table_name} {where}ORDER BY notification_id LIMIT ?"
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, [*params, limit])
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]

    # --- case keys (ledger/recorders/case_keys.py) ------------------------------------------------

    def _overwrite_what_is_freed(self, cursor: SQLiteCursor) -> None:
        # A connection setting. SQLite then overwrites with zeros what a statement frees: a row's
        # old cell, or a page a split leaves behind. Builds without SECURE_DELETE (Debian's has it)
        # left stray copies of keys in the pages of 1 in 5 keys zeroed in a test.
        cursor.execute("PRAGMA secure_delete = ON")

    def _insert_first_keys_in(self, cursor: SQLiteCursor, rows: Sequence[CaseKeyRow]) -> int:
        self._overwrite_what_is_freed(cursor)
        cursor.executemany(
            self._sql(
                "INSERT INTO {case_keys} (case_id, key_id, wrapped, created_at) SELECT %s, %s, %s, %s"
                f" WHERE NOT EXISTS (SELECT 1 FROM {{case_keys}} WHERE case_id = %s AND NOT ({self._destroyed()}))"
            ),
            [(row.case_id, row.key_id, row.wrapped, row.created_at, row.case_id) for row in rows],
        )
        return self._rows_changed(cursor)

    def _rows_changed(self, cursor: SQLiteCursor) -> int:
        return int(cursor.sqlite_cursor.rowcount)

    def erase_destroyed_keys(self, patience: float) -> ErasureAttempt:
        """Folds the WAL into the database file and empties it (wal_checkpoint(TRUNCATE)): older
        frames hold the pages as they were before the keys were zeroed, and the file may hold them
        as a checkpoint last copied them. The checkpoint must wait for every reader still reading
        from the WAL (an export, a report, a backup holding a snapshot), and says if it could not."""
        destroyed = self.destroyed_case_keys()
        cases = tuple(destroyed)
        if not destroyed:
            return ErasureAttempt(True, cases)
        with self.datastore.get_connection(commit=True) as connection:
            with closing(connection.cursor().sqlite_cursor) as cursor:
                # The checkpoint holds the write lock while it waits: appends wait at most this long.
                waits = int(cursor.execute("PRAGMA busy_timeout").fetchone()[0])
                cursor.execute(f"PRAGMA busy_timeout = {max(1, int(patience * 1000))}")
                try:
                    blocked, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    cursor.execute(f"PRAGMA busy_timeout = {waits}")
        if blocked:
            path = self.datastore.pool.db_name
            return ErasureAttempt(
                False,
                cases,
                (
                    f"a reader of {path} (an export, a report, a backup, another process's open transaction) "
                    f"still holds a snapshot, so the old copies of the keys in {path} and {path}-wal cannot be "
                    "overwritten yet",
                ),
            )
        with self._write() as cursor:
            self._delete_erased_in(cursor, destroyed)
        return ErasureAttempt(True, cases)

    @staticmethod
    def _id_param(originator_id: UUID | str) -> str:
        return originator_id.hex if isinstance(originator_id, UUID) else originator_id

    def _stream_param(self, stream_id: UUID) -> str:
        return stream_id.hex if self.datastore.originator_id_type == "uuid" else str(stream_id)

    def convert_stored_id(self, value: Any) -> UUID | str:
        return self.convert_originator_id(value)
