"""The read model's tables, on SQLite or PostgreSQL, in the same database as the log.

Each generation of the case-status projection has its own tables (`cs<g>_…`), so a rebuild fills
fresh tables while the live ones keep answering, and a one-row switch makes it current
(blue/green). Rows are versioned by log position: a row holds from `valid_from` until `valid_to`
(exclusive; NULL while current), so the state at any position is a plain query. Every page of
events is written in one transaction with its tracking position (eventsourcing's tracking
recorders), so a page takes effect exactly once.

`snapshots` hold the summed cells at a position now and then (kept), and at the head of the log
when the projection has caught up (replaced by the next): the cells at any position are the
nearest snapshot before it plus the rows that began or ended since.

A generation's settings record the FORMAT its rows were written in (projections/row_format.py);
its tables are made, switched and dropped by projections/generations.py. The SQL is written once;
projections/sqlite_read_model.py and postgres_read_model.py supply each backend's cursors and
table names.
"""

from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from eventsourcing.persistence import Tracking

from ledger.recorders.base import DatastoreTransactions, create_alongside_others
from projections.case_rows import Cell, Row, RowKey
from projections.generations import Generations
from projections.projection_faults import PROJECTION, FaultRecords
from projections.row_format import COLUMNS, DELTA_CELLS, PageWrite, cells_from_json, cells_json, decode

if TYPE_CHECKING:
    from ledger.application import Ledger


