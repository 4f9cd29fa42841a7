"""What the read model's mixins (its generations, its faults) take from ReadModel
(projections/read_model.py) and its backends: transactions, table names, column types, and the
statements they share.
"""

from typing import Any

from ledger.recorders.table_records import TableRecords


class ReadModelTables(TableRecords):
    """Base of a mixin of ReadModel for some of its tables."""

    _read: Any  # a cursor in a read-only transaction
    _schema_change: Any  # a cursor in a transaction that creates tables
    _table: Any  # a table's name for the backend
    key_text: str  # the column type of a key's text
    bigint: str  # the column type of a position

    def _create_if_missing(self, name: str, columns: str) -> None:
        """The table `name` with these columns (SQL), made if missing."""
        with self._schema_change() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._table(name)} ({columns})")
