"""The rows the compliance report is built from, per counted case, and the tallies ("cells") each
row contributes to.

A case contributes one row per child, one for the family, one per obligation clock, and nothing
at all once it stops counting (retracted, closed as excluded or duplicate, merged away). Every
report number is a sum of cells; a cell that depends on the as-of date (an obligation still
pending) keeps the dates needed to decide it then.
"""

from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from domain.case_clock_inputs import clock_input
from domain.case_facts import CHILDREN, EVERYTHING, FAMILY, CaseFacts, Moment, children_touched
from domain.vocabulary import Obligation
from domain.clocks import Clock, ClockInputs, evaluate
from domain.obligation_status import KIND_BY_NAME, settled_status
from domain.terms import Terms

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
    reunified_month: str | None  # YYYY-MM of the reunification (occurred time); None if not reunified


class FamilyRow(NamedTuple):
    registered: bool
    reunified: bool
    services: tuple[str, ...]


class ClockRow(NamedTuple):
    inputs: ClockInputs
    clock: Clock | None  # None while the terms in force have no such obligation


Row = ChildRow | FamilyRow | ClockRow
FAMILY_ROW: RowKey = ("family", "")
_OBLIGATIONS = tuple(Obligation)
_CLOCK_KEYS: dict[Obligation, RowKey] = {o: ("clock", o.value) for o in Obligation}


@lru_cache(maxsize=256)
def _touched_obligations(touched: frozenset[str]) -> tuple[Obligation, ...]:
    # What a fact touches is one of a few sets: this runs for nearly every event a projection reads.
    return tuple(o for o in _OBLIGATIONS if o.value in touched)


def case_rows(
    facts: CaseFacts,
    terms: Terms,
    previous: Mapping[RowKey, Row] | None = None,
    touched: frozenset[str] = EVERYTHING,
) -> dict[RowKey, Row]:
    """The case's rows under `terms`. Given its `previous` rows (under the same terms) and what
    the last fact `touched`, only those parts are derived again."""
    rows = dict(previous) if previous else {}
    update_rows(rows, facts, terms, touched)
    return rows


def update_rows(rows: dict[RowKey, Row], facts: CaseFacts, terms: Terms, touched: frozenset[str]) -> dict[RowKey, Row | None]:
    """Derives again, in place, the parts of the case's `rows` that `touched` names (all of them if
    there are none yet). Returns what may have changed: each such key with its row before (None:
    there was none). A fact about one child costs that child's row, however large the family."""
    everything = not rows or EVERYTHING <= touched or not facts.counted
    before: dict[RowKey, Row | None] = dict(rows) if everything else {}
    if not facts.counted:
        rows.clear()
        return before
    obligations: Iterable[Obligation] = _OBLIGATIONS
    if everything:
        rows.clear()
        _children_and_family(facts, rows)
    elif CHILDREN <= touched:
        before[FAMILY_ROW] = rows[FAMILY_ROW]
        for key in [key for key in rows if key[0] == "child"]:
            before[key] = rows.pop(key)
        _children_and_family(facts, rows)
        for member_id in facts.children:
            before.setdefault(("child", member_id), None)  # a child the case did not have before
        obligations = _touched_obligations(touched)
    elif one := children_touched(touched):
        remaining = facts.remaining_status()
        for member_id in one:
            key = ("child", member_id)
            before[key] = rows.pop(key, None)
            if member_id in facts.children:
                rows[key] = _child_row(facts, member_id, remaining, {})
        before[FAMILY_ROW], rows[FAMILY_ROW] = rows[FAMILY_ROW], _family(facts)
        obligations = ()
    else:
        if FAMILY <= touched:
            before[FAMILY_ROW], rows[FAMILY_ROW] = rows[FAMILY_ROW], _family(facts)
        obligations = _touched_obligations(touched)
    for obligation in obligations:
        key = _CLOCK_KEYS[obligation]
        inputs = clock_input(facts, obligation)
        existing = rows.get(key)
        if inputs is None:
            if existing is not None:
                before.setdefault(key, rows.pop(key))
        elif not (isinstance(existing, ClockRow) and existing.inputs == inputs):
            before.setdefault(key, existing)
            rows[key] = ClockRow(inputs, evaluate(obligation, inputs, terms))
    if everything:
        for key in rows:
            before.setdefault(key, None)  # a row the case did not have before
    return before


