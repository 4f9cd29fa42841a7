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

A generation's settings record the FORMAT its rows were written in: what its columns and cells
mean. Code reads and writes only a generation of its own format (projections/runner.py rebuilds
one of an older format before reports are answered from it).
"""

import json
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from domain.clocks import Clock, ClockInputs
from domain.obligation_status import KIND_BY_NAME
from ledger.recorders.base import create_alongside_others
from ledger.recorders.sqlite import write_transaction

if TYPE_CHECKING:
    from ledger.application import Ledger
from projections.case_rows import (
    FAMILY_ROW,
    Cell,
    ChildRow,
    ClockRow,
    FamilyRow,
    Row,
    RowKey,
    cells,
    clock_cell_of,
)
from projections.projection_faults import PROJECTION, FaultRecords

# What the rows and cells mean. Raise it whenever a change of code makes a row's columns or cells
# mean something else: a generation written in another format is never read (or written) as this
# one. 1 (no "format" in the settings): before duration clocks; 2: deadline and duration clocks,
# each clock's `since_day`; 3: the warnings events drew noted (`notable`) and counted, by code.
FORMAT = 3

# table → (its columns after the key, its key columns)
_COLUMNS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "children": (
        ("status", "nationality", "border_sector", "separation_month", "age_band", "facilitator", "reunified_month"),
        ("case_id", "member_id"),
    ),
    "families": (("registered", "reunified", "services"), ("case_id",)),
    "clocks": (
        # what the case's record says (ClockInputs), then how it reads under the terms (Clock)
        ("anchor", "met_event", "cover", "interrupted", "start_day", "due_day", "met_day", "late", "since_day", "elapsed"),
        ("case_id", "obligation"),
    ),
}
VERSIONED = tuple(_COLUMNS)
TABLES: Mapping[type, str] = {ChildRow: "children", FamilyRow: "families", ClockRow: "clocks"}
_INTEGER_COLUMNS = frozenset(
    {"registered", "reunified", "anchor", "met_event", "start_day", "due_day", "met_day", "late", "since_day", "elapsed"}
)


def encode(case_id: str, key: RowKey, row: Row) -> tuple[str, tuple[Any, ...]]:
    """(table, key values + column values) of one row."""
    if isinstance(row, ChildRow):
        return "children", (case_id, key[1], *row)
    if isinstance(row, FamilyRow):
        return "families", (case_id, int(row.registered), int(row.reunified), ",".join(row.services))
    clock, inputs = row.clock, row.inputs
    clock_values = (None,) * 6 if clock is None else (
        clock.start, clock.due, clock.met, int(clock.late), clock.since, clock.elapsed
    )
    return "clocks", (case_id, key[1], inputs.anchor, inputs.met, _spans(inputs.cover), _spans(inputs.interrupted), *clock_values)


def _spans(spans: tuple[tuple[int, int | None], ...]) -> str | None:
    return json.dumps(spans, separators=(",", ":")) if spans else None


def decode(table: str, values: Sequence[Any]) -> tuple[RowKey, Row]:
    """The inverse of `encode`, from (key values + column values)."""
    if table == "children":
        return ("child", values[1]), ChildRow(*values[2:9])
    if table == "families":
        services = tuple(values[3].split(",")) if values[3] else ()
        return ("family", ""), FamilyRow(bool(values[1]), bool(values[2]), services)
    anchor, met_event, cover, interrupted = values[2:6]
    inputs = ClockInputs(
        anchor,
        met_event,
        tuple((s[0], s[1]) for s in json.loads(cover)) if cover else (),
        tuple((s[0], s[1]) for s in json.loads(interrupted)) if interrupted else (),
    )
    start, due, met, late, since, elapsed = values[6:12]
    obligation = values[1]
    clock = None if start is None else Clock(start, due, met, bool(late), since, elapsed, KIND_BY_NAME[obligation])
    return ("clock", obligation), ClockRow(inputs, clock)



@dataclass
class PageWrite:
    """Everything one page of events changes, written in one transaction with its tracking position."""

    position: int
    closes: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # (valid_to, *key)
    inserts: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # (*values, valid_from, valid_to)
    notable: list[tuple[int, str]] = field(default_factory=list)  # (position, kind)
    snapshot: Counter[Cell] | None = None
    tracked: bool = True  # False for one worker's share of a bulk load: the tracking comes at its end

    def has_rows(self) -> bool:
        return any(self.closes.values()) or any(self.inserts.values()) or bool(self.notable)


def cells_json(counter: Mapping[Cell, int]) -> str:
    # In the counter's own order: a snapshot is read back into a Counter, and sorting its mixed
    # cells (by repr: None and numbers do not compare) was 85% of the cost of writing one.
    return orjson.dumps([[*cell, count] for cell, count in counter.items() if count]).decode()


def cells_from_json(text: str) -> Counter[Cell]:
    return Counter({tuple(item[:-1]): item[-1] for item in orjson.loads(text)})


class ReadModel(FaultRecords, ABC):
    """The SQL of the read model, written once; each backend supplies cursors and table names."""

    placeholder = "%s"
    bigint = "BIGINT"
    # Keys compare byte by byte on both backends (SQLite's BINARY; PostgreSQL's "C", not the
    # database's locale), so lists ordered by case id come out alike everywhere.
    key_text = 'TEXT COLLATE "C"'

    def __init__(self) -> None:
        self._snapshots: OrderedDict[tuple[int, int], Counter[Cell]] = OrderedDict()

    datastore: Any  # eventsourcing's SQLite or PostgreSQL datastore, through the tracking recorder

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

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

    # --- generations ---------------------------------------------------------------------------

    def create_state_table(self) -> None:
        with self._schema_change() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table('projection_generations')} ("
                "projection TEXT NOT NULL, generation INTEGER NOT NULL, state TEXT NOT NULL, "
                "settings TEXT NOT NULL, PRIMARY KEY (projection, generation))"
            )

    def generations(self) -> dict[int, tuple[str, dict[str, Any]]]:
        """generation → (state, settings): state is building, active or retired."""
        with self._read() as cursor:
            cursor.execute(
                self._sql(f"SELECT generation, state, settings FROM {self._table('projection_generations')} WHERE projection = %s"),
                (PROJECTION,),
            )
            return {int(r["generation"]): (r["state"], json.loads(r["settings"])) for r in cursor.fetchall()}

    def active_generation(self) -> int | None:
        active = [g for g, (state, _) in self.generations().items() if state == "active"]
        return active[0] if active else None

    def create_generation(self, generation: int, settings: Mapping[str, Any], state: str) -> None:
        """A generation's tables; one being built gets its lookup indexes when complete (see
        index_generation): B-trees built once from the loaded rows cost less than kept up row by row."""
        ddl = self._generation_ddl(generation)
        if state != "building":
            ddl += self._lookup_indexes(generation)
        with self._schema_change() as cursor:
            for statement in ddl:
                cursor.execute(statement)
            cursor.execute(
                self._sql(f"INSERT INTO {self._table('projection_generations')} VALUES (%s, %s, %s, %s)"),
                (PROJECTION, generation, state, json.dumps(settings, sort_keys=True)),
            )

    def activate(self, generation: int) -> None:
        """Makes `generation` the one reports read: the old one is retired in the same transaction."""
        with self._write() as cursor:
            table = self._table("projection_generations")
            cursor.execute(
                self._sql(f"UPDATE {table} SET state = 'retired' WHERE projection = %s AND state = 'active'"),
                (PROJECTION,),
            )
            cursor.execute(
                self._sql(f"UPDATE {table} SET state = 'active' WHERE projection = %s AND generation = %s"),
                (PROJECTION, generation),
            )

    def update_settings(self, generation: int, settings: Mapping[str, Any]) -> None:
        with self._write() as cursor:
            cursor.execute(
                self._sql(
                    f"UPDATE {self._table('projection_generations')} SET settings = %s WHERE projection = %s AND generation = %s"
                ),
                (json.dumps(settings, sort_keys=True), PROJECTION, generation),
            )

    def drop_generation(self, generation: int) -> None:
        with self._write() as cursor, self._freed_as_they_are(cursor):
            for name in (*VERSIONED, "notable", "snapshots"):
                cursor.execute(f"DROP TABLE IF EXISTS {self._generation_table(generation, name)}")
            for table in ("projection_generations", "projection_faults"):  # a dropped generation's fault goes with it
                cursor.execute(
                    self._sql(f"DELETE FROM {self._table(table)} WHERE projection = %s AND generation = %s"),
                    (PROJECTION, generation),
                )

    @contextmanager
    def _freed_as_they_are(self, cursor: Any) -> Iterator[None]:
        """Within this block, pages this connection frees are left as they are (see SQLiteReadModel)."""
        yield

    def analyze(self, generation: int) -> None:
        """Fresh planner statistics for a bulk-loaded generation (see PostgresReadModel)."""

    def _generation_ddl(self, generation: int) -> list[str]:
        statements = []
        for name, (columns, key) in _COLUMNS.items():
            table = self._generation_table(generation, name)
            declared = ", ".join(
                f"{column} {'INTEGER' if column in _INTEGER_COLUMNS else 'TEXT'}" for column in columns
            )
            keys = ", ".join(f"{column} {self.key_text} NOT NULL" for column in key)
            statements += [
                f"DROP TABLE IF EXISTS {table}",
                f"CREATE TABLE {table} ({keys}, {declared}, valid_from {self.bigint} NOT NULL, valid_to {self.bigint})",
                # One current row per key: the projection can never hold two versions at once.
                f"CREATE UNIQUE INDEX {self._index(generation, name, 'current')} ON {table} ({', '.join(key)}) "
                "WHERE valid_to IS NULL",
            ]
        notable = self._generation_table(generation, "notable")
        snapshots = self._generation_table(generation, "snapshots")
        statements += [
            f"DROP TABLE IF EXISTS {notable}",
            f"CREATE TABLE {notable} (position {self.bigint} NOT NULL, kind TEXT NOT NULL)",
            f"DROP TABLE IF EXISTS {snapshots}",
            f"CREATE TABLE {snapshots} (position {self.bigint} PRIMARY KEY, kept INTEGER NOT NULL, cells TEXT NOT NULL)",
        ]
        return statements

    def _lookup_indexes(self, generation: int) -> list[str]:
        """The indexes reports read by (as of a position, the overdue list), which writing does not need."""
        statements = []
        for name in _COLUMNS:
            table = self._generation_table(generation, name)
            statements += [
                f"CREATE INDEX {self._index(generation, name, 'from')} ON {table} (valid_from)",
                f"CREATE INDEX {self._index(generation, name, 'to')} ON {table} (valid_to)",
            ]
        clocks, notable = self._generation_table(generation, "clocks"), self._generation_table(generation, "notable")
        return statements + [
            # the overdue list: overdue or breached longest first
            f"CREATE INDEX {self._index(generation, 'clocks', 'since')} ON {clocks} (since_day, case_id, obligation)",
            f"CREATE INDEX {self._index(generation, 'notable', 'position')} ON {notable} (position)",
        ]

    def index_generation(self, generation: int) -> None:
        """The lookup indexes of a generation just built, before it goes live."""
        with self._write() as cursor:
            for statement in self._lookup_indexes(generation):
                cursor.execute(statement)

    def _index(self, generation: int, table: str, what: str) -> str:
        return f"cs{generation}_{table}_{what}"

    # --- writing ---------------------------------------------------------------------------------

    def write_page(self, generation: int, page: PageWrite) -> None:
        """One transaction: the tracking position first (it takes the write lock, and a position
        already tracked raises IntegrityError before anything else is written), then the rows."""
        with self._write() as cursor:
            if page.tracked:
                self._insert_tracking(cursor, Tracking(tracking_name(generation), page.position))
            for table, closes in page.closes.items():
                _, key = _COLUMNS[table]
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
            for table, columns, cells_of in _DELTA_CELLS:
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
        self, generation: int, position: int, today: int, limit: int, after: tuple[int, str, str] | None = None
    ) -> list[tuple[str, str, int, int]]:
        """The first `limit` clocks overdue or breached on `today` once the log held 1..position,
        longest first (since_day, then case id and obligation), after the (since, case id,
        obligation) `after` if given: (case_id, obligation, due day, since day). Read along the
        clocks' since-day index, so the database stops at the limit instead of sorting every clock.
        Filtered as `domain.obligation_status.lapsed_on` defines overdue or breached (tested
        against the domain's status in tests/test_overdue_rule.py)."""
        table = self._generation_table(generation, "clocks")
        where, parameters = "", [position, position, today]
        if after is not None:
            since, case_id, obligation = after
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
        return [(row["case_id"], row["obligation"], int(row["due_day"]), int(row["since_day"])) for row in rows]

    def rows_at(self, generation: int, table: str, position: int) -> Iterator[tuple[str, RowKey, Row]]:
        """(case_id, key, row) of every row of `table` that held once the log held 1..position."""
        columns = ", ".join((*_COLUMNS[table][1], *_COLUMNS[table][0]))
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
        columns = ", ".join((*_COLUMNS["clocks"][1], *_COLUMNS["clocks"][0]))
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


def _clock_cells(values: Sequence[Any]) -> tuple[Cell, ...]:
    obligation, start, met, late, since, elapsed = values
    return () if start is None else (clock_cell_of(obligation, start, met, bool(late), since, elapsed),)


# What the report sums from each table's rows that began or ended since a snapshot: the columns
# it needs, and the cells of one row from them (the clocks' without building the row).
_DELTA_CELLS: tuple[tuple[str, str, Callable[[Sequence[Any]], tuple[Cell, ...]]], ...] = (
    ("children", ", ".join(_COLUMNS["children"][0]), lambda v: cells(("child", ""), ChildRow(*v))),
    ("families", ", ".join(_COLUMNS["families"][0]), lambda v: cells(FAMILY_ROW, decode("families", ("", *v))[1])),
    ("clocks", "obligation, start_day, met_day, late, since_day, elapsed", _clock_cells),
)


def tracking_name(generation: int) -> str:
    return f"{PROJECTION}@{generation}"


class SQLiteReadModel(ReadModel, SQLiteTrackingRecorder):
    placeholder = "?"
    bigint = "INTEGER"
    key_text = "TEXT"  # BINARY, SQLite's default collation

    def __init__(self, datastore: SQLiteDatastore) -> None:
        SQLiteTrackingRecorder.__init__(self, datastore)
        ReadModel.__init__(self)

    def _table(self, name: str) -> str:
        return name

    @contextmanager
    def _write(self) -> Iterator[Any]:
        # With the write lock from the first statement, as the log's writes: a deferred one that
        # read first was refused at once whenever another connection wrote in between.
        with write_transaction(self.datastore) as cursor:
            yield cursor

    @contextmanager
    def _freed_as_they_are(self, cursor: Any) -> Iterator[None]:
        # Debian's SQLite is built to overwrite every freed page with zeros (SECURE_DELETE), which
        # made dropping a replaced generation's tables take four times as long. The read model
        # holds no personal data (that is sealed in the log, and deleting a case's keys turns
        # secure_delete on for itself), so its pages need no overwriting.
        cursor.execute("PRAGMA secure_delete")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA secure_delete = OFF")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA secure_delete = {before}")

    def _batches(self, cursor: Any, size: int) -> Iterator[list[Any]]:
        # eventsourcing's cursor wrapper has no fetchmany; the sqlite3 cursor inside it has.
        while rows := cursor.sqlite_cursor.fetchmany(size):
            yield rows


def read_model(ledger: "Ledger") -> ReadModel:
    """The read model in the ledger's own database, as it is."""
    datastore = ledger.store.datastore  # type: ignore[attr-defined]
    if ledger.backend == "sqlite":
        return SQLiteReadModel(datastore)
    # Imported here: psycopg loads only for a PostgreSQL ledger (a rebuild's worker processes,
    # each a fresh interpreter, start a sixth of a second sooner on SQLite).
    from projections.postgres_store import PostgresReadModel

    return PostgresReadModel(datastore)


def open_read_model(ledger: "Ledger") -> ReadModel:
    """The read model in the ledger's own database, its shared tables created if missing."""
    model = read_model(ledger)
    create_alongside_others(model.create_table)  # type: ignore[attr-defined]  # the tracking table
    create_alongside_others(model.create_state_table)
    create_alongside_others(model.create_fault_table)
    return model
