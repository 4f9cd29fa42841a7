"""Issue 18's witnesses as real processes on loopback: the ledger and two witnesses, each started
as `ledger serve` and `ledger witness serve`. The ledger collects both cosignatures; an exported
bundle passes its own verify.py with a quorum policy and fails naming a witness it lacks; a second
ledger with the same key and origin and another history (a split view) is refused by a witness,
which keeps the evidence and shows it in `ledger witness status`; a rollback and a bad proof are
refused with the specification's codes; a witness restarted keeps its state; a witness hung does
not slow appends. One set of processes for the module: seconds, not minutes.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli import app
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer, load_or_create_signing_key
from ledger.personal_data import load_or_create_master_key
from ledger.vkeys import log_verifier_key
from tests.builders import batch, separation
from tests.offline import both_verifiers
from tests.witness_processes import Blackhole, Process, ledger_process, witness_process
from witness.service import Cosigner

ORIGIN = "ledger.test/ms-l"
SIZE_TYPE = "text/x.tlog.size"


@dataclass
class Deployment:
    directory: Path
    ledger: Process
    witnesses: list[Process]
    witness_keys: list[str]
    auditor: dict[str, str]
    agency: dict[str, str]
    ledger_env: dict[str, str]
    blackhole: Blackhole

    def checkpoint(self) -> dict:
        answer = httpx.get(self.ledger.url + "/v1/checkpoint", headers=self.auditor, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def cosigned(self, count: int, beyond: int = 0, timeout: float = 20) -> dict:
        """The latest checkpoint, past tree size `beyond`, once `count` witnesses cosigned it."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.checkpoint()
            if len(body["cosignatures"]) >= count and body["tree_size"] > beyond:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"only {body['cosignatures']} cosigned tree size {body['tree_size']}")
            time.sleep(0.1)


