"""A case's history (GET /v1/cases/{id}/events) tells the truth about itself and pages, on both
backends: each event a later correction or retraction amends is marked with it, whichever page the
amendment sits on; pages are cut by the case's version, bounded by `limit`, and read on with
`next_after` until it is null; personal data is revealed and logged page by page."""

from typing import Any

from fastapi.testclient import TestClient

from domain.catalog import AMENDMENTS
from domain.events import case_stream_id
from ledger.application import Ledger
from ledger.personal_data import REDACTED
from tests.builders import batch, contact, envelope, separation
from tests.harness import Tokens

CASE = "FRTF-000123"
PHONE = "+502 5555 0177"


def post(client: TestClient, headers: dict[str, str], *envelopes: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/v1/events", json=batch(*envelopes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["receipts"]  # type: ignore[no-any-return]


def page(client: TestClient, tokens: Tokens, case_id: str = CASE, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/cases/{case_id}/events", params=params, headers=tokens.get("OIG", "auditor"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def every_page(client: TestClient, tokens: Tokens, case_id: str = CASE, **params: Any) -> list[dict[str, Any]]:
    pages = [page(client, tokens, case_id, **params)]
    while pages[-1]["next_after"] is not None:
        pages.append(page(client, tokens, case_id, **{**params, "after": pages[-1]["next_after"]}))
    return pages


def unnamed_contact(case_id: str, outcome: str = "no_answer") -> dict[str, Any]:
    """A contact attempt with no personal data in it."""
    attempt = contact(case_id, outcome)
    del attempt["data"]["contact_detail"]
    return attempt


def correction(event: dict[str, Any], reason: str, **corrected: Any) -> dict[str, Any]:
    return envelope(event["case_id"], "EntryCorrected", {"event_id": event["event_id"], "reason": reason, **corrected})


def retraction(event: dict[str, Any], reason: str) -> dict[str, Any]:
    return envelope(event["case_id"], "EntryRetracted", {"event_id": event["event_id"], "reason": reason})


def test_corrected_and_retracted_events_are_marked_on_their_own_page_by_amendments_on_a_later_one(
    client: TestClient, tokens: Tokens
) -> None:
    kind = tokens.get("KIND")
    post(client, tokens.get("FRTF"), separation(CASE))
    first, second, third = unnamed_contact(CASE), unnamed_contact(CASE), unnamed_contact(CASE)
    post(client, kind, first, second, third)  # versions 2, 3, 4: the first page (limit 4)
    amendments = [
        correction(first, "it was the day before", changes={"outcome": "reached"}, occurred_at="2021-05-01T10:00:00Z"),
        correction(second, "typo", changes={"channel": "messaging"}),
        correction(first, "wrong country", changes={"country": "HN"}),
        retraction(second, "posted to the wrong case"),
    ]
    receipts = post(client, kind, *amendments)  # versions 5..8: the second page

    before, after = every_page(client, tokens, limit=4)

    assert [e["receipt"]["version"] for e in before["events"]] == [1, 2, 3, 4]
    assert (before["next_after"], after["next_after"], before["version"]) == (4, None, 8)
    identified, corrected, corrected_then_retracted, untouched = before["events"]
    assert corrected["data"]["outcome"] == "no_answer"  # the record itself is never edited
    assert corrected["occurred_at"].startswith("2021-05-03")
    assert [(c["event_id"], c["position"], c["version"], c["changes"], c["reason"]) for c in corrected["corrections"]] == [
        (receipts[0]["event_id"], receipts[0]["position"], 5, {"outcome": "reached"}, "it was the day before"),
        (receipts[2]["event_id"], receipts[2]["position"], 7, {"country": "HN"}, "wrong country"),
    ]
    assert corrected["corrections"][0]["occurred_at"].startswith("2021-05-01T10:00:00")
    assert corrected["corrections"][1]["occurred_at"] is None  # that correction left it alone
    assert corrected["retraction"] is None
    assert [c["event_id"] for c in corrected_then_retracted["corrections"]] == [receipts[1]["event_id"]]
    assert corrected_then_retracted["retraction"] == {
        "event_id": receipts[3]["event_id"], "position": receipts[3]["position"], "version": 8,
        "reason": "posted to the wrong case",
    }
    for unamended in (identified, untouched, *after["events"]):
        assert (unamended["corrections"], unamended["retraction"]) == ([], None)
    # The amendments stay in the history as they were posted.
    assert [(e["type"], e["data"]["event_id"]) for e in after["events"]] == [
        (a["type"], a["data"]["event_id"]) for a in amendments
    ]


def test_an_amendment_on_the_same_page_marks_its_event_too(client: TestClient, tokens: Tokens) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    attempt = unnamed_contact(CASE)
    withdrawn = retraction(attempt, "duplicate")
    post(client, tokens.get("KIND"), attempt, withdrawn)

    [whole] = every_page(client, tokens)

    assert whole["events"][1]["retraction"]["event_id"] == withdrawn["event_id"]
    assert whole["next_after"] is None


def test_paging_through_a_long_case_returns_every_event_once_in_order_until_next_after_is_null(
    client: TestClient, tokens: Tokens
) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    kind = tokens.get("KIND")
    for size in (1000, 199):
        post(client, kind, *[unnamed_contact(CASE) for _ in range(size)])

    pages = every_page(client, tokens)  # the default limit: 500
    versions = [e["receipt"]["version"] for p in pages for e in p["events"]]
    positions = [e["receipt"]["position"] for p in pages for e in p["events"]]

    assert [len(p["events"]) for p in pages] == [500, 500, 200]
    assert [p["next_after"] for p in pages] == [500, 1000, None]
    assert versions == list(range(1, 1201))
    assert positions == sorted(set(positions))
    assert [len(p["events"]) for p in every_page(client, tokens, limit=1000)] == [1000, 200]
    assert page(client, tokens, after=1198, limit=1)["next_after"] == 1199
    assert page(client, tokens, after=1199, limit=1)["next_after"] is None  # a full page can be the last


def test_the_answer_for_a_long_case_is_bounded_by_the_limit_not_by_the_case(client: TestClient, tokens: Tokens) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    kind = tokens.get("KIND")
    for _ in range(2):
        post(client, kind, *[contact(CASE) for _ in range(600)])  # with a phone number each: revealed
    headers = tokens.get("OIG", "auditor")

    whole = sum(len(client.get(f"/v1/cases/{CASE}/events", params={"limit": 1000, "after": after}, headers=headers).content)
                for after in (0, 1000))
    default = client.get(f"/v1/cases/{CASE}/events", headers=headers).content
    small = client.get(f"/v1/cases/{CASE}/events", params={"limit": 10, "after": 600}, headers=headers).content

    assert len(default) < whole * 500 / 1201 * 1.05
    assert len(small) < whole * 10 / 1201 * 1.5
    assert len(small) * 40 < len(default)


def test_the_recorder_reads_one_page_and_the_amendments_not_the_whole_case(client: TestClient, tokens: Tokens) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    attempts = [unnamed_contact(CASE) for _ in range(300)]
    post(client, tokens.get("KIND"), *attempts)
    fix = correction(attempts[0], "typo", changes={"outcome": "reached"})
    post(client, tokens.get("KIND"), fix, *[unnamed_contact(CASE) for _ in range(100)])
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]

    read = ledger.store.stream_page(case_stream_id(CASE), 100, 50, sorted(AMENDMENTS))

    assert read.version == 402
    assert [logged.stored.originator_version for logged in read.events] == list(range(101, 151))
    assert [logged.stored.originator_version for logged in read.of_topics] == [302]
    assert ledger.store.stream_page(case_stream_id("FRTF-404"), 0, 50, sorted(AMENDMENTS)).version == 0


def test_a_reader_at_the_end_resumes_from_its_last_version_and_gets_only_what_came_since(
    client: TestClient, tokens: Tokens
) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    post(client, tokens.get("KIND"), unnamed_contact(CASE), unnamed_contact(CASE))
    assert page(client, tokens, after=3) == {"case_id": CASE, "version": 3, "events": [], "next_after": None}
    assert page(client, tokens, after=10**9)["events"] == []

    later = unnamed_contact(CASE, "reached")
    post(client, tokens.get("KIND"), later)

    resumed = page(client, tokens, after=3)
    assert [e["event_id"] for e in resumed["events"]] == [later["event_id"]]
    assert (resumed["version"], resumed["next_after"]) == (4, None)


def test_an_unknown_case_is_404_on_any_page(client: TestClient, tokens: Tokens) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    for params in ({}, {"after": 0, "limit": 1}, {"after": 5}):
        response = client.get("/v1/cases/FRTF-404/events", params=params, headers=tokens.get("OIG", "auditor"))
        assert response.status_code == 404, response.text
        assert "there is no case FRTF-404" in response.json()["detail"]


def test_a_bad_limit_or_after_is_refused_with_422_naming_it_and_nothing_is_read(client: TestClient, tokens: Tokens) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))  # with a parent's name: a read would be logged
    auditor = tokens.get("OIG", "auditor")
    bad = [
        ("limit", "0"), ("limit", "1001"), ("limit", "-5"), ("limit", "ten"), ("limit", "2.5"),
        ("after", "-1"), ("after", str(2**63)), ("after", "last"), ("after", ""),
    ]
    for name, value in bad:
        response = client.get(f"/v1/cases/{CASE}/events", params={name: value}, headers=auditor)
        assert response.status_code == 422, (name, value, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [name], (name, value, response.text)
    assert client.get("/v1/access-log", headers=auditor).json()["entries"] == []


def test_each_page_that_reveals_personal_data_is_in_the_access_log_and_corrected_values_are_revealed_like_the_rest(
    client: TestClient, tokens: Tokens
) -> None:
    kind, auditor = tokens.get("KIND"), tokens.get("OIG", "auditor")
    post(client, tokens.get("FRTF"), separation(CASE))  # version 1: a parent's name
    attempt = unnamed_contact(CASE)
    fix = correction(attempt, "number left out", changes={"contact_detail": PHONE})
    post(client, kind, attempt, unnamed_contact(CASE), unnamed_contact(CASE))  # versions 2-4: nothing personal
    post(client, kind, fix)  # version 5: a phone number, correcting version 2

    pages = every_page(client, tokens, limit=2)  # 1-2, 3-4, 5

    assert pages[0]["events"][1]["corrections"][0]["changes"] == {"contact_detail": PHONE}
    assert pages[2]["events"][0]["data"]["changes"] == {"contact_detail": PHONE}
    log = client.get("/v1/access-log", headers=auditor).json()["entries"]
    assert [(e["action"], e["case_id"], e["organization"], e["detail"]) for e in log] == [
        ("read history", CASE, "OIG", "2 personal values in 2 events, versions 1-2"),
        ("read history", CASE, "OIG", "1 personal values in 1 events, versions 5-5"),
    ]

    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    ledger.appender.forget(CASE, "the family asked")
    forgotten = page(client, tokens, limit=2)
    assert forgotten["events"][1]["corrections"][0]["changes"] == {"contact_detail": REDACTED}
    assert forgotten["events"][0]["data"]["parents"][0]["name"] == REDACTED
    assert PHONE not in client.get(f"/v1/cases/{CASE}/events", headers=auditor).text
    assert len(client.get("/v1/access-log", headers=auditor).json()["entries"]) == 2  # nothing revealed since


def test_a_monitor_reads_no_history_and_an_agency_does(client: TestClient, tokens: Tokens) -> None:
    post(client, tokens.get("FRTF"), separation(CASE))
    monitor = client.get(f"/v1/cases/{CASE}/events", params={"limit": 1}, headers=tokens.get("MONITOR", "monitor"))
    agency = client.get(f"/v1/cases/{CASE}/events", params={"limit": 1}, headers=tokens.get("KIND"))
    assert (monitor.status_code, agency.status_code) == (403, 200)
    assert "Ana Example" not in monitor.text and "Ana Example" in agency.text
