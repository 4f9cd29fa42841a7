"""GET /v1/reports/compliance and /v1/reports/definitions, on both backends: who may read them,
the three formats, as-of points, what-if terms, and clear errors for bad input."""

import csv
import io
import json
from datetime import date
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import ComplianceReport
from api.settings import Settings
from ledger.application import Ledger
from ledger.checkpoints import Signer
from projections.spreadsheet_csv import BOM
from tests.builders import batch, contact, envelope, separation
from tests.harness import Tokens

REPORT = "/v1/reports/compliance"


@pytest.fixture
def monitor(tokens: Tokens) -> dict[str, str]:
    return tokens.get("MONITOR", "monitor")


@pytest.fixture
def posted(client: TestClient, tokens: Tokens) -> list[dict[str, object]]:
    """Two families; one reached. The receipts, in order."""
    receipts = []
    for org, envelopes in [
        ("FRTF", [separation("FRTF-1", occurred_at="2026-01-05T10:00:00Z"), separation("FRTF-2", children=("C1", "C2"))]),
        ("KIND", [contact("FRTF-1", outcome="reached", occurred_at="2026-01-20T10:00:00Z")]),
    ]:
        response = client.post("/v1/events", json=batch(*envelopes), headers=tokens.get(org))
        assert response.status_code == 201, response.text
        receipts += response.json()["receipts"]
    return receipts


def test_monitors_and_auditors_read_the_report_and_agencies_cannot(
    client: TestClient, tokens: Tokens, posted: list[dict[str, object]]
) -> None:
    for role in ("monitor", "auditor"):
        response = client.get(REPORT, headers=tokens.get("MONITOR" if role == "monitor" else "OIG", role))
        assert response.status_code == 200, response.text
    assert client.get(REPORT, headers=tokens.get("FRTF")).status_code == 403
    assert client.get(REPORT).status_code == 401
    assert client.get("/v1/reports/definitions", headers=tokens.get("FRTF")).status_code == 403


def test_the_json_report_has_the_contracts_shape_and_counts(
    client: TestClient, monitor: dict[str, str], posted: list[dict[str, object]]
) -> None:
    response = client.get(REPORT, headers=monitor)
    assert response.headers["content-type"] == "application/json"
    report = ComplianceReport.model_validate(response.json())
    assert (report.children.identified, report.children.remaining_by_status.informed) == (3, 1)
    assert report.children.remaining_by_status.not_reached == 2
    assert report.families.identified == 2
    assert report.checkpoint.tree_size == client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]
    assert report.terms_version == 1
    assert set(report.obligations) >= {"first_outreach", "parole_decision", "parole_renewal"}
    assert report.obligations["first_outreach"].met == 1
    assert "Ana Example" not in response.text  # a parent's name never reaches a report


def test_csv_and_html_carry_the_same_numbers(client: TestClient, monitor: dict[str, str], posted: list[dict[str, object]]) -> None:
    as_of = str(posted[-1]["position"])
    report = client.get(REPORT, params={"as_of": as_of}, headers=monitor).json()
    tidy = client.get(REPORT, params={"as_of": as_of, "format": "csv"}, headers=monitor)
    assert tidy.headers["content-type"].startswith("text/csv") and tidy.content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(tidy.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "group", "key", "measure", "value"]
    assert ["children", "", "identified", "children", str(report["children"]["identified"])] in rows
    first_outreach = [row[3:] for row in rows if row[:3] == ["obligations", "deadline", "first outreach"]]
    assert first_outreach == [["met", "1"], ["met late", "0"], ["open", "0"], ["overdue", "1"], ["not applicable", "0"], ["median days", "15"]]
    tables = client.get(REPORT, params={"as_of": as_of, "format": "csv-tables"}, headers=monitor)
    assert tables.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(tables.content.decode("utf-8-sig"))))
    assert ["identified", str(report["children"]["identified"])] in rows
    assert ["first outreach", "1", "0", "0", "1", "0", "15"] in rows
    assert ["as of", report["as_of"]] in rows
    html = client.get(REPORT, params={"as_of": as_of, "format": "html"}, headers=monitor)
    assert html.headers["content-type"].startswith("text/html")
    assert report["checkpoint"]["root_hash"] in html.text
    assert "<caption>Obligations: deadlines</caption>" in html.text and "<caption>Obligations: durations</caption>" in html.text
    assert "whereabouts unknown" in html.text and "Definitions" in html.text


