"""The recorders' signed checkpoints: stored once per tree size, read all, one, or the latest.

A mixin of LedgerRecorder (ledger/recorders/base.py), whose SQL helpers it uses.
"""

from typing import Any

from ledger.recorders.rows import StoredCheckpoint


class CheckpointRecords:
    """Mixin for a ledger recorder: the checkpoints table."""

    _rows: Any
    _sql: Any
    _write: Any

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._write() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO {checkpoints} (tree_size, root_hash, timestamp, note)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING"
                ),
                (checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp, checkpoint.note),
            )

    def checkpoints(self, tree_size: int | None = None, latest: bool = False) -> list[StoredCheckpoint]:
        template = "SELECT tree_size, root_hash, timestamp, note FROM {checkpoints}"
        params: tuple[Any, ...] = ()
        if tree_size is not None:
            template += " WHERE tree_size = %s"
            params = (tree_size,)
        template += " ORDER BY tree_size DESC LIMIT 1" if latest else " ORDER BY tree_size"
        return [
            StoredCheckpoint(int(r["tree_size"]), bytes(r["root_hash"]), r["timestamp"], r["note"])
            for r in self._rows(template, params)
        ]
