"""The read model's tables on SQLite: in the log's own database file, written under its write lock."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from ledger.recorders.sqlite import ImmediateWrites
from projections.read_model import ReadModel


class SQLiteReadModel(ImmediateWrites, ReadModel, SQLiteTrackingRecorder):
    """Written with the write lock from the first statement, as the log is (ImmediateWrites): a
    deferred transaction that read first was refused at once whenever another connection wrote in
    between."""

    placeholder = "?"
    bigint = "INTEGER"
    key_text = "TEXT"  # BINARY, SQLite's default collation

    def __init__(self, datastore: SQLiteDatastore) -> None:
        SQLiteTrackingRecorder.__init__(self, datastore)
        ReadModel.__init__(self)

    def _table(self, name: str) -> str:
        return name

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