def _tokens(database_url: str, signer: Signer, master_key: bytes) -> tuple[dict[str, str], dict[str, str]]:
    with Ledger(database_url, signer, master_key) as ledger:
        auditor = ledger.tokens.issue("oig-auditor", Organization("OIG"), Role("auditor"))
        agency = ledger.tokens.issue("frtf-agency", Organization("FRTF"), Role("agency"))
    return {"Authorization": f"Bearer {auditor}"}, {"Authorization": f"Bearer {agency}"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    directory = tmp_path_factory.mktemp("witnessed")
    key_file = directory / "ledger-key.pem"
    signer = Signer(load_or_create_signing_key(key_file), ORIGIN)
    logs_file = directory / "logs.policy"
    logs_file.write_text(f"# the ledger these witnesses watch\nlog {log_verifier_key(ORIGIN, signer.public_key_raw)}\n")
    witnesses = [witness_process(directory / name, f"witness.test/{name}", logs_file) for name in ("aclu", "monitor")]
    keys = []
    for process in witnesses:
        printed = CliRunner().invoke(app, ["witness", "key", "--name", process.name, "--key-file", str(process.log.parent / "key.pem")])
        assert printed.exit_code == 0, printed.output
        keys.append(printed.stdout.strip())
    blackhole = Blackhole()
    hung_key = str(Cosigner(Ed25519PrivateKey.generate(), "witness.test/hung").key)
    master_file = directory / "encryption-key"
    database_url = f"sqlite:///{directory}/ledger.db"
    env = {
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_SIGNING_KEY_FILE": str(key_file),
        "LEDGER_ENCRYPTION_KEY_FILE": str(master_file),
        "LEDGER_ORIGIN": ORIGIN,
        "LEDGER_CHECKPOINT_INTERVAL_SECONDS": "0.2",
        "LEDGER_WITNESS_POLL_SECONDS": "0.1",
        "LEDGER_WITNESSES": ";".join(f"{key} {w.url}" for key, w in zip(keys, witnesses)) + f";{hung_key} {blackhole.url}",
    }
    auditor, agency = _tokens(database_url, signer, load_or_create_master_key(master_file))
    ledger = ledger_process(directory, env)
    try:
        for process in witnesses:
            process.start()
        ledger.start("/healthz")
        yield Deployment(directory, ledger, witnesses, keys, auditor, agency, env, blackhole)
    finally:
        for process in (ledger, *witnesses):
            process.stop()
        blackhole.close()


def test_the_ledger_collects_both_witnesses_cosignatures_of_its_checkpoint(deployment: Deployment) -> None:
    body = deployment.cosigned(2)
    assert sorted(c["witness"] for c in body["cosignatures"]) == ["witness.test/aclu", "witness.test/monitor"]
    assert body["cosigned_note"].startswith(body["note"]) and body["cosigned_note"].count("\n— ") == 3


def test_a_bundle_passes_verify_py_and_ledger_verify_with_a_quorum_policy_and_fails_naming_the_witness_it_lacks(deployment: Deployment, tmp_path: Path) -> None:
    deployment.cosigned(2)
    exported = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "bundle")], env=deployment.ledger_env)
    assert exported.exit_code == 0, exported.output
    bundle = tmp_path / "bundle"
    log_key = (bundle / "log.vkey").read_text().strip()
    aclu, monitor = deployment.witness_keys
    quorum = tmp_path / "two.policy"
    quorum.write_text(f"log {log_key}\nwitness aclu {aclu}\nwitness monitor {monitor}\ngroup both all aclu monitor\nquorum both\n")
    for passed in both_verifiers(bundle, "--policy", str(quorum)):
        assert passed.exit_code == 0, passed.stderr
        assert "cosigned by the policy's quorum: aclu, monitor" in " ".join(passed.stdout.split())
    oig = Cosigner(Ed25519PrivateKey.generate(), "witness.test/oig").key
    three = tmp_path / "three.policy"
    three.write_text(f"witness aclu {aclu}\nwitness monitor {monitor}\nwitness oig {oig}\ngroup all3 all aclu monitor oig\nquorum all3\n")
    for refused in both_verifiers(bundle, "--policy", str(three)):
        assert refused.exit_code == 1
        assert "NOT WITNESSED" in refused.report and "missing: oig" in refused.report
    shown = CliRunner().invoke(app, ["checkpoint", "--show-key"], env=deployment.ledger_env)
    assert shown.stdout.strip() == log_key == deployment.checkpoint()["verifier_key"]


def test_a_split_view_is_refused_by_the_witness_and_kept_as_evidence_it_shows(deployment: Deployment) -> None:
    """A second ledger, same key and origin, another history, sends to the ACLU's witness."""
    held = deployment.cosigned(2)["tree_size"]
    directory = deployment.directory / "split"
    directory.mkdir()
    database_url = f"sqlite:///{directory}/ledger.db"
    signer = Signer(load_or_create_signing_key(Path(deployment.ledger_env["LEDGER_SIGNING_KEY_FILE"])), ORIGIN)
    with Ledger(database_url, signer, load_or_create_master_key(Path(deployment.ledger_env["LEDGER_ENCRYPTION_KEY_FILE"]))) as other:
        for n in range(held + 2):  # a longer, different history
            other.tokens.issue(f"other-{n}", Organization("FRTF"), Role("agency"))
    aclu = deployment.witnesses[0]
    env = {**deployment.ledger_env, "LEDGER_DATABASE_URL": database_url, "LEDGER_WITNESSES": f"{deployment.witness_keys[0]} {aclu.url}"}
    split = ledger_process(directory, env).start("/healthz")
    try:
        deadline = time.monotonic() + 20
        while True:
            [seen] = httpx.get(split.url + "/healthz", timeout=5).json()["witnesses"]
            if seen["up"] is False:
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.1)
        assert seen["last_error"].startswith("HTTP 422")
    finally:
        split.stop()
    status = CliRunner().invoke(app, ["witness", "status", "--state-file", str(aclu.log.parent / "state.db")])
    assert status.exit_code == 1
    assert "kept as evidence" in status.stdout and "does not verify" in status.stdout
    assert deployment.checkpoint()["root_hash"]  # the honest ledger's witness still cosigns it