def _children_and_family(facts: CaseFacts, rows: dict[RowKey, Row]) -> None:
    remaining = facts.remaining_status()
    credited: dict[Moment, str] = {}  # each reunification's facilitator, found once
    for member_id in facts.children:
        rows[("child", member_id)] = _child_row(facts, member_id, remaining, credited)
    rows[FAMILY_ROW] = _family(facts)


def _child_row(facts: CaseFacts, member_id: str, remaining: str, credited: dict[Moment, str]) -> ChildRow:
    assert facts.nationality is not None and facts.border_sector is not None and facts.separation_date is not None
    reunion = facts.reunification_of(member_id)
    if reunion is not None and reunion not in credited:
        credited[reunion] = facts.facilitator(reunion)
    return ChildRow(
        "reunified" if reunion else remaining,
        facts.nationality,
        facts.border_sector,
        facts.separation_date[:7],
        facts.age_band(facts.children[member_id]),
        credited[reunion] if reunion else None,
        reunion.occurred_at[:7] if reunion else None,
    )


def _family(facts: CaseFacts) -> FamilyRow:
    return FamilyRow(facts.registered, facts.every_child_reunified, tuple(sorted(facts.service_starts)))


def cells(key: RowKey, row: Row) -> tuple[Cell, ...]:
    if isinstance(row, ClockRow):
        clock = row.clock
        if clock is None:
            return ()
        return (clock_cell_of(key[1], clock.start, clock.met, clock.late, clock.since, clock.elapsed),)
    return _cells_of(row)


@lru_cache(maxsize=65_536)
def _cells_of(row: ChildRow | FamilyRow) -> tuple[Cell, ...]:
    # Many children share a row's values (status, nationality, sector, month, band): kept once.
    return tuple(_row_cells(row))


def _row_cells(row: ChildRow | FamilyRow) -> Iterator[Cell]:
    if isinstance(row, ChildRow):
        yield ("children", row.status)
        reunified = row.status == "reunified"
        for dimension, value in zip(BREAKDOWNS, row[1:5], strict=True):
            yield (dimension, value, "identified")
            if reunified:
                yield (dimension, value, "reunified")
        if reunified:
            yield ("facilitator", row.facilitator)
            yield ("reunified_month", row.reunified_month)
    else:
        yield ("families", "identified")
        if row.registered:
            yield ("families", "registered")
        if row.reunified:
            yield ("families", "reunified")
        for service in row.services:
            yield ("services", service)


def clock_cell(obligation: Obligation, clock: Clock) -> Cell:
    return clock_cell_of(obligation.value, clock.start, clock.met, clock.late, clock.since, clock.elapsed)


def clock_cell_of(obligation: str, start: int, met: int | None, late: bool, since: int | None, elapsed: int | None) -> Cell:
    """A clock settled whatever the as-of date (`settled_status`) is counted as settled; anything
    else is decided then, from the days `status_on` reads.

    Takes a clock's fields one by one, so reports can sum clock rows without building them."""
    words = _SETTLED_WHEN_MET.get(obligation) if met is not None else None
    if words is not None:
        return ("obligation", obligation, words[late], elapsed)
    return ("obligation", obligation, "pending", start, met, since)


# The domain's `settled_status`, read once per obligation (on time, late): a report sums a clock
# cell for every clock row that changed since its snapshot, so this runs thousands of times a report.
_SETTLED_WHEN_MET: dict[str, tuple[str, str]] = {
    name: (on_time.value, settled_status(kind, 0, late=True).value)  # type: ignore[union-attr]
    for name, kind in KIND_BY_NAME.items()
    if (on_time := settled_status(kind, 0, late=False)) is not None
}
