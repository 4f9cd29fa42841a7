"""The auditors' case lookup through the app, on both backends: only auditors reach it, it shows the
same history and receipts as GET /v1/cases/{id}/events with personal data in clear and amendments
marked, pages on, refuses bad input naming the field, and writes each view to the access log."""

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.builders import batch, contact, separation
from tests.harness import Tokens
from tests.test_case_history import correction, retraction
from tests.test_dashboard import sign_in

CASE = "FRTF-AUD-1"


@pytest.fixture
def case(client: TestClient, tokens: Tokens) -> dict[str, dict]:
    """A case with a contact (a phone number on record), a correction of it and a retracted second contact."""
    identified, first, second = separation(CASE), contact(CASE), contact(CASE, "wrong_person")
    assert client.post("/v1/events", json=batch(identified), headers=tokens.get("FRTF")).status_code == 201
    assert client.post("/v1/events", json=batch(first, second), headers=tokens.get("KIND")).status_code == 201
    amendments = batch(correction(first, "wrong channel", changes={"channel": "messaging"}), retraction(second, "posted twice"))
    response = client.post("/v1/events", json=amendments, headers=tokens.get("KIND"))
    assert response.status_code == 201, response.text
    return {"identified": identified, "first": first, "second": second}


@pytest.fixture
def auditor(client: TestClient, tokens: Tokens) -> str:
    secret = tokens.secret("OIG", "auditor")
    sign_in(client, secret)
    return secret.split(".")[0]


def access_log(client: TestClient) -> list[dict]:
    return client.app.state.ledger.store.access_log(0, 1000)  # type: ignore[attr-defined,no-any-return]


def test_an_auditor_signing_in_lands_on_the_case_lookup_and_a_monitor_is_refused_it(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/audit/cases", follow_redirects=False).headers["location"] == "/sign-in"
    form = client.get("/sign-in").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    signed = client.post("/sign-in", data={"token": tokens.secret("OIG", "auditor"), "csrf": csrf.group(1)}, follow_redirects=False)
    assert signed.headers["location"] == "/audit/cases"
    lookup = client.get("/audit/cases")
    assert lookup.status_code == 200 and '<label for="case_id">' in lookup.text and 'href="/audit/integrity"' in lookup.text
    client.cookies.clear()
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    refused = client.get(f"/audit/cases?case_id={CASE}")
    assert refused.status_code == 403 and "for auditor tokens" in refused.text


def test_the_case_page_shows_each_event_with_the_receipt_the_api_gives_and_personal_data_in_clear(
    client: TestClient, tokens: Tokens, case: dict[str, dict], auditor: str
) -> None:
    response = client.get("/audit/cases", params={"case_id": CASE})

    assert response.status_code == 200, response.text
    text = html.unescape(response.text)
    api = client.get(f"/v1/cases/{CASE}/events", headers=tokens.get("OIG", "auditor")).json()
    for event in api["events"]:
        receipt = event["receipt"]
        assert receipt["leaf_hash"] in text and receipt["recorded_at"] in text and event["event_id"] in text
        assert f'<strong class="position">{receipt["position"]}</strong>' in response.text
    assert "Ana Example" in text and "+502 5555 0100" in text, "auditors read personal data in clear"
    assert re.search(r'class="event corrected" id="event-2"', response.text)
    assert re.search(r'class="event retracted" id="event-3"', response.text)
    assert f"Retracted by event {api['events'][4]['event_id']}" in text and "posted twice" in text
    assert f"Corrected by event {api['events'][3]['event_id']}" in text and "wrong channel" in text


def test_each_view_of_a_case_is_written_to_the_access_log_under_the_auditors_token(
    client: TestClient, case: dict[str, dict], auditor: str
) -> None:
    before = len(access_log(client))

    client.get("/audit/cases", params={"case_id": CASE})

    [entry] = access_log(client)[before:]
    assert (entry["token"], entry["role"], entry["action"], entry["case_id"]) == (auditor, "auditor", "read history", CASE)
    assert "auditor page" in entry["detail"] and "versions 1-5" in entry["detail"]
    assert "Ana Example" not in entry["detail"]


def test_a_long_history_is_paged_by_case_version(client: TestClient, tokens: Tokens, auditor: str) -> None:
    attempts = [contact("FRTF-AUD-2") for _ in range(55)]
    assert client.post("/v1/events", json=batch(separation("FRTF-AUD-2")), headers=tokens.get("FRTF")).status_code == 201
    assert client.post("/v1/events", json=batch(*attempts), headers=tokens.get("KIND")).status_code == 201

    first = client.get("/audit/cases", params={"case_id": "FRTF-AUD-2"})
    link = re.search(r'href="([^"]+)" id="next-page"', first.text)
    assert link is not None and 'id="event-50"' in first.text and 'id="event-51"' not in first.text
    second = client.get(html.unescape(link.group(1)))

    assert second.status_code == 200 and 'id="event-51"' in second.text and 'id="event-56"' in second.text
    assert 'id="next-page"' not in second.text and 'id="event-50"' not in second.text


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"case_id": "FRTF 1; DROP"}, 422, "case_id"),
        ({"case_id": CASE, "after": "-1"}, 422, "after"),
        ({"case_id": CASE, "after": "9" * 30}, 422, "after"),
        ({"case_id": "FRTF-NOBODY"}, 404, "case_id"),
    ],
)
def test_a_bad_lookup_is_refused_naming_the_field_and_logs_nothing(
    client: TestClient, case: dict[str, dict], auditor: str, params: dict[str, str], status: int, field: str
) -> None:
    before = len(access_log(client))

    response = client.get("/audit/cases", params=params)

    assert response.status_code == status
    assert f'id="{field}-error"' in response.text and 'role="alert"' in response.text
    assert len(access_log(client)) == before
