"""What each of the recorders' mixins for one table (checkpoints, verifications, cosignatures,
sessions, the access log) takes from LedgerRecorder (ledger/recorders/base.py): its SQL for the
backend, its reads, and one statement written in a transaction of its own.
"""

from collections.abc import Sequence
from typing import Any


class TableRecords:
    """Base of a mixin for one of the ledger's tables; LedgerRecorder supplies the helpers."""

    _sql: Any  # a template's SQL for the backend: its table names and placeholders
    _rows: Any  # a query's rows, as mappings
    _write: Any  # a cursor in a transaction that commits

    def _execute(self, template: str, params: Sequence[Any]) -> None:
        """Runs one statement (a template, as _sql takes it) in a transaction that commits."""
        with self._write() as cursor:
            cursor.execute(self._sql(template), params)
