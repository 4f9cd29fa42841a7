"""The HTTP contract of the write side and the auditors' reads, on SQLite and on PostgreSQL."""

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.harness import ORIGIN, Tokens
from ledger import merkle
from ledger.checkpoints import verify_note
from tests.builders import batch, contact, envelope, preference, separation


def tree_size(client: TestClient) -> int:
    return client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined,no-any-return]


def post(client: TestClient, headers: dict[str, str], *envelopes: dict[str, Any]) -> Any:
    return client.post("/v1/events", json=batch(*envelopes), headers=headers)


def identified(client: TestClient, tokens: Tokens, case_id: str = "FRTF-000123", **kwargs: Any) -> dict[str, Any]:
    response = post(client, tokens.get("FRTF"), separation(case_id, **kwargs))
    assert response.status_code == 201, response.text
    return response.json()["receipts"][0]  # type: ignore[no-any-return]


# --- appending ---------------------------------------------------------------------------------


def test_an_agency_posts_a_batch_and_gets_one_receipt_per_event(client: TestClient, tokens: Tokens) -> None:
    kind = tokens.get("KIND")  # issuing a token is itself an event: issue it before counting positions
    first = identified(client, tokens)
    response = post(client, kind, contact("FRTF-000123"), contact("FRTF-000123", outcome="reached"))

    assert response.status_code == 201
    receipts = response.json()["receipts"]
    assert [r["type"] for r in receipts] == ["ContactAttempted", "ContactAttempted"]
    assert [r["version"] for r in receipts] == [2, 3]
    assert [r["position"] for r in receipts] == [first["position"] + 1, first["position"] + 2]
    assert first["recorded_at"] <= receipts[0]["recorded_at"] == receipts[1]["recorded_at"]
    assert all(len(r["leaf_hash"]) == 64 and r["leaf_hash"] == r["leaf_hash"].lower() for r in receipts)


def test_posting_the_same_envelope_again_returns_the_original_receipt_and_appends_nothing(
    client: TestClient, tokens: Tokens
) -> None:
    identified(client, tokens)
    attempt = contact("FRTF-000123", expected_version=1)
    original = post(client, tokens.get("KIND"), attempt)
    size = tree_size(client)

    replay = post(client, tokens.get("KIND"), attempt)

    assert (original.status_code, replay.status_code) == (201, 200)
    assert replay.json() == original.json()
    assert tree_size(client) == size


def test_the_same_offset_written_differently_is_the_same_envelope(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens)
    attempt = contact("FRTF-000123", occurred_at="2021-05-03T14:00:00Z")
    original = post(client, tokens.get("KIND"), attempt)

    replay = post(client, tokens.get("KIND"), {**attempt, "occurred_at": "2021-05-03T10:00:00-04:00"})

    assert replay.status_code == 200
    assert replay.json() == original.json()


def test_an_event_id_reused_for_different_content_is_a_conflict(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens)
    attempt = contact("FRTF-000123")
    post(client, tokens.get("KIND"), attempt)
    size = tree_size(client)

    response = post(client, tokens.get("KIND"), {**attempt, "data": {**attempt["data"], "outcome": "reached"}})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"index": 0, "field": "event_id", "message": "this event_id was already used for different content"}
    ]
    assert tree_size(client) == size


def test_a_batch_with_one_invalid_event_appends_nothing_and_names_the_field(client: TestClient, tokens: Tokens) -> None:
    kind = tokens.get("KIND")
    identified(client, tokens)
    size = tree_size(client)
    bad = contact("FRTF-000123")
    bad["data"]["country"] = "XX"

    response = post(client, kind, contact("FRTF-000123"), bad)

    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422 and problem["title"]
    assert [(e["index"], e["field"]) for e in problem["errors"]] == [(1, "data.country")]
    assert tree_size(client) == size


def test_a_batch_breaking_a_rule_of_the_case_appends_nothing(client: TestClient, tokens: Tokens) -> None:
    kind = tokens.get("KIND")
    identified(client, tokens)
    size = tree_size(client)

    response = post(client, kind, contact("FRTF-000123"), contact("FRTF-999999"))

    assert response.status_code == 409
    assert response.json()["errors"][0]["index"] == 1
    assert response.json()["errors"][0]["field"] == "case_id"
    assert "no SeparationIdentified" in response.json()["errors"][0]["message"]
    assert tree_size(client) == size
    assert client.get("/v1/cases/FRTF-000123", headers=tokens.get("KIND")).json()["version"] == 1


def court_order(obligation: str = "parole_term", order: str = "18-cv-00428 ECF 812") -> dict[str, Any]:
    data = {"court_order_id": order, "obligation": obligation, "extension": {"months": 6}, "effective_date": "2025-07-15"}
    return envelope("SETTLEMENT", "DeadlineExtended", data, occurred_at="2025-07-15T00:00:00Z")


