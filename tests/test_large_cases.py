"""A posting costs the same on a large case as on a small one, and a case's members are bounded,
on SQLite and on PostgreSQL (issue 15, item 4).

Cost is counted, not timed: the Python calls (and calls into C) that deciding, sealing, saving,
answering and projecting a post make, from the moment Ledger.append is called until the
projection has caught up with it. Before issue 15 a post of 100 MemberAdded to a case of 1,800
members made several times the calls of the same post to a case of two (the members were read
off every entry again for each posting, and every child's row derived again for each child added).
"""

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.access import Principal
from domain.case_members import MAX_CASE_MEMBERS
from domain.envelope import EventBatch, Posting, postings
from domain.organizations import Organization, Role
from ledger.application import Ledger
from projections.runner import Projection
from tests.builders import batch, contact, envelope, separation
from tests.harness import Tokens

FRTF = Principal("frtf-intake", Organization.FRTF, Role.AGENCY)
KIND = Principal("kind-outreach", Organization.KIND, Role.AGENCY)


def member_added(case_id: str, member_id: str) -> dict[str, Any]:
    data = {"member_id": member_id, "role": "child", "reason": "found in the 2018 review", "birth_year": 2012}
    return envelope(case_id, "MemberAdded", data)


def validated(*envelopes: dict[str, Any]) -> list[Posting]:
    return postings(EventBatch.model_validate(batch(*envelopes)))


def calls(work: Callable[[], Any]) -> int:
    """The function calls `work` makes in this thread."""
    count = 0

    def counting(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(counting)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.fixture
def grown(ledger: Ledger) -> Iterator[tuple[Ledger, Projection]]:
    """A small case (one child, one parent) and a large one (1,800 members more), projected."""
    ledger.appender.adopt_default_terms()
    projection = Projection(ledger)
    ledger.appender.append(validated(separation("FRTF-SMALL"), separation("FRTF-LARGE")), FRTF)
    for post in range(18):
        ledger.appender.append(validated(*(member_added("FRTF-LARGE", f"M{post}-{n}") for n in range(100))), FRTF)
    projection.catch_up()
    yield ledger, projection


def posted_and_projected(ledger: Ledger, projection: Projection, principal: Principal, posted: list[Posting]) -> int:
    def work() -> None:
        ledger.appender.append(posted, principal)
        projection.catch_up()

    return calls(work)


def test_adding_members_to_a_large_case_costs_what_it_costs_on_a_small_one(grown: tuple[Ledger, Projection]) -> None:
    ledger, projection = grown
    small = posted_and_projected(ledger, projection, FRTF, validated(*(member_added("FRTF-SMALL", f"S{n}") for n in range(100))))
    large = posted_and_projected(ledger, projection, FRTF, validated(*(member_added("FRTF-LARGE", f"L{n}") for n in range(100))))
    assert len(ledger.reader.case("FRTF-LARGE").members()) == 2 + 1900  # type: ignore[union-attr]
    assert large < 1.2 * small, f"100 MemberAdded: {large} calls on a case of 1,802 members, {small} on one of 2"


def test_any_other_post_to_a_large_case_costs_what_it_costs_on_a_small_one(grown: tuple[Ledger, Projection]) -> None:
    ledger, projection = grown
    small = posted_and_projected(ledger, projection, KIND, validated(*(contact("FRTF-SMALL") for _ in range(20))))
    large = posted_and_projected(ledger, projection, KIND, validated(*(contact("FRTF-LARGE") for _ in range(20))))
    assert large < 1.2 * small, f"20 ContactAttempted: {large} calls on a case of 1,802 members, {small} on one of 2"


def test_a_member_past_the_bound_is_refused_with_409_naming_the_field_and_nothing_is_appended(
    client: TestClient, tokens: Tokens
) -> None:
    frtf = tokens.get("FRTF")
    assert client.post("/v1/events", json=batch(separation("FRTF-FULL", children=("C1",))), headers=frtf).status_code == 201
    for start in range(0, MAX_CASE_MEMBERS - 2, 1000):  # the separation's child and parent are members too
        members = [member_added("FRTF-FULL", f"M{n}") for n in range(start, min(start + 1000, MAX_CASE_MEMBERS - 2))]
        assert client.post("/v1/events", json=batch(*members), headers=frtf).status_code == 201
    size = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]
    registration = envelope("FRTF-FULL", "RegistrationSubmitted", {"registration_number": "TF-1"})

    response = client.post("/v1/events", json=batch(registration, member_added("FRTF-FULL", "ONE-TOO-MANY")), headers=frtf)

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["errors"] == [{"index": 1, "field": "data.member_id", "message": problem["errors"][0]["message"]}]
    assert f"more than {MAX_CASE_MEMBERS} members" in problem["errors"][0]["message"]
    assert client.app.state.ledger.store.tree_size() == size  # type: ignore[attr-defined]
