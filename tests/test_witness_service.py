"""The witness (c2sp.org/tlog-witness) decides each add-checkpoint as the specification says:
200 with a cosignature of a consistent checkpoint, and each fault refused with its status code,
nothing recorded; a fork kept as evidence; its state surviving a restart; concurrent requests
for one log decided one after the other. Over HTTP (Starlette's TestClient) where the answer's
headers matter; the toy log of tests/witness_logs.py plays the ledger.
"""

import base64
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from ledger.checkpoints import ed25519_verifies
from ledger.cosignatures import check_cosignature, checkpoint_body, signed_by_log
from ledger.vkeys import parse_verifier_key
from tests.witness_logs import ToyLog
from witness.app import create_witness_app
from witness.service import Cosigner, Witness
from witness.state import MAX_EVIDENCE_PER_LOG, WitnessState


@pytest.fixture
def log() -> ToyLog:
    toy = ToyLog.new()
    toy.grow(5)
    return toy


def witness_for(log: ToyLog, state_file: Path, key: Ed25519PrivateKey | None = None) -> Witness:
    cosigner = Cosigner(key or Ed25519PrivateKey.generate(), "witness.test/w1")
    return Witness(cosigner, {log.signer.origin: parse_verifier_key(log.vkey)}, WitnessState(state_file))


@pytest.fixture
def witness(log: ToyLog, tmp_path: Path) -> Witness:
    return witness_for(log, tmp_path / "witness.db")


@pytest.fixture
def http(witness: Witness) -> TestClient:
    return TestClient(create_witness_app(witness))


def recorded(witness: Witness) -> int | None:
    latest = witness.state.latest()
    return latest[0].tree_size if latest else None


def test_a_first_checkpoint_is_cosigned_with_a_timestamped_cosignature_v1_line(log: ToyLog, witness: Witness, http: TestClient) -> None:
    answer = http.post("/add-checkpoint", content=log.request(0))
    assert answer.status_code == 200, answer.text
    check = check_cosignature(log.note() + answer.text, witness.cosigner.key, ed25519_verifies)
    assert check.status == "valid" and check.timestamp is not None
    assert recorded(witness) == 5


def test_a_consistent_larger_checkpoint_is_cosigned_from_the_size_last_cosigned(log: ToyLog, witness: Witness) -> None:
    assert witness.add_checkpoint(log.request(0)).status == 200
    log.grow(6)
    answer = witness.add_checkpoint(log.request(5))
    assert answer.status == 200, answer.body
    assert recorded(witness) == 11


def test_a_wrong_old_size_gets_409_with_the_size_held_as_text_x_tlog_size(log: ToyLog, witness: Witness, http: TestClient) -> None:
    http.post("/add-checkpoint", content=log.request(0))
    log.grow(3)
    answer = http.post("/add-checkpoint", content=log.request(0))
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "text/x.tlog.size"
    assert answer.text == "5\n"
    assert recorded(witness) == 5


def test_a_rollback_is_refused_with_400_and_the_state_kept(log: ToyLog, witness: Witness) -> None:
    witness.add_checkpoint(log.request(0))
    assert witness.add_checkpoint(log.request(5, size=3, proof=[])).status == 400  # old size above the checkpoint's
    assert recorded(witness) == 5


def test_a_bad_consistency_proof_gets_422_and_nothing_is_cosigned(log: ToyLog, witness: Witness) -> None:
    witness.add_checkpoint(log.request(0))
    log.grow(4)
    proof = log.proof(5, 9)
    proof[0] = bytes(32)
    answer = witness.add_checkpoint(log.request(5, proof=proof))
    assert answer.status == 422
    assert recorded(witness) == 5


def test_a_proof_from_size_zero_must_be_empty(log: ToyLog, witness: Witness) -> None:
    assert witness.add_checkpoint(log.request(0, proof=[bytes(32)])).status == 422
    assert recorded(witness) is None


def test_an_unknown_log_gets_404(witness: Witness) -> None:
    stranger = ToyLog.new(origin="elsewhere.test/log")
    stranger.grow(2)
    assert witness.add_checkpoint(stranger.request(0)).status == 404


def test_a_checkpoint_signed_by_another_key_under_the_same_origin_gets_403(log: ToyLog, witness: Witness) -> None:
    impostor = ToyLog.new(origin=log.signer.origin)
    impostor.grow(5)
    assert witness.add_checkpoint(impostor.request(0)).status == 403
    assert recorded(witness) is None


@pytest.mark.parametrize(
    "body",
    [b"old 01\n\n", b"new 0\n\n", b"old 0\nnot base64!\n\nx\n", b"old 0\n", b"\xff\xfe", b"old 0\n\nnot a checkpoint\n"],
    ids=["leading-zero", "no-old-line", "bad-proof-line", "no-blank-line", "not-utf8", "not-a-checkpoint"],
)
def test_a_malformed_request_gets_400(witness: Witness, body: bytes) -> None:
    assert witness.add_checkpoint(body).status == 400


def test_more_than_63_proof_lines_get_400(log: ToyLog, witness: Witness) -> None:
    assert witness.add_checkpoint(log.request(0, proof=[bytes(32)] * 64)).status == 400


