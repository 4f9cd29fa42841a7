"""Step definitions for auditing.feature (run on SQLite and on PostgreSQL)."""

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from typer.testing import CliRunner

from api.cli import app
from ledger import merkle
from ledger.personal_data import REDACTED
from ledger.application import Ledger
from ledger.verify import verify_log
from tests.builders import batch, contact, envelope, preference, separation
from tests.harness import ORIGIN, Tokens
from tests.offline import bundled_verifier, ledger_verify, verify_py
from tests.test_tampering import Attacker

scenarios("auditing.feature")


class World:
    """The auditor's view: the last history read, the bundle, the saved checkpoint, the last proof."""

    def __init__(self, client: TestClient, tokens: Tokens, database_url: str, tmp_path: Path) -> None:
        self.client = client
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.headers = {"FRTF": tokens.get("FRTF"), "KIND": tokens.get("KIND"), "auditor": tokens.get("OIG", "auditor")}
        self.history: list[dict[str, Any]] = []
        self.bundle = Path()
        self.saved: dict[str, Any] = {}
        self.proof: dict[str, Any] = {}
        self.tampered_position = 0
        self.amendments: list[dict[str, Any]] = []

    @property
    def ledger(self) -> Ledger:
        return self.client.app.state.ledger  # type: ignore[attr-defined,no-any-return]

    def post(self, agency: str, *envelopes: dict[str, Any]) -> None:
        response = self.client.post("/v1/events", json=batch(*envelopes), headers=self.headers[agency])
        assert response.status_code == 201, response.text

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers["auditor"])
        assert response.status_code == 200, response.text
        return response

    def contact_attempts(self, case_id: str) -> list[dict[str, Any]]:
        return [e for e in self.get(f"/v1/cases/{case_id}/events").json()["events"] if e["type"] == "ContactAttempted"]

    def first_contact_position(self, case_id: str) -> int:
        history = self.get(f"/v1/cases/{case_id}/events").json()["events"]
        return next(e["receipt"]["position"] for e in history if e["type"] == "ContactAttempted")


@pytest.fixture
def world(client: TestClient, tokens: Tokens, database_url: str, tmp_path: Path) -> World:
    return World(client, tokens, database_url, tmp_path)


@given(parsers.parse("the Task Force has identified the separation of family {case_id} with child {child}"))
def identified(world: World, case_id: str, child: str) -> None:
    world.post("FRTF", separation(case_id, children=(child,)))


@given(parsers.parse("KIND has recorded two contact attempts and a preference for {case_id}"))
def worked_on(world: World, case_id: str) -> None:
    world.post("KIND", contact(case_id, "no_answer"), contact(case_id, "reached"))
    world.post("KIND", preference(case_id))


@given("the auditor has exported the log")
@when("the auditor exports the log")
def exported(world: World) -> None:
    response = world.get("/v1/export")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(world.tmp_path / "export")
    [world.bundle] = (world.tmp_path / "export").iterdir()


@given("the latest checkpoint has been signed")
def signed(world: World) -> None:
    world.get("/v1/checkpoint")


@given("the auditor has saved the signed checkpoint")
def saved_checkpoint(world: World) -> None:
    world.saved = world.get("/v1/checkpoint").json()


@when(parsers.parse("the auditor replays the history of {case_id}"))
def replay(world: World, case_id: str) -> None:
    world.history = world.get(f"/v1/cases/{case_id}/events").json()["events"]


@given(parsers.parse("KIND has corrected the outcome of the first contact attempt of {case_id} to {outcome}"))
def corrected(world: World, case_id: str, outcome: str) -> None:
    first = world.contact_attempts(case_id)[0]
    fix = envelope(case_id, "EntryCorrected", {"event_id": first["event_id"], "changes": {"outcome": outcome}, "reason": "misread"})
    world.post("KIND", fix)
    world.amendments.append(fix)


@given(parsers.parse("KIND has retracted the second contact attempt of {case_id} as {reason}"))
def retracted(world: World, case_id: str, reason: str) -> None:
    second = world.contact_attempts(case_id)[1]
    withdrawn = envelope(case_id, "EntryRetracted", {"event_id": second["event_id"], "reason": reason})
    world.post("KIND", withdrawn)
    world.amendments.append(withdrawn)


