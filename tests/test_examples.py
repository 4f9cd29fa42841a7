"""The example journey in examples/ is accepted, file by file, as its organization posts it.

Each file is posted through the API in the order of its number, as a token of the organization
its name gives; every event is appended (201), with a receipt per event and no warning (the
journey is meant as a clean one to copy), and the case ends as the journey tells it."""

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.catalog import CATALOG
from domain.permissions import may_post
from examples import example_envelope, journey
from tests.harness import Tokens


def test_every_file_is_named_for_an_organization_that_may_post_every_event_in_it() -> None:
    assert journey(), "no example files found"
    for example in journey():
        for envelope in example.envelopes:
            assert may_post(example.organization, envelope["type"]), f"{example.path.name}: {envelope['type']}"


def test_the_journey_holds_an_example_of_every_event_type_but_the_terms_the_ledger_ships() -> None:
    assert [t for t in CATALOG if example_envelope(t) is None] == ["TermsAdopted"]


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "posted"])
def test_every_example_file_posted_in_order_as_its_organization_is_appended_without_warnings(
    client: TestClient, tokens: Tokens, dry_run: bool
) -> None:
    for example in journey():
        body = {"events": list(example.envelopes)}
        answer = client.post(
            "/v1/events", json=body, headers=tokens.get(example.organization), params={"dry_run": "true"} if dry_run else {}
        )
        assert answer.status_code == 201, f"{example.path.name}: {answer.json()}"
        receipts = answer.json()["receipts"]
        assert [(r["event_id"], r["type"]) for r in receipts] == [(e["event_id"], e["type"]) for e in example.envelopes]
        assert [r["warnings"] for r in receipts] == [[] for _ in receipts], example.path.name
        if dry_run:  # each file then truly posted, so the next file's dry run finds what it follows
            assert client.post("/v1/events", json=body, headers=tokens.get(example.organization)).status_code == 201

    case = client.get("/v1/cases/FRTF-000123", headers=tokens.get("FRTF")).json()
    assert case["closed"] is not None
    assert sorted(m["member_id"] for m in case["members"]) == ["C1", "C2", "P1"]
    assert case["merged_cases"] == ["ORR-2018-0457"]


def test_the_readmes_first_posting_is_accepted_and_leaves_the_example_journey_postable(client: TestClient, tokens: Tokens) -> None:
    """Found: the README's first steps identified FRTF-000123, the journey's own case, so a new
    user who then posted the journey was refused ("already identified")."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    [first_posting] = re.findall(r"-d '(\{.*?\})'", readme, re.DOTALL)[:1]

    answers = [client.post("/v1/events", json=json.loads(first_posting), headers=tokens.get("FRTF"))]
    answers += [client.post("/v1/events", json={"events": list(e.envelopes)}, headers=tokens.get(e.organization)) for e in journey()]

    assert [answer.status_code for answer in answers] == [201] * len(answers), [a.json() for a in answers if a.status_code != 201]
