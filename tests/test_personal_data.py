"""Personal data: sealed at rest per case, shown only to those who may read cases (and logged),
and forgotten by destroying the case's keys, leaving every event, leaf, proof and report whole."""

import glob
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from domain.envelope import EventBatch, postings
from domain.errors import BatchRejected
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.personal_data import REDACTED
from ledger.verify import verify_log
from tests.builders import batch, contact, envelope, separation
from tests.harness import Tokens

NAME, PHONE, ADDRESS, NOTE = "Ana Example", "+502 5555 0100", "Calle 5, Zona 1, Quetzaltenango", "prefers mornings"
SECRETS = (NAME, PHONE, ADDRESS, NOTE)


def everything_stored(database_url: str) -> bytes:
    """Every byte the database holds for the ledger: the SQLite file and its WAL, or each table."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = parts.path.removeprefix("/")
        return b"".join(Path(name).read_bytes() for name in glob.glob(f"{path}*"))
    schema = parse_qs(parts.query)["schema"][0]
    dumped = []
    with psycopg.connect(database_url.split("?")[0], autocommit=True) as connection:
        tables = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
        for (table,) in tables:
            for row in connection.execute(f'SELECT * FROM "{schema}"."{table}"'):
                dumped += [value if isinstance(value, bytes) else str(value).encode() for value in row]
    return b"\n".join(dumped)


@pytest.fixture
def family(client: TestClient, tokens: Tokens) -> dict[str, str]:
    """FRTF-1 with a parent's name, a phone number tried, an address and a note; FRTF-2 alongside,
    with nothing personal."""
    first, second = separation("FRTF-1"), separation("FRTF-2")
    first["data"]["parents"] = [{"member_id": "P1", "name": NAME}]
    second["data"]["parents"] = [{"member_id": "P1"}]
    assert client.post("/v1/events", json=batch(first, second), headers=tokens.get("FRTF")).status_code == 201
    tried = contact("FRTF-1", outcome="reached")
    tried["data"]["contact_detail"] = PHONE
    located = envelope("FRTF-1", "ParentLocated", {"country": "GT", "address": ADDRESS, "notes": NOTE})
    other = contact("FRTF-2", outcome="reached")
    del other["data"]["contact_detail"]
    response = client.post("/v1/events", json=batch(tried, located, other), headers=tokens.get("KIND"))
    assert response.status_code == 201, response.text
    return {"identified": first["event_id"], "contact": tried["event_id"]}


def history_text(client: TestClient, tokens: Tokens, case_id: str) -> str:
    response = client.get(f"/v1/cases/{case_id}/events", headers=tokens.get("OIG", "auditor"))
    assert response.status_code == 200, response.text
    return response.text


def test_personal_data_is_stored_sealed_and_read_back_by_those_who_may(
    client: TestClient, tokens: Tokens, family: dict[str, str], database_url: str
) -> None:
    stored = everything_stored(database_url)
    assert b"sealed:v1:" in stored
    for secret in SECRETS:
        assert secret.encode() not in stored, f"{secret!r} is stored in clear"
    history = history_text(client, tokens, "FRTF-1")
    for secret in SECRETS:
        assert secret in history
    case = client.get("/v1/cases/FRTF-1", headers=tokens.get("KIND")).json()
    assert [m["name"] for m in case["members"] if m["member_id"] == "P1"] == [NAME]
    assert client.get("/v1/cases/FRTF-1", headers=tokens.get("MONITOR", "monitor")).status_code == 403


def test_reads_of_personal_data_and_exports_are_in_the_access_log(
    client: TestClient, tokens: Tokens, family: dict[str, str]
) -> None:
    history_text(client, tokens, "FRTF-1")
    client.get("/v1/cases/FRTF-1", headers=tokens.get("KIND"))
    client.get("/v1/cases/FRTF-2", headers=tokens.get("KIND"))  # nothing personal in it: not a read of personal data
    assert client.get("/v1/export", headers=tokens.get("OIG", "auditor")).status_code == 200
    log = client.get("/v1/access-log", headers=tokens.get("OIG", "auditor")).json()["entries"]
    assert [(e["action"], e["case_id"], e["organization"], e["role"]) for e in log] == [
        ("read history", "FRTF-1", "OIG", "auditor"),
        ("read case", "FRTF-1", "KIND", "agency"),
        ("export", None, "OIG", "auditor"),
    ]
    assert all(secret not in json.dumps(log) for secret in SECRETS)
    assert client.get("/v1/access-log", headers=tokens.get("KIND")).status_code == 403
    assert client.get("/v1/access-log", headers=tokens.get("MONITOR", "monitor")).status_code == 403


def test_a_retry_matches_by_a_keyed_digest_that_does_not_reveal_the_values(
    client: TestClient, tokens: Tokens, family: dict[str, str], database_url: str
) -> None:
    again = contact("FRTF-1", outcome="reached")
    again["data"]["contact_detail"] = PHONE
    first = client.post("/v1/events", json=batch(again), headers=tokens.get("KIND"))
    retry = client.post("/v1/events", json=batch(again), headers=tokens.get("KIND"))
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    changed = {**again, "data": {**again["data"], "contact_detail": "+502 5555 0199"}}
    assert client.post("/v1/events", json=batch(changed), headers=tokens.get("KIND")).status_code == 409
    [posting] = postings(EventBatch.model_validate(batch(again)))
    assert posting.digest("KIND").encode() not in everything_stored(database_url)  # not the plain hash


def test_a_correction_of_a_personal_value_is_sealed_too(client: TestClient, tokens: Tokens, family: dict[str, str]) -> None:
    fixed = envelope("FRTF-1", "EntryCorrected", {"event_id": family["contact"], "changes": {"contact_detail": "+502 5555 0177"}, "reason": "typo"})
    assert client.post("/v1/events", json=batch(fixed), headers=tokens.get("KIND")).status_code == 201
    long_name = envelope(
        "FRTF-1", "EntryCorrected",
        {"event_id": family["identified"], "changes": {"parents": [{"member_id": "P1", "name": "N" * 200}]}, "reason": "full name"},
    )
    assert client.post("/v1/events", json=batch(long_name), headers=tokens.get("FRTF")).status_code == 201
    case = client.get("/v1/cases/FRTF-1", headers=tokens.get("KIND")).json()
    assert [m["name"] for m in case["members"] if m["member_id"] == "P1"] == ["N" * 200]
    assert "+502 5555 0177" in history_text(client, tokens, "FRTF-1")


def test_sealed_values_cannot_be_posted_and_a_ledger_without_a_key_takes_no_personal_data(
    client: TestClient, tokens: Tokens, database_url: str
) -> None:
    forged = separation("FRTF-3")
    forged["data"]["parents"] = [{"member_id": "P1", "name": "sealed:v1:abc:AAAA"}]
    response = client.post("/v1/events", json=batch(forged), headers=tokens.get("FRTF"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "data.parents[0].name"
    with Ledger(database_url) as keyless:
        keyless.tokens.issue("frtf-keyless", Organization.FRTF, Role.AGENCY)
        principal = keyless.tokens.principal_named("frtf-keyless")
        assert principal is not None
        with pytest.raises(BatchRejected) as refused:
            keyless.appender.append(postings(EventBatch.model_validate(batch(separation("FRTF-4")))), principal)
        assert refused.value.problems[0].field == "data"


def test_a_sealed_value_does_not_open_under_another_case(ledger: Ledger) -> None:
    ledger.tokens.issue("frtf-sealing", Organization.FRTF, Role.AGENCY)
    principal = ledger.tokens.principal_named("frtf-sealing")
    assert principal is not None
    first, second = separation("FRTF-1"), separation("FRTF-2")
    first["data"]["parents"] = [{"member_id": "P1", "name": NAME}]
    second["data"]["parents"] = [{"member_id": "P1", "name": "Otra Persona"}]
    ledger.appender.append(postings(EventBatch.model_validate(batch(first, second))), principal)
    [sealed] = [event.data for _, event in ledger.reader.log(0, 100) if event.case_id == "FRTF-1"]
    assert sealed["parents"][0]["name"].startswith("sealed:v1:")
    revealed, opened = ledger.reader.reveal("FRTF-1", sealed)
    assert (revealed["parents"][0]["name"], opened) == (NAME, 1)
    revealed, opened = ledger.reader.reveal("FRTF-2", sealed)
    assert (revealed["parents"][0]["name"], opened) == (REDACTED, 0)


def test_forgetting_a_family_redacts_its_personal_data_everywhere_and_changes_no_proof(
    client: TestClient, tokens: Tokens, family: dict[str, str], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    signing_key_file: Path,
) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    monitor, auditor = tokens.get("MONITOR", "monitor"), tokens.get("OIG", "auditor")
    before = ledger.store.tree_size()
    report_before = client.get("/v1/reports/compliance", params={"as_of": str(before)}, headers=monitor).content
    checkpoint = client.get("/v1/checkpoint", headers=auditor).json()
    leaves = ledger.store.leaf_hashes(1, before)

    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(signing_key_file))  # the key the app signed with
    forgot = CliRunner().invoke(app, ["forget", "FRTF-1", "--reason", "erasure requested through class counsel"])
    assert forgot.exit_code == 0, forgot.output
    assert "keys destroyed" in forgot.stderr

    history = history_text(client, tokens, "FRTF-1")
    for secret in SECRETS:
        assert secret not in history
    assert history.count(REDACTED) == 4
    assert PHONE not in json.dumps(client.get("/v1/cases/FRTF-1", headers=tokens.get("KIND")).json())
    assert "PersonalDataForgotten" in history
    assert ledger.store.case_keys(["FRTF-1"]) == {}
    assert ledger.store.leaf_hashes(1, before) == leaves
    assert client.get("/v1/reports/compliance", params={"as_of": str(before)}, headers=monitor).content == report_before
    proof = client.get(
        "/v1/proofs/consistency", params={"first": checkpoint["tree_size"], "second": ledger.store.tree_size()}, headers=auditor
    )
    assert proof.status_code == 200
    assert verify_log(ledger.store, None, None).ok
    actions = [e["action"] for e in client.get("/v1/access-log", headers=auditor).json()["entries"]]
    assert "forget" in actions

    # The family's other records stay readable; a retry of a forgotten envelope cannot be matched.
    assert "+502" not in history and client.get("/v1/cases/FRTF-2", headers=tokens.get("KIND")).status_code == 200
    replay = contact("FRTF-1", outcome="reached")
    replay["event_id"] = family["contact"]
    replay["data"]["contact_detail"] = PHONE
    assert client.post("/v1/events", json=batch(replay), headers=tokens.get("KIND")).status_code == 409
    # New personal data after forgetting gets a new key and reads back.
    newer = contact("FRTF-1", outcome="reached")
    newer["data"]["contact_detail"] = "+502 5555 0142"
    assert client.post("/v1/events", json=batch(newer), headers=tokens.get("KIND")).status_code == 201
    assert "+502 5555 0142" in history_text(client, tokens, "FRTF-1")


def test_forget_fails_with_one_line_for_an_unknown_case(
    database_url: str, ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing-key.pem"))
    result = CliRunner().invoke(app, ["forget", "FRTF-404", "--reason", "test"])
    assert result.exit_code == 1
    assert "there is no case FRTF-404" in result.stderr
    blank = CliRunner().invoke(app, ["forget", "FRTF-404", "--reason", ""])
    assert blank.exit_code == 1


def test_forget_finish_of_an_unknown_case_fails_naming_it(
    database_url: str, ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: `ledger forget NOPE --finish` exited 0, as if there were nothing left to finish of a case."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing-key.pem"))
    result = CliRunner().invoke(app, ["forget", "FRTF-404", "--finish"])
    assert result.exit_code == 1
    assert "there is no case FRTF-404" in result.stderr
