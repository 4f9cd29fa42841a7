"""What routes need, as `Annotated` aliases: a route's signature says what it needs in one word each.

Every route takes its ledger, projection, sessions, principal and as-of point from here, so how each
is had (the app's state, the bearer token, the query) is said once.
"""

from typing import Annotated

from fastapi import Depends, Query, Request

from api.auth import allow, get_ledger, principal
from api.sessions import Sessions
from domain.access import Principal
from domain.as_of import AsOf, Point
from domain.organizations import Role
from ledger.application import Ledger
from projections.runner import Projection


def get_projection(request: Request) -> Projection:
    return request.app.state.projection  # type: ignore[no-any-return]


def get_sessions(request: Request) -> Sessions:
    return request.app.state.sessions  # type: ignore[no-any-return]


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ProjectionDep = Annotated[Projection, Depends(get_projection)]
SessionsDep = Annotated[Sessions, Depends(get_sessions)]

# Who the bearer token is (401 without a live one), and, for the others, that it has the role (403).
PrincipalDep = Annotated[Principal, Depends(principal)]
ReportReaderDep = Annotated[Principal, Depends(allow(Role.MONITOR, Role.AUDITOR))]  # the reports
CaseReaderDep = Annotated[Principal, Depends(allow(Role.AGENCY, Role.AUDITOR))]  # a case's state and history
AgencyDep = Annotated[Principal, Depends(allow(Role.AGENCY))]  # posting
AuditorDep = Annotated[Principal, Depends(allow(Role.AUDITOR))]  # the log, its proofs, the export

AS_OF_HELP = (
    "A log position, an ISO 8601 instant with a UTC offset, or a date (the end of that day, UTC). "
    "Default: now. Today's date means now; a later date, an instant in the future or a position "
    "beyond the log is refused (422, naming the latest point that can be reported). The answer "
    "states the point it resolved to: asking again with it gives the same answer, forever."
)


def as_of_point(
    ledger: LedgerDep,
    as_of: Annotated[str | None, Query(description=AS_OF_HELP, max_length=64)] = None,
) -> Point:
    """The point `as_of` stands for, resolved once, by the rule every door shares (ledger/as_of.py);
    an AsOfError is a 422 naming `as_of` (api/errors.py)."""
    return ledger.reader.resolve(AsOf.parse(as_of))


AsOfDep = Annotated[Point, Depends(as_of_point)]
