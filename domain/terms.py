"""The settlement's terms (DOMAIN.md §5): what is in force at one point of the log.

Terms are data: `TermsAdopted` sets each obligation's duration, `DeadlineExtended` moves deadlines
and term ends, `ServiceInterrupted` records a provider's outage. `domain.clocks.evaluate` measures
one case's record against them; `domain.obligation_status` reads the result on a day. Dates are
proleptic ordinals (`date.toordinal()`): plain integers that compare and subtract the same way in
Python and in SQL.
"""

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from domain.vocabulary import Obligation
from domain.obligation_status import AVAILABLE_SERVICE


class CourtOrderKey(NamedTuple):
    """What makes a DeadlineExtended one court order's extension: an order extends an obligation once."""

    court_order_id: str
    obligation: str


def court_order(data: Mapping[str, Any]) -> CourtOrderKey:
    return CourtOrderKey(data["court_order_id"], data["obligation"])


@dataclass(frozen=True, slots=True)
class Span:
    """A calendar duration as court orders state them: years and months first, then days."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "Span":
        return cls(int(data.get("years", 0)), int(data.get("months", 0)), int(data.get("days", 0)))

    def as_json(self) -> dict[str, int]:
        return {name: value for name, value in (("years", self.years), ("months", self.months), ("days", self.days)) if value}

    def after(self, day: int) -> int:
        return _on_calendar(_shift_months(day, 12 * self.years + self.months) + self.days)

    def before(self, day: int) -> int:
        return _shift_months(_on_calendar(day - self.days), -(12 * self.years + self.months))


# The first and last days Python's calendar holds (0001-01-01, 9999-12-31). Validation keeps dates
# within 1990..2100 and spans within 20 years (domain.date_ranges, domain.values.Duration), but
# court extensions stack without limit, and events recorded before those bounds existed are
# replayed as stored: so date arithmetic saturates at the calendar's ends instead of raising
# (one "year 10000 is out of range" stalled the whole projection). A deadline pushed past
# 9999-12-31 reads as that day: no report's as-of point comes near it.
FIRST_DAY, LAST_DAY = date.min.toordinal(), date.max.toordinal()


def _on_calendar(day: int) -> int:
    return min(max(day, FIRST_DAY), LAST_DAY)


@lru_cache(maxsize=65_536)
def _shift_months(day: int, months: int) -> int:
    """Calendar months later (or earlier); the 31st becomes the month's last day, as courts count.
    Saturates at the calendar's first and last days."""
    day = _on_calendar(day)
    if not months:
        return day
    d = date.fromordinal(day)
    index = d.year * 12 + d.month - 1 + months
    if index < date.min.year * 12:
        return FIRST_DAY
    if index >= (date.max.year + 1) * 12:
        return LAST_DAY
    year, month = divmod(index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day)).toordinal()


def day_of(text: str) -> int:
    """The ordinal of an ISO date, or of the UTC date of an instant the ledger wrote."""
    return date.fromisoformat(text[:10]).toordinal()


def iso(day: int | None) -> str | None:
    return None if day is None else date.fromordinal(day).isoformat()


@dataclass(frozen=True, slots=True)
class Extension:
    """A court order moving one obligation's deadlines that had not passed by its effective date."""

    obligation: Obligation
    span: Span
    effective: int
    court_order_id: str


@dataclass(frozen=True, slots=True)
class Interruption:
    service: str
    start: int
    end: int | None  # None: not over yet
    cause: str


