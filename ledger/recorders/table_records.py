"""What a mixin for one table takes from the recorder it is mixed into: its SQL for the backend,
its reads, and one statement written in a transaction of its own. The ledger's recorders
(ledger/recorders/base.py) supply these to their tables' mixins (checkpoints, verifications,
cosignatures, sessions, the access log), and the read model to its own (projections/read_model_tables.py).
"""

from collections.abc import Sequence
from typing import Any


class TableRecords:
    """Base of a mixin for one table; the recorder it is mixed into supplies the helpers."""

    _sql: Any  # a template's SQL for the backend: its table names and placeholders
    _rows: Any  # a query's rows, as mappings
    _write: Any  # a cursor in a transaction that commits

    def _execute(self, template: str, params: Sequence[Any]) -> None:
        """Runs one statement (a template, as _sql takes it) in a transaction that commits."""
        with self._write() as cursor:
            cursor.execute(self._sql(template), params)
