"""How an obligation reads on a day: its status and the day that status is counted from
(DOMAIN.md §5). The one definition: the clocks, the projection's cells, the report's tallies,
the overdue list and its SQL filter all read it from here.

Two kinds of obligation are read differently: a deadline is met (on time or late) or falls
overdue; a duration (a parole term, care kept available) is kept for its period or breached.
Dates are proleptic ordinals (`date.toordinal()`): plain integers that compare and subtract the
same way in Python and in SQL.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.vocabulary import Obligation, Service


class ClockKind(StrEnum):
    DEADLINE = "deadline"  # an event must follow the starting event within the duration
    WINDOW = "window"  # a deadline anchored on the membership decision
    RENEWAL = "renewal"  # renewal due by an expiry date; the clock starts `duration` before it
    TERM = "term"  # a grant (parole) must stay in force for the duration
    AVAILABILITY = "availability"  # a service must stay available, uninterrupted, for the duration


KINDS: Mapping[Obligation, ClockKind] = {
    Obligation.FIRST_OUTREACH: ClockKind.DEADLINE,
    Obligation.PAROLE_DECISION: ClockKind.DEADLINE,
    Obligation.PAROLE_TERM: ClockKind.TERM,
    Obligation.WORK_AUTHORIZATION_DECISION: ClockKind.DEADLINE,
    Obligation.ASYLUM_FILING_WINDOW: ClockKind.WINDOW,
    Obligation.BEHAVIORAL_HEALTH: ClockKind.AVAILABILITY,
    Obligation.HOUSING_ASSISTANCE: ClockKind.DEADLINE,
    Obligation.MEDICAL_COVERAGE: ClockKind.DEADLINE,
    Obligation.PAROLE_RENEWAL: ClockKind.RENEWAL,
}

# The service whose interruption breaks an availability obligation.
AVAILABLE_SERVICE: Mapping[Obligation, Service] = {Obligation.BEHAVIORAL_HEALTH: Service.BEHAVIORAL_HEALTH}


class ObligationKind(StrEnum):
    """How an obligation is read, and worded, in reports (DOMAIN.md §5)."""

    DEADLINE = "deadline"  # has a due date: met, met late, or overdue from the day after it
    DURATION = "duration"  # something must stay in force for a period: met once it ended unbroken, else breached


KIND_OF: Mapping[Obligation, ObligationKind] = {
    obligation: ObligationKind.DURATION if kind in (ClockKind.TERM, ClockKind.AVAILABILITY) else ObligationKind.DEADLINE
    for obligation, kind in KINDS.items()
}
KIND_BY_NAME: Mapping[str, ObligationKind] = {obligation.value: kind for obligation, kind in KIND_OF.items()}


class Status(StrEnum):
    """What a clock reads on a day. A StrEnum: it is its own word in reports and JSON."""

    MET = "met"
    MET_LATE = "met_late"
    OPEN = "open"
    OVERDUE = "overdue"  # a deadline not met by its due date
    BREACHED = "breached"  # a duration the record shows broken
    NOT_APPLICABLE = "not_applicable"


STATUSES_OF: Mapping[ObligationKind, tuple[str, ...]] = {
    # plain words: they key the report's tallies, which every renderer writes out
    ObligationKind.DEADLINE: tuple(s.value for s in (Status.MET, Status.MET_LATE, Status.OPEN, Status.OVERDUE, Status.NOT_APPLICABLE)),
    ObligationKind.DURATION: tuple(s.value for s in (Status.MET, Status.OPEN, Status.BREACHED, Status.NOT_APPLICABLE)),
}


def lapse(kind: ObligationKind) -> Status:
    """The word for a clock that has gone wrong: a deadline is overdue, a duration breached."""
    return Status.BREACHED if kind is ObligationKind.DURATION else Status.OVERDUE


@dataclass(frozen=True, slots=True)
class ObligationStatus:
    """A clock's status on a day, with the day it is counted from: the day it was met (met, met
    late), the first day it counted as overdue or breached, the day it starts (open; not
    applicable: a clock not started yet)."""

    status: Status
    day: int

    @classmethod
    def on(cls, today: int, kind: ObligationKind, start: int, met: int | None, late: bool, since: int | None) -> "ObligationStatus":
        """A clock's status on `today` (`status_on`), with the day it counts from."""
        status = status_on(today, kind, start, met, late, since)
        if status is Status.MET or status is Status.MET_LATE:
            return cls(status, met)  # type: ignore[arg-type]  # met, since the status says so
        if status is Status.OVERDUE or status is Status.BREACHED:
            return cls(status, since)  # type: ignore[arg-type]
        return cls(status, start)

    @property
    def lapsed(self) -> bool:
        """Overdue or breached: on the overdue list."""
        return self.status in (Status.OVERDUE, Status.BREACHED)


def status_on(today: int, kind: ObligationKind, start: int, met: int | None, late: bool, since: int | None) -> Status:
    """A clock's status on `today`: the one reading of DOMAIN.md §5, for a `Clock` and for the
    report's tallies of clocks it never builds. `since` is the first day the clock counts as
    overdue (a deadline) or breached (a duration) unless more is recorded; None if never.
    A plain function, no object built: a report reads every pending clock cell with it."""
    if met is not None and met <= today:
        return _MET_LATE if late else _MET
    if start > today:
        return _NOT_APPLICABLE
    if since is not None and since <= today:
        return _BREACHED if kind is _DURATION else _OVERDUE
    return _OPEN


# Bound once: an enum's member is a class attribute lookup, a third of status_on's time.
_MET, _MET_LATE, _OPEN, _OVERDUE, _BREACHED, _NOT_APPLICABLE = Status
_DURATION = ObligationKind.DURATION


def settled_status(kind: ObligationKind, met: int | None, late: bool) -> Status | None:
    """The status a clock has whatever the as-of day, or None if that day decides it. A deadline
    met is met (or met late) for good: the day it was met is recorded by then, since nothing is
    recorded before it occurs. Anything else (a deadline not met, any duration) reads by the day."""
    if met is not None and kind is not _DURATION:
        return _MET_LATE if late else _MET
    return None


def lapsed_on(today: int, since: int | None) -> bool:
    """Whether a clock is overdue or breached on `today`, from its `since` day alone.

    The same answer as `ObligationStatus.on(...).lapsed` for every clock `domain.clocks.evaluate`
    builds, because a clock has a `since` only while it is not met, and never before its start.
    This is the form SQL can filter by (`since_day <= today`: NULL never is); the read model's
    overdue list does, and tests/test_overdue_rule.py holds it to `ObligationStatus.on` over
    generated clocks on both backends."""
    return since is not None and since <= today