def test_as_of_takes_a_position_an_instant_or_a_date(
    client: TestClient, monitor: dict[str, str], posted: list[dict[str, object]]
) -> None:
    first_batch = posted[1]  # a batch is recorded at one instant: as of it, all of it counts
    by_position = client.get(REPORT, params={"as_of": str(first_batch["position"])}, headers=monitor).json()
    assert by_position["children"]["identified"] == 3
    assert by_position["as_of"] == first_batch["recorded_at"]
    by_instant = client.get(REPORT, params={"as_of": first_batch["recorded_at"]}, headers=monitor).json()
    assert by_instant == by_position
    mid_batch = client.get(REPORT, params={"as_of": str(posted[0]["position"])}, headers=monitor).json()
    assert (mid_batch["checkpoint"]["tree_size"], mid_batch["children"]["identified"]) == (posted[0]["position"], 1)
    yesterday = client.get(REPORT, params={"as_of": "2020-01-01"}, headers=monitor).json()
    assert (yesterday["checkpoint"]["tree_size"], yesterday["children"]["identified"]) == (0, 0)
    assert yesterday["as_of"] == "2020-01-01T23:59:59.999999Z"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "last tuesday"}, "as_of"),
        ({"as_of": "2023-02-01T00:00:00"}, "as_of"),
        ({"format": "xlsx"}, "format"),
        ({"terms": "settlement-1999"}, "terms"),
        ({"terms": '{"obligations": {"first_outreach": {"days": -3}}}'}, "terms.obligations.first_outreach.days"),
        ({"terms": '{"obligations": {"coffee_breaks": {"days": 3}}}'}, "terms.obligations.coffee_breaks[key]"),
        ({"terms": '{"obligations": '}, "terms"),
        ({"terms": '{"obligations": {"first_outreach": {"days": 30}}, "effective_date": "9999-12-31"}'}, "terms.effective_date"),
        ({"terms": '{"obligations": {"parole_term": {"years": 21}}}'}, "terms.obligations.parole_term.years"),
        ({"terms": '{"obligations": {"parole_term": {"years": 19, "months": 13}}}'}, "terms.obligations.parole_term"),
    ],
)
def test_bad_report_parameters_get_a_422_naming_the_field(
    client: TestClient, monitor: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = client.get(REPORT, params=params, headers=monitor)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_what_if_terms_change_the_obligations_and_nothing_else(
    client: TestClient, monitor: dict[str, str], posted: list[dict[str, object]]
) -> None:
    size = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]
    recorded = client.get(REPORT, params={"as_of": str(size)}, headers=monitor).json()
    generous = client.get(
        REPORT,
        params={"as_of": str(size), "terms": json.dumps({"obligations": {"first_outreach": {"years": 5}}})},
        headers=monitor,
    ).json()
    assert recorded["obligations"]["first_outreach"]["overdue"] == 1
    assert generous["obligations"]["first_outreach"]["overdue"] == 0
    assert generous["obligations"]["first_outreach"]["open"] == 1
    assert generous["terms"]["what_if"] and generous["terms"]["obligations"]["first_outreach"] == {"years": 5}
    assert {k: v for k, v in generous.items() if k not in ("obligations", "terms")} == {
        k: v for k, v in recorded.items() if k not in ("obligations", "terms")
    }
    named = client.get(REPORT, params={"terms": "settlement-2023"}, headers=monitor)
    assert named.status_code == 200 and named.json()["terms"]["what_if"]
    assert client.app.state.ledger.store.tree_size() == size  # type: ignore[attr-defined]


def test_definitions_are_published_beside_the_report(client: TestClient, monitor: dict[str, str]) -> None:
    definitions = client.get("/v1/reports/definitions", headers=monitor).json()["definitions"]
    assert "more than 30 days" in definitions["data_quality.late_reports"]
    assert {"children.remaining_by_status", "obligations.first_outreach", "reunified_by_facilitator"} <= set(definitions)


def test_health_shows_how_far_the_projection_lags(client: TestClient, posted: list[dict[str, object]]) -> None:
    monitor_wait = client.app.state.projection.wait_for(len(posted), timeout=10)  # type: ignore[attr-defined]
    assert monitor_wait
    health = client.get("/healthz").json()
    assert health["projection"]["generation"] == 1
    assert health["projection"]["lag"] == health["tree_size"] - health["projection"]["position"]


@pytest.fixture
def external_client(database_url: str, signer: Signer, master_key: bytes, tmp_path: Path) -> Iterator[TestClient]:
    """The API with LEDGER_PROJECTOR=external and no projector running."""
    settings = Settings(
        database_url=database_url,
        signing_key_file=tmp_path / "key.pem",
        projector="external",
        report_wait_seconds=0.2,
    )
    with Ledger(database_url, signer, master_key) as ledger, TestClient(create_app(settings, ledger)) as test_client:
        yield test_client


