"""Witnesses' cosignatures of the ledger's checkpoints, kept beside the checkpoints they cosign.

Append-only like the checkpoints: a cosignature, once verified and stored, is part of the record
(triggers refuse UPDATE and DELETE; the writer role may only SELECT and INSERT). Only cosignatures
that verified against a configured witness's key are stored (ledger/witnessing.py).

| column      | holds                                                                         |
|-------------|-------------------------------------------------------------------------------|
| tree_size   | the checkpoint cosigned (the checkpoints table's key)                         |
| witness     | the witness's key name                                                        |
| key_id      | its cosignature/v1 key ID (hex): with the name, which key signed              |
| cosigned_at | the cosignature's own timestamp (POSIX seconds, signed by the witness)        |
| line        | the note signature line, as the witness sent it, to append to the note        |
| received_at | when the ledger stored it (UTC, the ledger's text form)                       |
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.recorders.table_records import TableRecords

COSIGNATURES = "cosignatures"  # the table's name after the log's prefix (`ledger_`)
CREATE_COSIGNATURES = (
    "CREATE TABLE IF NOT EXISTS {table} ("
    "tree_size bigint NOT NULL, "
    "witness text NOT NULL, "
    "key_id text NOT NULL, "
    "cosigned_at bigint NOT NULL, "
    "line text NOT NULL, "
    "received_at text NOT NULL, "
    "PRIMARY KEY (tree_size, witness, key_id))"
)


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    tree_size: int
    witness: str
    key_id: str
    cosigned_at: int
    line: str
    received_at: str


class CosignatureRecords(TableRecords):
    """Mixin for a ledger recorder: the cosignatures table's rows."""

    cosignatures_table: str

    def insert_cosignature(self, cosignature: StoredCosignature) -> None:
        """A second cosignature by one key of one checkpoint (another process collected it too,
        or the witness cosigned it again) is not stored: the first stands."""
        self._execute(
            f"INSERT INTO {self.cosignatures_table} (tree_size, witness, key_id, cosigned_at, line, received_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tree_size, witness, key_id) DO NOTHING",
            (
                cosignature.tree_size, cosignature.witness, cosignature.key_id,
                cosignature.cosigned_at, cosignature.line, cosignature.received_at,
            ),
        )

    def cosignatures(self, tree_size: int) -> list[StoredCosignature]:
        rows: Sequence[Mapping[str, Any]] = self._rows(
            f"SELECT tree_size, witness, key_id, cosigned_at, line, received_at FROM {self.cosignatures_table}"
            " WHERE tree_size = %s ORDER BY witness, key_id",
            (tree_size,),
        )
        return [
            StoredCosignature(int(r["tree_size"]), r["witness"], r["key_id"], int(r["cosigned_at"]), r["line"], r["received_at"])
            for r in rows
        ]

    def first_cosigned_from(self, position: int, quorum: int) -> int | None:
        """The smallest cosigned tree size at or after `position` that `quorum` witnesses (by
        name) cosigned, None if there is none yet."""
        rows = self._rows(
            f"SELECT tree_size FROM {self.cosignatures_table} WHERE tree_size >= %s"
            " GROUP BY tree_size HAVING count(DISTINCT witness) >= %s ORDER BY tree_size LIMIT 1",
            (position, quorum),
        )
        return int(rows[0]["tree_size"]) if rows else None

    def latest_cosigned(self, witness: str, key_id: str) -> int | None:
        """The largest tree size the witness's key cosigned, None if none."""
        rows = self._rows(
            f"SELECT max(tree_size) AS size FROM {self.cosignatures_table} WHERE witness = %s AND key_id = %s",
            (witness, key_id),
        )
        size = rows[0]["size"] if rows else None
        return None if size is None else int(size)
