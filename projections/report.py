"""The compliance report as of a point of the log, under the recorded terms or what-if terms.

"As of T" uses only what was recorded by T (DESIGN.md §1): T resolves to the last position
recorded at or before it, and obligation clocks are read on T's date. Given a position instead,
T is the moment that position was recorded. The same T gives the same report, byte for byte,
however much is appended later.
"""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from domain.catalog import Obligation
from domain.terms import Terms, day_of, evaluate, iso
from domain.values import utc_text
from ledger.application import Ledger
from projections.case_rows import ClockRow, clock_cell
from projections.compliance import report_numbers
from projections.runner import Projection

# The as-of instant of a report on the empty log (position 0).
BEGINNING = "1970-01-01T00:00:00.000000Z"


class ProjectionBehind(Exception):
    """The projection has not yet reached the position asked for; retry shortly."""

    def __init__(self, position: int, tracked: int) -> None:
        super().__init__(f"the report needs position {position}; the projection is at {tracked}")
        self.position = position
        self.tracked = tracked


def resolve_as_of(ledger: Ledger, as_of: int | str | None) -> tuple[int, str]:
    """(position, instant) of an as-of point: a position, an instant, or None for now."""
    if isinstance(as_of, int):
        position = min(as_of, ledger.store.tree_size())
        return position, ledger.recorded_at(position) or BEGINNING
    instant = as_of or utc_text(datetime.now(UTC))
    return ledger.store.position_recorded_by(instant), instant


def compliance_report(
    ledger: Ledger,
    projection: Projection,
    as_of: int | str | None = None,
    what_if: Terms | None = None,
    wait_seconds: float = 5.0,
) -> dict[str, Any]:
    position, instant = resolve_as_of(ledger, as_of)
    if not projection.wait_for(position, wait_seconds):
        raise ProjectionBehind(position, projection.tracked())
    generation = projection.generation()
    cells = projection.model.cells_at(generation, position)
    terms = ledger.terms_at(position)
    if what_if is not None:
        cells = Counter({cell: n for cell, n in cells.items() if cell[0] != "obligation"})
        for _, key, row in projection.model.rows_at(generation, "clocks", position):
            assert isinstance(row, ClockRow)
            obligation = Obligation(key[1])
            clock = evaluate(obligation, row.inputs, what_if)
            if clock is not None:
                cells[clock_cell(obligation, clock)] += 1
    applied = what_if or terms
    return {
        "as_of": instant,
        "checkpoint": {"tree_size": position, "root_hash": ledger.tree.root(position).hex()},
        "terms_version": applied.version,
        **report_numbers(cells, day_of(instant), applied),
        "terms": {**applied.as_json(), "what_if": what_if is not None},
    }



def overdue_obligations(
    ledger: Ledger, projection: Projection, as_of: int | str | None = None, limit: int = 100, wait_seconds: float = 5.0
) -> dict[str, Any]:
    """The obligation clocks overdue at the as-of point, by case id, oldest due date first
    (pseudonymous case ids only: no personal data)."""
    position, instant = resolve_as_of(ledger, as_of)
    if not projection.wait_for(position, wait_seconds):
        raise ProjectionBehind(position, projection.tracked())
    generation, today = projection.generation(), day_of(instant)
    rows = projection.model.overdue_at(generation, position, today, limit)
    # The count is the report's own (summed from the cells, not by scanning every clock row), so
    # the list and the report can never disagree on how many are overdue.
    numbers = report_numbers(projection.model.cells_at(generation, position), today, ledger.terms_at(position))
    total = sum(tallies["overdue"] for tallies in numbers["obligations"].values())
    return {
        "as_of": instant,
        "tree_size": position,
        "total": total,
        "overdue": [
            {"case_id": case_id, "obligation": obligation, "due": iso(due), "overdue_since": iso(since)}
            for case_id, obligation, due, since in rows
        ],
    }
