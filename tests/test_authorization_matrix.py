"""Who may do what, generated rather than listed (issue 7, item 4), on both backends.

- Every route the app serves × every caller: an agency token of each organization, a monitor, an
  auditor, an admin, no token, a revoked token and malformed ones; expectations come from
  tests/access_table.py, and a route missing from it fails the suite.
- POST /v1/events: every organization × every event type of the catalog, allowed iff the
  permission matrix (domain/permissions.py) says so; a forbidden post is a 403 and appends nothing.
- A monitor sees no personal data: markers sealed in personal fields appear in no response a
  monitor can obtain, API or dashboard (while an agency reading the case does see them).

One ledger and one TestClient per backend serve the whole module; the requests are counted and
printed at the end of each backend's run (1,410 per backend; run with -s to see the count).
"""

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.catalog import AMENDMENTS, CASE_EVENTS, CATALOG, SETTLEMENT_EVENTS
from domain.envelope import SETTLEMENT_CASE_ID
from domain.organizations import Organization, Role
from domain.permissions import allowed_types, may_post
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.access_table import READERS, Access, table
from tests.builders import VALID_DATA, contact, envelope, separation
from tests.harness import ORIGIN

CASE = "FRTF-AUTHZ-1"
NAME, CHILD, PHONE, ADDRESS, NOTE = "Zyxquil Marker-Parent", "Qwopel Marker-Child", "+502 5555 0187", "9a Avenida 77-01", "marker note qzv"
MARKERS = (NAME, CHILD, PHONE, ADDRESS, NOTE)
REQUESTS: Counter[str] = Counter()


@dataclass(frozen=True)
class Caller:
    label: str
    token: str | None  # None: no Authorization header
    role: Role | None = None  # None: not a live token
    organization: Organization | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    backend: str
    ledger: Ledger
    client: TestClient
    callers: list[Caller]

    def agency(self, organization: Organization) -> Caller:
        return next(c for c in self.callers if c.role is Role.AGENCY and c.organization is organization)

    def caller(self, label: str) -> Caller:
        return next(c for c in self.callers if c.label == label)


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory, signer: Signer, master_key: bytes) -> Iterator[World]:
    url = module_database_url
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    keys = tmp_path_factory.mktemp("authz-keys")
    settings = Settings(database_url=url, signing_key_file=keys / "signing-key.pem", origin=ORIGIN, log_level="WARNING")
    with Ledger(url, signer, master_key) as ledger, TestClient(create_app(settings, ledger)) as client:
        client.event_hooks["request"] = [lambda _: REQUESTS.update([backend])]
        world = World(backend, ledger, client, _callers(ledger))
        _seed(world)
        yield world
    print(f"\nauthorization matrix on {backend}: {REQUESTS[backend]} requests")


def _callers(ledger: Ledger) -> list[Caller]:
    def issued(name: str, organization: Organization, role: Role) -> Caller:
        return Caller(name, ledger.tokens.issue(name, organization, role), role, organization)

    callers = [issued(f"{org.lower()}-agency", org, Role.AGENCY) for org in Organization]
    callers += [
        issued("monitor", Organization.MONITOR, Role.MONITOR),
        issued("auditor", Organization.OIG, Role.AUDITOR),
        issued("admin", Organization.OIG, Role.ADMIN),
    ]
    revoked = ledger.tokens.issue("revoked-frtf", Organization.FRTF, Role.AGENCY)
    ledger.tokens.revoke("revoked-frtf", "left the task force")
    live = callers[0].token
    assert live is not None
    name, _, secret = live.partition(".")
    callers += [
        Caller("no token", None),
        Caller("revoked", revoked),
        Caller("wrong secret", f"{name}.{secret[::-1]}"),
        Caller("unknown name", f"nobody.{secret}"),
        Caller("garbage", "%%%not-a-token%%%"),
        Caller("too long", f"{name}.{'x' * 5000}"),
    ]
    return callers


def _seed(world: World) -> None:
    """A case carrying personal data (the markers), and a contact with a phone number and an address."""
    identified = separation(CASE)
    identified["data"]["children"][0]["name"] = CHILD
    identified["data"]["parents"][0]["name"] = NAME
    identified["data"]["notes"] = NOTE
    located = envelope(CASE, "ParentLocated", {"country": "GT", "address": ADDRESS, "notes": NOTE})
    reached = contact(CASE, outcome="reached")
    reached["data"]["contact_detail"] = PHONE
    frtf, kind = world.agency(Organization.FRTF), world.agency(Organization.KIND)
    assert world.client.post("/v1/events", json={"events": [identified]}, headers=frtf.headers).status_code == 201
    assert world.client.post("/v1/events", json={"events": [reached, located]}, headers=kind.headers).status_code == 201


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves, included routers' too (HEAD aside)."""
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for each in contexts:
            served |= {(method, each.path) for method in getattr(each, "methods", None) or () if method != "HEAD"}
    return served


# --- every route × every caller -----------------------------------------------------------------


