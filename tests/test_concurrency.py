"""Many writers through a real HTTP server: nothing lost, nothing doubled, the tree consistent.

8 threads × 200 events into overlapping cases, single posts and small batches mixed, each thread
also re-posting some of its own envelopes (the retries an integration makes after a timeout).
"""

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from domain.envelope import EventBatch, postings
from domain.errors import LedgerBusy
from domain.organizations import Organization, Role
from ledger.appending import Appender
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.verify import verify_log
from tests.builders import contact, separation
from tests.harness import ORIGIN
from tests.live_server import serving

THREADS = 8
EVENTS_PER_THREAD = 200
CASES = [f"FRTF-{n:04d}" for n in range(12)]



@pytest.fixture
def server(settings: Settings, signer: Signer, master_key: bytes) -> Iterator[tuple[str, Ledger]]:
    with Ledger(settings.database_url, signer, master_key) as ledger:
        with serving(create_app(settings, ledger)) as base_url:
            yield base_url, ledger


def writer(base_url: str, token: str, seed: int, sent: list[dict[str, Any]], errors: list[str]) -> None:
    rng = random.Random(seed)
    mine = [contact(rng.choice(CASES), outcome=rng.choice(["no_answer", "reached"])) for _ in range(EVENTS_PER_THREAD)]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        i = 0
        while i < len(mine):
            chunk = mine[i : i + rng.choice([1, 1, 5, 10])]
            for attempt in range(2 if rng.random() < 0.15 else 1):  # some chunks are sent twice
                response = http.post("/v1/events", json={"events": chunk})
                expected = 201 if attempt == 0 else 200
                if response.status_code != expected:
                    errors.append(f"{response.status_code} (wanted {expected}): {response.text[:300]}")
                    return
            i += len(chunk)
    sent.extend(mine)


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(server: tuple[str, Ledger]) -> None:
    base_url, ledger = server
    frtf = ledger.tokens.issue("frtf-load", Organization.FRTF, Role.AGENCY)
    kind = ledger.tokens.issue("kind-load", Organization.KIND, Role.AGENCY)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {frtf}"}) as http:
        response = http.post("/v1/events", json={"events": [separation(case) for case in CASES]})
        assert response.status_code == 201, response.text

    sent: list[dict[str, Any]] = []
    errors: list[str] = []
    threads = [threading.Thread(target=writer, args=(base_url, kind, seed, sent, errors)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(sent) == THREADS * EVENTS_PER_THREAD
    logged = list(ledger.store.iter_logged())
    decoded = [ledger.reader.decode(entry.stored) for entry in logged]
    contacts = Counter(event.event_id for event in decoded if event.type == "ContactAttempted")
    assert contacts == Counter(envelope["event_id"] for envelope in sent)  # each exactly once
    assert [entry.position for entry in logged] == list(range(1, len(logged) + 1))  # gap-free
    for case_id in CASES:
        versions = [e.originator_version for e in decoded if getattr(e, "case_id", None) == case_id]
        assert versions == list(range(1, len(versions) + 1))
    recorded = [entry.recorded_at or "" for entry in logged]
    assert recorded == sorted(recorded)  # recorded_at never decreases with position
    ledger.signed_heads.sign()
    verification = verify_log(ledger.store, ledger.signer.public_key_raw if ledger.signer else None, ORIGIN)
    assert verification.ok, verification.problem
    assert verification.events == len(logged)


def test_writers_in_separate_ledger_processes_retry_lost_races(
    database_url: str, signer: Signer, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Ledger instances on one database, as two API processes would be: each has its own
    connection pool and its own in-process lock, so their races surface as conflicts the append
    path must absorb by deciding again."""
    lost_races: list[int] = []
    decide_and_save = Appender._decide_and_save

    def counting(self: Appender, *args: Any) -> Any:
        result = decide_and_save(self, *args)
        if result is None:  # the save clashed with the other ledger's: nothing was appended
            lost_races.append(1)
        return result

    monkeypatch.setattr(Appender, "_decide_and_save", counting)
    with Ledger(database_url, signer, master_key) as first, Ledger(database_url, signer, master_key) as second:
        first.tokens.issue("frtf-p", Organization.FRTF, Role.AGENCY)
        first.tokens.issue("kind-p", Organization.KIND, Role.AGENCY)
        frtf, kind = first.tokens.principal_named("frtf-p"), first.tokens.principal_named("kind-p")
        assert frtf is not None and kind is not None

        def parsed(*envelopes: dict[str, Any]) -> list[Any]:
            return postings(EventBatch.model_validate({"events": list(envelopes)}))

        first.appender.append(parsed(*(separation(case) for case in CASES[:3])), frtf)
        sent: list[str] = []
        failures: list[BaseException] = []
        busy: list[int] = []

        def write(ledger: Ledger, seed: int) -> None:
            rng = random.Random(seed)
            try:
                for _ in range(25):
                    chunk = [contact(rng.choice(CASES[:3])) for _ in range(rng.choice([1, 4]))]
                    for _ in range(5):  # as a client honouring 503 Retry-After would
                        try:
                            ledger.appender.append(parsed(*chunk), kind)
                            break
                        except LedgerBusy:
                            busy.append(seed)
                    else:
                        raise AssertionError("still busy after 5 retries")
                    sent.extend(e["event_id"] for e in chunk)
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=write, args=(ledger, seed)) for seed, ledger in enumerate([first, second] * 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert failures == []
        assert lost_races, "the writers never raced: this test proved nothing"
        assert len(busy) <= 3, f"{len(busy)} appends out of 150 were refused as busy"
        logged = [first.reader.decode(entry.stored) for entry in first.store.iter_logged()]
        assert Counter(e.event_id for e in logged if e.type == "ContactAttempted") == Counter(sent)
        assert first.store.tree_size() == len(logged)
        assert verify_log(first.store, None, None).ok
