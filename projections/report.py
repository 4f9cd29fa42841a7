"""The compliance report as of a point of the log, under the recorded terms or what-if terms.

"As of T" uses only what was recorded by T (DESIGN.md §1); the door that was asked resolves T to a
`Point` once (ledger/as_of.py): the log positions it covers and the instant it stands for, on whose
UTC date the obligation clocks are read. The same point gives the same report, byte for byte,
however much is appended later.
"""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.as_of import Point
from domain.clocks import evaluate
from domain.errors import InvalidInput, Unavailable
from domain.obligation_status import KIND_BY_NAME, ObligationKind, Status, lapse
from domain.terms import Terms, day_of, iso
from domain.vocabulary import Obligation
from domain.values import ID_PATTERN
from ledger.application import Ledger
from ledger.signed_heads import NOT_YET_WITNESSED
from projections.case_rows import ClockRow, clock_cell
from projections.read_model import OverdueClock, OverdueKey
from projections.report_numbers import report_numbers
from projections.runner import Projection


class CursorError(InvalidInput):
    """A page cursor (`after`) this list did not give."""

    field = "after"


class ProjectionBehind(Unavailable):
    """The projection has not yet reached the position asked for; retry shortly."""

    def __init__(self, position: int, tracked: int) -> None:
        super().__init__(f"the report needs position {position}; the projection is at {tracked}")
        self.position = position
        self.tracked = tracked


def _readable_at(projection: Projection, position: int, wait_seconds: float) -> int:
    """The generation to read once it has projected `position`: ReadModelOutdated if it was
    written in another format (said first: waiting would not help), ProjectionBehind if it has not
    reached `position` within `wait_seconds`."""
    projection.readable_generation()
    if not projection.wait_for(position, wait_seconds):
        raise ProjectionBehind(position, projection.tracked())
    return projection.readable_generation()


def compliance_report(
    ledger: Ledger,
    projection: Projection,
    point: Point,
    what_if: Terms | None = None,
    wait_seconds: float = 5.0,
    witness_quorum: int = 1,
) -> dict[str, Any]:
    """The report at `point`. Its `witnessed` names the earliest checkpoint at or after the point
    that `witness_quorum` witnesses cosigned, and who did (NOT_YET_WITNESSED: none yet)."""
    position, instant = point.position, point.instant
    generation = _readable_at(projection, position, wait_seconds)
    cells = projection.model.cells_at(generation, position)
    terms = ledger.reader.terms_at(position)
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
        "checkpoint": {"tree_size": position, "root_hash": ledger.signed_heads.root(position).hex()},
        "witnessed": NOT_YET_WITNESSED if (seen := ledger.signed_heads.witnessed(position, witness_quorum)) is None else seen.as_json(),
        "terms_version": applied.version,
        **report_numbers(cells, day_of(instant), applied),
        "terms": {**applied.as_json(), "what_if": what_if is not None},
    }


@dataclass(frozen=True, slots=True)
class OverdueCursor:
    """Where a page of the overdue list ended: its last row's since day, case id and obligation.

    The list is in that order, so the next page starts after it whatever was recorded meanwhile
    (a keyset: rows added later never shift or repeat the rows already read)."""

    since: int
    case_id: str
    obligation: str

    _TEXT = re.compile(r"(\d{4}-\d{2}-\d{2})\.(" + ID_PATTERN.strip("^$") + r")\.([a-z_]+)")

    @classmethod
    def parse(cls, text: str) -> "OverdueCursor":
        """From the `next_after` of a page; CursorError if it is not one."""
        found = cls._TEXT.fullmatch(text)
        if found is None or found.group(3) not in _OBLIGATIONS:
            raise CursorError("not a cursor this list gave: pass the next_after of the page before")
        try:
            since = date.fromisoformat(found.group(1)).toordinal()
        except ValueError:
            raise CursorError("not a cursor this list gave: its date is not a calendar date") from None
        return cls(since, found.group(2), found.group(3))

    def __str__(self) -> str:
        return f"{iso(self.since)}.{self.case_id}.{self.obligation}"


def overdue_obligations(
    ledger: Ledger,
    projection: Projection,
    point: Point,
    limit: int = 100,
    wait_seconds: float = 5.0,
    *,
    after: OverdueCursor | None = None,
) -> dict[str, Any]:
    """The deadline clocks overdue and the duration clocks breached at the as-of point, overdue or
    breached longest first (then by case id and obligation), a page of `limit` after the cursor
    `after` (pseudonymous case ids only: no personal data). Each row in its kind's words: a
    deadline is overdue since the day after it was due; a duration breached since the first day
    the record shows it broken."""
    position, instant = point.position, point.instant
    generation, today = _readable_at(projection, position, wait_seconds), day_of(instant)
    key = None if after is None else OverdueKey(after.since, after.case_id, after.obligation)
    rows = projection.model.overdue_at(generation, position, today, limit, key)
    # The counts are the report's own (summed from the cells, not by scanning every clock row),
    # so the list and the report can never disagree on how many are overdue or breached.
    numbers = report_numbers(projection.model.cells_at(generation, position), today, ledger.reader.terms_at(position))
    overdue = sum(tallies.get(Status.OVERDUE, 0) for tallies in numbers["obligations"].values())
    breached = sum(tallies.get(Status.BREACHED, 0) for tallies in numbers["obligations"].values())
    listed = [_overdue_row(row, today) for row in rows]
    last = rows[-1] if len(rows) == limit else None
    return {
        "as_of": instant,
        "tree_size": position,
        "total": overdue + breached,
        "overdue": overdue,
        "breached": breached,
        "obligations": listed,
        "next_after": None if last is None else str(OverdueCursor(*last.key)),
    }


_OBLIGATIONS = frozenset(o.value for o in Obligation)


def _overdue_row(clock: OverdueClock, today: int) -> dict[str, Any]:
    kind = KIND_BY_NAME[clock.obligation]
    row: dict[str, Any] = {"case_id": clock.case_id, "obligation": clock.obligation, "kind": kind.value}
    row["status"] = lapse(kind).value
    if kind is ObligationKind.DEADLINE:
        row["due"] = iso(clock.due)
    return row | {"since": iso(clock.since), "days": today - clock.since + 1}
