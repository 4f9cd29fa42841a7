"""The range of every date the catalog and the terms accept, each published with its field.

A date the calendar can hold may still be one the projection cannot compute with: terms effective
9999-12-31 (or a parole ending then) plus a court's six-month extension is the year 10000, and one
such posting stalled every report for good. It may also be one no fact of this settlement can have
(a separation in 1066). So every date field has a range, stated in its OpenAPI description and in
the 422 that refuses it:

| Type             | Range                                  | Fields                                      |
|------------------|----------------------------------------|---------------------------------------------|
| `SeparationDate` | CLASS_PERIOD_START .. today            | separation_date                             |
| `PastDate`       | DAWN .. today                          | parole_start                                |
| `CalendarDate`   | DAWN .. HORIZON                        | dates the future may hold: parole_end, valid_until, travel_date, terms' and extensions' effective_date, an interruption's from and to, a what-if's effective_date |
| `Instant`        | DAWN 00:00 UTC .. now + CLOCK_SKEW     | occurred_at, a correction's occurred_at     |
| `BirthYear`      | FIRST_BIRTH_YEAR .. this year          | birth_year                                  |

"Today" is the UTC date plus DATE_SKEW: a calendar date is already today somewhere on Earth up to
14 hours ahead of UTC. Spans (durations, extensions) are bounded in domain.values.Duration, so an
accepted date plus an accepted span stays far inside the calendar; domain.terms saturates its
arithmetic at the calendar's ends for what stacked extensions could still reach.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer, StrictInt, ValidationInfo

from domain.values import CLOCK_SKEW, DATE_SKEW, given_as_text, utc_text

# Nothing the ledger records happened earlier: the class's separations began in 2017, and this
# leaves room for what came before them (a parent's earlier entry, a prior decision).
DAWN = date(1990, 1, 1)
# The first day of the class period (DOMAIN.md §1): no separation the settlement covers is earlier.
CLASS_PERIOD_START = date(2017, 1, 20)
# The latest date the future may hold: the settlement's terms run to 2031; a parole or a work
# permit is granted for years, not for centuries.
HORIZON = date(2100, 12, 31)
# A member's birth year: the qualifying family members include grandparents.
FIRST_BIRTH_YEAR = 1900

EARLIEST_INSTANT = datetime(DAWN.year, DAWN.month, DAWN.day, tzinfo=UTC)

TODAY = "today (UTC)"


def _today() -> date:
    return (datetime.now(UTC) + DATE_SKEW).date()


def _named(info: ValidationInfo, rule: str) -> str:
    """The refusal naming its field (a 422 lists the field's path too; the message reads alone)."""
    return f"{info.field_name} {rule}" if info.field_name else rule


def _date_range(earliest: date, latest: date | None) -> tuple[AfterValidator, str]:
    """The validator of dates from `earliest` to `latest` (None: today) and its wording."""
    wording = f"from {earliest.isoformat()} to {TODAY if latest is None else latest.isoformat()}"

    def within(value: date, info: ValidationInfo) -> date:
        if value < earliest or value > (_today() if latest is None else latest):
            raise ValueError(_named(info, f"must be a date {wording}"))
        return value

    return AfterValidator(within), wording


def _calendar_date(earliest: date, latest: date | None, meaning: str) -> Any:
    validator, wording = _date_range(earliest, latest)
    return Annotated[
        date,
        BeforeValidator(given_as_text),
        validator,
        Field(description=f"ISO 8601 date (YYYY-MM-DD), {wording}: {meaning}."),
    ]


SeparationDate = _calendar_date(CLASS_PERIOD_START, None, "the class period's first day at the earliest")
PastDate = _calendar_date(DAWN, None, "a day that has already come")
CalendarDate = _calendar_date(DAWN, HORIZON, "a day that may lie ahead")


INSTANT_RANGE = f"from {DAWN.isoformat()}T00:00:00Z to now ({int(CLOCK_SKEW.total_seconds() // 60)} minutes of clock skew allowed)"


def _plausible_instant(value: datetime, info: ValidationInfo) -> datetime:
    if value < EARLIEST_INSTANT or value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(_named(info, f"must be an instant {INSTANT_RANGE}"))
    return value

Instant = Annotated[
    AwareDatetime,
    BeforeValidator(given_as_text),
    AfterValidator(_plausible_instant),
    PlainSerializer(utc_text, return_type=str, when_used="json"),
    Field(description=f"ISO 8601 date and time with a UTC offset, e.g. 2021-05-03T14:00:00Z, {INSTANT_RANGE}."),
]


def _birth_year_in_range(value: int, info: ValidationInfo) -> int:
    if not FIRST_BIRTH_YEAR <= value <= datetime.now(UTC).year:
        raise ValueError(_named(info, f"must be a year from {FIRST_BIRTH_YEAR} to this year"))
    return value


BirthYear = Annotated[
    StrictInt,
    AfterValidator(_birth_year_in_range),
    Field(description=f"The year of birth, from {FIRST_BIRTH_YEAR} to this year (UTC)."),
]
