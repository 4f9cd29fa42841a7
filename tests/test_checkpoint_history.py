"""Checkpoint history: the API publishes signed checkpoints on an interval and keeps them all; an
earlier one is served by its tree size; a monitor holding an old checkpoint gets a consistency
proof to today's; and `ledger verify` (database) checks every checkpoint, naming a bad one.
On SQLite and PostgreSQL."""

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.leaves import leaf_hash_of
from tests.builders import batch, contact, separation
from tests.harness import ORIGIN, Tokens
from tests.offline import bundled_verifier
from tests.test_bundle import export_via_api
from tests.test_tampering import LOG_SIZE, Attacker, Run, attacker, cli, detected  # noqa: F401 - fixtures

PUBLISH_EVERY = 0.05


@pytest.fixture
def publishing(settings: Settings, signer: Signer, master_key: bytes) -> Iterator[TestClient]:
    """An API process that publishes a checkpoint every 50 ms when the log has grown."""
    fast = settings.model_copy(update={"checkpoint_interval_seconds": PUBLISH_EVERY})
    with Ledger(fast.database_url, signer, master_key) as ledger, TestClient(create_app(fast, ledger)) as client:
        yield client


def post(client: TestClient, headers: dict[str, str], *envelopes: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/v1/events", json=batch(*envelopes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["receipts"]  # type: ignore[no-any-return]


def published(ledger: Ledger) -> list[int]:
    return [checkpoint.tree_size for checkpoint in ledger.store.checkpoints()]


def wait_for_checkpoint_at(ledger: Ledger, size: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while size not in published(ledger):
        assert time.monotonic() < deadline, f"no checkpoint at tree size {size} was published: {published(ledger)}"
        time.sleep(PUBLISH_EVERY / 2)


# --- publishing ---------------------------------------------------------------------------------


def test_the_api_publishes_a_checkpoint_after_the_log_grows_and_none_while_it_does_not(publishing: TestClient) -> None:
    ledger: Ledger = publishing.app.state.ledger  # type: ignore[attr-defined]
    tokens = Tokens(ledger)
    post(publishing, tokens.get("FRTF"), separation("FRTF-000001"))
    wait_for_checkpoint_at(ledger, ledger.store.tree_size())
    post(publishing, tokens.get("KIND"), contact("FRTF-000001"), contact("FRTF-000001", "reached"))
    wait_for_checkpoint_at(ledger, ledger.store.tree_size())

    settled = published(ledger)
    time.sleep(PUBLISH_EVERY * 6)

    assert published(ledger) == settled, "nothing is signed again while the log stands still"
    assert len(settled) >= 2, "every checkpoint is kept"


def test_with_an_interval_of_zero_checkpoints_are_only_signed_on_demand(
    settings: Settings, signer: Signer, master_key: bytes
) -> None:
    off = settings.model_copy(update={"checkpoint_interval_seconds": 0})
    with Ledger(off.database_url, signer, master_key) as ledger, TestClient(create_app(off, ledger)):
        Tokens(ledger).secret("FRTF")
        time.sleep(PUBLISH_EVERY * 4)
        assert published(ledger) == []


# --- earlier checkpoints and the monitor's journey ------------------------------------------------


def test_an_earlier_checkpoint_is_served_by_its_tree_size_exactly_as_first_published(
    client: TestClient, tokens: Tokens
) -> None:
    auditor, monitor = tokens.get("OIG", "auditor"), tokens.get("MONITOR", "monitor")
    post(client, tokens.get("FRTF"), separation("FRTF-000001"))
    early = client.get("/v1/checkpoint", headers=monitor).json()
    post(client, tokens.get("KIND"), contact("FRTF-000001"))
    late = client.get("/v1/checkpoint", headers=monitor).json()

    again = client.get("/v1/checkpoint", params={"tree_size": early["tree_size"]}, headers=auditor)
    unknown = client.get("/v1/checkpoint", params={"tree_size": early["tree_size"] + 1}, headers=auditor)

    assert late["tree_size"] > early["tree_size"]
    assert again.status_code == 200 and again.json() == early
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


def test_a_monitor_holding_last_months_checkpoint_gets_a_proof_that_todays_extends_it(
    publishing: TestClient, tmp_path: Path
) -> None:
    """Verified with the bundled verify.py's own functions, as an outsider would."""
    ledger: Ledger = publishing.app.state.ledger  # type: ignore[attr-defined]
    tokens = Tokens(ledger)
    auditor = tokens.get("OIG", "auditor")
    receipt = post(publishing, tokens.get("FRTF"), separation("FRTF-000001"))[0]
    saved = publishing.get("/v1/checkpoint", headers=auditor).json()  # last month's, kept by the monitor
    for n in range(2, 6):
        post(publishing, tokens.get("FRTF"), separation(f"FRTF-00000{n}"))
        post(publishing, tokens.get("KIND"), contact(f"FRTF-00000{n}"))
    wait_for_checkpoint_at(ledger, ledger.store.tree_size())  # today's, published by the API itself
    today = publishing.get("/v1/checkpoint", headers=auditor).json()
    proof = publishing.get(
        "/v1/proofs/consistency", params={"first": saved["tree_size"], "second": today["tree_size"]}, headers=auditor
    ).json()
    inclusion = publishing.get(
        "/v1/proofs/inclusion", params={"position": receipt["position"], "tree_size": today["tree_size"]}, headers=auditor
    ).json()
    offline = bundled_verifier(export_via_api(publishing, auditor, tmp_path))

    key = base64.b64decode(today["public_key"])
    assert key == base64.b64decode(saved["public_key"])
    old_size, old_root, _ = offline.verify_note(saved["note"], key, ORIGIN, offline.verify_signature)
    new_size, new_root, _ = offline.verify_note(today["note"], key, ORIGIN, offline.verify_signature)
    assert (old_size, new_size) == (saved["tree_size"], today["tree_size"]) and old_size < new_size
    nodes = [bytes.fromhex(node) for node in proof["proof"]]
    assert offline.verify_consistency(old_size, new_size, old_root, new_root, nodes)
    assert not offline.verify_consistency(old_size, new_size, bytes(32), new_root, nodes), "the proof binds the old root"
    path = [bytes.fromhex(node) for node in inclusion["audit_path"]]
    assert offline.verify_inclusion(receipt["position"] - 1, new_size, bytes.fromhex(receipt["leaf_hash"]), path, new_root)


# --- the database's verification checks every checkpoint ----------------------------------------


@pytest.fixture
def history(attacker: Attacker, database_url: str) -> Attacker:
    """test_tampering's signed 12-event log, with checkpoints at 5 and 9 published before the one at 12."""
    with Ledger(database_url, Settings().signer, Settings().master_key) as ledger:  # the CLI's key and origin (the cli fixture's environment)
        for size in (5, 9):
            ledger.signed_heads.sign(size)
        assert published(ledger) == [5, 9, LOG_SIZE]
    return attacker


def forge_event_and_its_leaf(attacker: Attacker, position: int) -> None:
    """Rewrites an event's payload and its leaf to match: only a signed root can tell."""
    event, leaf = attacker.event(position), attacker.leaf(position)
    forged = bytes(event["state"]).replace(b'"GT"', b'"HN"')
    assert forged != bytes(event["state"])
    forged_leaf = leaf_hash_of(
        position, UUID(str(event["originator_id"])), event["originator_version"], event["topic"], leaf["recorded_at"], forged
    )
    attacker.force("UPDATE {events} SET state = %s WHERE notification_id = %s", (forged, position))
    attacker.force("UPDATE {leaves} SET leaf_hash = %s WHERE position = %s", (forged_leaf, position))


def test_verify_checks_every_published_checkpoint(cli: Run, history: Attacker) -> None:
    result = cli("verify")

    assert result.exit_code == 0, result.output
    assert f"signed checkpoint at tree size {LOG_SIZE} matches, as do the 2 published before it" in " ".join(
        result.stdout.split()
    )


@pytest.mark.parametrize(
    "column, forge",
    [
        pytest.param("root_hash", lambda row: bytes(32), id="root-hash-column"),
        pytest.param("note", lambda row: row["note"].replace("\n5\n", "\n6\n"), id="size-in-the-note"),
        pytest.param("timestamp", lambda row: "2020-01-01T00:00:00.000000Z", id="timestamp-column"),
    ],
)
def test_an_edited_earlier_checkpoint_is_named_by_its_tree_size(
    cli: Run, history: Attacker, column: str, forge: Any
) -> None:
    [row] = history.query("SELECT * FROM {checkpoints} WHERE tree_size = 5")
    history.force(f"UPDATE {{checkpoints}} SET {column} = %s WHERE tree_size = 5", (forge(row),))

    report = detected(cli)

    assert "TAMPERING DETECTED at checkpoint" in report
    assert "the checkpoint at tree size 5" in report


@pytest.mark.parametrize("position, named", [(3, 5), (7, 9), (11, LOG_SIZE)])
def test_a_rewritten_event_and_leaf_are_caught_by_the_first_checkpoint_that_covers_them(
    cli: Run, history: Attacker, position: int, named: int
) -> None:
    forge_event_and_its_leaf(history, position)

    report = detected(cli)

    assert "does not match its leaf" not in report
    assert f"does not match the signed checkpoint at tree size {named}" in report
