"""A read model's generations: each one's tables, the switch that makes one current, and the drop.

Each generation of the case-status projection has its own tables (`cs<g>_…`), so a rebuild fills
fresh tables while the live ones keep answering, and a one-row switch in `projection_generations`
makes it current (blue/green). A mixin of projections.read_model.ReadModel, which supplies the
transactions and table names.
"""

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from projections.projection_faults import PROJECTION
from projections.read_model_tables import ReadModelTables
from projections.row_format import COLUMNS, INTEGER_COLUMNS, VERSIONED


class GenerationState(NamedTuple):
    """A generation's state (building, active or retired) and the settings its rows were written
    under (its FORMAT among them)."""

    state: str
    settings: dict[str, Any]


class Generations(ReadModelTables):
    """The DDL and state of generations, for ReadModel."""

    _generation_table: Any  # a generation's table's name for the backend (ReadModel's)

    def create_state_table(self) -> None:
        self._create_if_missing(
            "projection_generations",
            "projection TEXT NOT NULL, generation INTEGER NOT NULL, state TEXT NOT NULL, "
            "settings TEXT NOT NULL, PRIMARY KEY (projection, generation)",
        )

    def generations(self) -> dict[int, GenerationState]:
        """Every generation of the projection, by number."""
        with self._read() as cursor:
            cursor.execute(
                self._sql(f"SELECT generation, state, settings FROM {self._table('projection_generations')} WHERE projection = %s"),
                (PROJECTION,),
            )
            return {int(r["generation"]): GenerationState(r["state"], json.loads(r["settings"])) for r in cursor.fetchall()}

    def active_generation(self) -> int | None:
        active = [g for g, found in self.generations().items() if found.state == "active"]
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
        self._execute(
            f"UPDATE {self._table('projection_generations')} SET settings = %s WHERE projection = %s AND generation = %s",
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
        for name, (columns, key) in COLUMNS.items():
            table = self._generation_table(generation, name)
            declared = ", ".join(
                f"{column} {'INTEGER' if column in INTEGER_COLUMNS else 'TEXT'}" for column in columns
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
        for name in COLUMNS:
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