def test_a_rollback_and_a_bad_proof_are_refused_with_the_specifications_codes(deployment: Deployment) -> None:
    earlier = deployment.cosigned(2)
    _append(deployment, "FRTF-000801")
    latest = deployment.cosigned(2, beyond=earlier["tree_size"])
    monitor, size = deployment.witnesses[1], latest["tree_size"]
    stale = httpx.post(monitor.url + "/add-checkpoint", content=f"old 0\n\n{latest['note']}")
    assert (stale.status_code, stale.headers["content-type"], stale.text) == (409, SIZE_TYPE, f"{size}\n")
    rollback = httpx.post(monitor.url + "/add-checkpoint", content=f"old {size}\n\n{earlier['note']}")
    assert rollback.status_code == 400
    bad_proof = httpx.post(monitor.url + "/add-checkpoint", content=f"old {size}\n{'A' * 43}=\n\n{latest['note']}")
    assert bad_proof.status_code == 422


def test_a_witness_restarted_mid_stream_keeps_its_state_and_cosigns_on(deployment: Deployment) -> None:
    held = deployment.cosigned(2)
    monitor = deployment.witnesses[1]
    monitor.stop()
    _append(deployment, "FRTF-000901")
    monitor.start()
    stale = httpx.post(monitor.url + "/add-checkpoint", content=f"old 0\n\n{held['note']}")
    assert stale.status_code == 409 and int(stale.text) >= held["tree_size"]  # it remembers
    deployment.cosigned(2, beyond=held["tree_size"])


def test_a_witness_that_hangs_does_not_slow_appends(deployment: Deployment) -> None:
    """witness.test/hung accepts connections and never answers: its thread waits, appends do not."""
    seconds = []
    for n in range(10):
        started = time.perf_counter()
        _append(deployment, f"FRTF-0009{10 + n}")
        seconds.append(time.perf_counter() - started)
    assert max(seconds) < 2.0, seconds  # a wait on the witness would take its 10 s request timeout
    health = httpx.get(deployment.ledger.url + "/healthz", timeout=5)
    assert health.status_code == 200
    assert "witness.test/hung" in [w["name"] for w in health.json()["witnesses"]]


def _append(deployment: Deployment, case_id: str) -> None:
    answer = httpx.post(deployment.ledger.url + "/v1/events", json=batch(separation(case_id)), headers=deployment.agency, timeout=10)
    assert answer.status_code in (200, 201), answer.text


def test_a_report_names_the_witnesses_that_cosigned_its_checkpoint_and_an_exhibit_demands_them(
    deployment: Deployment, tmp_path: Path
) -> None:
    body = deployment.cosigned(2)
    report = httpx.get(
        deployment.ledger.url + "/v1/reports/compliance", params={"as_of": body["tree_size"]}, headers=deployment.auditor, timeout=10
    ).json()
    assert report["witnessed"]["witnesses"] == ["witness.test/aclu", "witness.test/monitor"]
    assert report["witnessed"]["tree_size"] >= report["checkpoint"]["tree_size"]
    exhibit = tmp_path / "exhibit.pdf"
    args = ["report", "--as-of", str(body["tree_size"]), "--format", "pdf", "--out", str(exhibit)]
    written = CliRunner().invoke(app, [*args, "--require-witnesses", "2"], env=deployment.ledger_env)
    assert written.exit_code == 0, written.output
    exhibit.unlink()
    refused = CliRunner().invoke(app, [*args, "--require-witnesses", "3"], env=deployment.ledger_env)  # the third hangs
    assert refused.exit_code == 1 and "cosigned by 3 witnesses yet" in refused.output and not exhibit.exists()
