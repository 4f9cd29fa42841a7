"""Reports bound to witnessed checkpoints (issue 18): every form of the report names the earliest
checkpoint at or after its point that witnesses cosigned, and who did, or says it is not yet
witnessed; `ledger report --require-witnesses k` refuses a court exhibit without k of them.

Cosignatures are stored here as the collector stores them once verified (ledger/witnessing.py);
tests/test_witness_processes.py has the same with real witnesses."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.recorders.cosignature_records import StoredCosignature
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_dashboard import sign_in
from tests.test_cli import Run, cli, key_file  # noqa: F401

REPORT = "/v1/reports/compliance"


def cosign(ledger: Ledger, tree_size: int, *witnesses: str) -> None:
    for name in witnesses:
        ledger.store.insert_cosignature(StoredCosignature(tree_size, name, "0a0b0c0d", 1_700_000_000, f"— {name} x", "2026-01-01T00:00:00Z"))


def post_and_sign(client: TestClient, tokens: Tokens, case: str) -> int:
    posted = client.post("/v1/events", json=batch(separation(case)), headers=tokens.get("FRTF"))
    assert posted.status_code == 201, posted.text
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    return ledger.signed_heads.sign().tree_size


def test_a_report_says_not_yet_witnessed_then_names_the_earliest_cosigned_checkpoint_at_or_after_it(
    client: TestClient, tokens: Tokens
) -> None:
    monitor = tokens.get("MONITOR", "monitor")
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    first = post_and_sign(client, tokens, "FRTF-000001")
    second = post_and_sign(client, tokens, "FRTF-000002")
    third = post_and_sign(client, tokens, "FRTF-000003")

    unwitnessed = client.get(REPORT, params={"as_of": first}, headers=monitor)
    assert unwitnessed.json()["witnessed"] == {"tree_size": None, "root_hash": None, "witnesses": []}
    for fmt in ("csv", "csv-tables", "html"):
        assert "not yet witnessed" in client.get(REPORT, params={"as_of": first, "format": fmt}, headers=monitor).text

    cosign(ledger, second, "witness.test/aclu")
    cosign(ledger, third, "witness.test/aclu", "witness.test/monitor")
    report = client.get(REPORT, params={"as_of": first}, headers=monitor).json()
    assert report["checkpoint"]["tree_size"] == first
    assert report["witnessed"] == {
        "tree_size": second,
        "root_hash": ledger.signed_heads.at(second).root_hash.hex(),  # type: ignore[union-attr]
        "witnesses": ["witness.test/aclu"],
    }
    named = "cosigned by witness.test/aclu at tree size"
    for fmt in ("csv", "csv-tables", "html"):
        assert named in client.get(REPORT, params={"as_of": first, "format": fmt}, headers=monitor).text
    # A later point than any cosigned checkpoint is not yet witnessed.
    later = post_and_sign(client, tokens, "FRTF-000004")
    assert client.get(REPORT, params={"as_of": later}, headers=monitor).json()["witnessed"]["witnesses"] == []


def test_the_dashboard_names_the_witnesses_of_its_report(client: TestClient, tokens: Tokens) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    secret = tokens.secret("MONITOR", "monitor")  # issued (a token is an event) before the signed checkpoint
    size = post_and_sign(client, tokens, "FRTF-000001")
    sign_in(client, secret)
    assert "not yet witnessed" in client.get("/").text
    cosign(ledger, size, "witness.test/oig")
    assert "cosigned by witness.test/oig at tree size" in client.get("/").text


def test_a_court_exhibit_requiring_witnesses_is_refused_without_them_and_writes_nothing(
    cli: Run, ledger: Ledger, tmp_path: Path
) -> None:
    assert cli("demo", "--cases", 3).exit_code == 0
    size = ledger.signed_heads.sign().tree_size
    exhibit = tmp_path / "exhibit.json"

    refused = cli("report", "--as-of", size, "--require-witnesses", 1, "--out", exhibit)
    assert refused.exit_code == 1 and "cosigned by 1 witness yet" in refused.output and not exhibit.exists()

    cosign(ledger, size, "witness.test/aclu")
    refused = cli("report", "--as-of", size, "--require-witnesses", 2, "--out", exhibit)
    assert refused.exit_code == 1 and "cosigned by 2 witnesses yet" in refused.output and not exhibit.exists()

    cosign(ledger, size, "witness.test/monitor")
    written = cli("report", "--as-of", size, "--require-witnesses", 2, "--out", exhibit)
    assert written.exit_code == 0, written.output
    assert json.loads(exhibit.read_text())["witnessed"]["witnesses"] == ["witness.test/aclu", "witness.test/monitor"]


@pytest.mark.parametrize("bad", ["-1", "many"])
def test_require_witnesses_takes_a_count(cli: Run, bad: str) -> None:
    assert cli("report", "--require-witnesses", bad).exit_code == 2
