"""Step definitions for the report's definitions and obligations (run on SQLite and PostgreSQL).

Events are posted through the API by the organizations that would post them, with occurred
times relative to today ("40 days ago"): the ledger records everything now, so clocks are read
on today's date, and "the noted report" is the report as of the log position noted earlier.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from domain.terms import SETTLEMENT_2023
from tests.builders import envelope, separation
from tests.harness import Tokens

scenarios("report_definitions.feature", "obligations")

Step = TypeVar("Step", bound=Callable[..., None])

ORGANIZATIONS = ("FRTF", "ORR", "KIND", "WRC", "AOL", "IOM", "STATE", "USCIS", "CBP", "SENECA", "ACACIA", "DOJ", "ACLU")


class World:
    def __init__(self, client: TestClient, tokens: Tokens) -> None:
        self.client = client
        self.headers = {org: tokens.get(org) for org in ORGANIZATIONS}
        self.monitor = tokens.get("MONITOR", "monitor")
        self.now = datetime.now(UTC)
        self.last: dict[str, dict[str, Any]] = {}  # each organization's last envelope: "that event"
        self.noted: int | None = None
        self.refused: Any = None  # the last refused posting's response
        self.pages: list[dict[str, Any]] = []
        self._report: dict[str, Any] | None = None

    def ago(self, days: int) -> str:
        return (self.now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def day(self, days_from_now: int) -> str:
        return (self.now + timedelta(days=days_from_now)).date().isoformat()

    def post(self, organization: str, event: dict[str, Any]) -> None:
        response = self.client.post("/v1/events", json={"events": [event]}, headers=self.headers[organization])
        assert response.status_code == 201, response.text
        self.last[organization] = event
        self._report = None

    def case_event(self, organization: str, case: str, event_type: str, days: int, data: dict[str, Any]) -> None:
        self.post(organization, envelope(case, event_type, data, occurred_at=self.ago(days)))

    def overdue(self, as_of: int | None = None, **params: Any) -> dict[str, Any]:
        """The overdue list as of a tree size, by default the report's own."""
        as_of = self.report()["checkpoint"]["tree_size"] if as_of is None else as_of
        response = self.client.get("/v1/reports/overdue", params={"as_of": str(as_of), **params}, headers=self.monitor)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def dates_in(self, text: str) -> str:
        """A monitor's words with "N days ago" and "the terms' effective date" as ISO dates."""
        text = re.sub(r"(\d+) days ago", lambda m: self.day(-int(m.group(1))), text)
        return text.replace("the terms' effective date", SETTLEMENT_2023["effective_date"])

    def report(self, as_of: int | None = None) -> dict[str, Any]:
        if as_of is None and self._report is not None:
            return self._report
        params = {} if as_of is None else {"as_of": str(as_of)}
        response = self.client.get("/v1/reports/compliance", params=params, headers=self.monitor)
        assert response.status_code == 200, response.text
        if as_of is None:
            self._report = response.json()
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def world(client: TestClient, tokens: Tokens) -> World:
    return World(client, tokens)


def given_or_when(name: str | parsers.StepParser) -> Callable[[Step], Step]:
    """A step a scenario may state as what was (Given) or as what happens (When), its words
    written once for both; pytest-bdd files both definitions in this module (stacklevel=2)."""

    def both(function: Step) -> Step:
        given(name, stacklevel=2)(function)
        return when(name, stacklevel=2)(function)

    return both


def _children(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(" and ", ",").split(",") if part.strip())


# --- the record -----------------------------------------------------------------------------------


@given("the settlement's terms are in force")
def terms_in_force(world: World) -> None:
    assert world.report()["terms_version"] == SETTLEMENT_2023["terms_version"]


@given_or_when(parsers.parse("family {case} was identified {days:d} days ago"))
def identified(world: World, case: str, days: int) -> None:
    world.post("FRTF", separation(case, occurred_at=world.ago(days)))


@given(parsers.parse("family {case} was identified {days:d} days ago with children {children}"))
def identified_with(world: World, case: str, days: int, children: str) -> None:
    world.post("FRTF", separation(case, children=_children(children), occurred_at=world.ago(days)))


