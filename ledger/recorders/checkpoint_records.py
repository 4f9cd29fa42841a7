"""The recorders' signed checkpoints: stored once per tree size, read all, one, or the latest.

A mixin of LedgerRecorder (ledger/recorders/base.py), whose SQL helpers it uses.
"""

from typing import Any

from ledger.recorders.rows import StoredCheckpoint
from ledger.recorders.table_records import TableRecords


class CheckpointRecords(TableRecords):
    """Mixin for a ledger recorder: the checkpoints table."""

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._execute(
            "INSERT INTO {checkpoints} (tree_size, root_hash, timestamp, note)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING",
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
