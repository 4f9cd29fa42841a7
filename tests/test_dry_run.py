"""Dry runs, on SQLite and on PostgreSQL: `POST /v1/events?dry_run=true` answers what the real post
then answers (the same status; the same problems; the same receipts but for what only storing
gives: position, recorded_at, leaf_hash), and writes nothing: every table of the database has the
rows it had, the case keys, the access log and the read model included."""

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.builders import VALID_DATA, batch, contact, envelope, separation
from tests.harness import Tokens
from tests.test_refusals_write_nothing import settled_row_counts

STORED_ONLY = ("position", "recorded_at", "leaf_hash")


class Agencies:
    def __init__(self, client: TestClient, tokens: Tokens, database_url: str) -> None:
        self.client = client
        self.database_url = database_url
        # Issued up front: issuing a token is itself an event.
        self.headers = {who: tokens.get(*who.split("/")) for who in ("FRTF/agency", "KIND/agency", "DOJ/agency", "MONITOR/monitor")}

    def post(self, who: str, body: dict[str, Any], dry_run: bool = False) -> Any:
        params = {"dry_run": "true"} if dry_run else {}
        return self.client.post("/v1/events", json=body, params=params, headers=self.headers[who])

    def counts(self) -> dict[str, int]:
        return settled_row_counts(self.client, self.database_url)


@pytest.fixture
def agencies(client: TestClient, tokens: Tokens, database_url: str) -> Agencies:
    return Agencies(client, tokens, database_url)


def reused(body: dict[str, Any], outcome: str) -> dict[str, Any]:
    """The first envelope of `body` again, its content changed."""
    first = body["events"][0]
    return batch({**first, "data": {**first["data"], "outcome": outcome}})


FAMILIES = batch(*(separation(f"FRTF-{i}") for i in (1, 2, 3)))  # names: the cases' first keys
CONTACTS = batch(contact("FRTF-1", occurred_at="2021-04-01T09:00:00Z"), contact("FRTF-2", outcome="reached"))
# (who posts, the body, the status the real post answers), in the order posted: each is posted as
# a dry run, then for real, on the log the steps before left.
STEPS: list[tuple[str, str, Callable[[], dict[str, Any]], int]] = [
    ("new families with personal data", "FRTF/agency", lambda: FAMILIES, 201),
    ("contacts, one drawing warnings", "KIND/agency", lambda: CONTACTS, 201),
    ("a retry of a batch already in the log", "KIND/agency", lambda: CONTACTS, 200),
    ("a retried event beside a new one", "KIND/agency", lambda: batch(CONTACTS["events"][0], contact("FRTF-3")), 201),
    ("a type the organization may not post", "KIND/agency", lambda: batch(contact("FRTF-1"), envelope("FRTF-1", "ParoleDecided", VALID_DATA["ParoleDecided"])), 403),
    ("a monitor's token", "MONITOR/monitor", lambda: batch(contact("FRTF-1")), 403),
    ("a case never identified", "KIND/agency", lambda: batch(contact("FRTF-1"), contact("FRTF-999")), 409),
    ("a stale expected_version", "KIND/agency", lambda: batch(contact("FRTF-1", expected_version=1)), 409),
    ("an event_id reused for other content", "KIND/agency", lambda: reused(CONTACTS, "refused"), 409),
    ("a correction of an event not in the case", "KIND/agency", lambda: batch(envelope(
        "FRTF-1", "EntryCorrected", {"event_id": str(uuid4()), "changes": {"outcome": "reached"}, "reason": "typo"}
    )), 422),
    ("a field its model refuses", "KIND/agency", lambda: batch(envelope("FRTF-1", "ContactAttempted", {"channel": "pigeon"})), 422),
    ("a merge, which writes on two cases", "FRTF/agency", lambda: batch(envelope("FRTF-2", "CasesMerged", {"duplicate_case_id": "FRTF-3"})), 201),
    ("a court order on the settlement's stream", "DOJ/agency", lambda: batch(envelope("SETTLEMENT", "DeadlineExtended", VALID_DATA["DeadlineExtended"])), 201),
    ("contacts after all that", "KIND/agency", lambda: batch(contact("FRTF-1"), contact("FRTF-2")), 201),
]


def as_a_dry_run_answers(receipt: dict[str, Any]) -> dict[str, Any]:
    """A real post's receipt of an event it appended, as the dry run before it answers it."""
    return {key: value for key, value in receipt.items() if key not in STORED_ONLY}


def test_a_dry_run_answers_what_the_real_post_then_answers_and_writes_nothing(agencies: Agencies) -> None:
    for step, who, body_of, status in STEPS:
        body = body_of()
        before = agencies.counts()

        dry = agencies.post(who, body, dry_run=True)

        assert agencies.counts() == before, f"{step}: the dry run wrote"
        real = agencies.post(who, body)
        assert real.status_code == status, f"{step}: {real.text[:300]}"
        assert dry.status_code == real.status_code, f"{step}: {dry.text[:300]}"
        assert dry.headers["content-type"] == real.headers["content-type"], step
        if status >= 400:
            assert dry.json() == real.json(), step
            continue
        replayed = [r["event_id"] for r in real.json()["receipts"] if status == 200 or r["event_id"] in _posted_before(step)]
        expected = [r if r["event_id"] in replayed else as_a_dry_run_answers(r) for r in real.json()["receipts"]]
        assert dry.json()["receipts"] == expected, step


def _posted_before(step: str) -> set[str]:
    """The event ids of the envelopes the steps before `step` appended."""
    ids: set[str] = set()
    for name, _, body_of, status in STEPS:
        if name == step:
            return ids
        if status < 400:
            ids |= {e["event_id"] for e in body_of()["events"]}
    raise AssertionError(step)


def test_a_dry_run_of_a_retry_answers_200_with_the_original_receipts_and_their_warnings(agencies: Agencies) -> None:
    assert agencies.post("FRTF/agency", FAMILIES).status_code == 201
    original = agencies.post("KIND/agency", CONTACTS)
    assert original.status_code == 201
    assert [w["code"] for w in original.json()["receipts"][0]["warnings"]] == ["contact_before_identification"]

    dry = agencies.post("KIND/agency", CONTACTS, dry_run=True)

    assert dry.status_code == 200
    assert dry.json() == original.json()


def test_a_dry_run_leaves_nothing_decided_for_the_posts_after_it(agencies: Agencies) -> None:
    """The ledger keeps the cases it decides on between batches; a dry run decides on them too,
    and must not leave them holding events that were never saved."""
    assert agencies.post("FRTF/agency", batch(separation("FRTF-1"))).status_code == 201
    assert agencies.post("KIND/agency", batch(contact("FRTF-1")), dry_run=True).json()["receipts"][0]["version"] == 2
    assert agencies.post("FRTF/agency", batch(separation("FRTF-2")), dry_run=True).status_code == 201

    posted = agencies.post("KIND/agency", batch(contact("FRTF-1"), contact("FRTF-1")))
    never_identified = agencies.post("KIND/agency", batch(contact("FRTF-2")))

    assert [r["version"] for r in posted.json()["receipts"]] == [2, 3]
    assert never_identified.status_code == 409, never_identified.text