def test_a_court_order_already_in_force_is_refused_whoever_posts_it_naming_the_event(client: TestClient, tokens: Tokens) -> None:
    first = court_order()
    assert post(client, tokens.get("DOJ"), first).status_code == 201
    assert post(client, tokens.get("DOJ"), first).status_code == 200, "the same envelope again is the one recorded"
    size = tree_size(client)
    for organization in ("DOJ", "ACLU"):
        refused = post(client, tokens.get(organization), court_order())
        assert refused.status_code == 409, refused.text
        assert refused.json()["errors"] == [
            {
                "index": 0,
                "field": "data.court_order_id",
                "message": f"court order '18-cv-00428 ECF 812' already extended parole_term (event {first['event_id']}): "
                "an order extends an obligation once",
            }
        ]
    twice_in_one_batch = post(client, tokens.get("DOJ"), court_order("behavioral_health"), court_order("behavioral_health"))
    assert twice_in_one_batch.status_code == 409 and twice_in_one_batch.json()["errors"][0]["index"] == 1
    assert tree_size(client) == size + 1  # the ACLU token; nothing else was appended
    assert post(client, tokens.get("DOJ"), court_order("behavioral_health")).status_code == 201, "another obligation"
    assert post(client, tokens.get("DOJ"), court_order(order="18-cv-00428 ECF 900")).status_code == 201, "another order"


def test_new_terms_end_the_orders_in_force_so_an_order_may_extend_them_again(client: TestClient, tokens: Tokens) -> None:
    assert post(client, tokens.get("DOJ"), court_order()).status_code == 201
    terms = {"terms_version": 2, "effective_date": "2023-12-11", "obligations": {"parole_term": {"years": 3}}}
    assert post(client, tokens.get("DOJ"), envelope("SETTLEMENT", "TermsAdopted", terms)).status_code == 201
    assert post(client, tokens.get("DOJ"), court_order()).status_code == 201


def test_a_stale_expected_version_is_a_conflict_and_nothing_is_appended(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens)
    post(client, tokens.get("KIND"), contact("FRTF-000123", expected_version=1))
    size = tree_size(client)

    response = post(client, tokens.get("KIND"), contact("FRTF-000123", expected_version=1))

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "expected_version"
    assert tree_size(client) == size


def test_an_organization_cannot_post_another_organizations_event_types(client: TestClient, tokens: Tokens) -> None:
    kind = tokens.get("KIND")
    identified(client, tokens)
    parole = envelope("FRTF-000123", "ParoleDecided", {"decision": "granted", "valid_until": "2027-01-01"})
    size = tree_size(client)

    response = post(client, kind, contact("FRTF-000123"), parole)

    assert response.status_code == 403
    may_post = ["ContactAttempted", "ParentLocated", "WhereaboutsUnknownDeclared", "PreferenceRecorded", "EntryCorrected", "EntryRetracted"]
    assert response.json()["errors"] == [
        {"index": 1, "field": "type", "message": f"KIND may not post ParoleDecided; KIND may post {', '.join(may_post)}"}
    ]
    assert response.json()["may_post"] == may_post
    assert tree_size(client) == size


def test_a_monitor_token_cannot_post(client: TestClient, tokens: Tokens) -> None:
    response = post(client, tokens.get("MONITOR", "monitor"), separation("FRTF-1"))
    assert response.status_code == 403


def test_only_the_poster_may_correct_its_entry(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens)
    original = post(client, tokens.get("KIND"), contact("FRTF-000123")).json()["receipts"][0]
    correction = envelope(
        "FRTF-000123",
        "EntryCorrected",
        {"event_id": original["event_id"], "changes": {"outcome": "reached"}, "reason": "misread the log"},
    )

    by_other = post(client, tokens.get("WRC"), correction)
    by_poster = post(client, tokens.get("KIND"), correction)

    assert by_other.status_code == 403
    assert by_other.json()["errors"][0]["field"] == "data.event_id"
    assert by_poster.status_code == 201


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "needs a bearer token"), ({"Authorization": "Bearer kind-x.not-a-real-secret"}, "unknown or revoked")],
)
def test_without_a_valid_token_the_answer_is_401(client: TestClient, headers: dict[str, str], reason: str) -> None:
    response = post(client, headers, separation("FRTF-1"))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert reason in response.json()["detail"]


