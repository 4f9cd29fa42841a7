"""The monitors' dashboard at `/`: server-rendered HTML, no script, nothing from another site.

Monitors and auditors sign in with their token (api/sessions.py keeps the session, in the database). The page
shows the compliance report as of a date (the end of that day, UTC; today means now), its
charts, the overdue obligations by pseudonymous case id, what changed since an earlier date (the
difference of two reports) and downloads of the same report. Monitors see no personal data:
everything here comes from the report and the overdue list, which hold none.

Bad input never gives a 500: the form shows what is wrong (400), a dead session goes back to the
sign-in page with the reason, and a lagging projection or an unreachable database gets a page
saying so (503). The routes raise (SignInFirst, PageRefused, the error tree) and their route class
(api/page_route.py) turns what they raise into that page.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.content_security import REPORT_HTML_HEADERS
from api.deps import LedgerDep, ProjectionDep, SessionsDep
from api.errors import answer_for
from api.page_route import PageRefused, PageRoute, SignInFirst
from api.pages import SECURITY_HEADERS, STYLESHEET, message, page
from api.sessions import COOKIE, Session, Sessions, csrf_matches
from domain.access import Principal
from domain.as_of import AsOf, AsOfError, Point
from domain.organizations import Role
from ledger.application import Ledger
from ledger.as_of import BeyondTheLog
from projections.chart_shapes import PHONE_WIDTH, svg
from projections.charts import report_charts
from projections.definitions import definitions
from projections.labels import label, labelled_definitions, witnessed_text
from projections.render import DOWNLOAD_NAMES, MEDIA_TYPES, Format, file_name, render
from projections.report import compliance_report, overdue_obligations
from projections.report_changes import Change, report_changes
from projections.runner import Projection
from projections.spreadsheet_csv import csv_file

router = APIRouter(include_in_schema=False, route_class=PageRoute)  # errors become pages (api/page_route.py)

READERS = (Role.MONITOR, Role.AUDITOR)
HOME = {Role.MONITOR: "/", Role.AUDITOR: "/audit/cases"}  # where signing in leads
OVERDUE_ON_PAGE = 50
OVERDUE_DOWNLOAD = 1_000_000  # every overdue clock, in practice
# The overdue list's download: a duration has no due date (its cell is left empty).
OVERDUE_COLUMNS = ("case_id", "obligation", "kind", "status", "since", "days", "due")
OVERDUE_LABELLED = frozenset({"obligation", "kind", "status"})  # cells holding a key, shown by its label
DOWNLOADS = (Format.PDF, Format.CSV, Format.CSV_TABLES, Format.JSON, Format.HTML)
SIGN_IN_NOTICES = {
    "signed-out": "You have signed out.",
    "expired": "Your session has ended. Sign in again to continue.",
    "revoked": "Your session has ended: its token was revoked or cannot read reports. Sign in with a live monitor or auditor token.",
}


@dataclass
class Dates:
    """The picker's inputs: as they were typed (to show them again) and what they mean."""

    as_of_text: str
    since_text: str
    as_of: date | None = None  # None: now
    since: date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def pick_dates(as_of_text: str, since_text: str) -> Dates:
    """The picker's dates as typed; what they resolve to is the ledger's to say (resolve_dates)."""
    dates = Dates(as_of_text.strip(), since_text.strip())
    dates.as_of = _day(dates, "as_of", dates.as_of_text)
    dates.since = _day(dates, "since", dates.since_text)
    return dates


def resolve_dates(ledger: Ledger, dates: Dates) -> tuple[Point, Point | None]:
    """(the as-of point, the earlier point) by the rule every door shares; refusals go in
    `dates.errors`. Today's date means now, and is shown as now."""
    try:
        point = ledger.reader.resolve(AsOf.now() if dates.as_of is None else AsOf.of_day(dates.as_of))
    except BeyondTheLog as beyond:
        dates.errors["as_of"] = f"The as-of date cannot be after today ({beyond.latest.day.isoformat()}, UTC)."
        return beyond.latest, None
    if point.now:
        dates.as_of = None
    if dates.since is None:
        return point, None
    if dates.since >= (dates.as_of or point.day):
        dates.errors["since"] = "The earlier date must come before the as-of date."
        return point, None
    return point, ledger.reader.resolve(AsOf.of_day(dates.since))