@given(parsers.parse('family {case} was identified {days:d} days ago, separated on {date} from {nationality}'))
def identified_on(world: World, case: str, days: int, date: str, nationality: str) -> None:
    event = separation(case, occurred_at=world.ago(days))
    event["data"] |= {"separation_date": date, "nationality": nationality}
    world.post("FRTF", event)


@given(parsers.parse('family {case} was identified {days:d} days ago, separated in the border sector "{sector}"'))
def identified_in(world: World, case: str, days: int, sector: str) -> None:
    event = separation(case, occurred_at=world.ago(days))
    event["data"]["border_sector"] = sector
    world.post("FRTF", event)


@given_or_when(parsers.parse('{org} attempted to contact family {case} {days:d} days ago with outcome "{outcome}"'))
def contact_attempted(world: World, org: str, case: str, days: int, outcome: str) -> None:
    world.case_event(org, case, "ContactAttempted", days, {"channel": "phone", "outcome": outcome, "country": "GT"})


@given_or_when(parsers.parse('{org} recorded that family {case} chose "{election}" {days:d} days ago'))
def preference(world: World, org: str, case: str, election: str, days: int) -> None:
    world.case_event(org, case, "PreferenceRecorded", days, {"election": election})


@given(parsers.parse("{org} declared the whereabouts of family {case} unknown {days:d} days ago"))
def whereabouts_unknown(world: World, org: str, case: str, days: int) -> None:
    world.case_event(org, case, "WhereaboutsUnknownDeclared", days, {"attempts_made": 6})


@given(parsers.parse("FRTF registered family {case} {days:d} days ago"))
def registered(world: World, case: str, days: int) -> None:
    world.case_event("FRTF", case, "RegistrationSubmitted", days, {"registration_number": f"TF-{case}"})


@given_or_when(parsers.parse('FRTF determined family {case} to be "{decision}" {days:d} days ago'))
def membership(world: World, case: str, decision: str, days: int) -> None:
    world.case_event("FRTF", case, "ClassMembershipDetermined", days, {"decision": decision, "basis": "records review"})


@given(parsers.parse("IOM requested parole for family {case} {days:d} days ago"))
def parole_requested(world: World, case: str, days: int) -> None:
    world.case_event("IOM", case, "ParoleRequested", days, {"receipt_number": f"IOE-{case}"})


@given_or_when(parsers.parse("USCIS decided on parole for family {case} {days:d} days ago"))
def parole_decided(world: World, case: str, days: int) -> None:
    world.case_event("USCIS", case, "ParoleDecided", days, {"decision": "granted", "valid_until": world.day(1000)})


@given(parsers.parse("{org} arranged travel for family {case} {days:d} days ago"))
def travel(world: World, org: str, case: str, days: int) -> None:
    world.case_event(org, case, "TravelArranged", days, {"port_of_entry": "San Ysidro", "travel_date": world.day(-days + 2)})


@given(parsers.parse("family {case} arrived in the US {days:d} days ago with parole until {until:d} days from now"))
def arrived(world: World, case: str, days: int, until: int) -> None:
    data = {"port_of_entry": "San Ysidro", "parole_start": world.day(-days), "parole_end": world.day(until)}
    world.case_event("CBP", case, "ArrivedInUS", days, data)


@given(parsers.parse("family {case} arrived in the US {days:d} days ago with parole that ended {ended:d} days ago"))
def arrived_lapsed(world: World, case: str, days: int, ended: int) -> None:
    data = {"port_of_entry": "San Ysidro", "parole_start": world.day(-days), "parole_end": world.day(-ended)}
    world.case_event("CBP", case, "ArrivedInUS", days, data)


@given_or_when(parsers.parse("USCIS renewed the parole of family {case} {days:d} days ago until {until:d} days from now"))
def parole_renewed(world: World, case: str, days: int, until: int) -> None:
    world.case_event("USCIS", case, "ParoleRenewed", days, {"valid_until": world.day(until)})


@given_or_when(parsers.parse("USCIS recorded that the parole of family {case} ended {days:d} days ago"))
def parole_expired(world: World, case: str, days: int) -> None:
    world.case_event("USCIS", case, "ParoleExpired", days, {"valid_until": world.day(-days)})


