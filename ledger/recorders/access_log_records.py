"""The access log read as the auditors' page reads it: the lines meeting some filters, a page at a
time by keyset, newest first (the page) or oldest first (the CSV download).

The conditions come from ledger/access_filter.py: fixed SQL on fixed columns, each with one
placeholder, and the values go as parameters. The indexes below serve the filters an auditor
uses most, a case's lines and a token's, without reading the whole log; the others (an
organization, an action, a range of days) read the lines in id order until a page is full.
"""

from collections.abc import Sequence
from typing import Any

from ledger.recorders.table_records import TableRecords

# (the index's name after the table's, its columns); each created as CREATE_INDEX says.
ACCESS_LOG_INDEXES = (("case_id", "case_id, id"), ("token", "token, id"))
CREATE_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} ({columns})"


class AccessLogQueries(TableRecords):
    """Mixin for a ledger recorder: the access log's lines written, read in order, and filtered."""

    def record_access(self, at: str, token: str, organization: str, role: str, action: str, case_id: str | None, detail: str) -> None:
        self._execute(
            "INSERT INTO {access_log} (at, token, organization, role, action, case_id, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (at, token, organization, role, action, case_id, detail),
        )

    def access_log(self, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT id, at, token, organization, role, action, case_id, detail FROM {access_log}"
            " WHERE id > %s ORDER BY id LIMIT %s",
            (after, limit),
        )
        return [dict(row) for row in rows]


    def access_log_filtered(self, conditions: Sequence[tuple[str, Any]], limit: int, before: int | None = None, after: int = 0) -> list[dict[str, Any]]:
        """Lines meeting every condition (ledger/access_filter.py's: fixed SQL, values as
        parameters): newest first before id `before`, or, without it, oldest first after `after`."""
        clauses = [condition for condition, _ in conditions]
        params: list[Any] = [value for _, value in conditions]
        if before is not None:
            clauses.append("id < %s")
            params.append(before)
        else:
            clauses.append("id > %s")
            params.append(after)
        order = "DESC" if before is not None else "ASC"
        rows = self._rows(
            "SELECT id, at, token, organization, role, action, case_id, detail FROM {access_log}"
            f" WHERE {' AND '.join(clauses)} ORDER BY id {order} LIMIT %s",
            (*params, limit),
        )
        return [dict(row) for row in rows]
