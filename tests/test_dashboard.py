"""The monitors' dashboard through the app, on both backends: signing in and out, the session
cookie and CSRF, revocation, the date picker's errors, the numbers against the API's report,
what changed since a date, downloads, and pages for a lagging projection."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from api.app import create_app
from api.sessions import COOKIE, PURPOSE
from api.settings import Settings
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import batch, contact, separation
from tests.harness import Tokens

REPORT = "/v1/reports/compliance"
TODAY = datetime.now(UTC).date()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> None:
    form = client.get("/sign-in")
    response = client.post("/sign-in", data={"token": token, "csrf": csrf_of(form.text)}, follow_redirects=False)
    # A monitor lands on the dashboard, an auditor on the auditors' pages.
    assert (response.status_code, response.headers["location"]) in ((303, "/"), (303, "/audit/cases")), response.text


def post_two_families(client: TestClient, tokens: Tokens) -> None:
    """Three children in two families; one family reached; a parent's name and a phone number on
    record; projected."""
    for org, envelopes in [
        ("FRTF", [separation("FRTF-1", occurred_at="2026-01-05T10:00:00Z"), separation("FRTF-2", children=("C1", "C2"))]),
        ("KIND", [contact("FRTF-1", outcome="reached", occurred_at="2026-01-20T10:00:00Z")]),
    ]:
        assert client.post("/v1/events", json=batch(*envelopes), headers=tokens.get(org)).status_code == 201
    assert client.app.state.projection.wait_for(client.app.state.ledger.store.tree_size(), 10)  # type: ignore[attr-defined]


@pytest.fixture
def posted(client: TestClient, tokens: Tokens) -> None:
    post_two_families(client, tokens)


@pytest.fixture
def monitor(client: TestClient, tokens: Tokens) -> str:
    secret = tokens.secret("MONITOR", "monitor")
    sign_in(client, secret)
    return secret


def test_anonymous_visitors_are_sent_to_sign_in_and_the_form_is_csrf_protected(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")
    form = client.get("/sign-in")
    assert form.status_code == 200 and 'type="password"' in form.text and '<label for="token">' in form.text
    cookie = form.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    secret = tokens.secret("MONITOR", "monitor")
    for data in ({"token": secret}, {"token": secret, "csrf": "guessed"}):
        refused = client.post("/sign-in", data=data, follow_redirects=False)
        assert refused.status_code == 400 and "form had expired" in refused.text
    client.cookies.clear()
    stale = client.post("/sign-in", data={"token": secret, "csrf": csrf_of(form.text)}, follow_redirects=False)
    assert stale.status_code == 400, "a CSRF token is worth nothing without its session cookie"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_only_live_monitor_and_auditor_tokens_sign_in(client: TestClient, tokens: Tokens) -> None:
    for token, status, message in [
        ("", 400, "Paste your monitor or auditor token"),
        ("nobody.secret", 401, "unknown or has been revoked"),
        (tokens.secret("FRTF"), 403, "is an agency token"),
        (tokens.secret("MONITOR", "admin"), 403, "is an admin token"),
        ("x" * 10_000, 401, "unknown or has been revoked"),
    ]:
        form = client.get("/sign-in")
        response = client.post("/sign-in", data={"token": token, "csrf": csrf_of(form.text)}, follow_redirects=False)
        assert response.status_code == status and message in response.text, (status, response.text[:200])
        assert 'aria-invalid="true"' in response.text and 'role="alert"' in response.text
        assert client.get("/", follow_redirects=False).status_code == 303
    sign_in(client, tokens.secret("OIG", "auditor"))
    assert client.get("/").status_code == 200


def test_the_session_cookie_names_the_token_and_never_holds_it(client: TestClient, monitor: str) -> None:
    cookie = client.cookies[COOKIE]
    assert monitor not in cookie and monitor.split(".", 1)[1] not in cookie
    key = client.app.state.ledger.signer.derive_secret(PURPOSE)  # type: ignore[attr-defined]
    session = URLSafeTimedSerializer(key, salt=PURPOSE).loads(cookie)
    assert session["name"] == monitor.split(".", 1)[0] and set(session) == {"csrf", "name", "sid"}
    assert client.get("/sign-in", follow_redirects=False).headers["location"] == "/", "already signed in"
    client.cookies.clear()  # else the jar keeps the server's cookie beside the forged one, and sends it
    client.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in?notice=expired", "a forged cookie is no session"


def test_a_session_over_https_has_a_secure_cookie(settings: Settings, signer: Signer) -> None:
    with Ledger(settings.database_url, signer) as ledger, TestClient(create_app(settings, ledger), base_url="https://testserver") as client:
        assert "Secure" in client.get("/sign-in").headers["set-cookie"]
        sign_in(client, Tokens(ledger).secret("MONITOR", "monitor"))
        assert client.get("/").status_code == 200


def test_revoking_the_token_ends_its_session_at_once(client: TestClient, monitor: str) -> None:
    assert client.get("/").status_code == 200
    client.app.state.ledger.tokens.revoke(monitor.split(".", 1)[0], "left the monitor's office")  # type: ignore[attr-defined]
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in?notice=revoked")
    assert f"{COOKIE}=" in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/download/compliance.csv", follow_redirects=False).status_code == 303
    assert "token was revoked" in client.get("/sign-in?notice=revoked").text


def test_signing_out_needs_the_forms_csrf_token(client: TestClient, monitor: str) -> None:
    page = client.get("/")
    assert client.post("/sign-out", data={"csrf": "forged"}).status_code == 400
    assert client.get("/").status_code == 200, "a forged sign-out does nothing"
    response = client.post("/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in?notice=signed-out")
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.usefixtures("posted")
def test_the_page_shows_the_reports_numbers_and_no_personal_data(client: TestClient, tokens: Tokens, monitor: str) -> None:
    page = client.get("/")
    assert page.status_code == 200
    report = client.get(REPORT, params={"as_of": re.search(r'id="report-as-of">([^<]+)<', page.text).group(1)}, headers=tokens.get("MONITOR", "monitor")).json()
    shown = dict(re.findall(r'id="(children-\w+|remaining-\w+|families-\w+|tree-size)">([\d,]+)<', page.text))
    assert shown["children-identified"] == "3" and shown["children-remaining"] == "3"
    assert shown["remaining-informed"] == "1" and shown["remaining-not_reached"] == "2"
    assert shown["families-identified"] == "2"
    assert shown["tree-size"] == f"{report['checkpoint']['tree_size']:,}"
    assert report["checkpoint"]["root_hash"] in page.text
    assert page.text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == 10  # five charts, laptop and phone
    assert re.search(r'<th scope="row">FRTF-2</th><td>first outreach</td>', page.text), "the overdue case by its id"
    assert "Ana Example" not in page.text and "+502" not in page.text
    headers = page.headers
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert 'href="/static/dashboard.css"' in page.text and client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")


@pytest.mark.usefixtures("posted")
def test_an_earlier_date_shows_the_ledger_as_it_stood_and_what_changed_since(client: TestClient, monitor: str) -> None:
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    earlier = client.get("/", params={"as_of": yesterday})
    assert earlier.status_code == 200
    assert f"Compliance as of the end of {yesterday} (UTC)" in earlier.text
    assert 'id="children-identified">0<' in earlier.text and 'id="tree-size">' in earlier.text
    assert "No reunification recorded by this date." in earlier.text
    assert "no terms adopted yet" in earlier.text, "the terms were adopted today too"
    today = client.get("/", params={"as_of": TODAY.isoformat(), "since": yesterday})
    assert "Compliance as of now" in today.text, "today means now"
    changes = today.text[today.text.index('id="changes-heading"') :]
    assert re.search(r"<th scope=\"row\">identified</th><td class=\"number\">0</td><td class=\"number\">3</td>\s*<td class=\"number\">\+3</td>", changes)
    assert f'+3 since <span class="date">{yesterday}</span>' in today.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"as_of": "yesterday"}, "as_of", "Enter a date as YYYY-MM-DD"),
        ({"as_of": "2026-02-30"}, "as_of", "Enter a date as YYYY-MM-DD"),
        ({"as_of": "2024-01-01T00:00:00Z"}, "as_of", "Enter a date as YYYY-MM-DD"),
        ({"as_of": (TODAY + timedelta(days=1)).isoformat()}, "as_of", "cannot be after today"),
        ({"as_of": "2024-01-01", "since": "2024-06-01"}, "since", "must come before the as-of date"),
        ({"since": TODAY.isoformat()}, "since", "must come before the as-of date"),
        ({"since": "\x00" * 5000}, "since", "Enter a date"),
    ],
)
def test_a_bad_date_is_shown_on_the_form_never_a_failure(client: TestClient, monitor: str, query: dict[str, str], field: str, message: str) -> None:
    response = client.get("/", params=query)
    assert response.status_code == 422  # as the API and the downloads answer an as_of they cannot report
    assert response.headers["content-type"].startswith("text/html")
    error = re.search(rf'<p id="{field}-error" class="error" role="alert">([^<]+)</p>', response.text)
    assert error and message in error.group(1)
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in response.text
    assert 'id="children-identified"' not in response.text


@pytest.mark.usefixtures("posted")
def test_downloads_carry_the_pages_report(client: TestClient, tokens: Tokens, monitor: str) -> None:
    page = client.get("/")
    links = {fmt: href for href, fmt in re.findall(r'<a href="(/download/compliance\.([\w-]+)\?as_of=[^"]+)" download>', page.text)}
    assert set(links) == {"pdf", "csv", "csv-tables", "json", "html"}
    as_of = re.search(r'id="report-as-of">([^<]+)<', page.text).group(1)
    api = client.get(REPORT, params={"as_of": as_of}, headers=tokens.get("MONITOR", "monitor"))
    # Events posted after the page was shown do not change what its links give.
    assert client.post("/v1/events", json=batch(separation("FRTF-3")), headers=tokens.get("FRTF")).status_code == 201
    downloaded = client.get(links["json"])
    assert downloaded.status_code == 200 and downloaded.content == api.content
    assert downloaded.headers["content-disposition"].startswith('attachment; filename="compliance-report-tree-')
    tidy = client.get(links["csv"])
    assert tidy.headers["content-disposition"].endswith(f'filename="compliance-report-tree-{api.json()["checkpoint"]["tree_size"]}.csv"')
    assert tidy.content == client.get(REPORT, params={"as_of": as_of, "format": "csv"}, headers=tokens.get("MONITOR", "monitor")).content
    assert ["children", "", "identified", "children", "3"] in list(csv.reader(io.StringIO(tidy.content.decode("utf-8-sig"))))
    tables = client.get(links["csv-tables"])
    assert tables.headers["content-disposition"].endswith(f'filename="compliance-report-tables-tree-{api.json()["checkpoint"]["tree_size"]}.csv"')
    assert ["identified", "3"] in list(csv.reader(io.StringIO(tables.content.decode("utf-8-sig"))))
    pdf = client.get(links["pdf"])
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    overdue = client.get(re.search(r'href="(/download/overdue\.csv\?as_of=[^"]+)"', page.text).group(1))
    lines = overdue.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[0] == "case,obligation,kind,status,since,days,due"
    assert lines[1].startswith("FRTF-2,first outreach,deadline,overdue,")
    bad = client.get("/download/compliance.csv", params={"as_of": "last tuesday"})
    assert bad.status_code == 422 and "not valid" in bad.text
    assert client.get("/download/compliance.docx").status_code == 422


def test_a_lagging_projection_gets_a_page_that_says_so(external_client: TestClient) -> None:
    tokens = Tokens(external_client.app.state.ledger)  # type: ignore[attr-defined]
    assert external_client.post("/v1/events", json=batch(separation("FRTF-9")), headers=tokens.get("FRTF")).status_code == 201
    sign_in(external_client, tokens.secret("MONITOR", "monitor"))
    response = external_client.get("/")
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert "being brought up to date" in response.text and response.headers["content-type"].startswith("text/html")
    external_client.app.state.projection.catch_up()  # type: ignore[attr-defined]
    assert external_client.get("/").status_code == 200


def test_the_dashboard_is_not_part_of_the_json_api(client: TestClient) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    assert "/" not in paths and "/sign-in" not in paths