def _day(dates: Dates, name: str, text: str) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        dates.errors[name] = "Enter a date as YYYY-MM-DD, e.g. 2024-02-01."
        return None


# --- signing in and out ---------------------------------------------------------------------------


@router.get("/sign-in", name="sign_in_page")
def sign_inpage(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
    notice: Annotated[str | None, Query()] = None,
) -> Response:
    session = sessions.read(request)
    if session is not None and session.token_name is not None:
        who = _reader(ledger, sessions, session)
        if isinstance(who, Principal):
            return RedirectResponse(HOME[who.role], 303)  # already signed in
    return _sign_in_form(request, sessions, notice=SIGN_IN_NOTICES.get(notice or ""))


@router.post("/sign-in")
def sign_in(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
    token: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = sessions.read(request)
    if not csrf_matches(session, csrf):
        return _sign_in_form(request, sessions, "This sign-in form had expired. Please paste your token again.", 400)
    token = token.strip()
    if not token:
        return _sign_in_form(request, sessions, "Paste your monitor or auditor token to sign in.", 400)
    who = ledger.tokens.authenticate(token) if len(token) <= 256 else None
    if who is None:
        return _sign_in_form(request, sessions, "That token is unknown or has been revoked.", 401)
    if who.role not in READERS:
        return _sign_in_form(
            request, sessions, f"The dashboard is for monitor and auditor tokens; {who.name} is an {who.role.value} token.", 403
        )
    response = RedirectResponse(HOME[who.role], 303)  # an auditor to their own pages
    sessions.start(response, request, who.name, replacing=session)  # a new CSRF secret too
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    sessions: SessionsDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = sessions.read(request)
    if not csrf_matches(session, csrf):
        return message(request, "Not signed out", "That sign-out form had expired. Reload the dashboard and try again.", 400)
    response = RedirectResponse("/sign-in?notice=signed-out", 303)
    sessions.end(response, request, session)  # for every copy of the cookie
    return response


def _sign_in_form(request: Request, sessions: Sessions, error: str | None = None, status: int = 200, notice: str | None = None) -> Response:
    session = sessions.read(request)
    if session is None or session.token_name is not None:
        session = Sessions.anonymous()  # holding only the form's CSRF secret
    response = page(request, "sign_in.html", status, session=session, error=error, notice=notice)
    sessions.write(response, request, session)
    return response


# --- the dashboard ---------------------------------------------------------------------------------


@router.get("/", name="dashboard")
def dashboard(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
    projection: ProjectionDep,
    as_of: Annotated[str, Query()] = "",
    since: Annotated[str, Query()] = "",
) -> Response:
    session, who = signed_in(request, sessions, ledger)
    dates = pick_dates(as_of, since)
    context: dict[str, Any] = {"who": who, "session": session, "dates": dates, "today": datetime.now(UTC).date().isoformat()}
    if dates.errors:
        return page(request, "dashboard.html", 422, **context)
    point, earlier_point = resolve_dates(ledger, dates)
    context["today"] = point.day.isoformat() if point.now else context["today"]
    if dates.errors:
        return page(request, "dashboard.html", 422, **context)
    wait = request.app.state.settings.report_wait_seconds
    report, overdue, earlier = _numbers(ledger, projection, point, earlier_point, wait)
    changes = report_changes(earlier, report) if earlier is not None else []
    context.update(
        report=report,
        witnessed=witnessed_text(report),
        overdue=overdue,
        earlier=earlier,
        changes=_by_section(changes),
        delta={f"{c.section}.{c.measure}": c.difference for c in changes} if earlier is not None else None,
        # Each chart drawn twice, for a laptop and for a phone; the stylesheet shows one.
        charts=[
            (wide, svg(wide, "chart wide"), svg(narrow, "chart narrow"))
            for wide, narrow in zip(report_charts(report), report_charts(report, PHONE_WIDTH), strict=True)
        ],
        downloads=[(DOWNLOAD_NAMES[f], f"/download/compliance.{f.value}?{urlencode({'as_of': report['as_of']})}") for f in DOWNLOADS],
        overdue_download=f"/download/overdue.csv?{urlencode({'as_of': report['as_of']})}",
        definitions=labelled_definitions(definitions(projection.late_report_days())),
    )
    return page(request, "dashboard.html", 200, **context)


def _numbers(
    ledger: Ledger, projection: Projection, point: Point, earlier: Point | None, wait: float
) -> "_Numbers":
    report = compliance_report(ledger, projection, point, None, wait)
    # The overdue list at the very point the report states, so both describe one moment.
    overdue = overdue_obligations(ledger, projection, point, OVERDUE_ON_PAGE, wait)
    return _Numbers(report, overdue, None if earlier is None else compliance_report(ledger, projection, earlier, None, wait))


class _Numbers(NamedTuple):
    """What the dashboard shows: the report at its point, the overdue list there, and the report
    at the earlier point its changes are counted from (if one was asked for)."""

    report: dict[str, Any]
    overdue: dict[str, Any]
    earlier: dict[str, Any] | None


def _by_section(changes: list[Change]) -> list[tuple[str, list[Change]]]:
    sections: dict[str, list[Change]] = {}
    for change in changes:
        sections.setdefault(change.section, []).append(change)
    return list(sections.items())


# --- downloads ---------------------------------------------------------------------------------------


@router.get("/download/compliance.{format}")
def download_report(
    request: Request,
    format: Format,
    sessions: SessionsDep,
    ledger: LedgerDep,
    projection: ProjectionDep,
    as_of: Annotated[str, Query()] = "",
) -> Response:
    """The report the page showed, in a file: the link carries the page's as-of instant."""
    signed_in(request, sessions, ledger)
    point = _download_point(ledger, as_of)
    wait = request.app.state.settings.report_wait_seconds
    report = compliance_report(ledger, projection, point, None, wait)
    body = render(report, format, definitions(projection.late_report_days()))
    name = file_name(report, format)
    policy = REPORT_HTML_HEADERS if format is Format.HTML else SECURITY_HEADERS
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={**policy, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/download/overdue.csv")
def download_overdue(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
    projection: ProjectionDep,
    as_of: Annotated[str, Query()] = "",
) -> Response:
    """Every overdue deadline and breached duration at the page's as-of point, by case id,
    overdue or breached longest first, each in its kind's words (labels, not keys)."""
    signed_in(request, sessions, ledger)
    point = _download_point(ledger, as_of)
    wait = request.app.state.settings.report_wait_seconds
    overdue = overdue_obligations(ledger, projection, point, OVERDUE_DOWNLOAD, wait)
    body = csv_file(
        [
            [label(column) for column in OVERDUE_COLUMNS],
            *([label(row[c]) if c in OVERDUE_LABELLED else row.get(c) for c in OVERDUE_COLUMNS] for row in overdue["obligations"]),
        ]
    )
    name = f"overdue-obligations-tree-{overdue['tree_size']}.csv"
    return Response(
        body,
        media_type=MEDIA_TYPES[Format.CSV],
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _download_point(ledger: Ledger, as_of: str) -> Point:
    """The point a download link's as_of stands for, by the rule every door shares; PageRefused
    says why it stands for none (422, by the table: an AsOfError, BeyondTheLog among them, is
    invalid input)."""
    try:
        return ledger.reader.resolve(AsOf.parse(as_of))
    except AsOfError as error:
        raise PageRefused("Not downloaded", f"The link's as-of point is not valid: {error}.", answer_for(error).status) from error


# --- shared ----------------------------------------------------------------------------------------


@router.get("/static/dashboard.css")
def stylesheet() -> Response:
    return Response(
        STYLESHEET, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    )


def _reader(ledger: Ledger, sessions: Sessions, session: Session) -> Principal | str:
    """The session's principal, its token and its stored session looked up afresh; or why it has
    none, as a sign-in notice: `revoked` (its token revoked, or no longer a reader's) or `expired`
    (signed out, or past its end)."""
    who = ledger.tokens.principal_named(session.token_name) if session.token_name is not None else None
    if who is None or who.role not in READERS:
        return "revoked"
    return who if sessions.is_live(session) else "expired"


def signed_in(request: Request, sessions: Sessions, ledger: Ledger) -> tuple[Session, Principal]:
    """The session and who it is for; SignInFirst (the sign-in page, saying why) without a live one."""
    session = sessions.read(request)
    if session is None or session.token_name is None:
        raise SignInFirst("expired" if session is None and COOKIE in request.cookies else "")
    who = _reader(ledger, sessions, session)
    if isinstance(who, str):  # the session is over
        raise SignInFirst(who, clear=True)
    return session, who