class ReadModel(DatastoreTransactions, Generations, FaultRecords, ABC):
    """The SQL of the read model, written once; each backend supplies cursors and table names."""

    placeholder = "%s"
    bigint = "BIGINT"
    # Keys compare byte by byte on both backends (SQLite's BINARY; PostgreSQL's "C", not the
    # database's locale), so lists ordered by case id come out alike everywhere.
    key_text = 'TEXT COLLATE "C"'

    def __init__(self) -> None:
        self._snapshots: OrderedDict[tuple[int, int], Counter[Cell]] = OrderedDict()

    @contextmanager
    def _schema_change(self) -> Iterator[Any]:
        """A transaction that creates tables (on PostgreSQL, one such at a time)."""
        with self._write() as cursor:
            yield cursor

    @abstractmethod
    def _table(self, name: str) -> str: ...

    # From eventsourcing's tracking recorders, which each backend's class also derives from.
    _insert_tracking: Any
    max_tracking_id: Any

    def _sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    def _batches(self, cursor: Any, size: int) -> Iterator[list[Any]]:
        while rows := cursor.fetchmany(size):
            yield rows

    def _generation_table(self, generation: int, name: str) -> str:
        return self._table(f"cs{generation}_{name}")

    # --- writing ---------------------------------------------------------------------------------

    def write_page(self, generation: int, page: PageWrite) -> None:
        """One transaction: the tracking position first (it takes the write lock, and a position
        already tracked raises IntegrityError before anything else is written), then the rows."""
        with self._write() as cursor:
            if page.tracked:
                self._insert_tracking(cursor, Tracking(tracking_name(generation), page.position))
            for table, closes in page.closes.items():
                _, key = COLUMNS[table]
                where = " AND ".join(f"{column} = %s" for column in key)
                cursor.executemany(
                    self._sql(
                        f"UPDATE {self._generation_table(generation, table)} SET valid_to = %s "
                        f"WHERE {where} AND valid_to IS NULL"
                    ),
                    closes,
                )
            self._insert_rows(cursor, generation, page)
            if page.notable:
                self._insert_many(cursor, self._generation_table(generation, "notable"), page.notable)
            if page.snapshot is not None:
                self._insert_snapshot(cursor, generation, page.position, page.snapshot, kept=True)

    def write_snapshot(self, generation: int, position: int, summed: Counter[Cell]) -> None:
        """A kept snapshot on its own (the sums of a bulk load shared by several workers)."""
        with self._write() as cursor:
            self._insert_snapshot(cursor, generation, position, summed, kept=True)

    def write_head_snapshot(self, generation: int, position: int, summed: Counter[Cell]) -> None:
        """The cells at the projection's head, replacing the previous head snapshot."""
        with self._write() as cursor:
            self._insert_snapshot(cursor, generation, position, summed, kept=False)

    def _insert_snapshot(self, cursor: Any, generation: int, position: int, summed: Counter[Cell], kept: bool) -> None:
        table = self._generation_table(generation, "snapshots")
        cursor.execute(
            self._sql(f"INSERT INTO {table} VALUES (%s, %s, %s) ON CONFLICT (position) DO NOTHING"),
            (position, int(kept), cells_json(summed)),
        )
        cursor.execute(self._sql(f"DELETE FROM {table} WHERE kept = 0 AND position < %s"), (position,))

    def write_rows(self, generation: int, page: PageWrite) -> None:
        """Rows alone, without moving the tracking position (a bulk load's last, current rows)."""
        with self._write() as cursor:
            self._insert_rows(cursor, generation, page)

    def _insert_rows(self, cursor: Any, generation: int, page: PageWrite) -> None:
        for table, inserts in page.inserts.items():
            if inserts:
                self._insert_many(cursor, self._generation_table(generation, table), inserts)

    def _insert_many(self, cursor: Any, table: str, rows: Sequence[Sequence[Any]]) -> None:
        marks = ", ".join(["%s"] * len(rows[0]))
        cursor.executemany(self._sql(f"INSERT INTO {table} VALUES ({marks})"), rows)

    # --- reading ---------------------------------------------------------------------------------

    def tracked(self, generation: int) -> int:
        return self.max_tracking_id(tracking_name(generation)) or 0

    def latest_snapshot(self, generation: int) -> int:
        with self._read() as cursor:
            cursor.execute(f"SELECT MAX(position) AS position FROM {self._generation_table(generation, 'snapshots')}")
            row = cursor.fetchone()
        return int(row["position"] or 0)

    def cells_at(self, generation: int, position: int) -> Counter[Cell]:
        """The summed cells once the log held positions 1..position."""
        with self._read() as cursor:
            since, snapshot = self._snapshot_before(cursor, generation, position)
            summed = Counter(snapshot)
            for table, columns, cells_of in DELTA_CELLS:
                name = self._generation_table(generation, table)
                for bound, counter in (("valid_from", summed.update), ("valid_to", summed.subtract)):
                    cursor.execute(
                        self._sql(f"SELECT {columns} FROM {name} WHERE {bound} > %s AND {bound} <= %s"),
                        (since, position),
                    )
                    for values in cursor.fetchall():
                        counter(cells_of(values.values() if isinstance(values, dict) else values))
            cursor.execute(
                self._sql(
                    f"SELECT kind, COUNT(*) AS n FROM {self._generation_table(generation, 'notable')} "
                    "WHERE position > %s AND position <= %s GROUP BY kind"
                ),
                (since, position),
            )
            for row in cursor.fetchall():
                summed[("data_quality", row["kind"])] += int(row["n"])
        return summed

    def _snapshot_before(self, cursor: Any, generation: int, position: int) -> tuple[int, Counter[Cell]]:
        """The nearest snapshot at or before `position`: (its position, its cells)."""
        table = self._generation_table(generation, "snapshots")
        while True:
            cursor.execute(self._sql(f"SELECT MAX(position) AS position FROM {table} WHERE position <= %s"), (position,))
            since = int(cursor.fetchone()["position"] or 0)
            if not since:
                return 0, Counter()
            key = (generation, since)
            if key not in self._snapshots:
                cursor.execute(self._sql(f"SELECT cells FROM {table} WHERE position = %s"), (since,))
                found = cursor.fetchone()
                if found is None:
                    continue  # a head snapshot replaced since the first read: look again
                self._snapshots[key] = cells_from_json(found["cells"])
                while len(self._snapshots) > 8:  # a snapshot never changes: a few parsed ones are kept
                    self._snapshots.popitem(last=False)
            self._snapshots.move_to_end(key)
            return since, self._snapshots[key]

    def overdue_at(
        self, generation: int, position: int, today: int, limit: int, after: "OverdueKey | None" = None
    ) -> list["OverdueClock"]:
        """The first `limit` clocks overdue or breached on `today` once the log held 1..position,
        longest first (since_day, then case id and obligation), after the clock `after` if given.
        Read along the
        clocks' since-day index, so the database stops at the limit instead of sorting every clock.
        Filtered as `domain.obligation_status.lapsed_on` defines overdue or breached (tested
        against the domain's status in tests/test_overdue_rule.py)."""
        table = self._generation_table(generation, "clocks")
        where, parameters = "", [position, position, today]
        if after is not None:
            since, case_id, obligation = after.since, after.case_id, after.obligation
            # since_day >= … first: a bound the index's range scan starts from
            where = "AND since_day >= %s AND (since_day > %s OR case_id > %s OR (case_id = %s AND obligation > %s)) "
            parameters += [since, since, case_id, case_id, obligation]
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT case_id, obligation, due_day, since_day FROM {table} "
                    "WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to > %s) AND since_day <= %s "
                    f"{where}ORDER BY since_day, case_id, obligation LIMIT %s"
                ),
                (*parameters, limit),
            )
            rows = cursor.fetchall()
        return [OverdueClock(row["case_id"], row["obligation"], int(row["due_day"]), int(row["since_day"])) for row in rows]

    def rows_at(self, generation: int, table: str, position: int) -> Iterator[tuple[str, RowKey, Row]]:
        """(case_id, key, row) of every row of `table` that held once the log held 1..position."""
        columns = ", ".join((*COLUMNS[table][1], *COLUMNS[table][0]))
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {columns} FROM {self._generation_table(generation, table)} "
                    "WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)"
                ),
                (position, position),
            )
            rows = cursor.fetchall()
        for values in rows:
            listed = list(values.values()) if isinstance(values, dict) else list(values)
            key, row = decode(table, listed)
            yield listed[0], key, row

    def current_clocks(self, generation: int, obligations: Sequence[str]) -> Iterator[tuple[str, RowKey, Row]]:
        """(case_id, key, row) of the current clock rows of the given obligations."""
        columns = ", ".join((*COLUMNS["clocks"][1], *COLUMNS["clocks"][0]))
        marks = ", ".join(["%s"] * len(obligations))
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {columns} FROM {self._generation_table(generation, 'clocks')} "
                    f"WHERE valid_to IS NULL AND obligation IN ({marks})"
                ),
                list(obligations),
            )
            # A batch at a time: at a settlement event that is every case's clocks.
            for rows in self._batches(cursor, 5000):
                for values in rows:
                    listed = list(values.values()) if isinstance(values, dict) else list(values)
                    key, row = decode("clocks", listed)
                    yield listed[0], key, row


