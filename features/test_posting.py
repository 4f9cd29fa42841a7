"""Step definitions for posting.feature (run on SQLite and on PostgreSQL)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from domain.permissions import allowed_types
from tests.harness import Tokens
from tests.builders import VALID_DATA, batch, contact, envelope, separation

scenarios("posting.feature")

AGENCIES = ("FRTF", "KIND", "WRC", "IOM")


class World:
    """What the scenario has done so far: the last response, the last envelope, the log size before."""

    def __init__(self, client: TestClient, tokens: Tokens) -> None:
        self.client = client
        self.headers = {agency: tokens.get(agency) for agency in AGENCIES}  # issued up front: tokens are events
        self.monitor = tokens.get("MONITOR", "monitor")
        self.response: Any = None
        self.last: dict[str, Any] = {}
        self.first_receipt: dict[str, Any] = {}
        self.size_before = 0

    @property
    def size(self) -> int:
        return self.client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined,no-any-return]

    def post(self, agency: str, *envelopes: dict[str, Any], dry_run: bool = False) -> None:
        self.size_before = self.size
        params = {"dry_run": "true"} if dry_run else {}
        self.response = self.client.post("/v1/events", json=batch(*envelopes), params=params, headers=self.headers[agency])


@pytest.fixture
def world(client: TestClient, tokens: Tokens) -> World:
    return World(client, tokens)


@given(parsers.parse("the Task Force has identified the separation of family {case_id} with child {child}"))
def identified(world: World, case_id: str, child: str) -> None:
    world.post("FRTF", separation(case_id, children=(child,)))
    assert world.response.status_code == 201, world.response.text


@given(parsers.parse("{agency} has posted a contact attempt for {case_id}"))
def posted_contact(world: World, agency: str, case_id: str) -> None:
    world.last = contact(case_id)
    world.post(agency, world.last)
    assert world.response.status_code == 201, world.response.text
    world.first_receipt = world.response.json()["receipts"][0]


@given(parsers.parse("{agency}'s token has been revoked"))
def revoked(world: World, agency: str) -> None:
    name = world.headers[agency]["Authorization"].removeprefix("Bearer ").split(".")[0]
    world.client.app.state.ledger.tokens.revoke(name, "rotated after a laptop was lost")  # type: ignore[attr-defined]


@when(parsers.parse('{agency} posts a contact attempt for {case_id} with outcome "{outcome}"'))
def post_contact(world: World, agency: str, case_id: str, outcome: str) -> None:
    world.last = contact(case_id, outcome=outcome)
    world.post(agency, world.last)


@when(parsers.parse("{agency} posts a contact attempt for {case_id} expecting version {version:d}"))
def post_contact_expecting(world: World, agency: str, case_id: str, version: int) -> None:
    world.post(agency, contact(case_id, expected_version=version))


@when(parsers.parse("{agency} posts the same envelope again"))
def repost(world: World, agency: str) -> None:
    world.post(agency, world.last)


@when(parsers.parse('{agency} posts the same event id with outcome "{outcome}"'))
def reuse_event_id(world: World, agency: str, outcome: str) -> None:
    world.post(agency, {**world.last, "data": {**world.last["data"], "outcome": outcome}})


@when(parsers.parse("{agency} posts a parole decision for {case_id}"))
def post_parole(world: World, agency: str, case_id: str) -> None:
    world.post(agency, envelope(case_id, "ParoleDecided", {"decision": "granted", "valid_until": "2027-06-01"}))


@when(parsers.parse("{agency} posts a separation of {case_id} and an empty contact attempt in one batch"))
def post_separation_and_empty_contact(world: World, agency: str, case_id: str) -> None:
    world.post(agency, separation(case_id), envelope(case_id, "ContactAttempted", {}))


@when(parsers.parse("{agency} tries a contact attempt for {case_id} as a dry run"))
def try_contact(world: World, agency: str, case_id: str) -> None:
    world.post(agency, contact(case_id), dry_run=True)


@when(parsers.parse("{agency} posts a travel arrangement for {case_id}"))
def post_travel(world: World, agency: str, case_id: str) -> None:
    world.post(agency, envelope(case_id, "TravelArranged", VALID_DATA["TravelArranged"]))


@when(parsers.parse('{agency} posts {count:d} contact attempts for {case_id} in one batch, the last with country "{country}"'))
def post_bad_batch(world: World, agency: str, count: int, case_id: str, country: str) -> None:
    attempts = [contact(case_id) for _ in range(count)]
    attempts[-1]["data"]["country"] = country
    world.post(agency, *attempts)


@when(parsers.parse('{agency} posts a correction of that contact attempt to outcome "{outcome}"'))
def post_correction(world: World, agency: str, outcome: str) -> None:
    data = {"event_id": world.last["event_id"], "changes": {"outcome": outcome}, "reason": "the call log was misread"}
    world.post(agency, envelope(world.last["case_id"], "EntryCorrected", data))


@when(parsers.parse('{agency} identifies family {case_id} as separated in the border sector "{sector}"'))
def post_separation_in(world: World, agency: str, case_id: str, sector: str) -> None:
    event = separation(case_id)
    event["data"]["border_sector"] = sector
    world.post(agency, event)


@then(parsers.parse("the ledger answers {status:d}"))
def answers(world: World, status: int) -> None:
    assert world.response.status_code == status, world.response.text


@then(parsers.parse('the ledger answers {status:d} naming the field "{field}" of event {index:d}'))
def answers_naming(world: World, status: int, field: str, index: int) -> None:
    assert world.response.status_code == status, world.response.text
    assert world.response.headers["content-type"] == "application/problem+json"
    assert {"index": index, "field": field} in [
        {"index": e["index"], "field": e["field"]} for e in world.response.json()["errors"]
    ]


@then(parsers.parse('the refusal lists "{first}", "{second}" and "{third}"'))
def refusal_lists(world: World, first: str, second: str, third: str) -> None:
    message = world.response.json()["errors"][0]["message"]
    assert all(name in message for name in (first, second, third)), message


@then(parsers.parse("the refusal says what {agency} may post"))
def refusal_says_what_may_be_posted(world: World, agency: str) -> None:
    problem = world.response.json()
    assert problem["may_post"] == allowed_types(agency)
    assert all(f"{agency} may post {', '.join(allowed_types(agency))}" in e["message"] for e in problem["errors"])


@then(parsers.parse("the receipt names {case_id} at version {version:d}, without a log position"))
def proposed_receipt_names(world: World, case_id: str, version: int) -> None:
    receipt = world.response.json()["receipts"][0]
    assert (receipt["case_id"], receipt["version"]) == (case_id, version)
    assert not {"position", "recorded_at", "leaf_hash"} & receipt.keys()


@then(parsers.parse('the receipt warns "{code}"'))
def receipt_warns(world: World, code: str) -> None:
    assert [w["code"] for w in world.response.json()["receipts"][0]["warnings"]] == [code]


@then(parsers.parse('the compliance report counts {count:d} event under "{code}" in its data quality'))
def report_counts_warning(world: World, count: int, code: str) -> None:
    report = world.client.get("/v1/reports/compliance", headers=world.monitor)
    assert report.status_code == 200, report.text
    assert report.json()["data_quality"][code] == count


@then(parsers.parse("the receipt names {case_id} at version {version:d}"))
def receipt_names(world: World, case_id: str, version: int) -> None:
    receipt = world.response.json()["receipts"][0]
    assert (receipt["case_id"], receipt["version"]) == (case_id, version)


@then("the receipt is the original one")
def original_receipt(world: World) -> None:
    assert world.response.json()["receipts"][0] == world.first_receipt


@then("the log has not grown")
def not_grown(world: World) -> None:
    assert world.size == world.size_before


@then(parsers.parse('child {child} of {case_id} counts as "{status}"'))
def child_counts_as(world: World, child: str, case_id: str, status: str) -> None:
    state = world.client.get(f"/v1/cases/{case_id}", headers=world.headers["KIND"]).json()
    assert {m["member_id"]: m["status"] for m in state["members"]}[child] == status


@then(parsers.parse('the history of {case_id} still shows the original outcome "{outcome}"'))
def history_keeps_original(world: World, case_id: str, outcome: str) -> None:
    history = world.client.get(f"/v1/cases/{case_id}/events", headers=world.headers["KIND"]).json()["events"]
    original = next(e for e in history if e["event_id"] == world.last["event_id"])
    assert original["data"]["outcome"] == outcome
