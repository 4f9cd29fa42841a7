"""The PostgreSQL recorder: eventsourcing's tables, with each event's leaf written in its own transaction.

Every append is one statement under the library's append lock (`LOCK TABLE … IN EXCLUSIVE MODE`,
so writers are serialised and commit in position order): the events at the positions after the
head, and their leaves, whose recorded_at the database stamps from its own clock under that lock
and whose hashes it finishes from the leaf inputs computed beforehand (ledger/leaves.py). One clock
for every API process, read under the lock, is what lets a report resolve an instant that no
append still running can fall at or before (settled_instant). Positions are the head's + 1, + 2, …
rather than a sequence's (a sequence leaves gaps when a transaction rolls back, and leaf index =
position − 1 must hold). Rows go as binary arrays, one per column. Triggers make the database itself
refuse UPDATE, DELETE and TRUNCATE of events, leaves and checkpoints. The lock is taken through a
function of the tables' owner, so that the writer role needs no UPDATE privilege for it, and a
writer leaves the tables as the owner made them (see ledger/postgres_grants.py).
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.faults import reconnecting_helps
from ledger.leaves import Leaf, LeafKey, leaf_inputs
from ledger.postgres_grants import is_owner, needs_the_owner
from ledger.recorders.base import LedgerRecorder, LogHead
from ledger.recorders.case_keys import CaseKeyChanges, CaseKeyRow, ErasureAttempt
from ledger.recorders.postgres_erasure import vacuum_away_dead_keys
from ledger.recorders.access_log_records import ACCESS_LOG_INDEXES, CREATE_INDEX
from ledger.recorders.cosignature_records import COSIGNATURES, CREATE_COSIGNATURES
from ledger.recorders.session_records import CREATE_SESSIONS, CREATE_SESSIONS_INDEX, SESSIONS
from ledger.recorders.verification_records import CREATE_VERIFICATIONS, POSTGRES_TYPES, VERIFICATIONS

# A batch whose pooled connection turns out dead is tried again on a fresh one, briefly: past
# this the client is told 503 and retries itself.
RECONNECT_ATTEMPTS = 3
RECONNECT_WAIT_SECONDS = 0.2


def one_schema_change_at_a_time(cursor: Cursor[Any], schema: str) -> None:
    """Takes, for the caller's transaction, the lock under which the ledger changes `schema`:
    processes creating the same tables, functions and triggers at once deadlock in PostgreSQL."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"settlement ledger schema {schema}",))


