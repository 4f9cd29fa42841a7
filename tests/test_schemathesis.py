"""The whole OpenAPI schema fuzzed with schemathesis, on SQLite and on PostgreSQL: no answer is a
5xx, and every answer matches the schema (status code, content type, headers, body).

Every operation gets data that fits the schema (positive) and, where it has parameters or a
body, data that does not (negative: it must be refused with a 4xx), sent with a token of a role
the operation admits: an agency's for POST /v1/events, an auditor's (who may read everything)
for the rest. The case reads are fuzzed once more on a seeded case (with a correction and a
retraction, which mark the history), so that full answers, not only 404s, are checked against the
schema. Generation is derandomized (a fixed seed per
operation and mode), so CI sends the same requests every run: 194 per backend at the counts
below, in about 10 s on either backend (printed with -s). Not stateful: the schema declares no
links between operations, and the hostile-input tests (test_hostile_input.py) cover what links
would reach.
"""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from tests.builders import batch, contact, envelope, preference, separation
from tests.harness import Tokens

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 8  # per operation and mode
EXAMPLES_BY_OPERATION = {"POST /v1/events": 15}  # the write path: the whole event catalog
SEEDED_CASE = "FRTF-000123"


@pytest.fixture(scope="module")
def schema() -> Any:
    """The app's schema, loaded once: building it (29 event types) takes seconds, and it does not
    depend on the backend. Unknown query parameters are ignored, as HTTP clients expect, so none
    are generated; nor tokens, which the test adds."""
    loaded = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite:///unopened.db")).openapi())
    loaded.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    return loaded


def test_no_operation_answers_5xx_or_strays_from_the_schema(client: TestClient, tokens: Tokens, schema: Any) -> None:
    agency, auditor = tokens.get("FRTF"), tokens.get("OIG", "auditor")
    seeded = [separation(SEEDED_CASE), contact(SEEDED_CASE, outcome="reached"), preference(SEEDED_CASE)]
    amended = [
        envelope(SEEDED_CASE, "EntryCorrected", {"event_id": seeded[1]["event_id"], "changes": {"channel": "mail"}, "reason": "typo"}),
        envelope(SEEDED_CASE, "EntryRetracted", {"event_id": seeded[2]["event_id"], "reason": "wrong family"}),
    ]
    assert client.post("/v1/events", json=batch(seeded[0]), headers=agency).status_code == 201
    assert client.post("/v1/events", json=batch(*seeded[1:], *amended), headers=tokens.get("KIND")).status_code == 201
    schema.app = client.app
    # Not entered: the test's client already runs the app's lifespan, which must not run twice.
    session = asgi.get_client(client.app)
    sent = 0
    failures = []
    started = time.perf_counter()
    for operation, mode, strategy in _strategies(schema):
        headers = agency if operation.method.upper() == "POST" else auditor

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_BY_OPERATION.get(operation.label, EXAMPLES),
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            nonlocal sent
            response = case.call(session=session, headers=headers)
            sent += 1
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # schemathesis reports several failures as a group
            failures.append(f"{operation.label} ({mode.value}): {error}")
    print(f"schemathesis sent {sent} requests in {time.perf_counter() - started:.1f} s")
    assert not failures, "\n\n".join(failures)


def _strategies(schema: Any) -> Iterator[tuple[APIOperation, GenerationMode, SearchStrategy[Any]]]:
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzzable = bool(operation.path_parameters or operation.query or operation.body)
        for mode in GenerationMode if fuzzable else [GenerationMode.POSITIVE]:
            yield operation, mode, operation.as_strategy(mode)
        if "case_id" in [parameter.name for parameter in operation.path_parameters]:
            yield operation, GenerationMode.POSITIVE, operation.as_strategy(path_parameters={"case_id": SEEDED_CASE})
