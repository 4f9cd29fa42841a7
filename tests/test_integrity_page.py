"""The auditors' integrity page on both backends: the latest checkpoint and its verification status,
the button that verifies incrementally from the last verified size (stored in the database), and a
row tampered with behind the ledger's back, shown at its position with its event and case."""

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from ledger.recorders.verification_records import VerificationRecord
from tests.builders import batch, contact, separation
from tests.harness import Tokens
from tests.test_dashboard import csrf_of, sign_in
from tests.test_tampering import Attacker


def post(client: TestClient, tokens: Tokens, *envelopes: dict) -> None:
    organization = "FRTF" if envelopes[0]["type"] == "SeparationIdentified" else "KIND"
    response = client.post("/v1/events", json=batch(*envelopes), headers=tokens.get(organization))
    assert response.status_code == 201, response.text


def verify_now(client: TestClient) -> str:
    """Presses the button; returns the page it leads back to."""
    form = client.get("/audit/integrity")
    pressed = client.post("/audit/integrity", data={"csrf": csrf_of(form.text)}, follow_redirects=False)
    assert (pressed.status_code, pressed.headers["location"]) == (303, "/audit/integrity"), pressed.text
    return html.unescape(client.get("/audit/integrity").text)


def verifications(client: TestClient) -> VerificationRecord | None:
    return client.app.state.ledger.store.latest_verification()  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def auditor(client: TestClient, tokens: Tokens) -> str:
    post(client, tokens, separation("FRTF-INT-1"), separation("FRTF-INT-2"))
    secret = tokens.secret("OIG", "auditor")
    sign_in(client, secret)
    return secret.split(".")[0]


def test_the_page_shows_the_latest_checkpoint_note_and_that_nothing_was_verified_yet(client: TestClient, auditor: str) -> None:
    checkpoint = client.app.state.ledger.signed_heads.latest()  # type: ignore[attr-defined]

    page = client.get("/audit/integrity")

    assert page.status_code == 200
    assert html.escape(checkpoint.note, quote=False).strip() in page.text
    assert "Not verified from this page yet" in page.text


def test_verifying_recomputes_the_tree_up_to_the_current_checkpoint_and_says_by_whom_and_how_long(
    client: TestClient, auditor: str
) -> None:
    size = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]

    page = verify_now(client)

    record = verifications(client)
    assert record is not None and record.ok and (record.from_size, record.tree_size) == (0, size)
    assert record.root_hash == client.app.state.ledger.tree.root(size)  # type: ignore[attr-defined]
    assert "Verified up to the latest checkpoint" in page and f'id="verified-by">{auditor}<' in page
    assert re.search(r'id="verified-seconds">\d+\.\d{3}<', page)
    assert f'id="checkpoint-size">{size}<' in page, "the log's head was signed first"


def test_the_next_verification_goes_on_from_the_last_verified_size(client: TestClient, tokens: Tokens, auditor: str) -> None:
    verify_now(client)
    first = verifications(client)
    post(client, tokens, contact("FRTF-INT-1"), contact("FRTF-INT-2"))

    page = verify_now(client)

    second = verifications(client)
    assert first is not None and second is not None and second.ok
    size = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]
    assert first.tree_size < size and (second.from_size, second.tree_size) == (first.tree_size, size)
    assert second.root_hash == client.app.state.ledger.tree.root(second.tree_size)  # type: ignore[attr-defined]
    assert f"positions {first.tree_size + 1} to {second.tree_size}" in page


def test_a_row_tampered_with_since_the_last_check_is_shown_at_its_position_with_its_event_and_case(
    client: TestClient, tokens: Tokens, settings: Settings, auditor: str
) -> None:
    verify_now(client)
    post(client, tokens, contact("FRTF-INT-2"), contact("FRTF-INT-1", "reached"))
    position = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]
    attacker = Attacker(str(settings.database_url))
    try:
        state = bytes(attacker.event(position)["state"])
        attacker.force("UPDATE {events} SET state = %s WHERE notification_id = %s", (state.replace(b'"reached"', b'"declined"'), position))
    finally:
        attacker.close()

    page = verify_now(client)

    record = verifications(client)
    assert record is not None and not record.ok and record.first_bad_position == position
    event_id = json.loads(state)["event_id"]
    assert f'id="first-bad-position">{position}<' in page
    assert f"(event {event_id}, case FRTF-INT-1)" in page and "Look up case FRTF-INT-1" in page
    again = verify_now(client)
    assert f'id="first-bad-position">{position}<' in again, "a bad check is no new starting point"


def test_the_button_needs_the_forms_csrf_secret_and_an_auditor(client: TestClient, tokens: Tokens, auditor: str) -> None:
    refused = client.post("/audit/integrity", data={"csrf": "guessed"})
    assert refused.status_code == 400 and verifications(client) is None
    client.cookies.clear()
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    as_monitor = client.post("/audit/integrity", data={"csrf": csrf_of(client.get("/").text)})
    assert as_monitor.status_code == 403 and verifications(client) is None


def test_a_forged_starting_point_does_not_pass_as_verified(client: TestClient, tokens: Tokens, auditor: str) -> None:
    verify_now(client)
    good = verifications(client)
    assert good is not None
    store = client.app.state.ledger.store  # type: ignore[attr-defined]
    forged = bytes(b ^ 0xFF for b in good.peaks)  # as many peaks, not the tree's
    store.insert_verification(VerificationRecord("2000-01-01T00:00:00.000000Z", "someone", 0, good.tree_size, good.root_hash, forged, good.last_recorded_at, 0.0))
    post(client, tokens, contact("FRTF-INT-1"))

    page = verify_now(client)

    record = verifications(client)
    assert record is not None and not record.ok and record.from_size == good.tree_size
    assert "does not match the signed checkpoint" in page


def test_an_incremental_check_says_what_it_read_and_a_whole_check_finds_a_change_below_it(
    client: TestClient, tokens: Tokens, settings: Settings, auditor: str
) -> None:
    """Found: after a row below the last verified size was altered, the next check's page said
    "the tree recomputed from the stored events up to tree size N", though it read only the new
    positions, and the browser offered no way to read the rest."""
    verify_now(client)
    first = verifications(client)
    assert first is not None
    attacker = Attacker(str(settings.database_url))
    try:
        altered = next(p for p in range(1, first.tree_size + 1) if b'"GT"' in bytes(attacker.event(p)["state"]))  # a separation
        state = bytes(attacker.event(altered)["state"])
        attacker.force("UPDATE {events} SET state = %s WHERE notification_id = %s", (state.replace(b'"GT"', b'"HN"'), altered))
    finally:
        attacker.close()
    post(client, tokens, contact("FRTF-INT-1"))

    page = verify_now(client)
    assert "the tree recomputed from the stored events up to" not in page
    assert f"positions {first.tree_size + 1} to" in page and f"positions 1 to {first.tree_size} as earlier runs checked them, not read again" in page

    form = client.get("/audit/integrity")
    assert 'id="verify-whole"' in form.text
    pressed = client.post("/audit/integrity", data={"csrf": csrf_of(form.text), "scope": "whole"}, follow_redirects=False)
    assert pressed.status_code == 303
    record = verifications(client)
    assert record is not None and not record.ok and record.first_bad_position == altered and record.from_size == 0
    assert f'id="first-bad-position">{altered}<' in html.unescape(client.get("/audit/integrity").text)