@dataclass(frozen=True)
class Terms:
    """The terms in force at one point of the log: durations, then extensions and interruptions
    recorded after their adoption, in log order."""

    version: int = 0
    effective: int | None = None
    durations: Mapping[Obligation, Span] = field(default_factory=dict)
    extensions: tuple[Extension, ...] = ()
    interruptions: tuple[Interruption, ...] = ()
    court_order_id: str | None = None

    @classmethod
    def adopted(cls, data: Mapping[str, Any]) -> "Terms":
        """Terms from a TermsAdopted payload (or a what-if document of the same shape)."""
        return cls(
            version=int(data["terms_version"]),
            effective=day_of(data["effective_date"]),
            durations={Obligation(name): Span.of(span) for name, span in data["obligations"].items()},
            court_order_id=data.get("court_order_id"),
        )

    def extended(self, data: Mapping[str, Any]) -> "Terms":
        if court_order(data) in {(e.court_order_id, e.obligation.value) for e in self.extensions}:
            # The same order recorded again (the ledger refuses that now, not always did): an order
            # extends an obligation once, so a repeat moves nothing.
            return self
        extension = Extension(
            Obligation(data["obligation"]), Span.of(data["extension"]), day_of(data["effective_date"]), data["court_order_id"]
        )
        return Terms(self.version, self.effective, self.durations, (*self.extensions, extension), self.interruptions, self.court_order_id)

    def interrupted(self, data: Mapping[str, Any]) -> "Terms":
        interruption = Interruption(
            data["service"], day_of(data["from"]), day_of(data["to"]) if data.get("to") else None, data["cause"]
        )
        return Terms(self.version, self.effective, self.durations, self.extensions, (*self.interruptions, interruption), self.court_order_id)

    def then(self, event_type: str, data: Mapping[str, Any]) -> "Terms":
        """These terms after one more settlement event."""
        if event_type == "TermsAdopted":
            return Terms.adopted(data)._keeping(self.interruptions)
        if event_type == "DeadlineExtended":
            return self.extended(data)
        if event_type == "ServiceInterrupted":
            return self.interrupted(data)
        return self

    def _keeping(self, interruptions: tuple[Interruption, ...]) -> "Terms":
        # An outage is a fact about the world, not a term: it outlives a new terms version.
        return Terms(self.version, self.effective, self.durations, self.extensions, interruptions, self.court_order_id)

    def due(self, obligation: Obligation, deadline: int) -> int:
        """The deadline (or a term's last day) after the court's extensions: each moves one not yet
        passed when it took effect."""
        for extension in self._extensions_of.get(obligation, ()):
            if deadline >= extension.effective:
                deadline = extension.span.after(deadline)
        return deadline

    @cached_property
    def _extensions_of(self) -> dict[Obligation, list[Extension]]:
        by_obligation: dict[Obligation, list[Extension]] = {}
        for extension in sorted(self.extensions, key=lambda e: e.effective):
            by_obligation.setdefault(extension.obligation, []).append(extension)
        return by_obligation

    def changed_obligations(self, before: "Terms") -> set[str]:
        """The obligations whose clocks may read differently under these terms than under `before`."""
        if (self.version, self.effective, self.durations) != (before.version, before.effective, before.durations):
            return {o.value for o in {*self.durations, *before.durations}}
        touched = {e.obligation.value for e in set(self.extensions) ^ set(before.extensions)}
        touched |= {
            o.value
            for o, service in AVAILABLE_SERVICE.items()
            for outage in self.interruptions
            if outage not in before.interruptions and outage.service == service
        }
        return touched

    def as_json(self) -> dict[str, Any]:
        return {
            "terms_version": self.version,
            "effective_date": iso(self.effective),
            "obligations": {name.value: span.as_json() for name, span in sorted(self.durations.items())},
            "extensions": [
                {
                    "court_order_id": e.court_order_id,
                    "obligation": e.obligation.value,
                    "extension": e.span.as_json(),
                    "effective_date": iso(e.effective),
                }
                for e in self.extensions
            ],
        }


def fold_terms(events: Iterable[tuple[str, Mapping[str, Any]]]) -> Terms:
    terms = Terms()
    for event_type, data in events:
        terms = terms.then(event_type, data)
    return terms


# The terms of the settlement as approved (effective Dec 11, 2023). Durations without a published
# source are the configurable defaults of DOMAIN.md §5; the parties change them by adopting new
# terms, never by editing this file: it is adopted once, on the ledger's first start.
SETTLEMENT_2023: dict[str, Any] = {
    "terms_version": 1,
    "effective_date": "2023-12-11",
    "court_order_id": "18-cv-00428 settlement approval (Dec 8, 2023)",
    "obligations": {
        "first_outreach": {"days": 30},
        "parole_decision": {"days": 60},
        "parole_term": {"years": 3},
        "work_authorization_decision": {"days": 90},
        "asylum_filing_window": {"years": 2},
        "behavioral_health": {"years": 3},
        "housing_assistance": {"days": 30},
        "medical_coverage": {"days": 30},
        "parole_renewal": {"days": 90},
    },
}

NAMED_TERMS: Mapping[str, Mapping[str, Any]] = {"settlement-2023": SETTLEMENT_2023}
