"""The record of the integrity checks run from the auditors' page, kept in the ledger's database.

Each row is one verification: who ran it, when, how long it took, the range of positions it
recomputed (from the last size verified before it to a signed checkpoint's) and its verdict. A
good row also keeps what the next check needs to go on from there without reading the log again
from position 1: the tree's size, root and peaks (the perfect subtrees' roots: a resumable
ledger.merkle.RootAccumulator) and the recorded_at of its last entry. A bad row names the first
bad position and the problem. Like the log, the table is append-only (the recorders' triggers;
on PostgreSQL the writer role may only select and insert: ledger/postgres_grants.py).

Resuming from a stored state is safe against an edited row: the root recomputed from the stored
peaks and the new leaves must still equal the next signed checkpoint's, so forged peaks show as
a checkpoint mismatch. What it does not do is look again at positions verified before: that is
`ledger verify`'s whole-log recomputation.

| column             | holds                                                                    |
|--------------------|--------------------------------------------------------------------------|
| verified_at        | when it ran (UTC, the ledger's text form)                                |
| verified_by        | the auditor token's name (or `ledger-cli`)                               |
| from_size          | the size verified before it (0: from the start)                          |
| tree_size          | the checkpoint's size it verified up to                                  |
| root_hash, peaks   | the tree's root at tree_size and its peaks, concatenated (good rows)     |
| last_recorded_at   | the recorded_at of position tree_size (good rows)                        |
| seconds            | how long the recomputation took                                          |
| first_bad_position | the first bad position (bad rows; null for a checkpoint problem)         |
| problem            | what is wrong, naming the position, event and case (null: verified)      |
"""

from dataclasses import dataclass

from ledger.recorders.table_records import TableRecords

VERIFICATIONS = "verifications"  # the table's name after the log's prefix (`ledger_`)
_COLUMNS = (
    "verified_at, verified_by, from_size, tree_size, root_hash, peaks, last_recorded_at, seconds, first_bad_position, problem"
)
# {id}: the backend's auto-incremented key; {blob}, {real}: its binary and floating point types.
CREATE_VERIFICATIONS = (
    "CREATE TABLE IF NOT EXISTS {table} ("
    "id {id}, "
    "verified_at text NOT NULL, "
    "verified_by text NOT NULL, "
    "from_size bigint NOT NULL, "
    "tree_size bigint NOT NULL, "
    "root_hash {blob} NOT NULL, "
    "peaks {blob} NOT NULL, "
    "last_recorded_at text NOT NULL, "
    "seconds {real} NOT NULL, "
    "first_bad_position bigint, "
    "problem text)"
)
SQLITE_TYPES = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB", "real": "REAL"}
POSTGRES_TYPES = {"id": "bigserial PRIMARY KEY", "blob": "bytea", "real": "double precision"}


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    verified_at: str
    verified_by: str
    from_size: int
    tree_size: int
    root_hash: bytes
    peaks: bytes
    last_recorded_at: str
    seconds: float
    first_bad_position: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class VerificationRecords(TableRecords):
    """Mixin for a ledger recorder: the verifications table's rows."""

    verifications_table: str

    def insert_verification(self, record: VerificationRecord) -> None:
        self._execute(
            f"INSERT INTO {self.verifications_table} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                record.verified_at,
                record.verified_by,
                record.from_size,
                record.tree_size,
                record.root_hash,
                record.peaks,
                record.last_recorded_at,
                record.seconds,
                record.first_bad_position,
                record.problem,
            ),
        )

    def last_verified(self) -> VerificationRecord | None:
        """The good verification of the largest tree: where the next one goes on from."""
        return self._one("WHERE problem IS NULL ORDER BY tree_size DESC, id DESC")

    def latest_verification(self) -> VerificationRecord | None:
        """The verification run last, good or bad."""
        return self._one("ORDER BY id DESC")

    def _one(self, where_and_order: str) -> VerificationRecord | None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM {self.verifications_table} {where_and_order} LIMIT 1")
        if not rows:
            return None
        row = rows[0]
        return VerificationRecord(
            row["verified_at"],
            row["verified_by"],
            int(row["from_size"]),
            int(row["tree_size"]),
            bytes(row["root_hash"]),
            bytes(row["peaks"]),
            row["last_recorded_at"],
            float(row["seconds"]),
            None if row["first_bad_position"] is None else int(row["first_bad_position"]),
            row["problem"],
        )
