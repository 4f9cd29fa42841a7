"""The read model's SQL reads obligations as the domain defines them, on both backends.

`domain.obligation_status` is the one definition of met, open, overdue and breached. The overdue
list filters clock rows in SQL (`since_day <= today`, as `lapsed_on` states the rule), and the
report tallies the cells the SQL sums: over many generated clocks (every obligation, records with
and without fulfilment, parole cover and outages, court extensions) both must agree with
`ObligationStatus.on` for each clock, on SQLite and PostgreSQL.

Each example writes its clocks as rows valid at one log position of its own (from P to P+1), so
examples share one database and never see each other's rows.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import date
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.vocabulary import Obligation
from domain.clocks import Clock, ClockInputs, evaluate
from domain.obligation_status import KIND_OF, ObligationStatus, lapsed_on
from domain.terms import SETTLEMENT_2023, Terms, iso
from ledger.application import Ledger
from ledger.checkpoints import Signer
from projections.case_rows import ClockRow
from projections.report_numbers import report_numbers
from projections.read_model import ReadModel, open_read_model
from projections.row_format import PageWrite, encode

GENERATION = 7
FIRST, LAST = date(2023, 6, 1).toordinal(), date(2028, 6, 1).toordinal()
DAYS = st.integers(FIRST, LAST)


@pytest.fixture(scope="module")
def model(module_database_url: str, signer: Signer, master_key: bytes) -> Iterator[ReadModel]:
    with Ledger(module_database_url, signer, master_key) as ledger:
        opened = open_read_model(ledger)
        opened.create_generation(GENERATION, {"format": 0}, "active")
        yield opened


_positions = count(1, 2)


def _spans(draw: st.DrawFn, open_ended: bool) -> tuple[tuple[int, int | None], ...]:
    spans = []
    for first in sorted(draw(st.lists(DAYS, max_size=3, unique=True))):
        length = draw(st.integers(0, 900))
        last = None if open_ended and draw(st.booleans()) else first + length
        spans.append((first, last))
    return tuple(spans)


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    """The settlement's terms, perhaps with court extensions and provider outages."""
    applied = Terms.adopted(SETTLEMENT_2023)
    for n in range(draw(st.integers(0, 3))):
        applied = applied.extended(
            {
                "court_order_id": f"order-{n}",
                "obligation": draw(st.sampled_from(list(Obligation))).value,
                "extension": {"days": draw(st.integers(1, 200))},
                "effective_date": iso(draw(DAYS)),
            }
        )
    for _ in range(draw(st.integers(0, 2))):
        first = draw(DAYS)
        end = draw(st.one_of(st.none(), st.integers(first, first + 400)))
        applied = applied.interrupted(
            {"service": "behavioral_health", "from": iso(first), "to": iso(end), "cause": "contract ended"}
        )
    return applied


@st.composite
def clock_inputs(draw: st.DrawFn) -> ClockInputs:
    cover = tuple((first, last if last is not None else first) for first, last in _spans(draw, open_ended=False))
    return ClockInputs(
        anchor=draw(st.one_of(st.none(), DAYS)),
        met=draw(st.one_of(st.none(), DAYS)),
        cover=cover,
        interrupted=_spans(draw, open_ended=True),
    )


CASES = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(list(Obligation)), clock_inputs()),
    min_size=1,
    max_size=25,
    unique_by=lambda case: (case[0], case[1]),
)


def _written(model: ReadModel, rows: list[tuple[str, Obligation, ClockInputs, Clock | None]]) -> int:
    """The clocks written as the rows of one position of their own; that position."""
    position = next(_positions)
    inserts = [
        (*encode(case_id, ("clock", obligation.value), ClockRow(inputs, clock))[1], position, position + 1)
        for case_id, obligation, inputs, clock in rows
    ]
    model.write_rows(GENERATION, PageWrite(position, inserts={"clocks": inserts}))
    return position


def _edges(rows: list[tuple[str, Obligation, ClockInputs, Clock | None]]) -> st.SearchStrategy[int]:
    """The days a clock's status may change on, and the days either side: where a rule written
    twice would disagree."""
    days = {
        day + step
        for *_, clock in rows
        if clock is not None
        for day in (clock.start, clock.due, clock.met, clock.since)
        if day is not None
        for step in (-1, 0, 1)
    }
    return st.sampled_from(sorted(days)) if days else DAYS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cases=CASES, applied=terms(), data=st.data())
def test_the_overdue_list_and_the_report_read_every_clock_as_the_domain_does(
    model: ReadModel, cases: list[tuple[int, Obligation, ClockInputs]], applied: Terms, data: st.DataObject
) -> None:
    rows = [(f"case-{n:03d}", obligation, inputs, evaluate(obligation, inputs, applied)) for n, obligation, inputs in cases]
    position = _written(model, rows)
    todays = data.draw(st.lists(st.one_of(DAYS, _edges(rows)), min_size=1, max_size=4), label="todays")
    cells = model.cells_at(GENERATION, position)
    for today in todays:
        read = {
            (case_id, obligation.value): clock.on(today)
            for case_id, obligation, _, clock in rows
            if clock is not None
        }
        lapsed = sorted((status.day, case_id, obligation) for (case_id, obligation), status in read.items() if status.lapsed)
        listed = model.overdue_at(GENERATION, position, today, limit=len(rows) + 1)
        assert [(since, case_id, obligation) for case_id, obligation, _, since in listed] == lapsed
        dues = {(case_id, obligation.value): clock.due for case_id, obligation, _, clock in rows if clock is not None}
        assert all(due == dues[(case_id, obligation)] for case_id, obligation, due, _ in listed)

        # A report is as of a day when every fulfilment it holds had occurred (nothing is recorded
        # before it occurs: `settled_status`), so it is read no earlier than the last one.
        day = max([today, *(clock.met for *_, clock in rows if clock is not None and clock.met is not None)])
        tallies = Counter((obligation.value, clock.on(day).status.value) for _, obligation, _, clock in rows if clock is not None)
        numbers = report_numbers(cells, day, applied)["obligations"]
        for obligation, counted in numbers.items():
            for status, n in counted.items():
                if status not in ("kind", "median_days", "not_applicable"):
                    assert n == tallies[(obligation, status)], (obligation, status)


@given(
    obligation=st.sampled_from(list(Obligation)),
    inputs=clock_inputs(),
    applied=terms(),
    today=DAYS,
    step=st.sampled_from([None, -1, 0, 1]),
)
@settings(max_examples=300, deadline=None)
def test_a_clock_is_on_the_overdue_list_exactly_when_its_status_is_overdue_or_breached(
    obligation: Obligation, inputs: ClockInputs, applied: Terms, today: int, step: int | None
) -> None:
    clock = evaluate(obligation, inputs, applied)
    if clock is None:
        return
    if step is not None and clock.since is not None:
        today = clock.since + step  # the edge where the rule turns
    status = clock.on(today)
    assert lapsed_on(today, clock.since) == status.lapsed
    assert status == ObligationStatus.on(today, KIND_OF[obligation], clock.start, clock.met, clock.late, clock.since)
    if status.lapsed:
        assert status.day == clock.since
