"""Hostile input, on SQLite and on PostgreSQL: every attempt gets a clear 4xx problem (never a 5xx)
and appends nothing, or is stored exactly as sent.

"Nothing appended" is read from the ledger itself: the Merkle tree's size and the number of
entries in the log, before and after. Tokens are issued (which appends) before either is read.
Inputs of one kind go in one batch where they can (the problem names each by its index) or in
one test, so that the whole file stays a few seconds per backend.
"""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from domain.envelope import MAX_BATCH
from domain.values import MAX_JSON_DEPTH
from ledger.verify import verify_log
from tests.builders import batch, contact, envelope, separation
from tests.harness import ORIGIN, Tokens

CASE = "FRTF-000123"
HUGE = 2**63  # one past the largest integer either backend stores
SQL_INJECTIONS = [
    "'; DROP TABLE stored_events; --",
    "Robert'); DELETE FROM merkle_leaves WHERE ('1'='1",
    "1' OR '1'='1' /*",
    "x\\'; SELECT pg_sleep(10); --",
    "$$; TRUNCATE stored_events; $$",
]


def log_length(client: TestClient) -> tuple[int, int]:
    """(the Merkle tree's size, the number of entries in the log)."""
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    return ledger.store.tree_size(), len(ledger.reader.log(0, 1_000_000))


@pytest.fixture
def headers(client: TestClient, tokens: Tokens) -> dict[str, dict[str, str]]:
    """Tokens of each role, issued (and a case identified) before any test counts the log."""
    issued = {"FRTF": tokens.get("FRTF"), "KIND": tokens.get("KIND"), "auditor": tokens.get("OIG", "auditor")}
    assert client.post("/v1/events", json=batch(separation(CASE)), headers=issued["FRTF"]).status_code == 201
    return issued


def post_raw(client: TestClient, headers: dict[str, str], body: bytes | Iterator[bytes]) -> Response:
    return client.post("/v1/events", content=body, headers={**headers, "Content-Type": "application/json"})


def assert_problem(response: Response, status: int, *fields: tuple[int | None, str]) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if fields:
        assert [(e["index"], e["field"]) for e in problem["errors"]] == list(fields)
    return problem  # type: ignore[no-any-return]


def correction(changes: Any) -> dict[str, Any]:
    return envelope(CASE, "EntryCorrected", {"event_id": str(uuid4()), "changes": changes, "reason": "typo"})


