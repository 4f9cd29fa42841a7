"""As of: the point of the log a report or a case view stands on (DESIGN.md §3), as it is asked for.

Every door (the API, the downloads, the dashboard, the CLI) parses what it was given into one
`AsOf`, and the ledger resolves that to one `Point`, by the same rules. What is asked for is a log
position, an instant with a UTC offset, a date (the end of that day, UTC), or nothing (now). The
resolution (ledger/as_of.py) refuses what lies beyond the latest point that can be reported.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Self

from domain.errors import InvalidInput
from domain.values import utc_text

# The instant of the empty log (position 0), and of any point before the first event.
BEGINNING = "1970-01-01T00:00:00.000000Z"
# Positions beyond this are no log's: refused as unparsable, before any arithmetic or SQL.
MAX_POSITION = 2**62
HELP = "as_of must be a log position, an ISO 8601 date, or a date-time with a UTC offset (e.g. 2023-02-01T00:00:00Z)"


class AsOfError(InvalidInput):
    """An as_of that cannot be read, or that points past what the ledger can report."""

    field = "as_of"  # every door names it so (the CLI: --as-of)


@dataclass(frozen=True, slots=True)
class AsOf:
    """What was asked for: exactly one of `position`, `instant` or `day`, or none of them (now)."""

    position: int | None = None
    instant: str | None = None  # UTC, as utc_text writes it
    day: date | None = None  # the end of this day, UTC

    @classmethod
    def now(cls) -> Self:
        return cls()

    @classmethod
    def parse(cls, text: str | None) -> Self:
        """Raises AsOfError saying what is wrong."""
        if text is None or not text.strip():
            return cls()
        text = text.strip()
        if text.isdigit() and text.isascii():
            position = int(text)
            if position > MAX_POSITION:
                raise AsOfError(f"as_of position {text} is beyond any log")
            return cls(position=position)
        if len(text) == 10:
            try:
                return cls(day=date.fromisoformat(text))
            except ValueError:
                raise AsOfError(HELP) from None
        try:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise AsOfError(HELP) from None
        if instant.tzinfo is None:
            raise AsOfError("as_of needs a UTC offset, e.g. 2023-02-01T00:00:00Z")
        try:
            return cls(instant=utc_text(instant))
        except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00, past the last instant Python holds in UTC
            raise AsOfError("as_of is out of range") from None

    @classmethod
    def of_day(cls, day: date) -> Self:
        return cls(day=day)

    def end_of_day(self) -> str | None:
        """The instant a date stands for: the last microsecond of that day, UTC."""
        return None if self.day is None else utc_text(datetime.combine(self.day, time.max, tzinfo=UTC))

    def __str__(self) -> str:
        if self.position is not None:
            return str(self.position)
        if self.day is not None:
            return self.day.isoformat()
        return self.instant or "now"


@dataclass(frozen=True, slots=True)
class Point:
    """A resolved as-of point: the log positions 1..position, read as of `instant`.

    `instant` is when what the report covers was recorded by (the clocks are read on its UTC
    date); `now` says it was resolved from "now" (or from today's date, whose end is still to
    come). Asking again with `position` gives the same point, forever; with `instant` too, unless
    `position` lies inside a batch (its events share one recorded_at: the instant covers the batch).
    """

    position: int
    instant: str
    now: bool = False

    @property
    def day(self) -> date:
        return date.fromisoformat(self.instant[:10])
