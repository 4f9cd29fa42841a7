"""Refused means nothing written: a batch the API refuses (403, 409, 413, 422), or one that only
replays what is already in the log (200), leaves every table of the database as it was, the
case-key table and the read model included. A case's first key is written in the same
transaction as the first events it seals, so a refused batch has no key to leave behind; and two
writers giving a case its first key at once agree on one."""

import sqlite3
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.envelope import EventBatch, postings
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import VALID_DATA, batch, contact, envelope, separation
from tests.harness import Tokens


def row_counts(database_url: str) -> dict[str, int]:
    """Every table of the database (SQLite file, or the ledger's PostgreSQL schema): its rows."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        with sqlite3.connect(parts.path.removeprefix("/")) as connection:
            names = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}
    schema = parse_qs(parts.query)["schema"][0]
    with psycopg.connect(database_url.split("?")[0], autocommit=True) as connection:
        names = [name for (name,) in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
        return {name: connection.execute(f'SELECT COUNT(*) FROM "{schema}"."{name}"').fetchone()[0] for name in names}  # type: ignore[index]


def settled_row_counts(client: TestClient, database_url: str) -> dict[str, int]:
    """Every table's rows (row_counts), once the client's in-process projector has projected the whole log."""
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    assert client.app.state.projection.wait_for(ledger.store.tree_size(), 30)  # type: ignore[attr-defined]
    return row_counts(database_url)


class Poster:
    def __init__(self, client: TestClient, tokens: Tokens, database_url: str) -> None:
        self.client = client
        self.database_url = database_url
        # Issued up front: issuing a token is itself an event.
        self.headers = {name: tokens.get(*name.split("/")) for name in ("FRTF/agency", "KIND/agency", "MONITOR/monitor")}
        self.first_id = ""  # the event_id of FRTF-1's separation

    def post(self, who: str, body: Any = None, **request: Any) -> Any:
        if body is not None:
            request["json"] = body
        return self.client.post("/v1/events", headers={**self.headers[who], **request.pop("headers", {})}, **request)

    def settled_counts(self) -> dict[str, int]:
        return settled_row_counts(self.client, self.database_url)


@pytest.fixture
def poster(client: TestClient, tokens: Tokens, database_url: str) -> Poster:
    poster = Poster(client, tokens, database_url)
    # A case with personal data already, and one event whose id a later batch reuses.
    first = poster.post("FRTF/agency", batch(separation("FRTF-1")))
    assert first.status_code == 201, first.text
    poster.first_id = first.json()["receipts"][0]["event_id"]
    return poster


def new_families(count: int, start: int = 100) -> list[dict[str, Any]]:
    """Separations of families not yet in the ledger, each with a parent's name (personal data)."""
    return [separation(f"FRTF-{start + i}") for i in range(count)]


def registration(case_id: str, **overrides: Any) -> dict[str, Any]:
    return envelope(case_id, "RegistrationSubmitted", VALID_DATA["RegistrationSubmitted"], **overrides)


def differently_identified(event_id: str) -> dict[str, Any]:
    changed = separation("FRTF-1", event_id=event_id)
    changed["data"]["nationality"] = "HN"
    return changed