@given_or_when(parsers.parse("USCIS decided on work authorization for family {case} {days:d} days ago"))
def work_authorization(world: World, case: str, days: int) -> None:
    world.case_event("USCIS", case, "WorkAuthorizationDecided", days, {"decision": "granted", "valid_until": world.day(700)})


@given_or_when(parsers.parse("ACACIA filed an asylum application for family {case} {days:d} days ago"))
def asylum_filed(world: World, case: str, days: int) -> None:
    world.case_event("ACACIA", case, "AsylumApplicationFiled", days, {"receipt_number": f"ZAR-{case}"})


@given_or_when(parsers.parse("SENECA started {service} services for family {case} {days:d} days ago"))
def service_started(world: World, service: str, case: str, days: int) -> None:
    world.case_event("SENECA", case, "ServiceStarted", days, {"service": service})


@given_or_when(parsers.parse("SENECA ended {service} services for family {case} {days:d} days ago after an interruption"))
def service_interrupted_for_case(world: World, service: str, case: str, days: int) -> None:
    world.case_event("SENECA", case, "ServiceEnded", days, {"service": service, "reason": "interrupted"})


@given_or_when(parsers.parse("FRTF reunified family {case} {days:d} days ago"))
def reunified(world: World, case: str, days: int) -> None:
    world.case_event("FRTF", case, "FamilyReunified", days, {"location_country": "US"})


@given(parsers.parse("FRTF reunified child {child} of family {case} {days:d} days ago"))
def reunified_child(world: World, child: str, case: str, days: int) -> None:
    world.case_event("FRTF", case, "FamilyReunified", days, {"children": [child], "location_country": "GT"})


@given_or_when(parsers.parse('FRTF closed the case of family {case} as "{reason}"'))
def closed(world: World, case: str, reason: str) -> None:
    world.case_event("FRTF", case, "CaseClosed", 0, {"reason": reason})


@given_or_when(parsers.parse("FRTF merged family {duplicate} into family {case}"))
def merged(world: World, duplicate: str, case: str) -> None:
    world.case_event("FRTF", case, "CasesMerged", 0, {"duplicate_case_id": duplicate})


@given_or_when(parsers.parse("ORR added child {child} born in {year:d} to family {case}"))
def member_added(world: World, child: str, year: int, case: str) -> None:
    world.case_event("ORR", case, "MemberAdded", 0, {"member_id": child, "role": "child", "birth_year": year, "reason": "review"})


@given_or_when(parsers.parse("FRTF removed child {child} from family {case}"))
def member_removed(world: World, child: str, case: str) -> None:
    world.case_event("FRTF", case, "MemberRemoved", 0, {"member_id": child, "reason": "not separated"})


def _amend(world: World, org: str, event_type: str, data: dict[str, Any]) -> None:
    target = world.last[org]
    world.post(org, envelope(target["case_id"], event_type, {"event_id": target["event_id"], **data}, occurred_at=world.ago(0)))


@given_or_when(parsers.parse("{org} retracted that event"))
def retracted(world: World, org: str) -> None:
    _amend(world, org, "EntryRetracted", {"reason": "posted to the wrong case"})


@given_or_when(parsers.parse("{org} corrected the date of that event to {days:d} days ago"))
def corrected_date(world: World, org: str, days: int) -> None:
    _amend(world, org, "EntryCorrected", {"occurred_at": world.ago(days), "reason": "the date was misread"})


@given_or_when(parsers.parse('{org} corrected the {field} of that event to "{value}"'))
def corrected_field(world: World, org: str, field: str, value: str) -> None:
    _amend(world, org, "EntryCorrected", {"changes": {field: value}, "reason": "mistyped"})


def _settlement(world: World, org: str, event_type: str, data: dict[str, Any]) -> None:
    world.post(org, envelope("SETTLEMENT", event_type, data, occurred_at=world.ago(0)))


