"""Bearer tokens (issue 7, item 4): a revoked token stops working at once, everywhere; a token is
compared in constant time against a stored digest, never stored or logged itself."""

import hashlib
import hmac
import io
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import domain.access
from api.app import create_app
from api.http_server import SERVER_LOGGING
from api.request_logging import configure_logging
from api.settings import Settings
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.live_server import serving


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- revocation --------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_on_its_very_next_request(client: TestClient, tokens: Tokens) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    token = tokens.secret("FRTF")
    for _ in range(3):  # used, so that anything that could cache it has
        assert client.get("/v1/checkpoint", headers=bearer(token)).status_code == 200
    ledger.tokens.revoke(token.partition(".")[0], "compromised")
    size = ledger.store.tree_size()
    refused = client.post("/v1/events", json=batch(separation("FRTF-1")), headers=bearer(token))
    assert refused.status_code == 401
    assert client.get("/v1/checkpoint", headers=bearer(token)).status_code == 401
    assert ledger.store.tree_size() == size and ledger.reader.case("FRTF-1") is None


def test_a_token_revoked_through_another_process_is_refused_at_once(
    client: TestClient, tokens: Tokens, settings: Settings, signer: Signer, master_key: bytes
) -> None:
    """The CLI revokes through a Ledger of its own (another process, another connection pool):
    the serving process, which has just accepted the token, refuses it on the next request."""
    token = tokens.secret("KIND")
    assert client.get("/v1/cases/FRTF-9", headers=bearer(token)).status_code == 404  # accepted: no such case
    with Ledger(settings.database_url, signer, master_key) as elsewhere:
        elsewhere.tokens.revoke(token.partition(".")[0], "left the programme")
    assert client.get("/v1/cases/FRTF-9", headers=bearer(token)).status_code == 401


def test_a_dashboard_session_ends_when_its_token_is_revoked(client: TestClient, tokens: Tokens) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    token = tokens.secret("MONITOR", "monitor")
    form = client.get("/sign-in").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    assert client.post("/sign-in", data={"token": token, "csrf": csrf.group(1)}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    ledger.tokens.revoke(token.partition(".")[0], "rotated")
    ended = client.get("/", follow_redirects=False)
    assert (ended.status_code, ended.headers["location"]) == (303, "/sign-in?notice=revoked")


# --- comparison and storage ------------------------------------------------------------------------


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """The arguments of every hmac.compare_digest the token check makes."""
    calls: list[tuple[Any, Any]] = []
    original = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(domain.access.hmac, "compare_digest", counting)
    return calls


def test_a_token_is_checked_by_a_constant_time_comparison_of_digests(ledger: Ledger, compared: list[tuple[Any, Any]]) -> None:
    token = ledger.tokens.issue("kind-intake", Organization.KIND, Role.AGENCY)
    name, _, secret = token.partition(".")

    assert ledger.tokens.authenticate(token) is not None
    assert ledger.tokens.authenticate(f"{name}.{secret[:-1]}A" if secret[-1] != "A" else f"{name}.{secret[:-1]}B") is None
    assert len(compared) == 2, "each token of a known name is compared once, with hmac.compare_digest"
    for a, b in compared:
        assert re.fullmatch(r"[0-9a-f]{64}", a) and re.fullmatch(r"[0-9a-f]{64}", b), "SHA-256 digests are compared, never tokens"
        assert secret not in a and secret not in b

    compared.clear()
    assert ledger.tokens.authenticate(f"nobody.{secret}") is None  # looked up by its public name: nothing to compare
    assert ledger.tokens.authenticate(secret) is None and ledger.tokens.authenticate("") is None
    assert compared == []


def test_only_the_sha256_of_a_token_is_stored(ledger: Ledger) -> None:
    token = ledger.tokens.issue("oig-audit", Organization.OIG, Role.AUDITOR)
    secret = token.partition(".")[2]
    [issued] = [ledger.reader.decode(entry.stored) for entry in ledger.store.iter_logged() if entry.stored.topic.endswith("TokenIssued")] or [None]
    assert issued is not None
    assert issued.data["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    stored = b"".join(entry.stored.state for entry in ledger.store.iter_logged())
    assert secret.encode() not in stored and token.encode() not in stored


# --- never logged ----------------------------------------------------------------------------------


@pytest.fixture
def log_capture(caplog: pytest.LogCaptureFixture) -> Iterator[logging.StreamHandler[io.StringIO]]:
    """A handler on the root logger catching everything at DEBUG, in its own format."""
    capture = logging.StreamHandler(io.StringIO())
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))  # the name first: see _client_side
    caplog.set_level(logging.DEBUG)
    logging.getLogger().addHandler(capture)
    yield capture
    logging.getLogger().removeHandler(capture)
    configure_logging("INFO")


