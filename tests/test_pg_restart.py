"""PostgreSQL restarts while agencies are posting: a retriable 503, never a half-written batch.

A real API server on a throwaway cluster of the test's own; client threads post batches and, on
503, wait as Retry-After says and post the same batch again (its event_ids are its idempotency
keys). Mid-way the cluster is killed (`pg_ctl stop -m immediate`: to the clients, a crash), left
down for longer than a request waits for a connection, and started again; the API process is not touched. Afterwards every
acknowledged batch is in the log exactly once and in one piece, the log and tree verify, and the
in-process projector, cut off mid-page, has caught up to what a rebuild gives.
"""

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from domain.as_of import AsOf
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.verify import verify_log
from projections.render import render_json
from projections.report import compliance_report
from tests.builders import contact, separation
from tests.harness import ORIGIN
from tests.live_server import serving
from tests.postgres_cluster import Cluster, postgres_binaries, throwaway_cluster

CLIENTS = 4
CASES = [f"FRTF-{n:04d}" for n in range(8)]
# How long the server stays down. A shorter outage than a request's wait for a connection
# (connect_timeout, 5 s by default) the API absorbs unseen: a batch that met a dead connection is
# tried again on a fresh one, and waits for it. Longer, a request gets its 503.
DOWN_SECONDS = 6
DEADLINE_SECONDS = 60


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    binaries = postgres_binaries()
    if binaries is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found: the restart test did not run"
        if os.environ.get("CI"):
            pytest.fail(message + " (they must be installed in CI)")
        pytest.skip(message)
    with throwaway_cluster(*binaries) as made:
        yield made


@pytest.fixture
def served(cluster: Cluster, signer: Signer, master_key: bytes, tmp_path: Any) -> Iterator[tuple[str, Ledger, FastAPI]]:
    settings = Settings(database_url=cluster.url, signing_key_file=tmp_path / "signing-key.pem", origin=ORIGIN)
    with Ledger(settings.database_url, signer, master_key) as ledger:
        app = create_app(settings, ledger)
        with serving(app, log_level="critical") as base_url:
            yield base_url, ledger, app


@dataclass
class Outcomes:
    """What the clients saw, shared by their threads (list.append and Counter updates under a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    without_retry_after: int = 0
    acknowledged: list[tuple[list[str], list[int], float]] = field(default_factory=list)  # ids, positions, when
    unexpected: list[str] = field(default_factory=list)


def client(base_url: str, token: str, seed: int, stop: threading.Event, outcomes: Outcomes) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        while not stop.is_set():
            batch = [contact(rng.choice(CASES)) for _ in range(rng.choice([1, 3, 8]))]
            deadline = time.monotonic() + DEADLINE_SECONDS
            while True:  # the same batch until it is acknowledged, as an integration would
                response = http.post("/v1/events", json={"events": batch})
                with outcomes.lock:
                    outcomes.statuses[response.status_code] += 1
                if response.status_code in (200, 201):
                    positions = [receipt["position"] for receipt in response.json()["receipts"]]
                    with outcomes.lock:
                        outcomes.acknowledged.append(([e["event_id"] for e in batch], positions, time.monotonic()))
                    break
                if response.status_code != 503 or time.monotonic() > deadline:
                    with outcomes.lock:
                        outcomes.unexpected.append(f"{response.status_code}: {response.text[:200]}")
                    return
                retry_after = response.headers.get("Retry-After")
                if retry_after is None:
                    with outcomes.lock:
                        outcomes.without_retry_after += 1
                time.sleep(float(retry_after or 1))


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


@pytest.mark.postgres
def test_a_postgres_restart_mid_posting_loses_nothing_and_the_api_recovers_by_itself(
    cluster: Cluster, served: tuple[str, Ledger, FastAPI]
) -> None:
    base_url, ledger, app = served
    frtf = ledger.tokens.issue("frtf-restart", Organization.FRTF, Role.AGENCY)
    kind = ledger.tokens.issue("kind-restart", Organization.KIND, Role.AGENCY)  # KIND reaches out to families
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {frtf}"}) as http:
        assert http.post("/v1/events", json={"events": [separation(case) for case in CASES]}).status_code == 201

    outcomes, stop = Outcomes(), threading.Event()
    threads = [threading.Thread(target=client, args=(base_url, kind, seed, stop, outcomes)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(outcomes.acknowledged) >= 30 or bool(outcomes.unexpected), 30, "the clients are posting")
        assert outcomes.unexpected == []
        cluster.stop("immediate")
        time.sleep(DOWN_SECONDS)
        cluster.start()
        restarted = time.monotonic()
        wait_until(
            lambda: sum(when > restarted for *_, when in outcomes.acknowledged) >= 30 or bool(outcomes.unexpected),
            DEADLINE_SECONDS,
            "posts succeed again after the restart, with the same API process",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=DEADLINE_SECONDS + 10)

    # The clients were told to retry, and nothing else went wrong.
    assert outcomes.unexpected == []
    assert set(outcomes.statuses) <= {200, 201, 503}, outcomes.statuses
    assert outcomes.statuses[503] > 0, "no client noticed the restart: this test proved nothing"
    assert outcomes.without_retry_after == 0

    # Every acknowledged event is in the log exactly once, each batch whole and contiguous.
    logged = list(ledger.store.iter_logged())
    decoded = {entry.position: ledger.reader.decode(entry.stored) for entry in logged}
    where = {event.event_id: position for position, event in decoded.items() if event.type == "ContactAttempted"}
    acknowledged_ids = [event_id for ids, _, _ in outcomes.acknowledged for event_id in ids]
    assert Counter(event.event_id for event in decoded.values() if event.type == "ContactAttempted") == Counter(
        acknowledged_ids
    ), "the log holds other contacts than those acknowledged, or one twice"
    for ids, positions, _ in outcomes.acknowledged:
        assert [where[event_id] for event_id in ids] == positions  # the receipts tell the truth
        assert positions == list(range(positions[0], positions[0] + len(ids)))  # one transaction, in one piece
    assert [entry.position for entry in logged] == list(range(1, len(logged) + 1))  # gap-free
    ledger.signed_heads.sign()
    verification = verify_log(ledger.store, ledger.signer.public_key_raw if ledger.signer else None, ORIGIN)
    assert verification.ok, verification.problem

    # The in-process projector, cut off by the restart, resumes and equals a rebuild.
    projection = app.state.projection
    head = ledger.store.tree_size()
    assert projection.wait_for(head, timeout=30)
    point = ledger.reader.resolve(AsOf(position=head))
    live = render_json(compliance_report(ledger, projection, point, wait_seconds=0))
    projection.rebuild()
    assert render_json(compliance_report(ledger, projection, point, wait_seconds=0)) == live

    recovered_after = min(when for *_, when in outcomes.acknowledged if when > restarted) - restarted
    replays = outcomes.statuses[200]  # a batch committed whose answer the restart lost, then retried
    print(
        f"\nrestart: {outcomes.statuses[503]} answers 503 with Retry-After, {len(outcomes.acknowledged)} batches "
        f"({len(acknowledged_ids)} events) acknowledged, {replays} of them on a retry after a lost answer; "
        f"{len(where)} contacts in the log; lost: {len(set(acknowledged_ids) - set(where))}; first post acknowledged "
        f"{recovered_after:.2f} s after the server was back"
    )
