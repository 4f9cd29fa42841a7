"""The writes of one page of the projection in the making (a row begun and ended within it is
written once), handed to the read model as one PageWrite."""

from dataclasses import dataclass, field
from typing import Any

from projections.case_rows import Row, RowKey
from projections.row_format import TABLES, PageWrite


OpenRows = dict[tuple[str, str, str], list[Any]]  # (table, case_id, key) → row values, valid_from, None


@dataclass
class PageRows:
    """The writes of one page in the making; a row begun and ended within it is written once.

    In bulk mode (a rebuild's fresh tables, which nobody reads until they are complete) rows stay
    open in memory across pages and are written once, when they end or their case leaves the
    cache: no UPDATE per change.
    """

    write: PageWrite
    begun: OpenRows = field(default_factory=dict)  # open rows not yet in this page's inserts
    bulk: bool = False
    written: OpenRows = field(default_factory=dict)  # open rows already in this page's inserts

    def end(self, table: str, case_id: str, key: str, position: int) -> None:
        slot = (table, case_id, key)
        pending = self.begun.pop(slot, None)
        if pending is not None:
            pending[-1] = position
            self._insert(table, pending)
        elif (pending := self.written.pop(slot, None)) is not None:
            pending[-1] = position
        else:  # the row is in the tables already
            self.write.closes.setdefault(table, []).append((position, case_id, key) if table != "families" else (position, case_id))

    def begin(self, table: str, values: tuple[Any, ...], position: int) -> None:
        row = [*values, position, None]
        slot = (table, values[0], values[1] if table != "families" else "")
        if self.bulk:
            self.begun[slot] = row
        else:
            self.written[slot] = row
            self._insert(table, row)

    def flush(self, case_id: str, rows: dict[RowKey, Row]) -> None:
        """A case leaves the cache: in bulk mode its open rows are written now, as current rows."""
        for key, row in rows.items():
            slot = (TABLES[type(row)], case_id, key[1])
            pending = self.begun.pop(slot, None)
            if pending is not None:
                self.written[slot] = pending
                self._insert(slot[0], pending)

    def _insert(self, table: str, row: list[Any]) -> None:
        self.write.inserts.setdefault(table, []).append(row)  # type: ignore[arg-type]

    def pending(self) -> int:
        return sum(map(len, self.write.inserts.values())) + sum(map(len, self.write.closes.values()))
