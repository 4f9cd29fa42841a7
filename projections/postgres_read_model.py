"""The read model's tables on PostgreSQL: a schema of the ledger's database, written with COPY."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

from ledger.recorders.postgres import one_schema_change_at_a_time
from ledger.postgres_grants import is_owner
from projections.read_model import ReadModel
from projections.row_format import VERSIONED


class PostgresReadModel(ReadModel, PostgresTrackingRecorder):
    def __init__(self, datastore: PostgresDatastore) -> None:
        PostgresTrackingRecorder.__init__(self, datastore, tracking_table_name="projection_tracking")
        ReadModel.__init__(self)

    def _table(self, name: str) -> str:
        return f'"{self.datastore.schema}"."{name}"'

    def analyze(self, generation: int) -> None:
        # Until autovacuum gets to them, PostgreSQL takes freshly loaded tables for tiny ones and
        # scans them whole: the overdue list took 140 ms at a million events instead of 3 ms.
        with self._write() as cursor:
            for name in (*VERSIONED, "notable", "snapshots"):
                cursor.execute(f"ANALYZE {self._generation_table(generation, name)}")

    def create_table(self) -> None:
        # The writer role (ledger/postgres_grants.py) uses the tables `ledger migrate` made, as their owner.
        if not self._made_by_another_role("projection_tracking"):
            super().create_table()

    def create_state_table(self) -> None:
        if not self._made_by_another_role("projection_generations"):
            super().create_state_table()

    def create_fault_table(self) -> None:
        if not self._made_by_another_role("projection_faults"):
            super().create_fault_table()

    def _create_table(self, curs: Cursor[DictRow]) -> None:  # the library's, of the tracking table
        one_schema_change_at_a_time(curs, self.datastore.schema)
        super()._create_table(curs)

    @contextmanager
    def _schema_change(self) -> Iterator[Any]:
        with self._write() as cursor:
            one_schema_change_at_a_time(cursor, self.datastore.schema)
            yield cursor

    def _made_by_another_role(self, name: str) -> bool:
        with self._read() as cursor:
            return is_owner(cursor, self._table(name)) is False

    def _insert_many(self, cursor: Any, table: str, rows: Sequence[Sequence[Any]]) -> None:
        # COPY: several times faster than a statement per row for a page's thousands of rows.
        with cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _index(self, generation: int, table: str, what: str) -> str:
        return f"cs{generation}_{table}_{what}"  # PostgreSQL puts an index in its table's schema
