"""Warnings through the API, on SQLite and on PostgreSQL: a sequence a monitor would question is
accepted (201) with `warnings` in its receipt; a retry of the batch answers 200 with the same
receipts, warnings included; the report counts each code in its data quality section, and a
rebuild of the projection counts the same."""

from collections import Counter
from typing import Any

from fastapi.testclient import TestClient

from domain.sequence_warnings import WARNING_CODES
from ledger.application import Ledger
from projections.runner import Projection
from tests.builders import VALID_DATA, batch, contact, envelope, separation
from tests.harness import Tokens


def on(day: str) -> dict[str, str]:
    return {"occurred_at": f"{day}T12:00:00Z"}


def questionable_batches() -> list[tuple[str, list[dict[str, Any]]]]:
    """(who posts, the envelopes) in order: every warning code drawn at least once, some twice,
    and events that draw none between them. Cases are identified on 2021-05-03, separated 2018-05-20."""
    grant = {"decision": "granted", "valid_until": "2024-06-01"}
    return [
        ("FRTF", [separation(case_id) for case_id in ("FRTF-1", "FRTF-2", "FRTF-3")]),
        ("KIND", [contact("FRTF-1", **on("2021-04-01")), contact("FRTF-1", **on("2021-06-01")), contact("FRTF-2", **on("2017-12-01"))]),
        ("USCIS", [envelope("FRTF-1", "ParoleDecided", grant, **on("2021-07-01"))]),
        ("IOM", [
            envelope("FRTF-2", "TravelArranged", VALID_DATA["TravelArranged"], **on("2021-08-01")),
            envelope("FRTF-3", "ParoleRequested", VALID_DATA["ParoleRequested"], **on("2021-06-01")),
        ]),
        ("USCIS", [envelope("FRTF-3", "ParoleDecided", {"decision": "denied"}, **on("2021-07-01"))]),
        ("IOM", [envelope("FRTF-3", "TravelArranged", VALID_DATA["TravelArranged"], **on("2021-08-01"))]),
        ("FRTF", [
            envelope("FRTF-1", "FamilyReunified", {"location_country": "US"}, **on("2021-09-01")),
            envelope("FRTF-1", "FamilyReunified", {"children": ["C1"], "location_country": "US"}, **on("2021-09-02")),
            envelope("FRTF-2", "CaseClosed", {"reason": "declined"}, **on("2022-01-01")),
        ]),
        ("KIND", [contact("FRTF-2", **on("2022-02-01"))]),
    ]


EXPECTED = [  # each batch's receipts' warning codes
    [[], [], []],
    [["contact_before_identification"], [], ["contact_before_identification", "dated_before_separation"]],
    [["parole_decision_without_request"]],
    [["travel_before_parole_decision"], []],
    [[]],
    [["travel_after_parole_denied"]],
    [[], ["second_reunification"], []],
    [["dated_after_closure"]],
]


def data_quality(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    response = client.get("/v1/reports/compliance", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data_quality"]  # type: ignore[no-any-return]


def test_questionable_sequences_are_accepted_warned_replayed_alike_and_counted_by_the_report_and_a_rebuild(
    client: TestClient, tokens: Tokens
) -> None:
    posted = [(tokens.get(who), batch(*envelopes)) for who, envelopes in questionable_batches()]
    monitor = tokens.get("MONITOR", "monitor")
    receipts = []
    for headers, body in posted:
        response = client.post("/v1/events", json=body, headers=headers)
        assert response.status_code == 201, response.text
        receipts.append(response.json()["receipts"])

    assert [[[w["code"] for w in r["warnings"]] for r in batch_receipts] for batch_receipts in receipts] == EXPECTED
    warned = [w for batch_receipts in receipts for r in batch_receipts for w in r["warnings"]]
    assert all(w["message"] for w in warned)

    for (headers, body), original in zip(posted, receipts, strict=True):  # a retry of each batch
        replay = client.post("/v1/events", json=body, headers=headers)
        assert replay.status_code == 200, replay.text
        assert replay.json()["receipts"] == original

    counted = Counter(w["code"] for w in warned)
    expected = {code: counted[code] for code in WARNING_CODES}
    assert {code: n for code, n in data_quality(client, monitor).items() if code in WARNING_CODES} == expected

    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    before = data_quality(client, monitor)
    Projection(ledger).rebuild()
    assert data_quality(client, monitor) == before


def test_the_definitions_explain_every_warning_count(client: TestClient, tokens: Tokens) -> None:
    definitions = client.get("/v1/reports/definitions", headers=tokens.get("MONITOR", "monitor")).json()["definitions"]
    assert all(definitions[f"data_quality.{code}"] for code in WARNING_CODES)
