"""The export bundle: what it holds, that it is deterministic and streamed, and that both offline
verifiers (`python3 verify.py DIR` and `ledger verify DIR`) accept it, on SQLite and PostgreSQL.

The bundle's receipts, checkpoints and consistency proofs are cross-checked against what the API
serves; tampering with bundles is in test_bundle_tampering.py.
"""

import ast
import base64
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings
from typer.testing import CliRunner

from api.cli import app
from ledger import bundle_events, bundle_format, export, leaves, merkle
from ledger.application import Ledger
from ledger.vkeys import log_verifier_key
from tests.builders import batch, contact, preference, separation
from tests.harness import Tokens
from tests.offline import both_verifiers, verify_py
from tests.test_leaves import any_leaf_fields, published_leaf_input
from tests.test_tampering import build_log


def post(client: TestClient, headers: dict[str, str], *envelopes: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/v1/events", json=batch(*envelopes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["receipts"]  # type: ignore[no-any-return]


def grow(client: TestClient, tokens: Tokens, *cases: int) -> None:
    """Families (by number) identified and contacted, in several batches."""
    frtf, kind = tokens.get("FRTF"), tokens.get("KIND")
    for n in cases:
        post(client, frtf, separation(f"FRTF-{n:06d}", children=("C1", "C2")))
        post(client, kind, contact(f"FRTF-{n:06d}"), contact(f"FRTF-{n:06d}", "reached"), preference(f"FRTF-{n:06d}"))


@pytest.fixture
def auditor(tokens: Tokens) -> dict[str, str]:
    return tokens.get("OIG", "auditor")


@pytest.fixture
def history(client: TestClient, tokens: Tokens, auditor: dict[str, str]) -> TestClient:
    """A log with three published checkpoints along the way."""
    grow(client, tokens, 0)
    assert client.get("/v1/checkpoint", headers=auditor).status_code == 200
    grow(client, tokens, 1, 2)
    assert client.get("/v1/checkpoint", headers=auditor).status_code == 200
    post(client, tokens.get("KIND"), contact("FRTF-000001", "wrong_person"))
    return client


def unzip(content: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        [folder] = {name.split("/")[0] for name in archive.namelist()}
        archive.extractall(into)
    return into / folder


def export_via_api(client: TestClient, auditor: dict[str, str], into: Path) -> Path:
    response = client.get("/v1/export", headers=auditor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return unzip(response.content, into)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- an untouched bundle --------------------------------------------------------------------------


def test_an_exported_bundle_verifies_with_its_own_verify_py_and_with_ledger_verify_dir(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    bundle = export_via_api(history, auditor, tmp_path)
    size = history.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]

    for outcome in both_verifiers(bundle):
        assert outcome.exit_code == 0, outcome.stderr
        assert f"verified {size} events and 3 signed checkpoints" in " ".join(outcome.stdout.split())


def test_the_bundle_holds_every_event_with_the_receipt_the_api_gives_and_the_exact_stored_payload(
    history: TestClient, tokens: Tokens, auditor: dict[str, str], tmp_path: Path
) -> None:
    ledger: Ledger = history.app.state.ledger  # type: ignore[attr-defined]
    bundle = export_via_api(history, auditor, tmp_path)
    events = lines(bundle / "events.jsonl")

    assert [e["position"] for e in events] == list(range(1, ledger.store.tree_size() + 1))
    replayed = history.get("/v1/cases/FRTF-000001/events", headers=auditor).json()["events"]
    by_event_id = {e["event_id"]: e for e in events}
    for item in replayed:
        receipt = item["receipt"]
        assert {key: by_event_id[item["event_id"]][key] for key in receipt} == receipt
    stored = {logged.position: logged.stored.state for logged in ledger.store.iter_logged()}
    raw = (bundle / "events.jsonl").read_bytes().splitlines()
    member = bundle_events.PAYLOAD_MEMBER.encode()
    assert [line[line.index(member) + len(member) : -1] for line in raw] == [stored[e["position"]] for e in events]
    assert all(e["payload"] == json.loads(stored[e["position"]]) for e in events)
    assert (bundle / "leaves.txt").read_text().split() == [e["leaf_hash"] for e in events]


def test_the_bundle_holds_every_published_checkpoint_with_the_apis_consistency_proofs_between_them(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    bundle = export_via_api(history, auditor, tmp_path)
    checkpoints = lines(bundle / "checkpoints.jsonl")

    sizes = [c["tree_size"] for c in checkpoints]
    assert len(sizes) == 3 and sizes == sorted(sizes)
    assert sizes[-1] == history.app.state.ledger.store.tree_size(), "the export signs the head"  # type: ignore[attr-defined]
    for checkpoint in checkpoints:
        served = history.get("/v1/checkpoint", params={"tree_size": checkpoint["tree_size"]}, headers=auditor).json()
        assert {key: served[key] for key in ("tree_size", "root_hash", "timestamp", "note", "origin")} == {
            key: checkpoint[key] for key in ("tree_size", "root_hash", "timestamp", "note", "origin")
        }
    for earlier, later in zip(checkpoints, checkpoints[1:]):
        proof = history.get(
            "/v1/proofs/consistency", params={"first": earlier["tree_size"], "second": later["tree_size"]}, headers=auditor
        ).json()
        assert later["consistency_proof"] == proof["proof"]
    log = json.loads((bundle / "log.json").read_text())
    assert base64.b64decode(log["public_key"]) == history.app.state.ledger.signer.public_key_raw  # type: ignore[attr-defined]


def test_the_same_log_exports_the_same_bytes_as_a_zip_and_as_files(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    first = history.get("/v1/export", headers=auditor).content
    second = history.get("/v1/export", headers=auditor).content
    ledger: Ledger = history.app.state.ledger  # type: ignore[attr-defined]
    written = export.write_bundle(ledger, tmp_path / "written")

    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        members = {Path(info.filename).name: archive.read(info) for info in archive.infolist()}
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert members == {path.name: path.read_bytes() for path in (tmp_path / "written").iterdir()}
    assert written.tree_size == ledger.store.tree_size()
    manifest = (tmp_path / "written" / "MANIFEST.sha256").read_text().splitlines()
    assert [line.split("  ")[1] for line in manifest] == sorted(bundle_format.BUNDLE_FILES)


def test_the_zip_is_streamed_a_page_of_the_log_at_a_time(
    history: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger: Ledger = history.app.state.ledger  # type: ignore[attr-defined]
    monkeypatch.setattr(export, "EVENTS_PAGE", 2)
    read: list[int] = []
    original = ledger.store.logged_after

    def logged_after(after: int, limit: int) -> Any:
        read.append(limit)
        return original(after, limit)

    monkeypatch.setattr(ledger.store, "logged_after", logged_after)
    chunks = list(export.zip_stream(ledger, export.snapshot(ledger)))

    assert max(read) <= 2 and len(read) >= ledger.store.tree_size() // 2
    assert len(chunks) > len(read), "each page is sent on before the next is read"


def test_ledger_export_writes_a_bundle_that_verifies_and_refuses_a_directory_in_use(
    database_url: str, master_key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_log(database_url, master_key)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "keys" / "signing-key.pem"))
    monkeypatch.setenv("LEDGER_ORIGIN", "cli.test/ms-l")
    runner = CliRunner()

    written = runner.invoke(app, ["export", "--out", str(tmp_path / "bundle")])
    again = runner.invoke(app, ["export", "--out", str(tmp_path / "bundle")])

    assert written.exit_code == 0, written.output
    assert "exported 12 events and 1 signed checkpoints" in " ".join(written.stdout.split())
    assert verify_py(tmp_path / "bundle").exit_code == 0
    assert again.exit_code == 1 and isinstance(again.exception, SystemExit)
    assert len(again.stderr.strip().splitlines()) == 1 and "not an empty directory" in " ".join(again.stderr.split())


def test_ledger_export_where_no_directory_can_be_made_signs_nothing(
    database_url: str, master_key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: an export refused for its --out (under a file) had already signed a new checkpoint."""
    build_log(database_url, master_key)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "keys" / "signing-key.pem"))
    (tmp_path / "a-file").write_text("not a directory")

    refused = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "a-file" / "bundle")])

    assert refused.exit_code == 1 and "cannot export" in " ".join(refused.stderr.split()), refused.output
    with Ledger(database_url, master_key=master_key) as ledger:
        assert ledger.signed_heads.published() == [], "no checkpoint was signed"


def test_only_auditors_may_export(client: TestClient, tokens: Tokens) -> None:
    for organization, role in (("FRTF", "agency"), ("MONITOR", "monitor"), ("FRTF", "admin")):
        response = client.get("/v1/export", headers=tokens.get(organization, role))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/export").status_code == 401


def test_an_empty_log_exports_a_bundle_that_verifies(client: TestClient, tokens: Tokens, tmp_path: Path) -> None:
    auditor = tokens.get("OIG", "auditor")  # issuing it is the log's first event

    bundle = export_via_api(client, auditor, tmp_path)

    assert all(outcome.exit_code == 0 for outcome in both_verifiers(bundle))


# --- the keys and checkpoints an auditor brings -------------------------------------------------


def test_pinning_the_ledgers_published_key_passes_and_pinning_another_fails(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    bundle = export_via_api(history, auditor, tmp_path)
    published = history.get("/v1/checkpoint", headers=auditor).json()["public_key"]
    other = base64.b64encode(bytes(range(32))).decode()

    for outcome in both_verifiers(bundle, "--public-key", published):
        assert outcome.exit_code == 0, outcome.stderr
        assert "the key you pinned" in outcome.stdout
    for outcome in both_verifiers(bundle, "--public-key", other):
        assert outcome.exit_code == 1
        assert "not by the key you pinned" in outcome.report


def test_the_verifier_key_ledger_checkpoint_shows_can_be_pinned_as_it_is_printed(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    """Found: `ledger checkpoint --show-key` printed a verifier key that --public-key refused."""
    bundle = export_via_api(history, auditor, tmp_path)
    signer = history.app.state.ledger.signer  # type: ignore[attr-defined]
    shown = log_verifier_key(signer.origin, signer.public_key_raw)
    name, _, material = shown.split("+", 2)

    for outcome in both_verifiers(bundle, "--public-key", shown):
        assert outcome.exit_code == 0, outcome.stderr
        assert "the key you pinned" in outcome.stdout
    other = log_verifier_key(signer.origin, bytes(range(32)))
    for outcome in both_verifiers(bundle, "--public-key", other):
        assert outcome.exit_code == 1
        assert "not by the key you pinned" in outcome.report
    mistyped = f"{name}+{'0' * 8}+{material}"  # a key ID that does not match its key
    for outcome in both_verifiers(bundle, "--public-key", mistyped):
        assert outcome.exit_code == 2 and "does not match its key" in outcome.stderr, outcome.stderr


def test_a_checkpoint_saved_earlier_must_agree_with_the_bundle(
    client: TestClient, tokens: Tokens, auditor: dict[str, str], tmp_path: Path
) -> None:
    grow(client, tokens, 0)
    saved = tmp_path / "saved.note"
    saved.write_text(client.get("/v1/checkpoint", headers=auditor).json()["note"], encoding="utf-8")
    grow(client, tokens, 1)
    bundle = export_via_api(client, auditor, tmp_path / "now")

    for outcome in both_verifiers(bundle, "--checkpoint", str(saved)):
        assert outcome.exit_code == 0, outcome.stderr
        assert "agree with your 1 saved checkpoint" in " ".join(outcome.stdout.split())
    forged = tmp_path / "forged.note"
    forged.write_text(saved.read_text().replace("\n\n", "\nextra\n\n"), encoding="utf-8")
    for outcome in both_verifiers(bundle, "--checkpoint", str(forged)):
        assert outcome.exit_code == 1
        assert "your checkpoint #1 is not validly signed" in outcome.report


# --- verify.py is the server's verification code, and the standard library's only ----------------


def test_verify_py_is_generated_from_the_servers_modules_and_imports_only_the_standard_library(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    source = (export_via_api(history, auditor, tmp_path) / "verify.py").read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 9))  # the grammar of the oldest Python it promises

    merkle_source = Path(merkle.__file__).read_text(encoding="utf-8")
    body = merkle_source[merkle_source.index("def verify_consistency") :]
    assert body in source, "ledger/merkle.py is in verify.py verbatim"
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "argparse", "base64", "collections", "dataclasses", "datetime", "hashlib",
                        "json", "os", "re", "sys", "threading", "typing", "unicodedata"}


def python39() -> str | None:
    """A working Python 3.9 interpreter: on the PATH, or one pyenv installed."""
    candidates = [shutil.which("python3.9"), *map(str, Path("~/.pyenv/versions").expanduser().glob("3.9*/bin/python3.9"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if probe.stdout.strip() == "(3, 9)":
            return candidate
    return None


def test_verify_py_runs_on_the_oldest_python_it_promises(
    history: TestClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    python = python39()
    if python is None:
        pytest.skip("no Python 3.9 here: verify.py's promise of 3.9+ was not checked")
    bundle = export_via_api(history, auditor, tmp_path)

    done = subprocess.run([python, "-I", "-S", str(bundle / "verify.py"), str(bundle)], capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout


@settings(max_examples=200, deadline=None)
@any_leaf_fields
def test_the_verifiers_leaf_is_the_published_json_formula_and_the_servers_leaf(
    position: int, stream: str, version: int, event_type: str, recorded_at: str, payload: bytes
) -> None:
    published = published_leaf_input(position, stream, version, event_type, recorded_at, payload)

    assert bundle_format.leaf_input(position, stream, version, event_type, recorded_at, payload) == published
    assert leaves.leaf_input(position, stream, version, event_type, recorded_at, payload) == published
