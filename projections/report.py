"""The compliance report as of a point of the log, under the recorded terms or what-if terms.

"As of T" uses only what was recorded by T (DESIGN.md §1); the door that was asked resolves T to a
`Point` once (ledger/as_of.py): the log positions it covers and the instant it stands for, on whose
UTC date the obligation clocks are read. The same point gives the same report, byte for byte,
however much is appended later.
"""

from collections import Counter
from typing import Any

from domain.as_of import Point
from domain.catalog import Obligation
from domain.terms import Terms, day_of, evaluate, iso
from ledger.application import Ledger
from projections.case_rows import ClockRow, clock_cell
from projections.compliance import report_numbers
from projections.runner import Projection


class ProjectionBehind(Exception):
    """The projection has not yet reached the position asked for; retry shortly."""

    def __init__(self, position: int, tracked: int) -> None:
        super().__init__(f"the report needs position {position}; the projection is at {tracked}")
        self.position = position
        self.tracked = tracked


def compliance_report(
    ledger: Ledger, projection: Projection, point: Point, what_if: Terms | None = None, wait_seconds: float = 5.0
) -> dict[str, Any]:
    position, instant = point.position, point.instant
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
    ledger: Ledger, projection: Projection, point: Point, limit: int = 100, wait_seconds: float = 5.0
) -> dict[str, Any]:
    """The obligation clocks overdue at the as-of point, by case id, oldest due date first
    (pseudonymous case ids only: no personal data)."""
    position, instant = point.position, point.instant
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
