"""The access log: who read personal data or exported the log, and when; written and read here."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from domain.access import Principal
from domain.organizations import LEDGER_OPERATOR
from domain.values import utc_text
from ledger.recorders.base import LedgerRecorder


class AccessLog:
    def __init__(self, store: LedgerRecorder) -> None:
        self._store = store

    def record(self, who: Principal | str, action: str, case_id: str | None, detail: str) -> None:
        """Notes who did `action`: a token's principal, or the operator (by name) at the command line."""
        if isinstance(who, Principal):
            token, organization, role = who.name, who.organization.value, who.role.value
        else:
            token, organization, role = who, LEDGER_OPERATOR, "operator"
        self._store.record_access(utc_text(datetime.now(UTC)), token, organization, role, action, case_id, detail)

    def lines(self, after: int, limit: int) -> list[dict[str, Any]]:
        """The lines after id `after` (at most `limit`), oldest first."""
        return self._store.access_log(after, limit)

    def filtered(self, conditions: Sequence[tuple[str, Any]], limit: int, before: int | None = None, after: int = 0) -> list[dict[str, Any]]:
        """The lines meeting every condition (ledger/access_filter.py's), newest first before id
        `before`, or, without it, oldest first after `after`."""
        return self._store.access_log_filtered(conditions, limit, before=before, after=after)