def test_no_token_reaches_any_log_through_a_real_server(
    settings: Settings,
    signer: Signer,
    master_key: bytes,
    log_capture: logging.StreamHandler[io.StringIO],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Served as `ledger serve` serves (uvicorn with SERVER_LOGGING), at DEBUG: valid, wrong,
    revoked and malformed tokens, in headers, a query string and the dashboard's sign-in form.
    What is searched: every record reaching the root logger, and all the process wrote to its
    standard output and error."""
    debug = settings.model_copy(update={"log_level": "DEBUG"})
    with Ledger(settings.database_url, signer, master_key) as ledger:
        frtf = ledger.tokens.issue("frtf-intake", Organization.FRTF, Role.AGENCY)
        monitor = ledger.tokens.issue("monitor-one", Organization.MONITOR, Role.MONITOR)
        revoked = ledger.tokens.issue("kind-old", Organization.KIND, Role.AGENCY)
        ledger.tokens.revoke("kind-old", "rotated")
        wrong = f"frtf-intake.{frtf.partition('.')[2][::-1]}"
        app = create_app(debug, ledger)
        with serving(app, log_level="debug", **SERVER_LOGGING) as base, httpx.Client(base_url=base, timeout=30) as http:
            # uvicorn's access log (it would write query strings) has nowhere to go: each
            # connection checks for handlers, finds none, and writes nothing.
            assert not logging.getLogger("uvicorn.access").hasHandlers()
            statuses = [
                http.post("/v1/events", json=batch(separation("FRTF-1")), headers=bearer(frtf)).status_code,
                http.post("/v1/events", json=batch(separation("FRTF-2")), headers=bearer(frtf)).status_code,
                http.get("/v1/cases/FRTF-1", headers=bearer(wrong)).status_code,
                http.get("/v1/cases/FRTF-1", headers=bearer(revoked)).status_code,
                http.get("/v1/checkpoint", headers=bearer(f"{frtf}garbage")).status_code,
                http.get(f"/v1/checkpoint?token={frtf}", headers=bearer(monitor)).status_code,
                http.get("/v1/reports/compliance", headers=bearer(monitor)).status_code,
            ]
            for pasted in (revoked, wrong, monitor):
                form = http.get("/sign-in").text
                csrf = re.search(r'name="csrf" value="([^"]+)"', form)
                assert csrf is not None
                statuses.append(http.post("/sign-in", data={"token": pasted, "csrf": csrf.group(1)}).status_code)
    assert statuses == [201, 201, 401, 401, 401, 200, 200, 401, 401, 303]

    out, err = capfd.readouterr()
    lines = [log_capture.stream.getvalue(), out, err, *(repr(record.__dict__) for record in caplog.records if not _client_side(record.name))]
    everything = "\n".join(line for line in "\n".join(lines).splitlines() if not _client_side(line))
    assert '"route": "/v1/events"' in everything, "the request lines were not captured: this test proves nothing"
    for token in (frtf, monitor, revoked, wrong):
        secret = token.partition(".")[2]
        for leaked in (token, secret, secret[:8]):
            assert leaked not in everything, f"a token ({token.partition('.')[0]}) reached the logs"


def _client_side(record: str) -> bool:
    """The test's own HTTP client logs what it sends (a URL with a query string): not the server's logs."""
    return record.startswith(("httpx", "httpcore")) or '"logger": "httpx' in record or '"logger": "httpcore' in record
