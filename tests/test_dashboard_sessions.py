"""Dashboard sessions that end (issue 15, item 2), on both backends: signing out, revoking the token
and expiry end a session in the database, at once, for every copy of its cookie and in every API
process; a forged or replayed cookie opens nothing; the sessions table never holds a bearer token."""

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from psycopg.rows import dict_row

from api.app import create_app
from api.sessions import COOKIE, PURPOSE
from api.settings import Settings
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import batch, separation
from tests.harness import ORIGIN, Tokens
from tests.test_dashboard import csrf_of, sign_in

DOWNLOADS = (
    "/download/compliance.pdf",
    "/download/compliance.csv",
    "/download/compliance.json",
    "/download/compliance.html",
    "/download/overdue.csv",
)
SESSIONS_TABLE = "ledger_dashboard_sessions"


def raw_sql(database_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Runs one statement on the ledger's database behind its back (`{table}`: the sessions table)."""
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(urlsplit(database_url).path.removeprefix("/"))) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(statement.format(table=SESSIONS_TABLE).replace("%s", "?"), params).fetchall()
            connection.commit()
            return [dict(row) for row in rows]
    parts = urlsplit(database_url)
    schema = parse_qs(parts.query)["schema"][0]
    with psycopg.connect(urlunsplit(parts._replace(query="")), row_factory=dict_row, autocommit=True) as connection:
        cursor = connection.execute(statement.format(table=f'"{schema}".{SESSIONS_TABLE}'), params)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


def stored_sessions(database_url: str) -> list[dict[str, Any]]:
    return raw_sql(database_url, "SELECT * FROM {table} ORDER BY started_at")


def opened_with(client: TestClient, cookie: str) -> dict[str, str]:
    """What a browser holding only `cookie` gets from every signed-in page: path → status (and
    where a redirect sends it)."""
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)
    got = {}
    for path in ("/", *DOWNLOADS, "/sign-in"):
        response = client.get(path, follow_redirects=False)
        got[path] = f"{response.status_code} {response.headers.get('location', '')}".strip()
    client.cookies.clear()
    return got


SIGNED_IN = {"/": "200", **{path: "200" for path in DOWNLOADS}, "/sign-in": "303 /"}
ENDED = {"/": "303 /sign-in?notice=expired", **{path: "303 /sign-in?notice=expired" for path in DOWNLOADS}, "/sign-in": "200"}