def test_a_report_the_projection_has_not_reached_is_a_retriable_503(external_client: TestClient) -> None:
    tokens = Tokens(external_client.app.state.ledger)  # type: ignore[attr-defined]
    assert external_client.post("/v1/events", json=batch(separation("FRTF-9")), headers=tokens.get("FRTF")).status_code == 201
    response = external_client.get(REPORT, headers=tokens.get("MONITOR", "monitor"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "the projection is at" in response.json()["detail"]
    assert external_client.get("/healthz").json()["projection"]["lag"] > 0
    external_client.app.state.projection.catch_up()  # type: ignore[attr-defined]  # as `ledger project` would
    assert external_client.get(REPORT, headers=tokens.get("MONITOR", "monitor")).status_code == 200


def test_overdue_obligations_are_listed_by_case_in_their_kinds_words(
    client: TestClient, tokens: Tokens, monitor: dict[str, str], posted: list[dict[str, object]]
) -> None:
    response = client.get("/v1/reports/overdue", headers=monitor)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert (listed["total"], listed["overdue"], listed["breached"], listed["next_after"]) == (1, 1, 0, None)
    assert [(o["case_id"], o["obligation"], o["kind"], o["status"]) for o in listed["obligations"]] == [
        ("FRTF-2", "first_outreach", "deadline", "overdue")
    ]
    row = listed["obligations"][0]
    assert row["due"] < row["since"] <= listed["as_of"][:10]
    assert row["days"] == (date.fromisoformat(listed["as_of"][:10]) - date.fromisoformat(row["since"])).days + 1
    report = client.get(REPORT, params={"as_of": str(listed["tree_size"])}, headers=monitor).json()
    assert sum(o.get("overdue", 0) + o.get("breached", 0) for o in report["obligations"].values()) == listed["total"]
    assert client.get("/v1/reports/overdue", headers=tokens.get("KIND")).status_code == 403
    assert client.get("/v1/reports/overdue", params={"limit": 0}, headers=monitor).status_code == 422


@pytest.mark.parametrize("after", ["yesterday", "2025-02-30.FRTF-2.first_outreach", "2025-01-01.FRTF-2.no_such_clock", "2025-01-01..first_outreach"])
def test_a_cursor_the_overdue_list_did_not_give_is_refused_naming_it(
    client: TestClient, monitor: dict[str, str], posted: list[dict[str, object]], after: str
) -> None:
    response = client.get("/v1/reports/overdue", params={"after": after}, headers=monitor)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "after"


def test_the_overdue_list_pages_go_on_where_they_ended_whatever_is_recorded_meanwhile(
    client: TestClient, tokens: Tokens, monitor: dict[str, str]
) -> None:
    """A keyset cursor: a clock falling overdue between pages, even before the cursor, neither
    shifts nor repeats the rows read; each page is read as of now (no as_of given)."""
    old = [separation(f"OLD-{n}", occurred_at=f"2025-0{n}-01T00:00:00Z") for n in range(1, 6)]
    assert client.post("/v1/events", json=batch(*old), headers=tokens.get("FRTF")).status_code == 201
    first = client.get("/v1/reports/overdue", params={"limit": 2}, headers=monitor).json()
    assert [row["case_id"] for row in first["obligations"]] == ["OLD-1", "OLD-2"]
    assert first["next_after"] == f"{first['obligations'][1]['since']}.OLD-2.first_outreach"
    older = separation("OLDER", occurred_at="2024-06-01T00:00:00Z")  # longest overdue of all
    assert client.post("/v1/events", json=batch(older), headers=tokens.get("FRTF")).status_code == 201
    second = client.get("/v1/reports/overdue", params={"limit": 2, "after": first["next_after"]}, headers=monitor).json()
    third = client.get("/v1/reports/overdue", params={"limit": 2, "after": second["next_after"]}, headers=monitor).json()
    assert [row["case_id"] for row in second["obligations"] + third["obligations"]] == ["OLD-3", "OLD-4", "OLD-5"]
    assert third["next_after"] is None and third["total"] == 6


def test_reunifications_are_counted_by_month(client: TestClient, tokens: Tokens, monitor: dict[str, str]) -> None:
    assert client.post("/v1/events", json=batch(separation("FRTF-7", children=("C1", "C2"))), headers=tokens.get("FRTF")).status_code == 201
    reunified = {"location_country": "US", "children": ["C1"]}
    response = client.post(
        "/v1/events",
        json=batch(envelope("FRTF-7", "FamilyReunified", reunified, occurred_at="2025-03-04T10:00:00Z")),
        headers=tokens.get("FRTF"),
    )
    assert response.status_code == 201, response.text
    report = client.get(REPORT, headers=monitor).json()
    assert report["reunified_by_month"] == {"2025-03": 1}