def test_every_route_the_app_serves_has_an_entry_in_the_access_table() -> None:
    app = create_app(Settings(database_url="sqlite:///unused.db"))
    served = routes_of(app)
    documented = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    expected = set(table(CASE))
    assert served - expected == set(), "a route without an expected-access entry"
    assert expected - served == set(), "an entry for a route the app no longer serves"
    assert documented <= served


def expected_status(access: Access, caller: Caller, method: str) -> int:
    if access.guard == "public":
        return 200
    if access.guard == "form":
        return 400  # no CSRF secret: a bearer header is no substitute
    if access.guard == "session":
        return 303  # to the sign-in page: a bearer header is not a session
    if caller.role is None:
        return 401
    if caller.role not in access.roles:
        return 403
    if method == "POST":  # a ContactAttempted: only some agencies may post one
        assert caller.organization is not None
        return 201 if may_post(caller.organization, "ContactAttempted") else 403
    return 200


@pytest.mark.parametrize("route", sorted(table(CASE)), ids=" ".join)
def test_each_route_answers_each_caller_as_the_access_table_says(world: World, route: tuple[str, str]) -> None:
    method, _ = route
    access = table(CASE)[route]
    world.client.cookies.clear()  # bearer headers only: no dashboard session
    wrong = []
    for caller in world.callers:
        size = world.ledger.store.tree_size()
        if method == "POST" and access.guard == "bearer":
            response = world.client.post(access.url, json={"events": [contact(CASE)]}, headers=caller.headers)
        elif method == "POST":
            response = world.client.post(access.url, data={"token": caller.token or ""}, headers=caller.headers, follow_redirects=False)
        else:
            response = world.client.get(access.url, headers=caller.headers, follow_redirects=False)
        want = expected_status(access, caller, method)
        if response.status_code != want:
            wrong.append(f"{caller.label}: {response.status_code}, expected {want}: {response.text[:120]}")
        if want in (401, 403) and world.ledger.store.tree_size() != size:
            wrong.append(f"{caller.label}: a refused request appended to the log")
        if want == 303 and not response.headers["location"].startswith("/sign-in"):
            wrong.append(f"{caller.label}: sent to {response.headers['location']}, not to the sign-in page")
        if want == 401 and response.headers.get("www-authenticate") != "Bearer":
            wrong.append(f"{caller.label}: a 401 without the Bearer challenge")
    assert wrong == []


def sign_in(client: TestClient, token: str) -> httpx.Response:
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    return client.post("/sign-in", data={"token": token, "csrf": csrf.group(1)}, follow_redirects=False)


def test_only_monitor_and_auditor_tokens_open_a_dashboard_session(world: World) -> None:
    sessions = {access.url: access.roles for access in table(CASE).values() if access.guard == "session"}
    wrong = []
    browser = world.client
    for caller in world.callers:
        browser.cookies.clear()  # a browser of its own for each caller
        signed = sign_in(browser, caller.token or "")
        if caller.role in READERS:
            want = 303
        elif caller.token is None:
            want = 400  # nothing pasted
        elif caller.role is None:
            want = 401
        else:
            want = 403
        if signed.status_code != want:
            wrong.append(f"sign-in of {caller.label}: {signed.status_code}, expected {want}")
        for url in sorted(sessions):
            got = browser.get(url, follow_redirects=False).status_code
            if got != (200 if caller.role in sessions[url] else 403 if caller.role in READERS else 303):
                wrong.append(f"{url} for {caller.label}: {got}")
    browser.cookies.clear()
    assert wrong == []


# --- every organization × every event type ----------------------------------------------------------

_CASES = itertools.count(1)
_TERMS_VERSIONS = itertools.count(100)
_COURT_ORDERS = itertools.count(1)


def fresh_case(world: World, children: tuple[str, ...] = ("C1", "C2")) -> str:
    case_id = f"FRTF-M{next(_CASES):04d}"
    frtf = world.agency(Organization.FRTF)
    response = world.client.post("/v1/events", json={"events": [separation(case_id, children)]}, headers=frtf.headers)
    assert response.status_code == 201, response.text
    return case_id


def original_entry(world: World, organization: Organization, case_id: str) -> str | None:
    """An entry `organization` posts to the case, for it to correct or retract; None if it can post none."""
    special = AMENDMENTS | {"SeparationIdentified", "CasesMerged", "MemberAdded", "MemberRemoved"}
    postable = [t for t in allowed_types(organization) if t in CASE_EVENTS and t not in special]
    if not postable:
        return None
    posted = envelope(case_id, postable[0], dict(VALID_DATA[postable[0]]))
    response = world.client.post("/v1/events", json={"events": [posted]}, headers=world.agency(organization).headers)
    assert response.status_code == 201, response.text
    return str(posted["event_id"])