@pytest.fixture
def posted(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    assert client.app.state.projection.wait_for(client.app.state.ledger.store.tree_size(), 10)  # type: ignore[attr-defined]


@pytest.fixture
def second_app(settings: Settings, signer: Signer, master_key: bytes) -> Iterator[TestClient]:
    """Another API process on the same database: its own ledger, connections and app."""
    with Ledger(settings.database_url, signer, master_key) as other, TestClient(create_app(settings, other)) as client:
        assert client.app.state.projection.wait_for(other.store.tree_size(), 10)  # type: ignore[attr-defined]
        yield client


@pytest.mark.usefixtures("posted")
def test_a_cookie_copied_before_sign_out_opens_nothing_after_it_in_this_process_or_another(
    client: TestClient, tokens: Tokens, second_app: TestClient
) -> None:
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    copied = client.cookies[COOKIE]
    csrf = csrf_of(client.get("/").text)
    assert opened_with(client, copied) == SIGNED_IN
    assert opened_with(second_app, copied) == SIGNED_IN, "every API process honours the session"

    client.cookies.set(COOKIE, copied)
    signed_out = client.post("/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/sign-in?notice=signed-out")
    assert opened_with(client, copied) == ENDED
    assert opened_with(second_app, copied) == ENDED
    assert stored_sessions(str(client.app.state.settings.database_url)) == []  # type: ignore[attr-defined]


@pytest.mark.usefixtures("posted")
def test_signing_out_in_another_process_ends_the_session_here(client: TestClient, tokens: Tokens, second_app: TestClient) -> None:
    sign_in(client, tokens.secret("OIG", "auditor"))
    copied = client.cookies[COOKIE]
    second_app.cookies.set(COOKIE, copied)
    csrf = csrf_of(second_app.get("/").text)
    assert second_app.post("/sign-out", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert opened_with(client, copied) == ENDED


def test_signing_out_ends_only_that_session(client: TestClient, tokens: Tokens, second_app: TestClient) -> None:
    secret = tokens.secret("MONITOR", "monitor")
    sign_in(client, secret)
    sign_in(second_app, secret)  # the same token, in another browser
    csrf = csrf_of(client.get("/").text)
    assert client.post("/sign-out", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert second_app.get("/", follow_redirects=False).status_code == 200
    assert len(stored_sessions(str(client.app.state.settings.database_url))) == 1  # type: ignore[attr-defined]


def test_signing_in_again_ends_the_session_the_browser_had(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    copied = client.cookies[COOKIE]
    csrf = csrf_of(client.get("/").text)
    auditor = tokens.secret("OIG", "auditor")
    again = client.post("/sign-in", data={"token": auditor, "csrf": csrf}, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/audit/cases")
    assert client.get("/", follow_redirects=False).status_code == 200
    assert opened_with(client, copied)["/"] == "303 /sign-in?notice=expired"
    assert [row["token_name"] for row in stored_sessions(settings.database_url)] == [auditor.split(".")[0]]


def test_revoking_the_token_ends_every_session_of_it_in_every_process(
    client: TestClient, tokens: Tokens, second_app: TestClient, settings: Settings
) -> None:
    secret = tokens.secret("MONITOR", "monitor")
    sign_in(client, secret)
    sign_in(second_app, secret)
    copies = [client.cookies[COOKIE], second_app.cookies[COOKIE]]
    other = tokens.secret("OIG", "auditor")
    sign_in(TestClient(client.app), other)  # another token's session, which stays
    assert {row["token_name"] for row in stored_sessions(settings.database_url)} == {secret.split(".")[0], other.split(".")[0]}

    client.app.state.ledger.tokens.revoke(secret.split(".")[0], "left the monitor's office")  # type: ignore[attr-defined]
    assert [row["token_name"] for row in stored_sessions(settings.database_url)] == [other.split(".")[0]]
    for app in (client, second_app):
        for cookie in copies:
            got = opened_with(app, cookie)
            assert set(got.values()) == {"303 /sign-in?notice=revoked", "200"} and got["/sign-in"] == "200", got


def test_a_session_ends_at_its_configured_time(settings: Settings, signer: Signer, master_key: bytes) -> None:
    lifetime = 2.0
    short = settings.model_copy(update={"dashboard_session_hours": lifetime / 3600})
    with Ledger(short.database_url, signer, master_key) as ledger, TestClient(create_app(short, ledger)) as client:
        sign_in(client, Tokens(ledger).secret("MONITOR", "monitor"))
        [row] = stored_sessions(short.database_url)
        started, ends = (datetime.fromisoformat(row[column]) for column in ("started_at", "expires_at"))
        assert (ends - started).total_seconds() == lifetime
        copied = client.cookies[COOKIE]
        assert client.get("/", follow_redirects=False).status_code == 200
        time.sleep(max(0.0, ends.timestamp() - time.time()) + 0.1)
        assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in", "the browser dropped the cookie"
        assert opened_with(client, copied) == ENDED, "and a copy kept past its end opens nothing"


def test_expiry_is_the_databases_to_decide_not_the_cookies(client: TestClient, tokens: Tokens, second_app: TestClient, settings: Settings) -> None:
    """A session whose stored end has passed is over, in every process, though its cookie (signed
    for 8 hours) is still fresh."""
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    copied = client.cookies[COOKIE]
    assert client.get("/", follow_redirects=False).status_code == 200
    raw_sql(settings.database_url, "UPDATE {table} SET expires_at = %s", ("2020-01-01T00:00:00.000000Z",))
    assert opened_with(client, copied)["/"] == "303 /sign-in?notice=expired"
    assert opened_with(second_app, copied)["/"] == "303 /sign-in?notice=expired"
    # The next sign-in purges what has expired.
    sign_in(client, tokens.secret("OIG", "auditor"))
    assert [row["token_name"] for row in stored_sessions(settings.database_url)] == [tokens.secret("OIG", "auditor").split(".")[0]]


def test_a_forged_or_replayed_cookie_opens_nothing(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    monitor = tokens.secret("MONITOR", "monitor")
    sign_in(client, monitor)
    genuine = client.cookies[COOKIE]
    key = client.app.state.ledger.signer.derive_secret(PURPOSE)  # type: ignore[attr-defined]
    serializer = URLSafeTimedSerializer(key, salt=PURPOSE)
    data = serializer.loads(genuine)
    auditor = tokens.secret("OIG", "auditor").split(".")[0]

    altered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    assert opened_with(client, altered) == ENDED, "an altered signature is no session"
    # Even signed with the ledger's own key, a cookie is no session without its stored row: a
    # made-up session id, or a real one claimed for another token.
    for forged in ({**data, "sid": "made-up-session-id"}, {**data, "name": auditor}, {"csrf": data["csrf"], "name": data["name"]}):
        got = opened_with(client, serializer.dumps(forged))
        assert got["/"].startswith("303 /sign-in") and all(got[path].startswith("303 /sign-in") for path in DOWNLOADS), (forged, got)
        assert got["/sign-in"] == "200"
    # A cookie of the session's first version (signed, never stored) is no session either.
    old = URLSafeTimedSerializer(client.app.state.ledger.signer.derive_secret("dashboard-session-cookie-v1"), salt="dashboard-session-cookie-v1")  # type: ignore[attr-defined]
    assert opened_with(client, old.dumps({"csrf": "x", "name": data["name"]})) == ENDED
    assert opened_with(client, genuine)["/"] == "200", "the genuine session is untouched by the forgeries"


def test_the_sessions_table_holds_the_tokens_name_and_a_hash_of_the_session_id_only(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    monitor = tokens.secret("MONITOR", "monitor")
    sign_in(client, monitor)
    key = client.app.state.ledger.signer.derive_secret(PURPOSE)  # type: ignore[attr-defined]
    session_id = URLSafeTimedSerializer(key, salt=PURPOSE).loads(client.cookies[COOKIE])["sid"]
    [row] = stored_sessions(settings.database_url)
    assert set(row) == {"session_hash", "token_name", "started_at", "expires_at"}
    assert row["token_name"] == monitor.split(".")[0]
    assert row["session_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
    stored = " ".join(str(value) for value in row.values())
    for secret in (monitor, monitor.split(".", 1)[1], session_id):
        assert secret not in stored


def test_a_session_store_without_sign_in_is_empty(client: TestClient, settings: Settings) -> None:
    """Visitors of the sign-in form get a CSRF secret in their cookie, and nothing is stored."""
    for _ in range(3):
        client.cookies.clear()
        assert client.get("/sign-in").status_code == 200
    assert stored_sessions(settings.database_url) == []


def test_sessions_survive_a_restart(settings: Settings, signer: Signer, master_key: bytes, tmp_path: Path) -> None:
    with Ledger(settings.database_url, signer, master_key) as ledger, TestClient(create_app(settings, ledger)) as client:
        sign_in(client, Tokens(ledger).secret("MONITOR", "monitor"))
        cookie = client.cookies[COOKIE]
    restarted = Settings(database_url=settings.database_url, signing_key_file=tmp_path / "unused.pem", origin=ORIGIN)
    with Ledger(restarted.database_url, signer, master_key) as ledger, TestClient(create_app(restarted, ledger)) as client:
        client.cookies.set(COOKIE, cookie)
        assert client.get("/", follow_redirects=False).status_code == 200
