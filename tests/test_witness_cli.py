"""`ledger witness key|serve|status` and `ledger serve`'s LEDGER_WITNESSES, as an operator meets
them: a key printed in the form the ledger and policies read, and bad configuration refused with a
one-line reason and a non-zero exit before anything is served."""

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from api.cli import app
from ledger.vkeys import COSIGNATURE_ED25519, parse_verifier_key
from tests.test_cli import assert_fails_with_one_line_reason
from tests.witness_logs import ToyLog
from witness.service import Cosigner, Witness
from witness.state import WitnessState

runner = CliRunner()


def test_witness_key_prints_a_stable_cosignature_key_kept_in_a_private_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "witness.pem"
    first = runner.invoke(app, ["witness", "key", "--name", "witness.test/aclu", "--key-file", str(key_file)])
    again = runner.invoke(app, ["witness", "key", "--name", "witness.test/aclu", "--key-file", str(key_file)])
    assert first.exit_code == 0 and first.stdout == again.stdout
    key = parse_verifier_key(first.stdout.strip(), COSIGNATURE_ED25519)
    assert key.name == "witness.test/aclu"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ("# nothing here\n", "no `log <verifier key>` line"),
        ("log example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\n", "line 1"),
        (None, "No such file"),
    ],
)
def test_witness_serve_refuses_a_bad_log_list_before_serving(tmp_path: Path, config: str | None, reason: str) -> None:
    logs = tmp_path / "logs.policy"
    if config is not None:
        logs.write_text(config)
    result = runner.invoke(
        app,
        ["witness", "serve", "--name", "w.test/w", "--config", str(logs), "--key-file", str(tmp_path / "k.pem"),
         "--state-file", str(tmp_path / "w.db"), "--port", "1"],
    )
    assert_fails_with_one_line_reason(result, reason)
    assert not (tmp_path / "k.pem").exists(), "a configuration refused makes no key"  # found: it made one first


def test_witness_status_says_when_nothing_was_refused_and_fails_without_a_state(tmp_path: Path) -> None:
    assert_fails_with_one_line_reason(runner.invoke(app, ["witness", "status", "--state-file", str(tmp_path / "none.db")]), "no witness state")
    log = ToyLog.new()
    log.grow(3)
    witness = Witness(Cosigner(Ed25519PrivateKey.generate(), "w.test/w"), {log.signer.origin: parse_verifier_key(log.vkey)}, WitnessState(tmp_path / "w.db"))
    assert witness.add_checkpoint(log.request(0)).status == 200
    shown = runner.invoke(app, ["witness", "status", "--state-file", str(tmp_path / "w.db")])
    assert shown.exit_code == 0
    assert log.signer.origin in shown.stdout and "no fork or inconsistency recorded" in shown.stdout


def test_ledger_serve_refuses_bad_ledger_witnesses_with_a_one_line_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("LEDGER_WITNESSES", "not-a-key http://127.0.0.1:1")
    assert_fails_with_one_line_reason(runner.invoke(app, ["serve", "--port", "1"]), "LEDGER_WITNESSES", code=2)


@pytest.mark.parametrize(
    ("url", "reason"),
    [("http://127.0.0.1:99999", "invalid host or port"), ("http://user:secret@127.0.0.1:8100", "user info")],
    ids=["port-out-of-range", "user-info"],
)
def test_ledger_serve_refuses_a_witness_url_it_could_not_use_or_would_show_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    """One line, exit 2, no banner and no traceback; a password given is never repeated."""
    key = str(Cosigner(Ed25519PrivateKey.generate(), "w.test/w").key)
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("LEDGER_WITNESSES", f"{key} {url}")
    line = assert_fails_with_one_line_reason(runner.invoke(app, ["serve", "--port", "1"]), "LEDGER_WITNESSES", reason, code=2)
    assert "secret" not in line
