"""Every date the catalog and the terms accept lies in a documented range, and the projection can
compute with anything accepted: terms effective 9999-12-31, or a parole ending then under an
extension, were accepted and then stalled every report for good ("year 10000 is out of range")."""

import copy
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import CATALOG
from domain.date_ranges import CLASS_PERIOD_START, DAWN, HORIZON
from domain.envelope import SETTLEMENT_CASE_ID, Posting
from domain.terms import FIRST_DAY, LAST_DAY, Span
from tests.builders import VALID_DATA, batch, envelope, separation
from tests.harness import Tokens
from tests.test_catalog import accept, refusals, with_data
from tests.test_cli import Run, assert_succeeded, cli, key_file  # noqa: F401

REPORT = "/v1/reports/compliance"


def today_plus(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


# (type, field, what else the data needs so that only the range decides, too early, earliest, latest, too late)
RANGES: list[tuple[str, str, dict[str, Any], str, str, str, str]] = [
    ("SeparationIdentified", "separation_date", {}, "2017-01-19", "2017-01-20", today_plus(1), today_plus(2)),
    ("ArrivedInUS", "parole_start", {"parole_end": "2100-12-31"}, "1989-12-31", "1990-01-01", today_plus(1), today_plus(2)),
    ("ArrivedInUS", "parole_end", {"parole_start": "1990-01-01"}, "1989-12-31", "1990-01-02", "2100-12-31", "2101-01-01"),
    ("TravelArranged", "travel_date", {}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("ParoleDecided", "valid_until", {}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("WorkAuthorizationDecided", "valid_until", {}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("ParoleRenewed", "valid_until", {}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("ParoleExpired", "valid_until", {}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("TermsAdopted", "effective_date", {}, "1989-12-31", "1990-01-01", "2100-12-31", "9999-12-31"),
    ("DeadlineExtended", "effective_date", {}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("ServiceInterrupted", "from", {"to": "2100-12-31"}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
    ("ServiceInterrupted", "to", {"from": "1990-01-01"}, "1989-12-31", "1990-01-01", "2100-12-31", "2101-01-01"),
]


def _date_fields(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """(model, field) of every date, instant or birth year in a JSON schema and its $defs."""
    found = set()
    for name, model in [(schema.get("title", ""), schema), *schema.get("$defs", {}).items()]:
        for field, spec in model.get("properties", {}).items():
            formats = {spec.get("format"), *(option.get("format") for option in spec.get("anyOf", []))}
            if formats & {"date", "date-time"} or field == "birth_year":
                found.add((name, field))
    return found


def test_every_date_field_of_the_catalog_has_its_range_tested_and_published() -> None:
    covered = {(event_type, field) for event_type, field, *_ in RANGES}
    covered |= {("EntryCorrected", "occurred_at"), ("Child", "birth_year"), ("MemberAdded", "birth_year")}
    in_catalog = set().union(*(_date_fields(model.model_json_schema(by_alias=True)) for model in CATALOG.values()))
    assert in_catalog == covered
    for model in CATALOG.values():
        schema = model.model_json_schema(by_alias=True)
        for name, field in _date_fields(schema):
            spec = (schema if name == schema["title"] else schema["$defs"][name])["properties"][field]
            described = " ".join([spec.get("description", ""), *(o.get("description", "") for o in spec.get("anyOf", []))])
            assert " from " in described and " to " in described, f"{name}.{field} does not publish its range: {described!r}"


@pytest.mark.parametrize(("event_type", "field", "companions", "too_early", "earliest", "latest", "too_late"), RANGES)
def test_a_date_is_accepted_within_its_range_and_refused_outside_naming_field_and_range(
    event_type: str, field: str, companions: dict[str, Any], too_early: str, earliest: str, latest: str, too_late: str
) -> None:
    for accepted in (earliest, latest):
        accept(with_data(event_type, **companions, **{field: accepted}))
    for refused in (too_early, too_late):
        [error] = refusals(with_data(event_type, **companions, **{field: refused}))
        assert error["loc"][3:] == ("data", field) or error["loc"][4:] == (field,), error["loc"]
        assert f"{field if field not in ('from', 'to') else 'interrupted_' + field} must be a date from" in error["msg"]
        assert (earliest if field != "parole_end" else "1990-01-01") in error["msg"]


def test_occurred_at_ranges_from_1990_to_now_in_the_envelope_and_in_a_correction() -> None:
    accept(with_data("ContactAttempted") | {"occurred_at": "1990-01-01T00:00:00Z"})
    [error] = refusals(with_data("ContactAttempted") | {"occurred_at": "1989-12-31T23:59:59Z"})
    assert "occurred_at must be an instant from 1990-01-01T00:00:00Z to now" in error["msg"]
    [error] = refusals(with_data("EntryCorrected", occurred_at="1989-12-31T23:59:59+00:00"))
    assert error["loc"][3:] == ("data", "occurred_at") and "from 1990-01-01T00:00:00Z" in error["msg"]


def test_a_birth_year_ranges_from_1900_to_this_year() -> None:
    this_year = datetime.now(UTC).year
    for year, ok in ((1899, False), (1900, True), (this_year, True), (this_year + 1, False)):
        data = copy.deepcopy(VALID_DATA["SeparationIdentified"])
        data["children"][0]["birth_year"] = year
        added = with_data("MemberAdded", birth_year=year)
        if ok:
            accept(envelope("FRTF-1", "SeparationIdentified", data), added)
        else:
            errors = refusals(envelope("FRTF-1", "SeparationIdentified", data), added)
            assert len(errors) == 2 and all("birth_year must be a year from 1900 to this year" in e["msg"] for e in errors)


@pytest.mark.parametrize(
    ("extension", "refused_at"),
    [
        ({"years": 20}, None),
        ({"days": 7305}, None),
        ({"months": 240}, None),
        ({"years": 19, "months": 11, "days": 30}, None),
        ({"years": 21}, "years"),
        ({"months": 241}, "months"),
        ({"days": 7306}, "days"),
        ({"years": 20, "days": 1}, ""),
        ({"years": 10, "months": 120, "days": 100}, ""),
    ],
)
def test_a_span_is_at_most_twenty_years_in_all(extension: dict[str, int], refused_at: str | None) -> None:
    posted = with_data("DeadlineExtended", extension=extension)
    if refused_at is None:
        accept(posted)
        return
    [error] = refusals(posted)
    assert error["loc"][3:] == ("data", "extension", *([refused_at] if refused_at else []))
    if not refused_at:
        assert "at most 20 years" in error["msg"]


def test_a_terms_version_the_projection_could_not_read_back_is_refused() -> None:
    """The projection reads stored JSON with 64-bit integers: a version of 401 digits stalled it."""
    accept(with_data("TermsAdopted", terms_version=1_000_000))
    for version in (1_000_001, 10**400):
        [error] = refusals(with_data("TermsAdopted", terms_version=version))
        assert error["loc"][3:] == ("data", "terms_version")


def test_the_ranges_leave_room_for_the_longest_span_within_the_calendar() -> None:
    assert Span(years=20).after(HORIZON.toordinal()) < LAST_DAY
    assert Span(years=20).before(min(DAWN, CLASS_PERIOD_START).toordinal()) > FIRST_DAY


# --- the domain's arithmetic saturates instead of raising -------------------------------------------


@given(
    st.integers(FIRST_DAY - 10, LAST_DAY + 10),
    st.integers(0, 10**6),
    st.integers(0, 10**7),
    st.integers(0, 10**8),
)
def test_date_arithmetic_never_raises_and_stays_on_the_calendar(day: int, years: int, months: int, days: int) -> None:
    span = Span(years, months, days)
    later, earlier = span.after(day), span.before(day)
    assert FIRST_DAY <= later <= LAST_DAY and FIRST_DAY <= earlier <= LAST_DAY
    assert later >= min(max(day, FIRST_DAY), LAST_DAY) >= earlier


def test_a_span_past_the_calendars_end_reads_as_its_last_day() -> None:
    assert Span(months=1).after(date(9999, 12, 31).toordinal()) == LAST_DAY
    assert Span(days=1).after(date(9999, 12, 31).toordinal()) == LAST_DAY
    assert Span(years=3).before(date(1, 6, 1).toordinal()) == FIRST_DAY
    assert Span(months=6).after(date(2100, 12, 31).toordinal()) == date(2101, 6, 30).toordinal()


# --- at the door, and in the projection, on both backends ----------------------------------------


def settlement_event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return envelope(SETTLEMENT_CASE_ID, event_type, data, occurred_at="2025-07-15T00:00:00Z")


def test_dates_the_projection_could_not_compute_with_are_refused_at_the_door(client: TestClient, tokens: Tokens) -> None:
    doj, cbp = tokens.get("DOJ"), tokens.get("CBP")  # issuing a token is itself an event: first
    before = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]
    terms = {"terms_version": 2, "effective_date": "9999-12-31", "obligations": {"parole_term": {"years": 3}}}
    response = client.post("/v1/events", json=batch(settlement_event("TermsAdopted", terms)), headers=doj)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "data.effective_date" and "from 1990-01-01 to 2100-12-31" in error["message"]
    arrival = envelope("FRTF-1", "ArrivedInUS", {"port_of_entry": "El Paso", "parole_start": "2025-06-01", "parole_end": "9999-12-31"})
    response = client.post("/v1/events", json=batch(arrival), headers=cbp)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "data.parole_end"
    assert client.app.state.ledger.store.tree_size() == before  # type: ignore[attr-defined]


def test_terms_at_the_horizon_under_four_hundred_stacked_extensions_keep_the_reports_live(
    client: TestClient, tokens: Tokens
) -> None:
    """20-year extensions stacked past the year 9999: the deadlines saturate, the projection goes on,
    and a rebuild gives the same report."""
    frtf, doj, monitor = tokens.get("FRTF"), tokens.get("DOJ"), tokens.get("MONITOR", "monitor")
    arrival = envelope("FRTF-1", "ArrivedInUS", {"port_of_entry": "El Paso", "parole_start": "2025-06-01", "parole_end": "2100-12-31"})
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=frtf).status_code == 201
    assert client.post("/v1/events", json=batch(arrival), headers=tokens.get("CBP")).status_code == 201
    terms = {"terms_version": 2, "effective_date": "2100-12-31", "obligations": {"parole_term": {"years": 20}}}
    assert client.post("/v1/events", json=batch(settlement_event("TermsAdopted", terms)), headers=doj).status_code == 201
    extensions = [
        settlement_event(
            "DeadlineExtended",
            {"court_order_id": f"ECF {n}", "obligation": "parole_term", "extension": {"years": 20}, "effective_date": "2100-12-31"},
        )
        for n in range(400)
    ]
    assert client.post("/v1/events", json=batch(*extensions), headers=doj).status_code == 201

    report = client.get(REPORT, headers=monitor)
    assert report.status_code == 200, report.text
    assert len(report.json()["terms"]["extensions"]) == 400
    projection = client.app.state.projection  # type: ignore[attr-defined]
    projection.rebuild()
    assert client.get(REPORT, params={"as_of": report.json()["as_of"]}, headers=monitor).content == report.content


def test_what_if_terms_the_projection_could_not_compute_with_are_a_422_naming_the_field(client: TestClient, tokens: Tokens) -> None:
    """The same terms as a what-if were a 500 (the clocks of the cases on record computed to the year 10000)."""
    monitor = tokens.get("MONITOR", "monitor")
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    for document, field in [
        ({"obligations": {"first_outreach": {"months": 1}}, "effective_date": "9999-12-31"}, "terms.effective_date"),  # was a 500
        ({"obligations": {"first_outreach": {"years": 100}}}, "terms.obligations.first_outreach.years"),
    ]:
        response = client.get(REPORT, params={"terms": json.dumps(document)}, headers=monitor)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == field
    within = {"obligations": {"first_outreach": {"years": 20}}, "effective_date": "2100-12-31"}
    assert client.get(REPORT, params={"terms": json.dumps(within)}, headers=monitor).status_code == 200


def test_dates_at_9999_already_in_a_log_are_projected_and_ledger_rebuild_succeeds(
    client: TestClient, tokens: Tokens, cli: Run  # noqa: F811
) -> None:
    """Events the older validation let in (appended here without the door's checks, as then): terms
    effective 9999-12-31, a parole ending then, an extension of it. They stalled the projection for
    good and `ledger rebuild` failed ("year 10000 is out of range"); the arithmetic now saturates."""
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    monitor = tokens.get("MONITOR", "monitor")
    cbp, doj = (ledger.tokens.authenticate(tokens.secret(org)) for org in ("CBP", "DOJ"))
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201

    def stored(case_id: str, event_type: str, data: dict[str, Any]) -> Posting:
        return Posting(str(uuid4()), case_id, event_type, "2025-07-15T00:00:00.000000Z", data)

    ledger.appender.append([stored("FRTF-1", "ArrivedInUS", {"port_of_entry": "El Paso", "parole_start": "2025-06-01", "parole_end": "9999-12-31"})], cbp)
    terms = {"terms_version": 2, "effective_date": "9999-12-31", "obligations": {"parole_term": {"years": 3}, "parole_renewal": {"days": 90}}}
    extension = {"court_order_id": "ECF 9", "obligation": "parole_renewal", "extension": {"months": 6}, "effective_date": "2025-07-15"}
    ledger.appender.append([stored(SETTLEMENT_CASE_ID, "TermsAdopted", terms), stored(SETTLEMENT_CASE_ID, "DeadlineExtended", extension)], doj)

    report = client.get(REPORT, headers=monitor)
    assert report.status_code == 200, report.text
    assert client.get("/healthz").json()["projection"]["lag"] == 0
    assert_succeeded(cli("rebuild"))
    assert client.get(REPORT, params={"as_of": report.json()["as_of"]}, headers=monitor).content == report.content
