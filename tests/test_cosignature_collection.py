"""The ledger collects witnesses' cosignatures (ledger/witnessing.py) from a real witness over HTTP,
stores them with the checkpoint (both backends), and shows them: GET /v1/checkpoint's cosigned
note, witness mode of the proofs, /healthz and /metrics. A witness down changes none of the
ledger's answers but those.
"""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.checkpoints import ed25519_verifies
from ledger.cosignatures import check_cosignature
from ledger.recorders.base import LedgerRecorder
from ledger.vkeys import log_verifier_key, parse_verifier_key
from ledger.witnessing import CosignatureCollector, WitnessEndpoint, WitnessUnavailable, parse_witnesses
from tests.harness import Tokens
from tests.live_server import free_port, serving
from witness.app import create_witness_app
from witness.service import Cosigner, Witness
from witness.state import WitnessState


def witnesses_of(store: LedgerRecorder, tree_size: int) -> list[str]:
    """The witnesses (by name) whose verified cosignature of the checkpoint at `tree_size` is stored."""
    return sorted({c.witness for c in store.cosignatures(tree_size)})


@pytest.fixture
def the_ledger(client: TestClient) -> Ledger:
    return client.app.state.ledger  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def witness(the_ledger: Ledger, tmp_path: Path) -> Witness:
    assert the_ledger.signer is not None
    log = parse_verifier_key(log_verifier_key(the_ledger.signer.origin, the_ledger.signer.public_key_raw))
    return Witness(Cosigner(Ed25519PrivateKey.generate(), "witness.test/aclu"), {log.name: log}, WitnessState(tmp_path / "w.db"))


@pytest.fixture
def witness_url(witness: Witness) -> Iterator[str]:
    with serving(create_witness_app(witness)) as url:
        yield url


@pytest.fixture
def collector(client: TestClient, the_ledger: Ledger, witness: Witness, witness_url: str) -> CosignatureCollector:
    collecting = CosignatureCollector(the_ledger.store, the_ledger.tree, [WitnessEndpoint(witness.cosigner.key, witness_url)])
    client.app.state.cosignatures = collecting  # type: ignore[attr-defined]  # what /healthz and /metrics read
    return collecting