class LedgerPostgresRecorder(LedgerRecorder, PostgresApplicationRecorder):
    _STREAM_NIBBLE = "get_byte(uuid_send(e.originator_id), 15) & 15"
    _ZEROS = "decode(repeat('00', length({column})), 'hex')"

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        prefix = events_table_name.removesuffix("_events")
        names = {
            "schema": schema,
            "events": Identifier(events_table_name),
            "leaves": Identifier(f"{prefix}_leaves"),
            "checkpoints": Identifier(f"{prefix}_checkpoints"),
            "refuse": Identifier(f"{prefix}_refuse_change"),
            "lock": Identifier(f"{prefix}_lock_for_append"),
            "case_keys": Identifier(f"{prefix}_case_keys"),
            "access_log": Identifier(f"{prefix}_access_log"),
            "sessions": Identifier(f"{prefix}_{SESSIONS}"),
            "verifications": Identifier(f"{prefix}_{VERIFICATIONS}"),
            "cosignatures": Identifier(f"{prefix}_{COSIGNATURES}"),
        }
        self.events_table = SQL("{schema}.{events}").format(**names).as_string()
        self.leaves_table = SQL("{schema}.{leaves}").format(**names).as_string()
        self.checkpoints_table = SQL("{schema}.{checkpoints}").format(**names).as_string()
        self.case_keys_table = SQL("{schema}.{case_keys}").format(**names).as_string()
        self.access_log_table = SQL("{schema}.{access_log}").format(**names).as_string()
        self.sessions_table = SQL("{schema}.{sessions}").format(**names).as_string()
        self.verifications_table = SQL("{schema}.{verifications}").format(**names).as_string()
        self.cosignatures_table = SQL("{schema}.{cosignatures}").format(**names).as_string()
        # The events at the positions given, and their leaves: recorded_at from the database's clock
        # (under the append lock, taken before this statement), never before the last leaf's; each
        # leaf hash the RFC 6962 leaf hash of its input around that recorded_at. The events go as one
        # binary array per column: the library's array of composites is dumped as text, escaping
        # every field with regular expressions, which cost more than the insert itself.
        self._append_statement = SQL(
            "WITH appended AS ("
            " INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state, notification_id)"
            " SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[], %b::bigint[])"
            " RETURNING notification_id"
            "), stamp AS MATERIALIZED ("
            " SELECT GREATEST("
            "  to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') COLLATE \"C\","
            "  (SELECT recorded_at FROM {schema}.{leaves} ORDER BY position DESC LIMIT 1)) AS recorded_at"
            ") INSERT INTO {schema}.{leaves} (position, event_id, request_digest, recorded_at, leaf_hash)"
            " SELECT l.position, l.event_id, l.digest, stamp.recorded_at,"
            "  sha256('\\x00'::bytea || l.before || convert_to(stamp.recorded_at, 'UTF8') || l.after)"
            " FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::bytea[], %b::bytea[])"
            " AS l(position, event_id, digest, before, after)"
            " JOIN appended ON appended.notification_id = l.position CROSS JOIN stamp"  # a leaf only for an event written
            " RETURNING position, recorded_at, leaf_hash"
        ).format(id_type=SQL(self.datastore.originator_id_type), **names)
        self._head_statement = SQL("SELECT COALESCE(MAX(position), 0) AS position FROM {schema}.{leaves}").format(**names)
        self._clock_statement = SQL(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC' - interval '1 microsecond',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS instant"
        )

        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.{leaves} ("
                    "position bigint PRIMARY KEY, "
                    "event_id text UNIQUE, "
                    "request_digest text, "
                    "recorded_at text NOT NULL, "
                    "leaf_hash bytea NOT NULL)"
                ).format(**names),
                SQL(
                    "CREATE INDEX IF NOT EXISTS {index} ON {schema}.{leaves} (recorded_at)"
                ).format(index=Identifier(f"{prefix}_leaves_recorded_at"), **names),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.{checkpoints} ("
                    "tree_size bigint PRIMARY KEY, "
                    "root_hash bytea NOT NULL, "
                    "timestamp text NOT NULL, "
                    "note text NOT NULL)"
                ).format(**names),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.{case_keys} ("
                    "case_id text NOT NULL, "
                    "key_id text NOT NULL, "
                    "wrapped bytea NOT NULL, "
                    "created_at text NOT NULL, "
                    "PRIMARY KEY (case_id, key_id))"
                ).format(**names),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.{access_log} ("
                    "id bigserial PRIMARY KEY, "
                    "at text NOT NULL, "
                    "token text NOT NULL, "
                    "organization text NOT NULL, "
                    "role text NOT NULL, "
                    "action text NOT NULL, "
                    "case_id text, "
                    "detail text NOT NULL)"
                ).format(**names),
                SQL(CREATE_SESSIONS).format(table=SQL("{schema}.{sessions}").format(**names)),
                SQL(CREATE_SESSIONS_INDEX).format(
                    index=Identifier(f"{prefix}_{SESSIONS}_token_name"), table=SQL("{schema}.{sessions}").format(**names)
                ),
                SQL(CREATE_VERIFICATIONS.format(table="{schema}.{verifications}", **POSTGRES_TYPES)).format(**names),
                *(
                    SQL(CREATE_INDEX.format(index="{index}", table="{schema}.{access_log}", columns=columns)).format(
                        index=Identifier(f"{prefix}_access_log_{suffix}"), **names
                    )
                    for suffix, columns in ACCESS_LOG_INDEXES
                ),
                SQL(CREATE_COSIGNATURES).format(table=SQL("{schema}.{cosignatures}").format(**names)),
                SQL(
                    "CREATE OR REPLACE FUNCTION {schema}.{refuse}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME "
                    "USING ERRCODE = 'insufficient_privilege'; END $$"
                ).format(**names),
            ]
        )
        # The append lock, as the library takes it (its comment in _lock_table says why), through a
        # function of the owner's: in PostgreSQL 15, LOCK TABLE … IN EXCLUSIVE MODE needs UPDATE,
        # DELETE or TRUNCATE on the table, which the writer role must not have (ledger/postgres_grants.py).
        # SECURITY DEFINER with a fixed search_path, no arguments, and callable only by roles
        # granted EXECUTE: it can do nothing but take this one lock, for the caller's transaction.
        self.sql_create_statements += [
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{lock}() RETURNS void LANGUAGE sql SECURITY DEFINER "
                "SET search_path = pg_catalog, pg_temp AS $$ LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE $$"
            ).format(**names),
            SQL("REVOKE ALL ON FUNCTION {schema}.{lock}() FROM PUBLIC").format(**names),
        ]
        self.lock_table_statements = [
            self.lock_table_statements[0],  # SET LOCAL lock_timeout
            SQL("SELECT {schema}.{lock}()").format(**names),
        ]
        for table in ("events", "leaves", "checkpoints", "access_log", "verifications", "cosignatures"):
            for when, level in (("UPDATE OR DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
                trigger = Identifier(f"{prefix}_{table}_refuse_{when.split()[0].lower()}")
                self.sql_create_statements.append(
                    SQL(
                        "CREATE OR REPLACE TRIGGER {trigger} BEFORE " + when + " ON {schema}.{table} "
                        "FOR EACH " + level + " EXECUTE FUNCTION {schema}.{refuse}()"
                    ).format(trigger=trigger, table=names[table], **names)
                )

    def has_log_tables(self) -> bool:
        return bool(self._rows("SELECT to_regclass(%s) IS NOT NULL AS found", (self.events_table,))[0]["found"])

    def create_table(self) -> None:
        """Creates (or brings up to date) the tables, when connected as their owner. A role that
        is not (the writer: see ledger/postgres_grants.py) uses them as `ledger migrate` left them."""
        try:
            with self.datastore.transaction(commit=False) as cursor:
                owner = is_owner(cursor, self.events_table)
            if owner is False:
                self.datastore.register_type_adapters()
                return
            super().create_table()
        except ProgrammingError as error:
            if not needs_the_owner(error):
                raise
            raise ProgrammingError(
                f"the ledger's tables are missing from schema {self.datastore.schema} and this role may not "
                "create them: run `ledger migrate` as the schema's owner first"
            ) from error

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        one_schema_change_at_a_time(curs, self.datastore.schema)
        super()._create_table(curs)

    def _write_batch(
        self, stored_events: Sequence[StoredEvent], keys: Sequence[LeafKey] | None, after: LogHead | None, case_keys: CaseKeyChanges
    ) -> list[Leaf]:
        """Retried on a fresh connection only when the connection went away (a pooled connection
        the server closed on restart, say). A lock timeout or a full disk is the client's answer at
        once (503, 507). If the lost connection had committed, the retry clashes (on the positions
        after `after`, or on the events' stream versions) and nothing is written twice: the append
        path then finds the batch already in the log."""
        for attempt in range(1, RECONNECT_ATTEMPTS + 1):
            try:
                return super()._write_batch(stored_events, keys, after, case_keys)
            except (InterfaceError, OperationalError) as error:
                if attempt == RECONNECT_ATTEMPTS or not reconnecting_helps(error):
                    raise
                time.sleep(RECONNECT_WAIT_SECONDS)
        raise AssertionError("unreachable")

    @contextmanager
    def _append_transaction(self) -> Iterator[Cursor[DictRow]]:
        with (
            self.datastore.get_connection() as connection,
            connection.pipeline(),
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            self._lock_table(cursor)
            self._notify_channel(cursor)
            yield cursor

    def _append_in(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], keys: Sequence[LeafKey] | None, after: LogHead | None
    ) -> list[Leaf]:
        if after is None:  # the head under the lock: one more round trip, for the operator's own events
            cursor.execute(self._head_statement, prepare=True)
            head = int(cursor.fetchone()["position"])
        else:
            head = after.position
        inputs = leaf_inputs(stored_events, head + 1, keys)
        cursor.execute(
            self._append_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
                [leaf.position for leaf in inputs],
                [leaf.position for leaf in inputs],
                [leaf.key.event_id for leaf in inputs],
                [leaf.key.request_digest for leaf in inputs],
                [leaf.before for leaf in inputs],
                [leaf.after for leaf in inputs],
            ),
            prepare=True,
        )
        stamped = {row["position"]: (row["recorded_at"], bytes(row["leaf_hash"])) for row in cursor.fetchall()}
        # Only the leaves the database wrote: a batch short of any is rolled back (_write_batch).
        return [Leaf(i.position, i.key.event_id, i.key.request_digest, *stamped[i.position]) for i in inputs if i.position in stamped]

    def settled_instant(self) -> str:
        with self.datastore.transaction(commit=False) as cursor:
            self._lock_table(cursor)
            cursor.execute(self._clock_statement, prepare=True)
            return str(cursor.fetchone()["instant"])

    @contextmanager
    def _query(self) -> Iterator[Cursor[DictRow]]:
        # Autocommit: one statement is one round trip, without BEGIN and ROLLBACK around it.
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            yield cursor

    # --- case keys (ledger/recorders/case_keys.py) ------------------------------------------------

    def _insert_first_keys_in(self, cursor: Cursor[DictRow], rows: Sequence[CaseKeyRow]) -> int:
        cursor.execute(
            self._sql(
                "INSERT INTO {case_keys} (case_id, key_id, wrapped, created_at)"
                " SELECT k.case_id, k.key_id, k.wrapped, k.created_at"
                " FROM unnest(%s::text[], %s::text[], %s::bytea[], %s::text[]) AS k(case_id, key_id, wrapped, created_at)"
                f" WHERE NOT EXISTS (SELECT 1 FROM {{case_keys}} c WHERE c.case_id = k.case_id AND NOT ({self._destroyed('c.wrapped')}))"
                " RETURNING case_id"
            ),
            (
                [row.case_id for row in rows],
                [row.key_id for row in rows],
                [row.wrapped for row in rows],
                [row.created_at for row in rows],
            ),
        )
        return len(cursor.fetchall())

    def _rows_changed(self, cursor: Cursor[DictRow]) -> int:
        return int(cursor.rowcount)

    def erase_destroyed_keys(self, patience: float) -> ErasureAttempt:
        destroyed = self.destroyed_case_keys()
        cases = tuple(destroyed)
        if not destroyed:
            return ErasureAttempt(True, cases)
        with self.datastore.get_connection() as connection:
            connection.commit()  # VACUUM runs outside a transaction
            held_by = vacuum_away_dead_keys(connection, self.case_keys_table, patience)
        if held_by:
            return ErasureAttempt(False, cases, held_by)
        with self._write() as cursor:
            self._delete_erased_in(cursor, destroyed)
        return ErasureAttempt(True, cases)

    def _stream_param(self, stream_id: UUID) -> UUID | str:
        return stream_id if self.datastore.originator_id_type == "uuid" else str(stream_id)

