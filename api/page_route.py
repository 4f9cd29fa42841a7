"""How the dashboard's and the auditors' pages answer what goes wrong: one route class for their routers.

A page route says what it shows and raises when it cannot, as an API route does; this class turns
what it raises into the page a person reads (FastAPI's "custom APIRoute" pattern, so it covers the
route's dependencies too, and the API's routes keep their problem details):

    SignInFirst                      → 303 to the sign-in page, saying why (the session cleared if it is over)
    PageRefused                      → its own page and status (a page's own wording: "For auditors only")
    ProjectionBehind, ReadModelOutdated
                                     → 503 "the numbers are being brought up to date / rebuilt"
    InvalidInput                     → 422, naming the field (api/errors.py's table)
    any other LedgerError            → its status by the table (Unavailable: 503 with Retry-After)
    PersistenceError                 → 503 "the ledger is unavailable" (the database cannot be reached)
"""

from collections.abc import Callable, Coroutine
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from api.errors import answer_for, field_of
from api.pages import message
from domain.errors import InvalidInput, LedgerError
from projections.report import ProjectionBehind
from projections.runner import ReadModelOutdated


class SignInFirst(Exception):
    """No live session: the page is the sign-in page. `notice` says why (api/routes/dashboard.py's
    SIGN_IN_NOTICES: `expired`, `revoked`; '' for none); `clear` forgets the dead session's cookie."""

    def __init__(self, notice: str = "", clear: bool = False) -> None:
        super().__init__(notice or "sign in first")
        self.notice = notice
        self.clear = clear


class PageRefused(Exception):
    """A page's own refusal, in its own words (a title, a sentence) and status."""

    def __init__(self, title: str, text: str, status: int) -> None:
        super().__init__(text)
        self.title = title
        self.text = text
        self.status = status


def error_page(request: Request, error: LedgerError | PersistenceError) -> Response:
    """The message page for an error of the tree, or the database out of reach."""
    if isinstance(error, ProjectionBehind):
        return message(
            request,
            "The numbers are being brought up to date",
            f"The report needs log position {error.position:,}; the projection has reached {error.tracked:,}. "
            "Reload in a moment.",
            answer_for(error).status,
        )
    if isinstance(error, ReadModelOutdated):
        return message(request, "The numbers are being rebuilt", f"{str(error).capitalize()}. Reload in a moment.", answer_for(error).status)
    if isinstance(error, PersistenceError):
        return message(request, "The ledger is unavailable", "The database cannot be reached just now. Reload in a moment.", 503)
    status = answer_for(error).status
    if isinstance(error, InvalidInput):
        field = field_of(error)
        return message(request, "Not valid", f"{field}: {error}" if field else str(error), status)
    text = f"{error}. Reload in a moment." if status == 503 else str(error)
    return message(request, "Not done", text, status)


class PageRoute(APIRoute):
    """The route class of the page routers (`APIRouter(route_class=PageRoute)`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_or_error(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInFirst as first:
                response = RedirectResponse(f"/sign-in?notice={first.notice}" if first.notice else "/sign-in", 303)
                if first.clear:
                    request.app.state.sessions.clear(response, request)
                return response
            except PageRefused as refused:
                return message(request, refused.title, refused.text, refused.status)
            except (LedgerError, PersistenceError) as error:
                return error_page(request, error)

        return page_or_error
