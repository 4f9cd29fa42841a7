"""The rows the compliance report is built from, per counted case, and the tallies ("cells") each
row contributes to.

A case contributes one row per child, one for the family, one per obligation clock, and nothing
at all once it stops counting (retracted, closed as excluded or duplicate, merged away). Every
report number is a sum of cells; a cell that depends on the as-of date (an obligation still
pending) keeps the dates needed to decide it then.
"""

from collections.abc import Iterator
from typing import Any, NamedTuple

from domain.case_facts import CaseFacts
from domain.catalog import Obligation
from domain.terms import KINDS, Clock, ClockInputs, ClockKind, Terms, evaluate

Cell = tuple[Any, ...]
RowKey = tuple[str, str]  # ("child", member_id) | ("family", "") | ("clock", obligation)

BREAKDOWNS = ("nationality", "border_sector", "separation_month", "age_band")


class ChildRow(NamedTuple):
    status: str
    nationality: str
    border_sector: str
    separation_month: str
    age_band: str
    facilitator: str | None  # who arranged the travel before the reunification; None if not reunified


class FamilyRow(NamedTuple):
    registered: bool
    reunified: bool
    services: tuple[str, ...]


class ClockRow(NamedTuple):
    inputs: ClockInputs
    clock: Clock | None  # None while the terms in force have no such obligation


Row = ChildRow | FamilyRow | ClockRow
FAMILY: RowKey = ("family", "")


def case_rows(facts: CaseFacts, terms: Terms) -> dict[RowKey, Row]:
    if not facts.counted:
        return {}
    assert facts.nationality is not None and facts.border_sector is not None and facts.separation_date is not None
    rows: dict[RowKey, Row] = {}
    remaining = facts.remaining_status()
    all_reunified = bool(facts.children)
    for member_id, child in facts.children.items():
        reunion = facts.reunification_of(member_id)
        if reunion is None:
            all_reunified = False
        rows[("child", member_id)] = ChildRow(
            "reunified" if reunion else remaining,
            facts.nationality,
            facts.border_sector,
            facts.separation_date[:7],
            facts.age_band(child),
            facts.facilitator(reunion) if reunion else None,
        )
    rows[FAMILY] = FamilyRow(facts.registered, all_reunified, tuple(sorted(facts.service_starts)))
    for obligation, inputs in facts.clock_inputs().items():
        rows[("clock", obligation.value)] = ClockRow(inputs, evaluate(obligation, inputs, terms))
    return rows


def cells(key: RowKey, row: Row) -> Iterator[Cell]:
    if isinstance(row, ChildRow):
        yield ("children", row.status)
        reunified = row.status == "reunified"
        for dimension, value in zip(BREAKDOWNS, row[1:5], strict=True):
            yield (dimension, value, "identified")
            if reunified:
                yield (dimension, value, "reunified")
        if reunified:
            yield ("facilitator", row.facilitator)
    elif isinstance(row, FamilyRow):
        yield ("families", "identified")
        if row.registered:
            yield ("families", "registered")
        if row.reunified:
            yield ("families", "reunified")
        for service in row.services:
            yield ("services", service)
    elif row.clock is not None:
        yield clock_cell(Obligation(key[1]), row.clock)


def clock_cell(obligation: Obligation, clock: Clock) -> Cell:
    """Fulfilled deadlines are settled whatever the as-of date; anything else is decided then."""
    if clock.met is not None and KINDS[obligation] is not ClockKind.AVAILABILITY:
        return ("obligation", obligation.value, "met_late" if clock.late else "met", clock.elapsed)
    return ("obligation", obligation.value, "pending", clock.start, clock.met, clock.overdue_from)