def checkpoint(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    answer = client.get("/v1/checkpoint", headers=tokens.get("OIG", "auditor"))
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_get_checkpoint_publishes_the_ledger_key_as_a_c2sp_verifier_key(client: TestClient, tokens: Tokens, the_ledger: Ledger) -> None:
    body = checkpoint(client, tokens)
    key = parse_verifier_key(body["verifier_key"])
    assert the_ledger.signer is not None
    assert (key.name, key.public_key, key.key_id) == (body["origin"], the_ledger.signer.public_key_raw, the_ledger.signer.key_id)
    assert body["cosignatures"] == [] and body["cosigned_note"] == body["note"]


def test_a_witness_cosignature_is_collected_stored_and_returned_with_the_checkpoint(
    client: TestClient, tokens: Tokens, the_ledger: Ledger, witness: Witness, collector: CosignatureCollector
) -> None:
    size = checkpoint(client, tokens)["tree_size"]
    stored = collector.submit_latest(collector.witnesses[0])
    assert stored is not None and stored.tree_size == size
    body = checkpoint(client, tokens)
    assert [c["witness"] for c in body["cosignatures"]] == ["witness.test/aclu"]
    assert check_cosignature(body["cosigned_note"], witness.cosigner.key, ed25519_verifies).status == "valid"
    assert witnesses_of(the_ledger.store, size) == ["witness.test/aclu"]
    assert collector.submit_latest(collector.witnesses[0]) is None  # nothing new to cosign


def test_the_next_checkpoint_is_sent_with_the_consistency_proof_from_the_size_cosigned(
    client: TestClient, tokens: Tokens, the_ledger: Ledger, witness: Witness, collector: CosignatureCollector
) -> None:
    first = checkpoint(client, tokens)["tree_size"]
    collector.submit_latest(collector.witnesses[0])
    tokens.secret("KIND")  # issuing a token is an event: the log grows
    second = checkpoint(client, tokens)["tree_size"]
    assert second > first
    assert collector.submit_latest(collector.witnesses[0]) is not None
    assert witness.state.latest()[0].tree_size == second
    assert witnesses_of(the_ledger.store, first) == witnesses_of(the_ledger.store, second) == ["witness.test/aclu"]


def test_a_witness_that_holds_a_later_size_than_the_ledger_knows_is_resent_from_the_size_it_answers(
    client: TestClient, tokens: Tokens, the_ledger: Ledger, witness: Witness, collector: CosignatureCollector
) -> None:
    """The ledger lost track (another process collected it): the 409's size is where it resumes."""
    held = the_ledger.signed_heads.latest()
    assert held is not None
    assert witness.add_checkpoint(f"old 0\n\n{held.note}".encode()).status == 200
    tokens.secret("KIND")
    size = checkpoint(client, tokens)["tree_size"]
    assert collector.submit_latest(collector.witnesses[0]) is not None
    assert witness.state.latest()[0].tree_size == size


def test_witness_mode_gives_a_proof_only_at_a_checkpoint_with_the_quorum_and_names_who_is_missing(
    client: TestClient, tokens: Tokens, witness: Witness, collector: CosignatureCollector
) -> None:
    auditor = tokens.get("OIG", "auditor")
    size = checkpoint(client, tokens)["tree_size"]
    collector.submit_latest(collector.witnesses[0])
    aclu = str(witness.cosigner.key)
    oig = str(Cosigner(Ed25519PrivateKey.generate(), "witness.test/oig").key)
    url = "/v1/proofs/inclusion"
    ok = client.get(url, params={"position": 1, "tree_size": size, "witness": [aclu, oig], "quorum": 1}, headers=auditor)
    assert ok.status_code == 200, ok.text
    assert check_cosignature(ok.json()["checkpoint"], witness.cosigner.key, ed25519_verifies).status == "valid"
    short = client.get(url, params={"position": 1, "tree_size": size, "witness": [aclu, oig]}, headers=auditor)
    assert short.status_code == 409
    assert "missing: witness.test/oig" in short.json()["detail"] and short.json()["errors"][0]["field"] == "witness"
    consistency = client.get("/v1/proofs/consistency", params={"first": 1, "second": size, "witness": aclu}, headers=auditor)
    assert consistency.status_code == 200 and consistency.json()["checkpoint"]
    unsigned = client.get(url, params={"position": 1, "tree_size": 1, "witness": aclu}, headers=auditor)
    assert unsigned.status_code == 409 and "no signed checkpoint at tree size 1" in unsigned.json()["detail"]
    assert unsigned.json()["errors"] == [{"index": None, "field": "tree_size", "message": unsigned.json()["detail"]}]
    unsigned_second = client.get("/v1/proofs/consistency", params={"first": 1, "second": 1, "witness": aclu}, headers=auditor)
    assert unsigned_second.status_code == 409 and unsigned_second.json()["errors"][0]["field"] == "second"
    unpublished = client.get("/v1/checkpoint", params={"tree_size": size + 1000}, headers=auditor)
    assert unpublished.status_code == 404 and unpublished.json()["errors"][0]["field"] == "tree_size"
    bad = client.get(url, params={"position": 1, "tree_size": size, "witness": "nonsense"}, headers=auditor)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "witness"


def test_a_witness_down_is_retried_shown_in_healthz_and_metrics_and_the_ledger_stays_healthy(
    client: TestClient, tokens: Tokens, the_ledger: Ledger, collector: CosignatureCollector
) -> None:
    down = WitnessEndpoint(parse_verifier_key(str(Cosigner(Ed25519PrivateKey.generate(), "witness.test/down").key)), f"http://127.0.0.1:{free_port()}")
    collecting = CosignatureCollector(the_ledger.store, the_ledger.tree, [down])
    client.app.state.cosignatures = collecting  # type: ignore[attr-defined]
    checkpoint(client, tokens)
    with pytest.raises(WitnessUnavailable, match="unreachable"):
        collecting.submit_latest(down)
    stop = threading.Event()
    thread = threading.Thread(target=collecting.follow, args=(down, stop))
    thread.start()
    try:
        for _ in range(100):
            if collecting.status[down.name].failures:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join()
    health = client.get("/healthz")
    assert health.status_code == 200
    [shown] = health.json()["witnesses"]
    assert (shown["name"], shown["up"]) == ("witness.test/down", False) and shown["last_error"].startswith("unreachable")
    metrics = client.get("/metrics").text
    assert 'ledger_witness_up{witness="witness.test/down"} 0.0' in metrics
    assert 'ledger_witness_failures{witness="witness.test/down"} 1.0' in metrics


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k http://w", "cosignature/v1 key"),
        ("{key}", "expected `<verifier key> <URL>`"),
        ("{key} ftp://w", "is not http"),
        ("{key} http://a;{key} http://b", "listed twice"),
        ("{key} http://127.0.0.1:99999", "invalid host or port"),
        ("{key} http://127.0.0.1:0", "invalid host or port"),
        ("{key} http://w:port", "invalid host or port"),
        ("{key} http://[not-an-ip]/", "invalid host or port"),
        ("{key} http://w%2fx/", "invalid host or port"),
        ("{key} http://user:secret@w", "user info"),
        ("{key} http://w/?token=1", "query or fragment"),
        ("{key} http://w/#part", "query or fragment"),
    ],
)
def test_ledger_witnesses_is_refused_saying_what_is_wrong(text: str, reason: str) -> None:
    key = str(Cosigner(Ed25519PrivateKey.generate(), "w.test/w").key)
    with pytest.raises(ValueError, match=reason) as refused:
        parse_witnesses(text.format(key=key))
    assert "secret" not in str(refused.value)


def test_ledger_witnesses_takes_host_names_ip_addresses_ports_and_paths() -> None:
    urls = ["https://witness.aclu.example/ms-l/", "http://127.0.0.1:8100", "http://[::1]:8100/w", "http://witness_1:65535"]
    keys = [str(Cosigner(Ed25519PrivateKey.generate(), f"w.test/w{i}").key) for i in range(len(urls))]
    endpoints = parse_witnesses(";".join(f"{key} {url}" for key, url in zip(keys, urls)))
    assert [e.url for e in endpoints] == ["https://witness.aclu.example/ms-l", "http://127.0.0.1:8100", "http://[::1]:8100/w", "http://witness_1:65535"]
