"""The auditors' export download on both backends: a streamed .tar.gz holding the very files
`ledger export` writes, which untar into a bundle its own verify.py accepts; recorded in the
access log; for auditors only."""

import io
import tarfile
from pathlib import Path

from fastapi.testclient import TestClient

from ledger import export
from tests.builders import batch, contact, separation
from tests.harness import Tokens
from tests.offline import verify_py
from tests.test_dashboard import sign_in


def test_the_tar_gz_untars_into_the_bundle_ledger_export_writes_and_its_verify_py_accepts_it(
    client: TestClient, tokens: Tokens, tmp_path: Path
) -> None:
    assert client.post("/v1/events", json=batch(separation("FRTF-EXP-1"), separation("FRTF-EXP-2")), headers=tokens.get("FRTF")).status_code == 201
    assert client.post("/v1/events", json=batch(contact("FRTF-EXP-1", "reached")), headers=tokens.get("KIND")).status_code == 201
    secret = tokens.secret("OIG", "auditor")
    sign_in(client, secret)
    ledger = client.app.state.ledger  # type: ignore[attr-defined]

    with client.stream("GET", "/audit/export.tar.gz") as response:
        assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
        body = b"".join(response.iter_bytes())

    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        archive.extractall(tmp_path / "untarred", filter="data")
    size = ledger.store.tree_size()
    [bundle] = (tmp_path / "untarred").iterdir()
    assert bundle.name == f"ledger-bundle-{size}"
    outcome = verify_py(bundle)
    assert outcome.exit_code == 0, outcome.stderr
    assert f"{size} events" in outcome.stdout
    written = tmp_path / "written"
    export.write_bundle(ledger, written)
    assert {f.name: f.read_bytes() for f in bundle.iterdir()} == {f.name: f.read_bytes() for f in written.iterdir()}
    assert (bundle / "verify.py").stat().st_mode & 0o111, "verify.py is executable"
    [line] = [entry for entry in ledger.store.access_log(0, 1000) if entry["action"] == "export"]
    assert line["token"] == secret.split(".")[0] and f"tree size {size} as .tar.gz" in line["detail"]


def test_a_monitor_may_not_download_the_export(client: TestClient, tokens: Tokens) -> None:
    sign_in(client, tokens.secret("MONITOR", "monitor"))

    response = client.get("/audit/export.tar.gz")

    assert response.status_code == 403
    assert not [entry for entry in client.app.state.ledger.store.access_log(0, 100) if entry["action"] == "export"]  # type: ignore[attr-defined]