@given_or_when(parsers.parse('DOJ extended "{obligation}" by {amount:d} {unit} effective {days:d} days ago'))
def extended(world: World, obligation: str, amount: int, unit: str, days: int) -> None:
    data = {
        "court_order_id": "18-cv-00428 order",
        "obligation": obligation,
        "extension": {unit: amount},
        "effective_date": world.day(-days),
    }
    _settlement(world, "DOJ", "DeadlineExtended", data)


@when(parsers.parse('{org} records the same order for "{obligation}" again'))
def same_order_again(world: World, org: str, obligation: str) -> None:
    recorded = world.last["DOJ"]
    assert recorded["type"] == "DeadlineExtended" and recorded["data"]["obligation"] == obligation
    again = envelope("SETTLEMENT", "DeadlineExtended", recorded["data"], occurred_at=world.ago(0))
    world.refused = world.client.post("/v1/events", json={"events": [again]}, headers=world.headers[org])


@then("it is refused as a conflict naming the event that recorded the order")
def refused_as_conflict(world: World) -> None:
    assert world.refused.status_code == 409, world.refused.text
    problem = world.refused.json()
    assert world.last["DOJ"]["event_id"] in problem["errors"][0]["message"], problem
    assert problem["errors"][0]["field"] == "data.court_order_id"


@then(parsers.parse('the report\'s terms list the order for "{obligation}" once'))
def order_listed_once(world: World, obligation: str) -> None:
    extensions = world.report()["terms"]["extensions"]
    assert [e["obligation"] for e in extensions].count(obligation) == 1, extensions


@given_or_when(parsers.parse("SENECA recorded that {service} services were interrupted from {days:d} days ago"))
def interrupted(world: World, service: str, days: int) -> None:
    _settlement(world, "SENECA", "ServiceInterrupted", {"service": service, "from": world.day(-days), "cause": "contract terminated"})


@given_or_when(parsers.parse('the parties adopted terms setting "{obligation}" to {days:d} days'))
def adopted(world: World, obligation: str, days: int) -> None:
    terms = world.report()["terms"]
    data = {
        "terms_version": terms["terms_version"] + 1,
        "effective_date": terms["effective_date"],
        "obligations": {**terms["obligations"], obligation: {"days": days}},
    }
    _settlement(world, "DOJ", "TermsAdopted", data)


@given_or_when("the monitor notes the report")
def note(world: World) -> None:
    world.noted = world.report()["checkpoint"]["tree_size"]


# --- the report -----------------------------------------------------------------------------------


def _report(world: World, noted: bool) -> dict[str, Any]:
    assert not noted or world.noted is not None, "no report was noted"
    return world.report(world.noted if noted else None)


@then(parsers.parse('the report counts "{obligation}" as {count:d} {status:w}'))
def obligation_counts(world: World, obligation: str, count: int, status: str) -> None:
    report = world.report()
    assert report["obligations"][obligation][status] == count, report["obligations"][obligation]


@then(parsers.parse('the noted report still counts "{obligation}" as {count:d} {status:w}'))
def noted_obligation_counts(world: World, obligation: str, count: int, status: str) -> None:
    report = _report(world, noted=True)
    assert report["obligations"][obligation][status] == count, report["obligations"][obligation]


@then(parsers.parse('the report gives "{obligation}" a median of {days:g} days'))
def median(world: World, obligation: str, days: float) -> None:
    assert world.report()["obligations"][obligation]["median_days"] == days


@then(parsers.parse('the report gives "{obligation}" no median'))
def no_median(world: World, obligation: str) -> None:
    counted = world.report()["obligations"][obligation]
    if counted["kind"] == "duration":  # kept over a period, not met on a day: no median at all
        assert "median_days" not in counted, counted
    else:
        assert counted["median_days"] is None, counted


# --- the overdue list -----------------------------------------------------------------------------


def _reads(row: dict[str, Any]) -> str:
    """A row of the overdue list in the words a monitor reads it."""
    if row["kind"] == "deadline":
        return f"due {row['due']}, overdue since {row['since']}"
    assert "due" not in row, row  # a duration has no due date
    return f"breached since {row['since']}"