def test_a_split_view_is_refused_and_both_checkpoints_are_kept_as_evidence(log: ToyLog, witness: Witness) -> None:
    """Same key, same origin, another history: the witness cosigned one, refuses the other."""
    assert witness.add_checkpoint(log.request(0)).status == 200
    other = ToyLog(log.signer)
    other.grow(5, tag="other")
    assert witness.add_checkpoint(other.request(0)).status == 409  # it holds 5: resend from there
    same_size = witness.add_checkpoint(other.request(5, proof=[]))
    assert same_size.status == 409
    other.grow(2, tag="other")
    assert witness.add_checkpoint(other.request(5)).status == 422  # other's proof does not lead from the root held
    evidence = witness.state.evidence()
    assert [e.reason for e in evidence] == [
        "same tree size, another root hash",
        "unproven: a larger checkpoint the log signed, whose consistency proof does not verify",
    ]
    assert checkpoint_body(evidence[0].recorded_note)[0].root_hash == log_root(log, 5)
    assert checkpoint_body(evidence[0].submitted_note)[0].root_hash == log_root(other, 5)
    assert signed_by_log(evidence[0].submitted_note, parse_verifier_key(log.vkey), ed25519_verifies)
    assert recorded(witness) == 5


def log_root(log: ToyLog, size: int) -> bytes:
    return checkpoint_body(log.note(size))[0].root_hash


def test_a_bad_proof_with_the_checkpoint_held_is_a_422_and_never_evidence(log: ToyLog, witness: Witness, tmp_path: Path) -> None:
    """Found: anyone could send the checkpoint the witness held with a made-up proof and have it
    kept as "evidence of a fork". The held checkpoint sent again says nothing of the log: nothing is
    kept however often it comes, and the log is cosigned on as before."""
    size = 5
    assert witness.add_checkpoint(log.request(0)).status == 200
    log.grow(4)
    for _ in range(3):
        assert witness.add_checkpoint(log.request(5, size=size, proof=[bytes(32)])).status == 422
    assert witness.state.evidence() == []
    assert witness.add_checkpoint(log.request(5)).status == 200
    shown = CliRunner().invoke(app, ["witness", "status", "--state-file", str(witness.state.path)])
    assert shown.exit_code == 0 and "no fork or inconsistency recorded" in shown.stdout


def test_a_larger_signed_checkpoint_with_a_bad_proof_is_kept_once_as_unproven_never_as_a_fork(log: ToyLog, witness: Witness) -> None:
    """A split view with a longer history looks, to a witness, like the log's next checkpoint with a
    proof that fails: it cannot tell them apart, so it keeps the checkpoint once, as unproven, for an
    auditor to settle with a proof from the log; the log is cosigned on as before."""
    assert witness.add_checkpoint(log.request(0)).status == 200
    log.grow(4)
    for _ in range(3):
        assert witness.add_checkpoint(log.request(5, size=9, proof=[bytes(32)])).status == 422
    [kept] = witness.state.evidence()
    assert kept.reason.startswith("unproven:")
    assert witness.add_checkpoint(log.request(5)).status == 200
    shown = CliRunner().invoke(app, ["witness", "status", "--state-file", str(witness.state.path)])
    assert "unproven: a larger checkpoint the log signed" in shown.stdout


def test_a_fork_is_kept_once_however_often_it_is_sent_and_whatever_signatures_others_add(log: ToyLog, witness: Witness) -> None:
    assert witness.add_checkpoint(log.request(0)).status == 200
    other = ToyLog(log.signer)
    other.grow(5, tag="other")
    fork = other.request(5, proof=[])
    stranger = "\u2014 stranger.test/x " + base64.b64encode(bytes(68)).decode() + "\n"
    for body in (fork, fork, fork + stranger.encode()):
        assert witness.add_checkpoint(body).status == 409
    [kept] = witness.state.evidence()
    assert "stranger.test" not in kept.submitted_note
    assert kept.submitted_note == other.note(5)


def test_the_evidence_kept_for_a_log_is_capped(log: ToyLog, witness: Witness) -> None:
    """A log that signs fork after fork proves it with the first; the rest cannot fill the disk."""
    assert witness.add_checkpoint(log.request(0)).status == 200
    for fork in range(MAX_EVIDENCE_PER_LOG + 3):
        other = ToyLog(log.signer)
        other.grow(5, tag=f"fork{fork}-")
        assert witness.add_checkpoint(other.request(5, proof=[])).status == 409
    assert len(witness.state.evidence()) == MAX_EVIDENCE_PER_LOG
    assert recorded(witness) == 5


def test_the_state_survives_a_restart(log: ToyLog, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    assert witness_for(log, tmp_path / "w.db", key).add_checkpoint(log.request(0)).status == 200
    restarted = witness_for(log, tmp_path / "w.db", key)
    assert recorded(restarted) == 5
    log.grow(1)
    assert restarted.add_checkpoint(log.request(0)).status == 409
    assert restarted.add_checkpoint(log.request(5)).status == 200


def test_concurrent_requests_for_one_log_are_decided_one_at_a_time(log: ToyLog, witness: Witness) -> None:
    """Every request says old 5; exactly one may move the log on, whatever the interleaving."""
    witness.add_checkpoint(log.request(0))
    bodies = []
    for _ in range(8):
        log.grow(1)
        bodies.append(log.request(5))
    statuses: list[int] = []
    start = threading.Barrier(len(bodies))

    def submit(body: bytes) -> None:
        start.wait()
        statuses.append(witness.add_checkpoint(body).status)

    threads = [threading.Thread(target=submit, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 7
    assert recorded(witness) in range(6, 14)


def test_the_witness_answers_with_its_verifier_key(witness: Witness, http: TestClient) -> None:
    about = http.get("/").text
    assert str(witness.cosigner.key) in about
    key = parse_verifier_key(str(witness.cosigner.key))
    assert base64.b64encode(bytes([4]) + key.public_key).decode() in about
