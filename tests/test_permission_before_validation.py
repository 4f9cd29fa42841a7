"""Who may post what is checked before the payloads: a type the organization may not post is a 403
naming each such event by its index and what the organization may post, whatever state its fields
are in; only a batch of types it may post has its payloads validated (422 naming index and field).
The body is parsed once for both."""

import json
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from domain.permissions import allowed_types, not_permitted
from tests.builders import OCCURRED, VALID_DATA, batch, contact, envelope, separation
from tests.harness import Tokens


def tree_size(client: TestClient) -> int:
    return client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined, no-any-return]


def empty_deadline_extension() -> dict[str, Any]:
    return {"event_id": str(uuid4()), "case_id": "SETTLEMENT", "type": "DeadlineExtended", "occurred_at": OCCURRED, "data": {}}


def test_an_empty_deadline_extension_from_frtf_is_refused_for_its_type_not_asked_to_fill_its_fields(
    client: TestClient, tokens: Tokens
) -> None:
    frtf = tokens.get("FRTF")
    size = tree_size(client)

    response = client.post("/v1/events", json=batch(empty_deadline_extension()), headers=frtf)

    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["errors"] == [{"index": 0, "field": "type", "message": not_permitted("FRTF", "DeadlineExtended")}]
    assert problem["may_post"] == allowed_types("FRTF")
    assert "FRTF may post SeparationIdentified" in problem["detail"]
    assert tree_size(client) == size


def test_a_first_frtf_batch_with_a_contact_attempt_is_told_what_frtf_may_post(client: TestClient, tokens: Tokens) -> None:
    first_batch = batch(
        separation("FRTF-000123"),
        contact("FRTF-000123"),
        envelope("FRTF-000123", "RegistrationSubmitted", VALID_DATA["RegistrationSubmitted"]),
        contact("FRTF-000123", outcome="reached"),
    )

    response = client.post("/v1/events", json=first_batch, headers=tokens.get("FRTF"))

    assert response.status_code == 403, response.text
    problem = response.json()
    message = (
        "FRTF may not post ContactAttempted; FRTF may post SeparationIdentified, MemberAdded, MemberRemoved, "
        "WhereaboutsUnknownDeclared, RegistrationSubmitted, ClassMembershipDetermined, FamilyReunified, CaseClosed, "
        "CasesMerged, EntryCorrected, EntryRetracted, ServiceInterrupted"
    )
    assert problem["errors"] == [{"index": 1, "field": "type", "message": message}, {"index": 3, "field": "type", "message": message}]
    assert problem["detail"] == f"{message}; nothing was appended"
    assert "ContactAttempted" not in problem["may_post"]


def test_permission_is_checked_before_any_envelope_is_validated(client: TestClient, tokens: Tokens) -> None:
    invalid = separation("FRTF-000123")
    invalid["data"]["nationality"] = "Atlantis"
    unknown_type = {**contact("FRTF-000123"), "type": "Teleported"}
    shapeless = {"type": "DeadlineExtended"}  # nothing but its type

    response = client.post(
        "/v1/events", json=batch(invalid, contact("FRTF-000123"), unknown_type, shapeless, "not an envelope"), headers=tokens.get("FRTF")
    )

    assert response.status_code == 403, response.text
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "type"), (3, "type")]


def test_a_batch_of_permitted_types_has_its_payloads_validated_naming_index_and_field(client: TestClient, tokens: Tokens) -> None:
    valid = envelope("SETTLEMENT", "DeadlineExtended", VALID_DATA["DeadlineExtended"])

    response = client.post("/v1/events", json=batch(valid, empty_deadline_extension()), headers=tokens.get("DOJ"))

    assert response.status_code == 422, response.text
    assert sorted((e["index"], e["field"]) for e in response.json()["errors"]) == [
        (1, "data.court_order_id"), (1, "data.effective_date"), (1, "data.extension"), (1, "data.obligation"),
    ]


def test_a_posted_body_is_parsed_once(client: TestClient, tokens: Tokens, monkeypatch: Any) -> None:
    """FastAPI parses the body before the route; the permission check reads that parse."""
    body = json.dumps(batch(separation("FRTF-000123"), contact("FRTF-000123"))).encode()
    parses = []
    loads = json.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        if text in (body, body.decode()):  # domain/canonical_json.py reads the body's text, read as UTF-8
            parses.append(text)
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    response = client.post("/v1/events", content=body, headers={**tokens.get("FRTF"), "Content-Type": "application/json"})

    assert response.status_code == 403, response.text
    assert len(parses) == 1
