"""Structured logs: JSON lines with a request id echoed in X-Request-ID, and never a token or a
posted envelope's personal fields (names, contact_detail, address, notes), whatever the request:
accepted, refused, invalid, or a dashboard sign-in that carries a token in its form."""

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.request_logging import configure_logging
from tests.builders import batch, contact, envelope, separation
from tests.harness import Tokens

NAME, CHILD, PHONE, ADDRESS, NOTE = "Ana Example", "Nino Ejemplo", "+502 5555 0199", "4a Calle 12-34, Zona 1", "mother asked us to call after 6"


@pytest.fixture
def logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every log line the app writes while the test runs, as its JSON handler formats it, at DEBUG."""
    configure_logging("DEBUG")
    root = logging.getLogger()
    ours = next(handler for handler in root.handlers if handler.get_name() == "ledger-json")
    lines = io.StringIO()
    capture = logging.StreamHandler(lines)
    capture.setFormatter(ours.formatter)
    for each in ours.filters:
        capture.addFilter(each)
    root.addHandler(capture)
    caplog.set_level(logging.DEBUG)
    yield lines
    root.removeHandler(capture)
    configure_logging("INFO")


def personal_envelopes(case_id: str) -> list[dict[str, object]]:
    identified = separation(case_id)
    identified["data"]["children"][0]["name"] = CHILD  # type: ignore[index]
    identified["data"]["parents"][0]["name"] = NAME  # type: ignore[index]
    identified["data"]["notes"] = NOTE  # type: ignore[index]
    return [identified]


def test_no_token_or_personal_field_reaches_the_logs(
    client: TestClient, tokens: Tokens, logged: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    frtf, kind = tokens.secret("FRTF"), tokens.secret("KIND")
    monitor = tokens.secret("MONITOR", "monitor")
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731

    assert client.post("/v1/events", json=batch(*personal_envelopes("FRTF-1")), headers=bearer(frtf)).status_code == 201
    reached = contact("FRTF-1", outcome="reached")
    reached["data"]["contact_detail"] = PHONE  # type: ignore[index]
    located = envelope("FRTF-1", "ParentLocated", {"country": "GT", "address": ADDRESS, "notes": NOTE})
    assert client.post("/v1/events", json=batch(reached, located), headers=bearer(kind)).status_code == 201
    invalid = personal_envelopes("FRTF-2")
    invalid[0]["data"]["nationality"] = "Atlantis"  # type: ignore[index]
    assert client.post("/v1/events", json=batch(*invalid), headers=bearer(frtf)).status_code == 422
    assert client.post("/v1/events", json=batch(*personal_envelopes("FRTF-3")), headers=bearer(kind)).status_code == 403
    assert client.post("/v1/events", json=batch(*personal_envelopes("FRTF-4")), headers=bearer(frtf + "x")).status_code == 401
    assert client.get("/v1/cases/FRTF-1/events", headers=bearer(frtf)).status_code == 200
    assert client.get("/v1/reports/compliance", params={"format": "csv"}, headers=bearer(monitor)).status_code == 200
    form = client.get("/sign-in").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    assert client.post("/sign-in", data={"token": monitor, "csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/").status_code == 200

    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) >= 10, "each request is logged"
    assert {"time", "level", "logger", "request_id", "method", "route", "status", "duration_ms"} <= set(requests[0])
    assert {(r["method"], r["route"], r["status"]) for r in requests} >= {("POST", "/v1/events", 422), ("POST", "/sign-in", 303)}
    everything = logged.getvalue() + "\n".join(repr(record.__dict__) for record in caplog.records)
    for secret in (NAME, CHILD, PHONE, ADDRESS, NOTE, frtf, kind, monitor, frtf.split(".", 1)[1], monitor.split(".", 1)[1]):
        assert secret not in everything, f"{secret[:12]}… was logged"


def test_a_request_id_is_echoed_and_carried_by_every_line(client: TestClient, logged: io.StringIO) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42.a_b"})
    assert given.headers["x-request-id"] == "trace-42.a_b"
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    for unsafe in ("has spaces in it", "x" * 65, "quote\"and{brace}"):
        replaced = client.get("/healthz", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    assert client.get("/no/such/page").headers["x-request-id"]
    ids = [json.loads(line)["request_id"] for line in logged.getvalue().splitlines() if '"message": "request"' in line]
    assert "trace-42.a_b" in ids and made.headers["x-request-id"] in ids
    assert "has spaces in it" not in logged.getvalue()


def test_an_exception_is_logged_by_type_and_place_never_by_its_message(logged: io.StringIO) -> None:
    try:
        raise ValueError(f"could not parse {NAME} at {PHONE}")
    except ValueError:
        logging.getLogger("ledger.test").exception("parsing failed")
    line = json.loads(logged.getvalue().splitlines()[-1])
    assert line["message"] == "parsing failed"
    assert "builtins.ValueError (message withheld" in line["exc_info"]
    assert "test_request_logging.py" in line["exc_info"]
    assert NAME not in logged.getvalue() and PHONE not in logged.getvalue()