def with_field(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `event` with the field at `path` (dotted, list indexes too: data.parents.0.name) set."""
    copy = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    target = copy
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = value
    return copy  # type: ignore[no-any-return]


# --- oversized, huge and unparsable bodies --------------------------------------------------------


@pytest.mark.parametrize("sent", ["with its Content-Length", "streamed without a Content-Length"])
def test_a_body_over_the_limit_is_refused_with_413_however_it_is_sent(
    client: TestClient, headers: dict[str, dict[str, str]], sent: str
) -> None:
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    body = b'{"events": [' + b" " * limit + b"]}"
    before = log_length(client)

    response = post_raw(client, headers["FRTF"], iter([body]) if sent.startswith("streamed") else body)

    assert ("content-length" in response.request.headers) == sent.startswith("with")
    assert str(limit) in assert_problem(response, 413)["detail"]
    assert log_length(client) == before


@pytest.mark.parametrize("huge", ["more events than the limit", "fewer events, more bytes than the limit"])
def test_a_huge_batch_is_refused_naming_the_limit(client: TestClient, headers: dict[str, dict[str, str]], huge: str) -> None:
    events = [contact(CASE) for _ in range(MAX_BATCH + 1)]
    if huge.startswith("fewer"):
        events = [with_field(event, "data.notes", "n" * 4000) for event in events[:MAX_BATCH]]
    before = log_length(client)

    response = client.post("/v1/events", json=batch(*events), headers=headers["KIND"])

    if huge.startswith("more"):
        assert f"at most {MAX_BATCH} items" in assert_problem(response, 422, (None, "events"))["errors"][0]["message"]
    else:
        assert str(client.app.state.settings.max_body_bytes) in assert_problem(response, 413)["detail"]  # type: ignore[attr-defined]
    assert log_length(client) == before


def test_a_body_that_cannot_be_parsed_is_a_400_saying_why(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    bodies = {
        b'{"events": [{"case_id": "\xff\xfe"}]}': "not valid UTF-8",  # bytes no UTF-8 text has
        b'{"events": [{"case_id": "\xc0\xaf"}]}': "not valid UTF-8",  # an overlong "/"
        b"[" * 10_000 + b"]" * 10_000: "nested too deeply",
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000: "nested too deeply",
    }
    before = log_length(client)

    for body, reason in bodies.items():
        assert reason in assert_problem(post_raw(client, headers["FRTF"], body), 400)["detail"], body[:40]
    assert log_length(client) == before


def test_json_whose_meaning_would_be_guessed_is_a_400_saying_why(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """Found: a UTF-16 body was read although the contract says UTF-8, and a key given twice in one
    object silently kept its last value (two readers of the same bytes could disagree)."""
    posted = json.dumps(batch(contact(CASE)))
    twice_inside = posted.replace('"outcome": "no_answer"', '"outcome": "no_answer", "outcome": "reached"')
    bodies = {
        posted.encode("utf-16"): "not valid UTF-8",  # with its byte order mark
        posted.encode("utf-32"): "not valid UTF-8",
        ('{"events": [], ' + posted[1:]).encode(): "gives the key 'events' twice",
        twice_inside.encode(): "gives the key 'outcome' twice",
        b'{"events": [{"n": ' + b"9" * 5000 + b"}]}": "cannot be read: a number has more than 4300 digits",
    }
    before = log_length(client)

    for body, reason in bodies.items():
        problem = assert_problem(post_raw(client, headers["KIND"], body), 400)
        assert reason in problem["detail"] and "nothing was appended" in problem["detail"], (body[:40], problem)
        assert "sys." not in problem["detail"], "found: Python's advice to raise its limit, said to an agency"
    # UTF-16 without a byte order mark is UTF-8 with NULs between the characters: not JSON
    assert_problem(post_raw(client, headers["KIND"], posted.encode("utf-16-le")), 422, (None, "body"))
    assert log_length(client) == before


def test_a_utf8_byte_order_mark_is_ignored_as_json_allows(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    response = post_raw(client, headers["KIND"], b"\xef\xbb\xbf" + json.dumps(batch(contact(CASE))).encode())

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
     # found: a second charset, or one in RFC 2231's spellings, was not read
     "application/json; charset=utf-8; charset=utf-16", "application/json; charset*=utf-8''utf-16",
     "application/json; charset*0=utf; charset*1=-16"],
)
def test_a_body_not_declared_as_utf8_json_is_a_415_naming_the_content_type(
    client: TestClient, headers: dict[str, dict[str, str]], content_type: str
) -> None:
    """Found: a body sent as another media type (curl -d's default, a form) was answered 422 about
    `events`, as if the JSON were wrong; the Content-Type was."""
    before = log_length(client)

    response = client.post("/v1/events", content=json.dumps(batch(contact(CASE))), headers={**headers["KIND"], "Content-Type": content_type})

    problem = assert_problem(response, 415, (None, "Content-Type"))
    assert "nothing was appended" in problem["detail"]
    assert log_length(client) == before


def test_a_body_without_a_content_type_is_a_415_saying_so(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    before = log_length(client)

    response = client.post("/v1/events", content=json.dumps(batch(contact(CASE))).encode(), headers=headers["KIND"])

    assert "content-type" not in response.request.headers
    assert "none was given" in assert_problem(response, 415, (None, "Content-Type"))["detail"]
    assert log_length(client) == before


def test_malformed_json_is_a_422_naming_the_body_and_where_it_breaks(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    problem = assert_problem(post_raw(client, headers["FRTF"], b'{"events": [}'), 422, (None, "body"))
    assert "at character 12" in problem["errors"][0]["message"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 10_000])
def test_deeply_nested_json_inside_a_field_is_a_4xx_not_a_recursion_error(
    client: TestClient, headers: dict[str, dict[str, str]], depth: int
) -> None:
    """A correction's `changes` take any JSON value: nested past what the JSON parser takes, the
    body is a 400; past MAX_JSON_DEPTH, the field is a 422 (900 levels was once a 500)."""
    template = json.dumps(batch(correction({"outcome": "PLACEHOLDER"}), correction({"outcome": "PLACEHOLDER"})))
    body = template.replace('"PLACEHOLDER"', "[" * depth + "1" + "]" * depth, 1)
    body = body.replace('"PLACEHOLDER"', '{"a":' * depth + "1" + "}" * depth, 1)
    before = log_length(client)

    response = post_raw(client, headers["KIND"], body.encode())

    if depth < 1000:
        problem = assert_problem(response, 422, (0, "data.changes"), (1, "data.changes"))
        assert f"at most {MAX_JSON_DEPTH} levels" in problem["errors"][0]["message"]
    else:
        assert_problem(response, 400)
    assert log_length(client) == before


# --- text that no backend can store ---------------------------------------------------------------

NUL_FIELDS = [  # (who may post it, the event, the field set, the field the refusal names)
    ("FRTF", separation("FRTF-9"), "data.border_sector", "data.border_sector"),
    ("FRTF", separation("FRTF-9"), "data.notes", "data.notes"),
    ("FRTF", separation("FRTF-9"), "data.parents.0.name", "data.parents[0].name"),  # personal data, sealed
    ("FRTF", separation("FRTF-9"), "data.children.0.name", "data.children[0].name"),
    ("FRTF", correction({"outcome": "reached"}), "data.reason", "data.reason"),
    ("FRTF", correction({"outcome": "reached"}), "data.changes.notes", "data.changes"),
    ("FRTF", correction({"outcome": "reached"}), "data.changes.nested", "data.changes"),
    ("KIND", contact(CASE), "data.contact_detail", "data.contact_detail"),
]


def test_a_nul_character_in_any_text_field_is_refused_naming_the_field_on_both_backends(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    """PostgreSQL's text cannot hold U+0000 (it once stalled the PostgreSQL projection for good):
    neither backend takes it, so both answer alike. Each organization posts the types it may post
    (a type it may not post is refused before its fields are read)."""
    before = log_length(client)
    for poster in ("FRTF", "KIND"):
        fields = [(event, path, field) for who, event, path, field in NUL_FIELDS if who == poster]
        events = [with_field(event, path, "El Paso\u0000") for event, path, _ in fields]
        if fields[-1][1] == "data.changes.nested":
            events[-1] = correction({"nested": [{"deeper": "\u0000"}]})

        response = client.post("/v1/events", json=batch(*events), headers=headers[poster])

        problem = assert_problem(response, 422, *[(index, field) for index, (_, _, field) in enumerate(fields)])
        assert all("NUL" in error["message"] for error in problem["errors"])
    assert log_length(client) == before


@pytest.mark.parametrize("sent", ["escaped", "encoded"])
def test_a_lone_surrogate_in_text_is_refused_naming_the_field(
    client: TestClient, headers: dict[str, dict[str, str]], sent: str
) -> None:
    """Escaped (\\ud800) it is valid JSON, and Python's JSON parser takes it even encoded as UTF-8
    bytes: either way it is not text that UTF-8, or a database, can hold (it was once a 500)."""
    events = [
        with_field(separation("FRTF-9"), "data.border_sector", "El \ud800 Paso"),
        correction({"notes": "El \udfff Paso"}),
        correction({"\ud800": "reached"}),  # a key
    ]
    body = json.dumps(batch(*events), ensure_ascii=sent == "escaped").encode(errors="surrogatepass")
    before = log_length(client)

    response = post_raw(client, headers["FRTF"], body)  # FRTF may post both types

    assert_problem(response, 422, (0, "data.border_sector"), (1, "data.changes"), (2, "data.changes"))
    assert log_length(client) == before


# --- SQL injection ----------------------------------------------------------------------------------


def _string_fields(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _string_fields(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_fields(item, f"{path}.{index}")
    elif isinstance(value, str):
        yield path


def test_sql_in_every_string_field_is_stored_verbatim_or_refused_and_the_tables_stay_intact(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    auditor = headers["auditor"]
    templates = [("FRTF", lambda n: with_field(separation(f"SQL-{n}"), "data.notes", "n")), ("KIND", lambda _: contact(CASE))]
    answers = []
    for injection in SQL_INJECTIONS:
        for organization, template in templates:
            for path in _string_fields(template(0)):
                event = with_field(template(len(answers)), path, injection)
                before = log_length(client)

                response = client.post("/v1/events", json=batch(event), headers=headers[organization])

                answers.append(response.status_code)
                if response.status_code == 201:
                    history = client.get(f"/v1/cases/{event['case_id']}/events", headers=auditor).json()["events"]
                    assert history[-1]["data"] == event["data"], path  # read back as sent, to the byte
                    assert log_length(client) == (before[0] + 1, before[1] + 1)
                else:
                    assert 400 <= assert_problem(response, response.status_code)["status"] < 500, path
                    assert log_length(client) == before
    assert 201 in answers and 422 in answers  # free text was stored; identifiers, dates and codes refused
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    assert verify_log(ledger.store, ledger.signer.public_key_raw, ORIGIN).ok  # every table as the ledger left it
    entries = client.get("/v1/log", params={"limit": 1000}, headers=auditor).json()["entries"]
    assert [entry["position"] for entry in entries] == list(range(1, log_length(client)[0] + 1))
    assert client.get("/v1/reports/compliance", headers=auditor).status_code == 200


def test_sql_in_path_and_query_parameters_is_a_4xx(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    auditor = headers["auditor"]
    before = log_length(client)

    for injection in SQL_INJECTIONS:
        answers = [
            client.get(f"/v1/cases/{injection}", headers=auditor),
            client.get(f"/v1/cases/{CASE}", params={"as_of": injection}, headers=auditor),
            client.get("/v1/log", params={"after": injection}, headers=auditor),
            client.get("/v1/reports/compliance", params={"terms": injection}, headers=auditor),
            client.get("/v1/proofs/inclusion", params={"position": injection, "tree_size": 1}, headers=auditor),
        ]
        statuses = [(answer.status_code // 100, answer.headers["content-type"]) for answer in answers]
        assert statuses == [(4, "application/problem+json")] * len(answers), injection
    assert log_length(client) == before


# --- case ids ---------------------------------------------------------------------------------------

ODD_CASE_PATHS = [
    "/v1/cases/%2e%2e%2fv1%2flog",
    "/v1/cases/..%2F..%2Fetc%2Fpasswd",
    "/v1/cases/%2e%2e/events",
    "/v1/cases/FRTF-1%00",
    "/v1/cases/FRTF-1%0d%0aX-Injected:%201",
    "/v1/cases/%C3%91and%C3%BA",
    "/v1/cases/%F0%9F%92%A5",
    "/v1/cases/%ff%fe",
    "/v1/cases/" + "A" * 65,
    "/v1/cases/" + "A" * 10_000,
]
ODD_CASE_IDS = ["../FRTF-1", "FRTF-1/../../log", "%2e%2e%2f", "..", "FRTF 1", "Ñandú", "A" * 65, "FRTF-1\u0000", "SETTLEMENT"]


def test_a_traversal_or_odd_case_id_in_the_url_is_a_4xx(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    before = log_length(client)

    for path in ODD_CASE_PATHS:
        response = client.get(path, headers=headers["auditor"])

        assert response.status_code in (404, 422), (path[:40], response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert log_length(client) == before


def test_a_traversal_or_odd_case_id_in_an_envelope_is_refused_naming_it(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    before = log_length(client)

    response = client.post("/v1/events", json=batch(*map(separation, ODD_CASE_IDS)), headers=headers["FRTF"])

    assert_problem(response, 422, *[(index, "case_id") for index in range(len(ODD_CASE_IDS))])
    assert log_length(client) == before


# --- numbers and instants out of range ----------------------------------------------------------------

OUT_OF_RANGE_QUERIES = [
    ("/v1/log", {"after": HUGE}),
    ("/v1/log", {"after": -1}),
    ("/v1/log", {"limit": HUGE}),
    ("/v1/access-log", {"after": HUGE}),
    ("/v1/checkpoint", {"tree_size": HUGE}),
    ("/v1/proofs/inclusion", {"position": 1, "tree_size": HUGE}),
    ("/v1/proofs/inclusion", {"position": HUGE, "tree_size": 1}),
    ("/v1/proofs/consistency", {"first": 1, "second": 10**40}),
    ("/v1/cases/" + CASE, {"as_of": "9999-12-31T23:59:59-23:59"}),
    ("/v1/cases/" + CASE, {"as_of": "0001-01-01T00:00:00+23:59"}),
    ("/v1/cases/" + CASE, {"as_of": str(10**40)}),
    ("/v1/reports/compliance", {"as_of": str(10**40)}),
    ("/v1/reports/compliance", {"as_of": "0001-01-01T00:00:00+23:59"}),
    ("/v1/reports/compliance", {"terms": '{"obligations": {"first_outreach": {"days": %d}}}' % HUGE}),
    ("/v1/reports/compliance", {"terms": '{"a":' * 2_000 + "1" + "}" * 2_000}),
    ("/v1/reports/overdue", {"limit": HUGE}),
]


def test_a_number_or_instant_out_of_range_in_a_query_is_a_422_naming_it(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    """A bigint overflow (SQLite raises, PostgreSQL refuses) and an instant past Python's range were
    500s; a position past the log is refused like any as_of past the latest point (it was read as
    the head, whose answer changes as events arrive)."""
    before = log_length(client)

    for path, params in OUT_OF_RANGE_QUERIES:
        response = client.get(path, params=params, headers=headers["auditor"])

        # The field is the parameter, or a field within it (a what-if document's `terms.obligations...`).
        assert {error["field"].split(".")[0] for error in assert_problem(response, 422)["errors"]} <= set(params), (path, params)
    assert log_length(client) == before


OUT_OF_RANGE_EVENTS = [
    (separation("FRTF-9", expected_version=-1), "expected_version"),
    (with_field(separation("FRTF-9"), "data.children.0.birth_year", HUGE), "data.children[0].birth_year"),
    (envelope(CASE, "WhereaboutsUnknownDeclared", {"attempts_made": HUGE}), "data.attempts_made"),
    (envelope(CASE, "WhereaboutsUnknownDeclared", {"attempts_made": 1e300}), "data.attempts_made"),
    (separation("FRTF-9", occurred_at="0001-01-01T00:00:00-14:00"), "occurred_at"),  # once stored as "1-01-01…"
    (separation("FRTF-9", occurred_at="0001-01-01T00:00:00+14:00"), "occurred_at"),  # once a 500
    (separation("FRTF-9", occurred_at="1899-12-31T23:59:59Z"), "occurred_at"),
    (separation("FRTF-9", occurred_at="9999-12-31T23:59:59-14:00"), "occurred_at"),
    (correction({"outcome": "reached"}) | {"occurred_at": "0999-01-01T00:00:00Z"}, "occurred_at"),
]


def test_a_number_or_instant_out_of_range_in_an_event_is_a_422_naming_it(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    before = log_length(client)

    response = client.post("/v1/events", json=batch(*[event for event, _ in OUT_OF_RANGE_EVENTS]), headers=headers["FRTF"])

    assert_problem(response, 422, *[(index, field) for index, (_, field) in enumerate(OUT_OF_RANGE_EVENTS)])
    assert log_length(client) == before


def test_a_member_id_given_twice_is_refused_naming_it(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """Found: "member ids must be unique" did not say which; in a family of dozens it has to."""
    twice = with_field(separation("FRTF-77"), "data.children", [{"member_id": "C1", "birth_year": 2014}, {"member_id": "C2", "birth_year": 2015}])
    twice = with_field(twice, "data.parents", [{"member_id": "P1"}, {"member_id": "C2"}])
    reunified = envelope(CASE, "FamilyReunified", {"children": ["C1", "C1"], "location_country": "US"})
    before = log_length(client)

    problems = [
        assert_problem(client.post("/v1/events", json=batch(twice), headers=headers["FRTF"]), 422, (0, "data")),
        assert_problem(client.post("/v1/events", json=batch(reunified), headers=headers["FRTF"]), 422, (0, "data")),
    ]

    assert "C2 given more than once" in problems[0]["errors"][0]["message"]
    assert "C1 given more than once" in problems[1]["errors"][0]["message"]
    assert log_length(client) == before
