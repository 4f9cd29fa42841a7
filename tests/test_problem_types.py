"""Problem details under one `type` scheme, documented: every error the API answers is typed
`urn:ms-l-ledger:problem:<name>`, one name and title per kind, listed in the OpenAPI description
and the README. Only a refused write says that nothing was appended."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.problems import PROBLEM_TYPE_PREFIX, PROBLEM_TYPES
from ledger.faults import BUSY, FULL, UNAVAILABLE
from tests.builders import batch, contact, separation
from tests.harness import Tokens

README = Path(__file__).parent.parent / "README.md"


def assert_typed(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    name, title = PROBLEM_TYPES[status]
    assert (problem["type"], problem["title"], problem["status"]) == (PROBLEM_TYPE_PREFIX + name, title, status)
    return problem  # type: ignore[no-any-return]


def test_every_error_the_api_answers_is_typed_by_the_one_scheme(client: TestClient, tokens: Tokens) -> None:
    frtf, auditor, monitor = tokens.get("FRTF"), tokens.get("OIG", "auditor"), tokens.get("MONITOR", "monitor")
    raw = {**frtf, "Content-Type": "application/json"}
    too_large = "x" * (client.app.state.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    answers = [
        (client.post("/v1/events", content=b'{"events": [{"case_id": "\xff"}]}', headers=raw), 400),
        (client.get("/v1/checkpoint"), 401),
        (client.get("/v1/cases/FRTF-1", headers=monitor), 403),
        (client.post("/v1/events", json=batch(contact("FRTF-1")), headers=frtf), 403),
        (client.get("/v1/cases/FRTF-404", headers=auditor), 404),
        (client.get("/v1/nowhere", headers=auditor), 404),
        (client.delete("/v1/events", headers=frtf), 405),
        (client.post("/v1/events", json=batch(separation("FRTF-1", expected_version=3)), headers=frtf), 409),
        (client.post("/v1/events", content=too_large, headers=raw), 413),
        (client.post("/v1/events", content=b"{}", headers={**frtf, "Content-Type": "text/plain"}), 415),
        (client.post("/v1/events", content=b'{"events": [}', headers=raw), 422),
        (client.get("/v1/log", params={"limit": -1}, headers=auditor), 422),
    ]
    for response, status in answers:
        assert_typed(response, status)


def test_the_scheme_and_every_problem_name_are_documented(client: TestClient) -> None:
    described = client.app.openapi()["info"]["description"]  # type: ignore[attr-defined]
    readme = README.read_text()
    for text in (described, readme):
        assert PROBLEM_TYPE_PREFIX in text
        for status, (name, _) in PROBLEM_TYPES.items():
            assert f"`{name}`" in text and str(status) in text, name


def test_a_refused_read_never_says_nothing_was_appended_and_a_refused_post_does(client: TestClient, tokens: Tokens) -> None:
    auditor, frtf = tokens.get("OIG", "auditor"), tokens.get("FRTF")
    reads = [
        assert_typed(client.get("/v1/reports/compliance", params={"as_of": "not a date"}, headers=auditor), 422),
        assert_typed(client.get("/v1/log", params={"limit": "many"}, headers=auditor), 422),
        assert_typed(client.get("/v1/cases/FRTF-404", headers=auditor), 404),
    ]
    assert all("appended" not in problem["detail"] for problem in reads)
    assert all("appended" not in fault.detail_for(appending=False) for fault in (UNAVAILABLE, BUSY, FULL))

    refused = assert_typed(client.post("/v1/events", json={"events": "none"}, headers=frtf), 422)
    assert refused["detail"].endswith("; nothing was appended")
    assert all("nothing was appended" in fault.detail_for(appending=True) for fault in (BUSY, FULL))
