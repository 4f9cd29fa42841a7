"""A projection that cannot go on says so: the position and the error's type (never its message) in
/healthz and /metrics, on both backends, whichever process projects; and the fault goes once the
projection gets past it. Before, the projector logged the type and retried, and nothing else told.

The failures are real, not mocked: an event the older validation let in (a terms version of 401
digits, which the projection's JSON reader cannot hold), appended without the door's checks as it
was then; and a read-model table taken away behind the projector's back.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from domain.envelope import SETTLEMENT_CASE_ID, Posting
from ledger.application import Ledger
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_cli import Run, assert_fails_with_one_line_reason, cli, key_file  # noqa: F401
from tests.test_metrics import scrape, value
from tests.test_reports_api import external_client  # noqa: F401

UNREADABLE = 10**400  # older validation took any terms version; JSON readers of 64-bit numbers cannot


def append_unreadable_terms(ledger: Ledger, tokens: Tokens) -> int:
    """Terms as the older validation let them in, appended as they were then: their position."""
    doj = ledger.tokens.authenticate(tokens.secret("DOJ"))
    data = {"terms_version": UNREADABLE, "effective_date": "2025-01-01", "obligations": {"first_outreach": {"days": 30}}}
    posting = Posting(str(uuid4()), SETTLEMENT_CASE_ID, "TermsAdopted", "2025-01-01T00:00:00.000000Z", data)
    [receipt] = ledger.appender.append([posting], doj).receipts
    return receipt.position


def eventually(check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)
    return found


def stalled(client: TestClient) -> dict[str, Any] | None:
    response = client.get("/healthz")
    fault = response.json()["projection"]["fault"]
    assert (response.status_code, response.json()["status"]) == ((503, "stalled") if fault else (200, "ok"))
    return fault  # type: ignore[no-any-return]


def test_an_event_the_projection_cannot_read_shows_in_healthz_and_metrics_with_its_position_and_type(
    client: TestClient, tokens: Tokens
) -> None:
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    position = append_unreadable_terms(ledger, tokens)
    assert client.post("/v1/events", json=batch(separation("FRTF-2")), headers=tokens.get("FRTF")).status_code == 201

    fault = eventually(lambda: stalled(client))

    assert fault["position"] == position and fault["error_type"] == "JSONDecodeError"
    assert fault["attempts"] >= 1 and fault["first_failed_at"] <= fault["last_failed_at"]
    health = client.get("/healthz").json()
    assert health["projection"]["position"] == position - 1 and health["projection"]["lag"] == 2
    samples = scrape(client)
    assert value(samples, "ledger_projection_stalled") == 1
    assert value(samples, "ledger_projection_fault_position", error_type="JSONDecodeError") == position
    assert value(samples, "ledger_projection_fault_since_seconds", error_type="JSONDecodeError") > 1.7e9
    # The error's message (orjson's "number is infinity when parsed as double") is never shown.
    assert "infinity" not in client.get("/healthz").text + client.get("/metrics").text


def test_a_report_past_the_fault_is_a_503_that_the_health_check_explains(client: TestClient, tokens: Tokens) -> None:
    client.app.state.settings.report_wait_seconds = 0.2  # type: ignore[attr-defined]
    monitor = tokens.get("MONITOR", "monitor")  # issuing a token is itself an event: first
    position = append_unreadable_terms(client.app.state.ledger, tokens)  # type: ignore[attr-defined]
    eventually(lambda: stalled(client))
    response = client.get("/v1/reports/compliance", headers=monitor)
    assert response.status_code == 503 and f"the report needs position {position}" in response.json()["detail"]
    earlier = client.get("/v1/reports/compliance", params={"as_of": str(position - 1)}, headers=monitor)
    assert earlier.status_code == 200, "what came before the fault is still reported"


def _read_model_table(ledger: Ledger, name: str) -> str:
    datastore: Any = ledger.store.datastore  # type: ignore[attr-defined]
    return f'"{datastore.schema}"."{name}"' if ledger.backend == "postgresql" else name


def _rename(ledger: Ledger, old: str, new: str) -> None:
    datastore: Any = ledger.store.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(f"ALTER TABLE {_read_model_table(ledger, old)} RENAME TO {new}")


def test_a_broken_read_model_table_shows_until_it_is_mended_then_the_fault_goes(client: TestClient, tokens: Tokens) -> None:
    ledger, projection = client.app.state.ledger, client.app.state.projection  # type: ignore[attr-defined]
    frtf = tokens.get("FRTF")
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=frtf).status_code == 201
    assert projection.wait_for(ledger.store.tree_size(), 10)
    clocks = f"cs{projection.generation()}_clocks"
    _rename(ledger, clocks, "clocks_taken_away")
    try:
        assert client.post("/v1/events", json=batch(separation("FRTF-2")), headers=frtf).status_code == 201
        fault = eventually(lambda: stalled(client))
        assert fault["position"] == ledger.store.tree_size()
        assert fault["error_type"] in ("OperationalError", "ProgrammingError")
        assert "clocks" not in client.get("/healthz").text, "the database's message names the table: not shown"
    finally:
        _rename(ledger, "clocks_taken_away", clocks)
    eventually(lambda: stalled(client) is None)
    assert projection.tracked() == ledger.store.tree_size()
    assert value(scrape(client), "ledger_projection_stalled") == 0


def test_the_fault_of_an_external_projector_shows_in_the_apis_health(
    external_client: TestClient, database_url: str, tmp_path: Path  # noqa: F811
) -> None:
    """LEDGER_PROJECTOR=external: `ledger project --follow` runs in a process of its own, and the API,
    which projects nothing, shows what stalls it."""
    client = external_client
    tokens = Tokens(client.app.state.ledger)  # type: ignore[attr-defined]
    position = append_unreadable_terms(client.app.state.ledger, tokens)  # type: ignore[attr-defined]
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "key.pem")}
    command = [sys.executable, "-c", "from api.cli import main; main()", "project", "--follow"]
    follower = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        fault = eventually(lambda: stalled(client), seconds=60)
    finally:
        follower.terminate()  # its SIGTERM handler stops the loop
        _, errors = follower.communicate(timeout=30)
    assert fault["position"] == position and fault["error_type"] == "JSONDecodeError"
    assert f"projection stalled at position {position} by an unexpected JSONDecodeError" in errors
    assert "infinity" not in errors, "the follower logs the type and position, never the message"


def test_ledger_project_says_which_event_it_cannot_project_and_records_it(cli: Run, ledger: Ledger) -> None:  # noqa: F811
    assert cli("tokens", "create", "doj-terms", "--organization", "DOJ", "--role", "agency").exit_code == 0
    doj = ledger.tokens.principal_named("doj-terms")
    data = {"terms_version": UNREADABLE, "effective_date": "2025-01-01", "obligations": {"first_outreach": {"days": 30}}}
    [receipt] = ledger.appender.append([Posting(str(uuid4()), SETTLEMENT_CASE_ID, "TermsAdopted", "2025-01-01T00:00:00.000000Z", data)], doj).receipts
    assert_fails_with_one_line_reason(
        cli("project", "--once"), f"the event at position {receipt.position} could not be projected (JSONDecodeError)"
    )
    assert_fails_with_one_line_reason(cli("rebuild"), "the rebuild did not finish", f"position {receipt.position}")
    from projections.runner import Projection

    fault = Projection(ledger).fault()
    assert fault is not None and (fault.position, fault.error_type) == (receipt.position, "JSONDecodeError")
