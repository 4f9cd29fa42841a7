"""Every date or as-of a door takes, at the calendar's extremes, is answered (2xx) or refused with
a 422 naming it: never a 500 or a response cut short (a date bound checked in one field and not in
the next was found by a hostile try: /audit/access-log?to=9999-12-31)."""

import pytest
from fastapi.testclient import TestClient

from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_dashboard import sign_in

EXTREMES = ["0001-01-01", "1989-12-31", "9999-12-31", "2100-12-31", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]
API = [
    ("/v1/reports/compliance", "as_of"),
    ("/v1/reports/overdue", "as_of"),
    ("/v1/cases/FRTF-000001", "as_of"),
]
PAGES = [
    ("monitor", "/", "as_of"),
    ("monitor", "/", "since"),
    ("monitor", "/download/compliance.csv", "as_of"),
    ("monitor", "/download/overdue.csv", "as_of"),
    ("auditor", "/audit/access-log", "from"),
    ("auditor", "/audit/access-log", "to"),
    ("auditor", "/audit/access-log.csv", "from"),
    ("auditor", "/audit/access-log.csv", "to"),
]


@pytest.fixture
def recorded(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/v1/events", json=batch(separation("FRTF-000001")), headers=tokens.get("FRTF")).status_code == 201


@pytest.mark.usefixtures("recorded")
def test_every_api_date_at_the_calendars_extremes_is_answered_or_a_422_naming_it(client: TestClient, tokens: Tokens) -> None:
    reader = tokens.get("OIG", "auditor")
    for path, name in API:
        for value in EXTREMES:
            answer = client.get(path, params={name: value}, headers=reader)
            assert answer.status_code in (200, 404, 422), (path, value, answer.status_code, answer.text[:200])
            if answer.status_code == 422:
                assert [e["field"] for e in answer.json()["errors"]] == [name], (path, value)


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize("role", ["monitor", "auditor"])
def test_every_page_date_at_the_calendars_extremes_is_answered_or_a_422_page(client: TestClient, tokens: Tokens, role: str) -> None:
    sign_in(client, tokens.secret("OIG" if role == "auditor" else "MONITOR", role))
    for who, path, name in PAGES:
        if who != role:
            continue
        for value in EXTREMES:
            answer = client.get(path, params={name: value})
            assert answer.status_code in (200, 422), (path, name, value, answer.status_code, answer.text[:200])
            body = answer.content  # read whole: a stream cut short raises here
            assert body, (path, value)