@when(parsers.parse("the auditor replays the history of {case_id} two events at a time"))
def replay_in_pages(world: World, case_id: str) -> None:
    world.history, after = [], 0
    while after is not None:
        page = world.get(f"/v1/cases/{case_id}/events", after=after, limit=2).json()
        assert len(page["events"]) <= 2
        world.history += page["events"]
        after = page["next_after"]


@then(parsers.parse("the first contact attempt still reads {recorded}, marked corrected to {outcome} by the correction's position"))
def marked_corrected(world: World, recorded: str, outcome: str) -> None:
    first = next(e for e in world.history if e["type"] == "ContactAttempted")
    correction = next(e for e in world.history if e["type"] == "EntryCorrected")
    assert first["data"]["outcome"] == recorded
    [mark] = first["corrections"]
    assert (mark["event_id"], mark["position"], mark["changes"]) == (
        correction["event_id"], correction["receipt"]["position"], {"outcome": outcome}
    )
    assert first["retraction"] is None


@then(parsers.parse("the second contact attempt is marked retracted by the retraction's position, as {reason}"))
def marked_retracted(world: World, reason: str) -> None:
    second = [e for e in world.history if e["type"] == "ContactAttempted"][1]
    retraction = next(e for e in world.history if e["type"] == "EntryRetracted")
    assert second["retraction"] == {
        "event_id": retraction["event_id"], "position": retraction["receipt"]["position"],
        "version": retraction["receipt"]["version"], "reason": reason,
    }
    assert second["corrections"] == []


@then("the correction and the retraction stand in the history as they were posted")
def amendments_as_posted(world: World) -> None:
    posted = {amendment["event_id"]: amendment for amendment in world.amendments}
    shown = [e for e in world.history if e["event_id"] in posted]
    assert [(e["type"], e["data"]) for e in shown] == [(a["type"], a["data"]) for a in world.amendments]
    assert all(e["corrections"] == [] and e["retraction"] is None for e in shown)


