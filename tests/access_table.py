"""Who may use which route: the expected-access table the authorization matrix is generated from.

Every route the app serves has an entry (tests/test_authorization_matrix.py fails for a route
without one, or for an entry without a route), with a URL that reaches it and how it is guarded:
- `public`: no token needed; a bearer header, good or bad, changes nothing;
- `bearer(roles)`: a live bearer token of one of `roles`, else 403; no, unknown, malformed or
  revoked token: 401 (`bearer(*Role)` is any live token);
- `session`: the dashboard, signed in with a monitor or auditor token through the sign-in form; a
  bearer header is no session: it is sent to the sign-in page (303); `auditor_session`: the
  auditors' pages, the same but for auditors only (a signed-in monitor gets 403);
- `form`: the dashboard's forms, which need the form's CSRF secret: without it 400, whatever
  bearer header comes along.
"""

from dataclasses import dataclass

from domain.organizations import Role

READERS = frozenset({Role.MONITOR, Role.AUDITOR})  # of the dashboard


@dataclass(frozen=True)
class Access:
    url: str
    guard: str  # public, bearer, session or form
    roles: frozenset[Role] = frozenset()


def public(url: str) -> Access:
    return Access(url, "public")


def bearer(url: str, *roles: Role) -> Access:
    return Access(url, "bearer", frozenset(roles))


def session(url: str) -> Access:
    return Access(url, "session", READERS)


def auditor_session(url: str) -> Access:
    return Access(url, "session", frozenset({Role.AUDITOR}))


def form(url: str) -> Access:
    return Access(url, "form")


def table(case_id: str) -> dict[tuple[str, str], Access]:
    """(method, route template) → how to reach it and who may; `case_id` names an existing case."""
    return {
        ("POST", "/v1/events"): bearer("/v1/events", Role.AGENCY),
        ("GET", "/v1/catalog"): bearer("/v1/catalog", *Role),
        ("GET", "/v1/cases/{case_id}"): bearer(f"/v1/cases/{case_id}", Role.AGENCY, Role.AUDITOR),
        ("GET", "/v1/cases/{case_id}/events"): bearer(f"/v1/cases/{case_id}/events", Role.AGENCY, Role.AUDITOR),
        ("GET", "/v1/reports/compliance"): bearer("/v1/reports/compliance", Role.MONITOR, Role.AUDITOR),
        ("GET", "/v1/reports/overdue"): bearer("/v1/reports/overdue", Role.MONITOR, Role.AUDITOR),
        ("GET", "/v1/reports/definitions"): bearer("/v1/reports/definitions", Role.MONITOR, Role.AUDITOR),
        ("GET", "/v1/log"): bearer("/v1/log", Role.AUDITOR),
        ("GET", "/v1/access-log"): bearer("/v1/access-log", Role.AUDITOR),
        ("GET", "/v1/checkpoint"): bearer("/v1/checkpoint", *Role),
        ("GET", "/v1/proofs/inclusion"): bearer("/v1/proofs/inclusion?position=1&tree_size=1", Role.AUDITOR),
        ("GET", "/v1/proofs/consistency"): bearer("/v1/proofs/consistency?first=1&second=2", Role.AUDITOR),
        ("GET", "/v1/export"): bearer("/v1/export", Role.AUDITOR),
        ("GET", "/healthz"): public("/healthz"),
        ("GET", "/metrics"): public("/metrics"),
        ("GET", "/openapi.json"): public("/openapi.json"),
        ("GET", "/docs"): public("/docs"),
        ("GET", "/redoc"): public("/redoc"),
        ("GET", "/static/docs/{name}"): public("/static/docs/swagger-init.js"),
        ("GET", "/static/dashboard.css"): public("/static/dashboard.css"),
        ("GET", "/favicon.svg"): public("/favicon.svg"),
        ("GET", "/favicon.ico"): public("/favicon.ico"),
        ("GET", "/sign-in"): public("/sign-in"),
        ("POST", "/sign-in"): form("/sign-in"),
        ("POST", "/sign-out"): form("/sign-out"),
        ("GET", "/"): session("/"),
        ("GET", "/download/compliance.{format}"): session("/download/compliance.csv"),
        ("GET", "/download/overdue.csv"): session("/download/overdue.csv"),
        ("GET", "/audit/cases"): auditor_session(f"/audit/cases?case_id={case_id}"),
        ("GET", "/audit/integrity"): auditor_session("/audit/integrity"),
        ("GET", "/audit/export.tar.gz"): auditor_session("/audit/export.tar.gz"),
        ("POST", "/audit/integrity"): form("/audit/integrity"),
        ("GET", "/audit/access-log"): auditor_session("/audit/access-log?action=read+history"),
        ("GET", "/audit/access-log.csv"): auditor_session("/audit/access-log.csv?organization=oig"),
    }