REFUSALS: dict[str, tuple[int, Callable[[Poster], Any]]] = {
    # A type KIND may not post, beside new families' personal data.
    "403 a type the organization may not post": (
        403, lambda p: p.post("KIND/agency", batch(contact("FRTF-1"), *new_families(3)))
    ),
    "403 a monitor posting": (403, lambda p: p.post("MONITOR/monitor", batch(*new_families(3)))),
    # 999 new families with a name each, then a registration of a case never identified: refused
    # once the 999 were decided (and, before, after 999 keys had been written).
    "409 a case with no separation, after 999 new families": (
        409, lambda p: p.post("FRTF/agency", batch(*new_families(999), registration("FRTF-999999")))
    ),
    "409 a stale expected_version": (
        409, lambda p: p.post("FRTF/agency", batch(*new_families(5), registration("FRTF-1", expected_version=7)))
    ),
    "409 an event_id used for different content": (
        409, lambda p: p.post("FRTF/agency", batch(*new_families(5), differently_identified(p.first_id)))
    ),
    "413 a body over the limit": (
        413, lambda p: p.post("FRTF/agency", content="x" * (p.client.app.state.settings.max_body_bytes + 1),  # type: ignore[attr-defined]
                              headers={"Content-Type": "application/json"})
    ),
    "422 a field the type's model refuses": (
        422, lambda p: p.post("FRTF/agency", batch(*new_families(5), envelope("FRTF-1", "CaseClosed", {"reason": "pigeon"})))
    ),
    # A correction of an event that is not in the log, after new families: refused by the rules.
    "422 a correction of an unknown event": (
        422, lambda p: p.post("FRTF/agency", batch(*new_families(5), envelope(
            "FRTF-1", "EntryCorrected", {"event_id": "00000000-0000-4000-8000-000000000000", "changes": {"nationality": "HN"}, "reason": "typo"}
        )))
    ),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_batch_writes_nothing_to_any_table(poster: Poster, refusal: str) -> None:
    status, post = REFUSALS[refusal]
    before = poster.settled_counts()
    response = post(poster)
    assert response.status_code == status, response.text[:500]
    assert poster.settled_counts() == before


def test_a_batch_posted_again_answers_200_and_writes_nothing(poster: Poster) -> None:
    families = batch(*new_families(20))
    assert poster.post("FRTF/agency", families).status_code == 201
    contacted = batch(contact("FRTF-1", outcome="reached"), *(contact(f"FRTF-{100 + i}") for i in range(20)))
    assert poster.post("KIND/agency", contacted).status_code == 201
    before = poster.settled_counts()
    for who, body in (("FRTF/agency", families), ("KIND/agency", contacted)):
        replay = poster.post(who, body)
        assert replay.status_code == 200, replay.text[:500]
    assert poster.settled_counts() == before


def test_two_writers_giving_a_case_its_first_key_at_once_agree_on_one(
    database_url: str, signer: Signer, master_key: bytes
) -> None:
    with Ledger(database_url, signer, master_key) as first, Ledger(database_url, signer, master_key) as second:
        first.tokens.issue("frtf-keys", Organization.FRTF, Role.AGENCY)
        first.tokens.issue("kind-keys", Organization.KIND, Role.AGENCY)
        frtf, kind = first.tokens.principal_named("frtf-keys"), first.tokens.principal_named("kind-keys")
        assert frtf is not None and kind is not None
        cases = [f"FRTF-{i}" for i in range(1, 13)]
        # Identified without any personal data: no key yet.
        identified = [separation(case_id) for case_id in cases]
        for envelope_ in identified:
            envelope_["data"]["parents"] = [{"member_id": "P1"}]
        first.appender.append(postings(EventBatch.model_validate(batch(*identified))), frtf)
        assert first.store.case_keys(cases) == {}

        sent: dict[str, list[dict[str, Any]]] = {case_id: [] for case_id in cases}
        for case_id in cases:  # each case's first personal data, from two writers at the same moment
            start = threading.Barrier(2)
            failures: list[BaseException] = []

            def post(ledger: Ledger, case_id: str = case_id, start: threading.Barrier = start) -> None:
                tried = contact(case_id, outcome="reached")
                sent[case_id].append(tried)
                start.wait()
                try:
                    ledger.appender.append(postings(EventBatch.model_validate(batch(tried))), kind)
                except BaseException as error:  # noqa: BLE001 - reported below
                    failures.append(error)

            writers = [threading.Thread(target=post, args=(ledger,)) for ledger in (first, second)]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            assert failures == []

        keys = first.store.case_keys(cases)
        assert {case_id: len(keys.get(case_id, [])) for case_id in cases} == {case_id: 1 for case_id in cases}
        for case_id, envelopes in sent.items():
            # Both writers' envelopes were sealed with that key: each replays as the same envelope.
            for ledger in (first, second):
                replayed = ledger.appender.append(postings(EventBatch.model_validate(batch(*envelopes))), kind)
                assert replayed.appended == 0