@when(parsers.parse("someone changes the outcome of the first contact attempt of {case_id} in the bundle"))
def tamper_bundle(world: World, case_id: str) -> None:
    world.tampered_position = world.first_contact_position(case_id)
    path = world.bundle / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    line = lines[world.tampered_position - 1]  # the stored payload sits verbatim in the line
    assert '"outcome":"no_answer"' in line
    lines[world.tampered_position - 1] = line.replace('"outcome":"no_answer"', '"outcome":"reached"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@when(parsers.parse("someone changes the outcome of the first contact attempt of {case_id} in the database"))
def tamper_database(world: World, case_id: str) -> None:
    world.tampered_position = world.first_contact_position(case_id)
    attacker = Attacker(world.database_url)
    try:
        state = bytes(attacker.event(world.tampered_position)["state"])
        assert b'"outcome":"no_answer"' in state
        attacker.force(
            "UPDATE {events} SET state = %s WHERE notification_id = %s",
            (state.replace(b'"outcome":"no_answer"', b'"outcome":"reached"'), world.tampered_position),
        )
    finally:
        attacker.close()


@when("the auditor asks for a proof that today's checkpoint extends the saved one")
def ask_consistency(world: World) -> None:
    today = world.get("/v1/checkpoint").json()
    world.proof = {
        "today": today,
        **world.get("/v1/proofs/consistency", first=world.saved["tree_size"], second=today["tree_size"]).json(),
    }


@then(parsers.parse("the history lists {count:d} events in the order they were recorded, each with its receipt"))
def history_in_order(world: World, count: int) -> None:
    receipts = [event["receipt"] for event in world.history]
    assert len(receipts) == count
    assert [r["version"] for r in receipts] == list(range(1, count + 1))
    assert [r["position"] for r in receipts] == sorted(r["position"] for r in receipts)
    assert all(r["event_id"] == e["event_id"] and len(r["leaf_hash"]) == 64 for r, e in zip(receipts, world.history))


@then("every event of the history is proved to be in the latest signed checkpoint")
def all_included(world: World) -> None:
    checkpoint = world.get("/v1/checkpoint").json()
    root = bytes.fromhex(checkpoint["root_hash"])
    for event in world.history:
        receipt = event["receipt"]
        proof = world.get("/v1/proofs/inclusion", position=receipt["position"], tree_size=checkpoint["tree_size"]).json()
        path = [bytes.fromhex(node) for node in proof["audit_path"]]
        assert merkle.verify_inclusion(receipt["position"] - 1, checkpoint["tree_size"], bytes.fromhex(receipt["leaf_hash"]), path, root)


@then("the bundle's own verify.py accepts it with the ledger's published key pinned")
def verify_py_accepts(world: World) -> None:
    key = world.get("/v1/checkpoint").json()["public_key"]
    outcome = verify_py(world.bundle, "--public-key", key)
    assert outcome.exit_code == 0, outcome.stderr
    assert "the key you pinned" in outcome.stdout


@then("ledger verify accepts the bundle")
def ledger_verify_accepts(world: World) -> None:
    outcome = ledger_verify(world.bundle)
    assert outcome.exit_code == 0, outcome.stderr


@then(parsers.parse("the bundle holds every event of {case_id} with the receipt the ledger gave for it"))
def bundle_holds_history(world: World, case_id: str) -> None:
    history = world.get(f"/v1/cases/{case_id}/events").json()["events"]
    lines = (world.bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    exported = {record["event_id"]: record for record in map(json.loads, lines)}
    for event in history:
        receipt = event["receipt"]
        assert {key: exported[event["event_id"]][key] for key in receipt} == receipt


@then("the bundle's verify.py rejects it naming the position of that contact attempt")
def verify_py_rejects(world: World) -> None:
    outcome = verify_py(world.bundle)
    assert outcome.exit_code == 1
    assert outcome.position == world.tampered_position, outcome.report


@then("ledger verify rejects the bundle naming the same position")
def ledger_verify_rejects(world: World) -> None:
    outcome = ledger_verify(world.bundle)
    assert outcome.exit_code == 1
    assert outcome.position == world.tampered_position, outcome.report


@then("the ledger's verification names the position of that contact attempt")
def database_verification_names(world: World) -> None:
    signer = world.ledger.signer
    assert signer is not None
    result = verify_log(world.ledger.store, signer.public_key_raw, ORIGIN)
    assert not result.ok
    assert result.first_bad_position == world.tampered_position, result.problem


@then("the proof verifies offline against the two signed roots")
def consistency_verifies(world: World) -> None:
    exported(world)
    offline = bundled_verifier(world.bundle)  # the auditor's own copy of the verifier
    key = base64.b64decode(world.proof["today"]["public_key"])
    old_size, old_root, _ = offline.verify_note(world.saved["note"], key, ORIGIN, offline.verify_signature)
    new_size, new_root, _ = offline.verify_note(world.proof["today"]["note"], key, ORIGIN, offline.verify_signature)
    assert old_size < new_size
    nodes = [bytes.fromhex(node) for node in world.proof["proof"]]
    assert offline.verify_consistency(old_size, new_size, old_root, new_root, nodes)


@when(parsers.parse("the personal data of {case_id} is forgotten at the family's request"))
def forgotten(world: World, case_id: str, monkeypatch: pytest.MonkeyPatch, signing_key_file: Path) -> None:
    assert "Ana Example" in world.get(f"/v1/cases/{case_id}/events").text  # readable until now
    monkeypatch.setenv("LEDGER_DATABASE_URL", world.database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(signing_key_file))  # the key the app signed with
    result = CliRunner().invoke(app, ["forget", case_id, "--reason", "erasure requested through class counsel"])
    assert result.exit_code == 0, result.output


@then(parsers.parse("the history of {case_id} shows its parent's name and the numbers tried as redacted"))
def redacted(world: World, case_id: str) -> None:
    world.history = world.get(f"/v1/cases/{case_id}/events").json()["events"]
    text = json.dumps(world.history)
    assert "Ana Example" not in text and "5555 0100" not in text
    identified = world.history[0]["data"]
    assert identified["parents"][0]["name"] == REDACTED
    assert [e["data"]["contact_detail"] for e in world.history if e["type"] == "ContactAttempted"] == [REDACTED, REDACTED]


@then("today's checkpoint is proved to extend the saved one")
def extends_saved(world: World) -> None:
    ask_consistency(world)
    consistency_verifies(world)  # on a fresh export, which carries only the sealed values
    assert "Ana Example" not in (world.bundle / "events.jsonl").read_text(encoding="utf-8")


@then("the access log shows who read the history and who forgot the family")
def access_logged(world: World) -> None:
    entries = world.get("/v1/access-log").json()["entries"]
    assert ("read history", "auditor") in [(e["action"], e["role"]) for e in entries]
    assert ("forget", "operator") in [(e["action"], e["role"]) for e in entries]
