"""What routes need, as `Annotated` aliases: a route's signature says what it needs in one word each."""

from typing import Annotated

from fastapi import Depends, Query

from api.auth import get_ledger
from domain.as_of import AsOf, Point
from ledger.application import Ledger

AS_OF_HELP = (
    "A log position, an ISO 8601 instant with a UTC offset, or a date (the end of that day, UTC). "
    "Default: now. Today's date means now; a later date, an instant in the future or a position "
    "beyond the log is refused (422, naming the latest point that can be reported). The answer "
    "states the point it resolved to: asking again with it gives the same answer, forever."
)


def as_of_point(
    ledger: Annotated[Ledger, Depends(get_ledger)],
    as_of: Annotated[str | None, Query(description=AS_OF_HELP, max_length=64)] = None,
) -> Point:
    """The point `as_of` stands for, resolved once, by the rule every door shares (ledger/as_of.py);
    an AsOfError is a 422 naming `as_of` (api/errors.py)."""
    return ledger.reader.resolve(AsOf.parse(as_of))


AsOfDep = Annotated[Point, Depends(as_of_point)]
