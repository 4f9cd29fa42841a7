"""The witness's state: the latest checkpoint it cosigned for each log, and the evidence of
misbehaviour it refused, in a small SQLite file that survives restarts.

Checking a submission against the latest checkpoint and recording the new one happen in one
transaction holding SQLite's write lock (BEGIN IMMEDIATE), so two submissions for one log, from
threads or from processes sharing the file, are decided one after the other: the race of
c2sp.org/tlog-witness (a smaller checkpoint recorded after a larger one) cannot happen.

| table    | holds                                                                               |
|----------|-------------------------------------------------------------------------------------|
| logs     | per origin: tree size, root hash and note of the latest cosigned checkpoint         |
| evidence | a checkpoint the log signed at the tree size recorded with another root hash (a     |
|          | fork): both notes, the old size and proof it came with, why it was refused, when;   |
|          | each refused checkpoint once, at most MAX_EVIDENCE_PER_LOG per log                   |
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

MAX_EVIDENCE_PER_LOG = 16  # forks kept per log; the first proves it, the rest are its extent

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS logs ("
    "origin TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, "
    "note TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS evidence ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, reason TEXT NOT NULL, "
    "recorded_note TEXT NOT NULL, submitted_note TEXT NOT NULL, old_size INTEGER NOT NULL, "
    "proof TEXT NOT NULL, detected_at TEXT NOT NULL)",
)


@dataclass(frozen=True)
class LatestCheckpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    note: str
    updated_at: str


@dataclass(frozen=True)
class Evidence:
    id: int
    origin: str
    reason: str
    recorded_note: str
    submitted_note: str
    old_size: int
    proof: str
    detected_at: str


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LogState:
    """One log's row inside a decision's transaction."""

    def __init__(self, cursor: sqlite3.Cursor, origin: str) -> None:
        self._cursor = cursor
        self.origin = origin
        row = cursor.execute(
            "SELECT origin, tree_size, root_hash, note, updated_at FROM logs WHERE origin = ?", (origin,)
        ).fetchone()
        self.latest = None if row is None else LatestCheckpoint(row[0], row[1], bytes(row[2]), row[3], row[4])

    def record(self, tree_size: int, root_hash: bytes, note: str) -> None:
        self._cursor.execute(
            "INSERT INTO logs (origin, tree_size, root_hash, note, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
            "note = excluded.note, updated_at = excluded.updated_at",
            (self.origin, tree_size, root_hash, note, _now()),
        )

    def keep_evidence(self, reason: str, checkpoint_text: str, log_signatures: str, old_size: int, proof: list[str]) -> bool:
        """Keeps the refused checkpoint (its text and the log's signatures) beside the one
        recorded; False, keeping nothing, if that checkpoint is kept already or the log has
        MAX_EVIDENCE_PER_LOG already (one is proof enough; more must not fill the disk)."""
        assert self.latest is not None
        kept = self._cursor.execute(
            "SELECT submitted_note FROM evidence WHERE origin = ?", (self.origin,)
        ).fetchall()
        if len(kept) >= MAX_EVIDENCE_PER_LOG or any(note.startswith(checkpoint_text + "\n") for (note,) in kept):
            return False
        self._cursor.execute(
            "INSERT INTO evidence (origin, reason, recorded_note, submitted_note, old_size, proof, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.origin, reason, self.latest.note, checkpoint_text + "\n" + log_signatures, old_size, "\n".join(proof), _now()),
        )
        return True


class WitnessState:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                connection.execute(statement)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as connection:
            yield connection

    @contextmanager
    def deciding(self, origin: str) -> Iterator[LogState]:
        """The log's state, locked until the block ends; what the block records commits with it,
        evidence included, even when the block then refuses (raises after keep_evidence)."""
        with self._connection() as connection:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield LogState(cursor, origin)
            except BaseException as error:
                if getattr(error, "keep", False):
                    cursor.execute("COMMIT")
                else:
                    cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def latest(self) -> list[LatestCheckpoint]:
        with self._connection() as connection:
            rows = connection.execute("SELECT origin, tree_size, root_hash, note, updated_at FROM logs ORDER BY origin")
            return [LatestCheckpoint(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]

    def evidence(self) -> list[Evidence]:
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT id, origin, reason, recorded_note, submitted_note, old_size, proof, detected_at FROM evidence ORDER BY id"
            )
            return [Evidence(*row) for row in rows]
