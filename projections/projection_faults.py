"""A projection's fault, kept where every process can read it: in the database.

Projecting an event may fail (a bug met on an event the older validation let in, a broken table):
the projector then retries, and reports wait for it. So that this is never a silent stall, the
failure is recorded in `projection_faults`, which /healthz and /metrics read, whichever process the
projector runs in (the API's own thread, or `ledger project --follow` with LEDGER_PROJECTOR=external).
One row per generation of the projection:

| column          | holds                                                                     |
|-----------------|---------------------------------------------------------------------------|
| projection      | the projection's name (case_status)                                       |
| generation      | the generation that failed                                                |
| position        | the log position it cannot get past (the event whose projection raised)  |
| error_type      | the exception's class name, never its message (it may quote personal data) |
| first_failed_at | when it first failed at this position with this error (UTC)              |
| last_failed_at  | when it last did                                                          |
| attempts        | how many times it has failed there                                        |

The row goes once the generation has projected past it.
"""

from dataclasses import asdict, dataclass
from typing import Any

from domain.errors import ProjectionFailed
from projections.read_model_tables import ReadModelTables

PROJECTION = "case_status"  # the read model's one projection (projections/read_model.py)


class EventNotProjected(ProjectionFailed):
    """Projecting the event at `position` raised an `error_type`. The original is the cause; its
    message is not repeated here, as it may quote the event's personal data."""

    def __init__(self, position: int, error: BaseException) -> None:
        self.position = position
        self.error_type = type(error).__name__
        super().__init__(f"the event at position {position} could not be projected ({self.error_type})")


@dataclass(frozen=True, slots=True)
class ProjectionFault:
    generation: int
    position: int
    error_type: str
    first_failed_at: str
    last_failed_at: str
    attempts: int

    def as_json(self) -> dict[str, Any]:
        """As /healthz shows it, beside the generation: every field but that one."""
        return {name: value for name, value in asdict(self).items() if name != "generation"}


class FaultRecords(ReadModelTables):
    """The fault table's SQL, for the read model (projections.read_model.ReadModel), whose transactions,
    table names and placeholders it uses."""

    def create_fault_table(self) -> None:
        self._create_if_missing(
            "projection_faults",
            f"projection TEXT NOT NULL, generation INTEGER NOT NULL, position {self.bigint} NOT NULL, "
            "error_type TEXT NOT NULL, first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL, "
            "attempts INTEGER NOT NULL, PRIMARY KEY (projection, generation)",
        )

    def record_fault(self, generation: int, position: int, error_type: str, at: str) -> None:
        """One more failure at `position`: counted on if it is the same as the standing one."""
        table = self._table("projection_faults")
        same = f"{table}.position = excluded.position AND {table}.error_type = excluded.error_type"
        self._execute(
            f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, 1) "
            "ON CONFLICT (projection, generation) DO UPDATE SET "
            f"first_failed_at = CASE WHEN {same} THEN {table}.first_failed_at ELSE excluded.first_failed_at END, "
            f"attempts = CASE WHEN {same} THEN {table}.attempts + 1 ELSE 1 END, "
            "position = excluded.position, error_type = excluded.error_type, last_failed_at = excluded.last_failed_at",
            (PROJECTION, generation, position, error_type, at, at),
        )

    def clear_fault(self, generation: int) -> None:
        self._execute(
            f"DELETE FROM {self._table('projection_faults')} WHERE projection = %s AND generation = %s",
            (PROJECTION, generation),
        )

    def fault(self, generation: int) -> ProjectionFault | None:
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    "SELECT generation, position, error_type, first_failed_at, last_failed_at, attempts "
                    f"FROM {self._table('projection_faults')} WHERE projection = %s AND generation = %s"
                ),
                (PROJECTION, generation),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return ProjectionFault(
            int(row["generation"]), int(row["position"]), row["error_type"], row["first_failed_at"], row["last_failed_at"], int(row["attempts"])
        )
