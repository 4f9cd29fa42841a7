"""One case's obligation clocks: what its record says about each obligation (`ClockInputs`,
whatever the terms), and the `Clock` those inputs make under given terms (DOMAIN.md §5).

A clock is read on a day by `domain.obligation_status`, the one definition of met, overdue and
breached. Its invariants are what lets SQL filter the overdue list by `since` alone: `since` is set
only while the clock is not met, and never before its start.
"""

from dataclasses import dataclass
from typing import Any

from domain.vocabulary import Obligation
from domain.day_spans import DaySpan, Gap, first_interrupted, first_uncovered
from domain.obligation_status import AVAILABLE_SERVICE, KINDS, ClockKind, ObligationKind, ObligationStatus
from domain.terms import Terms


@dataclass(frozen=True, slots=True)
class ClockInputs:
    """What a case's record says about one obligation, whatever the terms.

    `anchor` is the day the clock hangs on: the starting event (deadline, term, availability),
    the membership decision (window; None if undetermined) or the parole's expiry (renewal).
    `met` is the first day of a fulfilling event (deadlines). `cover` (term) holds the days the
    record shows the parole in force, as sorted, merged (first, last) spans; `interrupted`
    (availability) the days it shows the case's own service interrupted, as (first, last) spans,
    last None while it has not resumed.
    """

    anchor: int | None
    met: int | None = None
    cover: tuple[DaySpan, ...] = ()
    interrupted: tuple[Gap, ...] = ()


@dataclass(frozen=True, slots=True)
class Clock:
    """One obligation of one case under given terms. Days are ordinals.

    `due` is a deadline's due date, or a duration's last day (both after extensions). `met` is
    the day a deadline was fulfilled, or for a duration the day after its last day, when the record
    shows it unbroken. `since` is the first day it counts as overdue (an unmet deadline: the day
    after it was due) or breached (a duration: the first day the record shows it broken, never
    before the clock's start); None if neither. `elapsed`: the days from start to fulfilment of a
    deadline, for the median.
    """

    start: int
    due: int
    met: int | None
    late: bool
    since: int | None
    elapsed: int | None
    kind: ObligationKind = ObligationKind.DEADLINE

    def status(self, today: int) -> str:
        return self.on(today).status

    def on(self, today: int) -> ObligationStatus:
        """Its status on `today`, with the day that status counts from."""
        return ObligationStatus.on(today, self.kind, self.start, self.met, self.late, self.since)


def evaluate(obligation: Obligation, inputs: ClockInputs, terms: Terms) -> Clock | None:
    """The clock under `terms`, or None when the terms lack the obligation or it never started.

    No clock runs before the terms took effect: one anchored earlier starts on the effective date
    (the settlement binds from then; what happened before is history, not breach). So nothing is
    overdue or breached before then either: a parole that had lapsed already is breached from
    the effective date, the first day the settlement required it.
    """
    span = terms.durations.get(obligation)
    if span is None or inputs.anchor is None:
        return None
    kind = KINDS[obligation]
    effective = terms.effective if terms.effective is not None else inputs.anchor
    if kind is ClockKind.RENEWAL:
        expiry = inputs.anchor
        if expiry < effective:
            return None  # the parole ran out before the terms existed
        return _deadline(obligation, max(effective, span.before(expiry)), lambda _: expiry, inputs.met, terms)
    start = max(effective, inputs.anchor)
    if kind in (ClockKind.DEADLINE, ClockKind.WINDOW):
        return _deadline(obligation, start, span.after, inputs.met, terms)
    last = terms.due(obligation, span.after(start))
    if kind is ClockKind.TERM:
        broken = first_uncovered(inputs.cover, start, last)
    else:
        outages = [Gap(o.start, o.end) for o in terms.interruptions if o.service == AVAILABLE_SERVICE[obligation]]
        broken = first_interrupted([*inputs.interrupted, *outages], start, last)
    return Clock(start, last, last + 1 if broken is None else None, False, broken, None, ObligationKind.DURATION)


def _deadline(obligation: Obligation, start: int, deadline: Any, met: int | None, terms: Terms) -> Clock:
    due = terms.due(obligation, deadline(start))
    if met is None:
        return Clock(start, due, None, False, due + 1, None)
    return Clock(start, due, met, met > due, None, max(0, met - start))
