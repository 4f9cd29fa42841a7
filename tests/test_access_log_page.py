"""The auditors' access log page and its CSV on both backends: filtered by organization, token,
action, case and days, paged newest first by keyset, the download with the same filters, bad
filters refused naming the field (and not logged), and every view and download logged."""

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_dashboard import sign_in

TODAY = datetime.now(UTC).date()


@pytest.fixture
def logged(client: TestClient, tokens: Tokens) -> str:
    """Three cases read by an agency (three lines), one read by the auditor; the auditor signed in."""
    frtf = tokens.get("FRTF")
    for case in ("FRTF-LOG-1", "FRTF-LOG-2", "FRTF-LOG-3"):
        assert client.post("/v1/events", json=batch(separation(case)), headers=frtf).status_code == 201
        assert client.get(f"/v1/cases/{case}/events", headers=frtf).status_code == 200
    assert client.get("/v1/cases/FRTF-LOG-1", headers=tokens.get("OIG", "auditor")).status_code == 200
    secret = tokens.secret("OIG", "auditor")
    sign_in(client, secret)
    return secret.split(".")[0]


def ids_shown(page: str) -> list[int]:
    return [int(found) for found in re.findall(r"<tr><td>(\d+)</td>", page)]


def lines(client: TestClient) -> list[dict]:
    return client.app.state.ledger.store.access_log(0, 1000)  # type: ignore[attr-defined,no-any-return]


def test_each_filter_narrows_the_lines_shown(client: TestClient, tokens: Tokens, logged: str) -> None:
    frtf_token = next(line["token"] for line in lines(client) if line["organization"] == "FRTF")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    for params, keeps in [
        ({}, lambda line: True),
        ({"organization": "frtf"}, lambda line: line["organization"] == "FRTF"),
        ({"token": frtf_token, "case_id": "FRTF-LOG-2"}, lambda line: line["case_id"] == "FRTF-LOG-2" and line["token"] == frtf_token),
        ({"action": "read case"}, lambda line: line["action"] == "read case"),
        ({"from": TODAY.isoformat(), "to": TODAY.isoformat()}, lambda line: True),
        ({"to": yesterday}, lambda line: False),
    ]:
        want = [line["id"] for line in reversed(lines(client)) if keeps(line)]  # each view adds a line after it
        page = client.get("/audit/access-log", params=params)
        assert page.status_code == 200, (params, page.text)
        assert ids_shown(page.text) == want, params
    assert len(ids_shown(client.get("/audit/access-log", params={"action": "read history"}).text)) == 3


def test_the_page_is_newest_first_and_pages_by_keyset(client: TestClient, tokens: Tokens, logged: str) -> None:
    for _ in range(60):
        client.get("/v1/cases/FRTF-LOG-3", headers=tokens.get("FRTF"))
    first = client.get("/audit/access-log", params={"case_id": "FRTF-LOG-3"})
    shown = ids_shown(first.text)
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    link = re.search(r'href="([^"]+)" id="next-page"', first.text)
    assert link is not None
    for _ in range(3):  # lines written meanwhile do not shift the next page
        client.get("/v1/cases/FRTF-LOG-3", headers=tokens.get("FRTF"))

    second = client.get(html.unescape(link.group(1)))

    assert ids_shown(second.text) == [line["id"] for line in reversed(lines(client)) if line["case_id"] == "FRTF-LOG-3" and line["id"] < shown[-1]]
    assert 'id="next-page"' not in second.text


def test_the_csv_download_has_the_pages_filters_and_every_line_meeting_them(client: TestClient, logged: str) -> None:
    page = client.get("/audit/access-log", params={"organization": "FRTF", "action": "read history"})
    link = re.search(r'href="([^"]+)" id="download-csv"', page.text)
    assert link is not None

    download = client.get(html.unescape(link.group(1)))

    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    want = [line for line in lines(client) if line["organization"] == "FRTF" and line["action"] == "read history"]
    assert [int(row["id"]) for row in rows] == [line["id"] for line in want] and len(rows) == 3
    assert {row["case_id"] for row in rows} == {"FRTF-LOG-1", "FRTF-LOG-2", "FRTF-LOG-3"}


def test_viewing_and_downloading_the_access_log_are_themselves_logged(client: TestClient, logged: str) -> None:
    before = len(lines(client))
    client.get("/audit/access-log", params={"case_id": "FRTF-LOG-1"})
    client.get("/audit/access-log.csv", params={"organization": "OIG"})

    viewed, downloaded = lines(client)[before:]

    assert (viewed["token"], viewed["action"], viewed["case_id"]) == (logged, "view access log", "FRTF-LOG-1")
    assert (downloaded["token"], downloaded["action"]) == (logged, "download access log")
    assert "organization=OIG" in downloaded["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"organization": "NASA"}, "organization"),
        ({"action": "delete everything"}, "action"),
        ({"case_id": "FRTF 1'; --"}, "case_id"),
        ({"token": "x" * 101}, "token"),
        ({"from": "yesterday"}, "from"),
        ({"from": TODAY.isoformat(), "to": (TODAY - timedelta(days=2)).isoformat()}, "to"),
        ({"before": "-5"}, "before"),
    ],
)
def test_a_bad_filter_is_a_422_page_naming_the_field_and_logs_nothing(
    client: TestClient, logged: str, params: dict[str, str], field: str
) -> None:
    before = len(lines(client))
    for url in ("/audit/access-log", "/audit/access-log.csv") if field != "before" else ("/audit/access-log",):
        response = client.get(url, params=params)
        assert response.status_code == 422, (url, response.text[:300])
        assert f'id="{field}-error"' in response.text, (url, params)
    assert len(lines(client)) == before