class OverdueKey(NamedTuple):
    """Where the overdue list is ordered: by since day, then case id and obligation."""

    since: int
    case_id: str
    obligation: str


class OverdueClock(NamedTuple):
    """A clock on the overdue list: overdue (a deadline, due on `due`) or breached (a duration)
    since `since`."""

    case_id: str
    obligation: str
    due: int
    since: int

    @property
    def key(self) -> OverdueKey:
        return OverdueKey(self.since, self.case_id, self.obligation)


def tracking_name(generation: int) -> str:
    return f"{PROJECTION}@{generation}"


def read_model(ledger: "Ledger") -> ReadModel:
    """The read model in the ledger's own database, as it is."""
    datastore = ledger.datastore
    if ledger.backend == "sqlite":
        from projections.sqlite_read_model import SQLiteReadModel

        return SQLiteReadModel(datastore)
    # Imported here: psycopg loads only for a PostgreSQL ledger (a rebuild's worker processes,
    # each a fresh interpreter, start a sixth of a second sooner on SQLite).
    from projections.postgres_read_model import PostgresReadModel

    return PostgresReadModel(datastore)


def open_read_model(ledger: "Ledger") -> ReadModel:
    """The read model in the ledger's own database, its shared tables created if missing."""
    model = read_model(ledger)
    create_alongside_others(model.create_table)  # type: ignore[attr-defined]  # the tracking table
    create_alongside_others(model.create_state_table)
    create_alongside_others(model.create_fault_table)
    return model