@then(parsers.parse('the overdue list reads "{obligation}" of family {case} as "{reads}"'))
def overdue_row_reads(world: World, obligation: str, case: str, reads: str) -> None:
    listed = world.overdue()["obligations"]
    rows = [row for row in listed if (row["case_id"], row["obligation"]) == (case, obligation)]
    assert len(rows) == 1, listed
    assert _reads(rows[0]) == world.dates_in(reads)


@then("the overdue list reads, longest first:")
def overdue_list_reads(world: World, datatable: list[list[str]]) -> None:
    header, *expected = datatable
    assert header == ["case", "obligation", "reads"]
    listed = world.overdue()["obligations"]
    assert [[row["case_id"], row["obligation"], _reads(row)] for row in listed] == [
        [case, obligation, world.dates_in(reads)] for case, obligation, reads in expected
    ]
    days = [row["days"] for row in listed]
    assert days == sorted(days, reverse=True)


@then("the overdue list's total is what the report counts overdue and breached")
def overdue_total(world: World) -> None:
    listed = world.overdue()
    counted = world.report()["obligations"].values()
    overdue = sum(o.get("overdue", 0) for o in counted)
    breached = sum(o.get("breached", 0) for o in counted)
    assert (listed["total"], listed["overdue"], listed["breached"]) == (overdue + breached, overdue, breached)
    assert listed["total"] == len(listed["obligations"])


@when(parsers.parse("the monitor reads the overdue list {size:d} at a time"))
def overdue_pages(world: World, size: int) -> None:
    world.pages = [world.overdue(limit=size)]
    as_of = world.pages[0]["tree_size"]  # every page as of the first one's point
    while world.pages[-1]["next_after"] is not None:
        # meanwhile more falls overdue: the pages go on where they were
        world.post("FRTF", separation(f"NEW{len(world.pages)}", occurred_at=world.ago(500)))
        world.pages.append(world.overdue(as_of, limit=size, after=world.pages[-1]["next_after"]))


@then(parsers.parse("the pages hold {sizes} obligations, the whole list in its order, each once"))
def overdue_pages_hold(world: World, sizes: str) -> None:
    assert [len(page["obligations"]) for page in world.pages if page["obligations"]] == [int(n) for n in sizes.split(" and ")]
    paged = [row for page in world.pages for row in page["obligations"]]
    whole = world.overdue(world.pages[0]["tree_size"], limit=1000)
    assert paged == whole["obligations"] and whole["total"] == len(paged)


def _children_counted(report: dict[str, Any], status: str) -> int:
    children = report["children"]
    return children[status] if status in ("identified", "reunified", "remaining") else children["remaining_by_status"][status]  # type: ignore[no-any-return]


@then(parsers.parse("the report counts {count:d} children {status:w}"))
def children_count(world: World, count: int, status: str) -> None:
    assert _children_counted(world.report(), status) == count, world.report()["children"]


@then(parsers.parse("the noted report still counts {count:d} children {status:w}"))
def noted_children_count(world: World, count: int, status: str) -> None:
    report = _report(world, noted=True)
    assert _children_counted(report, status) == count, report["children"]


@then(parsers.parse("the report counts {count:d} families {what:w}"))
def families_count(world: World, count: int, what: str) -> None:
    assert world.report()["families"][what] == count, world.report()["families"]


@then(parsers.parse("the report counts {count:d} families receiving {service:w}"))
def families_served(world: World, count: int, service: str) -> None:
    assert world.report()["families"]["services"][service] == count, world.report()["families"]


@then(parsers.parse("the report counts {count:d} children reunified through {org}"))
def facilitated(world: World, count: int, org: str) -> None:
    assert world.report()["reunified_by_facilitator"][org] == count


@then(parsers.parse('the report counts {count:d} children in the {dimension} "{value}"'))
def breakdown(world: World, count: int, dimension: str, value: str) -> None:
    breakdowns = world.report()["breakdowns"][dimension.replace(" ", "_")]
    assert breakdowns.get(value, {"identified": 0})["identified"] == count, breakdowns


@then(parsers.parse("the report counts {count:d} {kind:w} in its data quality"))
def data_quality(world: World, count: int, kind: str) -> None:
    assert world.report()["data_quality"][kind] == count, world.report()["data_quality"]