def allowed_posting(world: World, organization: Organization, event_type: str) -> tuple[dict[str, Any], int]:
    """A posting of `event_type` the case will accept from `organization` (the cases it needs made
    first), and the status expected: 201, or 422 for an amendment by an organization that cannot
    have posted anything to amend (refused by the case's rules, never by the matrix)."""
    data = dict(VALID_DATA[event_type])
    if event_type in SETTLEMENT_EVENTS:
        if event_type == "TermsAdopted":
            data["terms_version"] = next(_TERMS_VERSIONS)
        if event_type == "DeadlineExtended":  # an order extends an obligation once: each poster its own
            data["court_order_id"] = f"ECF {next(_COURT_ORDERS)}"
        return envelope(SETTLEMENT_CASE_ID, event_type, data), 201
    if event_type == "SeparationIdentified":
        return envelope(f"FRTF-M{next(_CASES):04d}", event_type, data), 201
    case_id = fresh_case(world)
    if event_type == "MemberAdded":
        data["member_id"] = "C3"
    if event_type == "CasesMerged":
        data["duplicate_case_id"] = fresh_case(world)
    if event_type in AMENDMENTS:
        original = original_entry(world, organization, case_id)
        if original is None:
            return envelope(case_id, event_type, {**data, "event_id": str(uuid4())}), 422
        data = {"event_id": original, "reason": "posted in error"}
        if event_type == "EntryCorrected":
            data["occurred_at"] = "2021-05-01T10:00:00Z"
    return envelope(case_id, event_type, data), 201


def forbidden_posting(event_type: str) -> dict[str, Any]:
    case_id = SETTLEMENT_CASE_ID if event_type in SETTLEMENT_EVENTS else CASE
    return envelope(case_id, event_type, dict(VALID_DATA[event_type]))


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_an_agency_posts_an_event_type_iff_the_permission_matrix_allows_its_organization(world: World, event_type: str) -> None:
    wrong = []
    for organization in Organization:
        headers = world.agency(organization).headers
        if may_post(organization, event_type):
            posting, want = allowed_posting(world, organization, event_type)
        else:
            posting, want = forbidden_posting(event_type), 403
        size = world.ledger.store.tree_size()
        response = world.client.post("/v1/events", json={"events": [posting]}, headers=headers)
        if response.status_code != want:
            wrong.append(f"{organization}: {response.status_code}, expected {want}: {response.text[:200]}")
        if want != 201 and world.ledger.store.tree_size() != size:
            wrong.append(f"{organization}: a refused {event_type} appended to the log")
        if want == 403 and f"{organization} may not post {event_type}" not in response.text:
            wrong.append(f"{organization}: the 403 does not say why: {response.text[:200]}")
        if want == 403 and response.json().get("may_post") != allowed_types(organization):
            wrong.append(f"{organization}: the 403 does not list what it may post: {response.text[:200]}")
    assert wrong == []


def test_an_agency_may_not_amend_another_organizations_entry(world: World) -> None:
    case_id = fresh_case(world)
    history = world.ledger.reader.history(case_id)
    assert history is not None
    [identified] = history.items
    size = world.ledger.store.tree_size()
    for amendment in sorted(AMENDMENTS):
        data = {"event_id": identified.event.event_id, "reason": "not ours"}
        if amendment == "EntryCorrected":
            data["occurred_at"] = "2021-05-01T10:00:00Z"
        kind = world.agency(Organization.KIND)
        response = world.client.post("/v1/events", json={"events": [envelope(case_id, amendment, data)]}, headers=kind.headers)
        assert response.status_code == 403, response.text
        assert "only they may amend it" in response.text
    assert world.ledger.store.tree_size() == size


# --- a monitor sees no personal data -------------------------------------------------------------


def test_an_agency_reading_the_case_sees_the_personal_markers(world: World) -> None:
    """The markers are there to be found: the monitor test below would prove nothing otherwise."""
    body = world.client.get(f"/v1/cases/{CASE}/events", headers=world.agency(Organization.KIND).headers).text
    assert all(marker in body for marker in MARKERS)


def test_no_response_a_monitor_can_obtain_holds_personal_data(world: World) -> None:
    monitor = world.caller("monitor")
    bodies: dict[str, bytes] = {}
    for (method, _), access in table(CASE).items():
        if method == "GET" and access.guard != "session":
            bodies[access.url] = world.client.get(access.url, headers=monitor.headers).content
    for fmt in ("json", "csv", "html", "pdf"):
        url = f"/v1/reports/compliance?format={fmt}"
        bodies[url] = world.client.get(url, headers=monitor.headers).content
    browser = world.client
    browser.cookies.clear()
    assert sign_in(browser, monitor.token or "").status_code == 303
    for url in ("/", "/?since=2020-01-01", "/download/overdue.csv", *(f"/download/compliance.{f}" for f in ("json", "csv", "html", "pdf"))):
        response = browser.get(url)
        assert response.status_code == 200, url
        bodies[url] = response.content
    browser.cookies.clear()
    leaks = [(url, marker) for url, body in bodies.items() for marker in MARKERS if marker.encode() in body]
    assert leaks == []