def test_a_revoked_token_stops_working_at_once(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.get("FRTF")
    assert post(client, headers, separation("FRTF-1")).status_code == 201
    name = headers["Authorization"].removeprefix("Bearer ").split(".")[0]

    client.app.state.ledger.tokens.revoke(name, "rotated")  # type: ignore[attr-defined]

    assert post(client, headers, separation("FRTF-2")).status_code == 401


def test_an_oversized_body_is_refused_with_413(client: TestClient, tokens: Tokens) -> None:
    padding = "x" * (client.app.state.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    response = client.post(
        "/v1/events", content=padding, headers={**tokens.get("FRTF"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_malformed_json_is_a_422_not_a_500(client: TestClient, tokens: Tokens) -> None:
    response = client.post(
        "/v1/events", content=b'{"events": [', headers={**tokens.get("FRTF"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_merging_moves_the_duplicate_out_of_reach(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens, "FRTF-1")
    identified(client, tokens, "FRTF-2")

    merged = post(client, tokens.get("FRTF"), envelope("FRTF-1", "CasesMerged", {"duplicate_case_id": "FRTF-2"}))
    late = post(client, tokens.get("KIND"), contact("FRTF-2"))

    assert merged.status_code == 201
    assert late.status_code == 409
    assert "merged into FRTF-1" in late.json()["errors"][0]["message"]
    duplicate = client.get("/v1/cases/FRTF-2", headers=tokens.get("KIND")).json()
    assert duplicate["merged_into"] == "FRTF-1"
    assert client.get("/v1/cases/FRTF-1", headers=tokens.get("KIND")).json()["merged_cases"] == ["FRTF-2"]


# --- reading cases -----------------------------------------------------------------------------


def test_a_case_read_as_of_a_past_point_shows_only_what_was_recorded_by_then(client: TestClient, tokens: Tokens) -> None:
    first = identified(client, tokens)
    reached = post(client, tokens.get("KIND"), contact("FRTF-000123", outcome="reached")).json()["receipts"][0]
    post(client, tokens.get("KIND"), preference("FRTF-000123", "declined"))
    headers = tokens.get("KIND")

    def child_status(as_of: str | None) -> tuple[int, str]:
        params = {"as_of": as_of} if as_of else {}
        state = client.get("/v1/cases/FRTF-000123", params=params, headers=headers).json()
        return state["version"], state["members"][0]["status"]

    assert child_status(str(first["position"])) == (1, "not_reached")
    assert child_status(reached["recorded_at"]) == (2, "informed")
    assert child_status(None) == (3, "declined")
    assert client.get("/v1/cases/FRTF-000123", params={"as_of": "2020-01-01"}, headers=headers).status_code == 404


def test_an_as_of_read_is_the_same_before_and_after_later_events(client: TestClient, tokens: Tokens) -> None:
    first = identified(client, tokens)
    headers = tokens.get("KIND")
    before = client.get("/v1/cases/FRTF-000123", params={"as_of": first["recorded_at"]}, headers=headers).json()

    post(client, headers, contact("FRTF-000123", outcome="reached"), preference("FRTF-000123"))
    after = client.get("/v1/cases/FRTF-000123", params={"as_of": first["recorded_at"]}, headers=headers).json()

    assert after == before


@pytest.mark.parametrize("as_of", ["yesterday", "2021-05-03T14:00:00", "12x"])
def test_a_malformed_as_of_is_a_422_naming_it(client: TestClient, tokens: Tokens, as_of: str) -> None:
    identified(client, tokens)
    response = client.get("/v1/cases/FRTF-000123", params={"as_of": as_of}, headers=tokens.get("KIND"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "as_of"


def test_unknown_and_malformed_case_ids(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.get("KIND")
    assert client.get("/v1/cases/FRTF-404", headers=headers).status_code == 404
    assert client.get("/v1/cases/FRTF 1;DROP", headers=headers).status_code == 422
    assert client.get("/v1/cases/..%2F..%2Fetc", headers=headers).status_code in (404, 422)


def test_a_case_history_lists_every_event_with_its_receipt(client: TestClient, tokens: Tokens) -> None:
    first = identified(client, tokens)
    posted = post(client, tokens.get("KIND"), contact("FRTF-000123")).json()["receipts"][0]
    retraction = envelope("FRTF-000123", "EntryRetracted", {"event_id": posted["event_id"], "reason": "duplicate entry"})
    retracted = post(client, tokens.get("KIND"), retraction).json()["receipts"][0]

    history = client.get("/v1/cases/FRTF-000123/events", headers=tokens.get("OIG", "auditor")).json()

    # The history shows each receipt as stored: the post's warnings are the post's answer alone.
    assert [e["receipt"] for e in history["events"]] == [
        {key: value for key, value in receipt.items() if key != "warnings"} for receipt in (first, posted, retracted)
    ]
    assert history["events"][1]["recorded_by"]["organization"] == "KIND"
    assert history["events"][1]["data"]["outcome"] == "no_answer"  # the record is never edited


def test_a_monitor_cannot_read_cases(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens)
    response = client.get("/v1/cases/FRTF-000123", headers=tokens.get("MONITOR", "monitor"))
    assert response.status_code == 403


# --- the log, checkpoints and proofs -----------------------------------------------------------


def test_the_log_lists_entries_in_order_with_their_leaves(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens, "FRTF-1")
    identified(client, tokens, "FRTF-2")
    auditor = tokens.get("OIG", "auditor")

    page = client.get("/v1/log", params={"after": 0, "limit": 2}, headers=auditor).json()
    rest = client.get("/v1/log", params={"after": page["next_after"], "limit": 1000}, headers=auditor).json()

    entries = page["entries"] + rest["entries"]
    assert [e["position"] for e in entries] == list(range(1, tree_size(client) + 1))
    assert {e["case_id"] for e in entries if e["type"] == "SeparationIdentified"} == {"FRTF-1", "FRTF-2"}
    assert client.get("/v1/log", headers=tokens.get("FRTF")).status_code == 403


def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(client: TestClient, tokens: Tokens) -> None:
    auditor = tokens.get("OIG", "auditor")
    receipt = identified(client, tokens, "FRTF-1")
    early = client.get("/v1/checkpoint", headers=auditor).json()
    for n in range(2, 7):
        identified(client, tokens, f"FRTF-{n}")
    late = client.get("/v1/checkpoint", headers=auditor).json()

    public_key = base64.b64decode(late["public_key"])
    for checkpoint in (early, late):
        size, root, _ = verify_note(checkpoint["note"], public_key, ORIGIN)
        assert (size, root.hex()) == (checkpoint["tree_size"], checkpoint["root_hash"])

    inclusion = client.get(
        "/v1/proofs/inclusion", params={"position": receipt["position"], "tree_size": late["tree_size"]}, headers=auditor
    ).json()
    assert inclusion["leaf_hash"] == receipt["leaf_hash"]
    assert inclusion["root_hash"] == late["root_hash"]
    assert merkle.verify_inclusion(
        receipt["position"] - 1,
        late["tree_size"],
        bytes.fromhex(receipt["leaf_hash"]),
        [bytes.fromhex(h) for h in inclusion["audit_path"]],
        bytes.fromhex(late["root_hash"]),
    )

    consistency = client.get(
        "/v1/proofs/consistency", params={"first": early["tree_size"], "second": late["tree_size"]}, headers=auditor
    ).json()
    assert merkle.verify_consistency(
        early["tree_size"],
        late["tree_size"],
        bytes.fromhex(early["root_hash"]),
        bytes.fromhex(late["root_hash"]),
        [bytes.fromhex(h) for h in consistency["proof"]],
    )
    earlier = client.get("/v1/checkpoint", params={"tree_size": early["tree_size"]}, headers=auditor).json()
    assert earlier == early


def test_proofs_beyond_the_log_are_422_and_unknown_checkpoints_404(client: TestClient, tokens: Tokens) -> None:
    identified(client, tokens)
    auditor = tokens.get("OIG", "auditor")
    size = tree_size(client)

    beyond = client.get("/v1/proofs/inclusion", params={"position": 1, "tree_size": size + 1}, headers=auditor)
    backwards = client.get("/v1/proofs/consistency", params={"first": size, "second": 1}, headers=auditor)
    missing = client.get("/v1/checkpoint", params={"tree_size": size + 5}, headers=auditor)

    assert (beyond.status_code, beyond.json()["errors"][0]["field"]) == (422, "tree_size")
    assert (backwards.status_code, backwards.json()["errors"][0]["field"]) == (422, "first")
    assert missing.status_code == 404


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize(("organization", "role"), [("OIG", "auditor"), ("MONITOR", "monitor")])
def test_a_token_of_another_role_is_told_which_it_is_in_a_sentence_that_reads(
    client: TestClient, tokens: Tokens, organization: str, role: str
) -> None:
    """Found: "a agency token"; the article follows the role's word."""
    response = client.post("/v1/events", json=batch(separation("FRTF-000001")), headers=tokens.get(organization, role))

    assert response.status_code == 403
    assert f"{'an' if role[0] in 'aeiou' else 'a'} {role} token cannot" in response.json()["detail"]


def test_an_agency_token_on_a_monitors_route_is_told_so_in_a_sentence_that_reads(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/v1/reports/compliance", headers=tokens.get("KIND"))

    assert response.status_code == 403
    assert response.json()["detail"].startswith("an agency token cannot use this route")
