"""A full disk and a write lock held too long, on both backends, through the API.

The client gets an answer it can act on (507: make room; 503 with Retry-After: retry), nothing of
the batch is appended, and once the fault is gone the very same post succeeds: nothing was lost.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.verify import verify_log
from tests.builders import separation
from tests.harness import Tokens

LOCK_TIMEOUT_SECONDS = 1


@pytest.fixture
def database_url(database_url: str) -> str:
    """Both backends, with a short lock timeout, so a held lock is reported within a second."""
    return f"{database_url}{'&' if '?' in database_url else '?'}lock_timeout={LOCK_TIMEOUT_SECONDS}"


def a_batch(cases: int) -> dict[str, Any]:
    return {"events": [separation(f"FRTF-{n:05d}") for n in range(cases)]}


@contextmanager
def disk_full(ledger: Ledger) -> Iterator[None]:
    """The database cannot grow while this lasts: the write that needs room fails as on a full disk."""
    if ledger.backend == "sqlite":
        with _sqlite_cannot_grow(ledger):
            yield
    else:
        with _postgres_disk_full(ledger):
            yield


@contextmanager
def _sqlite_cannot_grow(ledger: Ledger) -> Iterator[None]:
    """`PRAGMA max_page_count` caps the file at its current size on the connection that writes:
    SQLite then fails the insert that needs a new page with SQLITE_FULL, "database or disk is full",
    the very error (and code path) of a full disk."""
    recorder: Any = ledger.store
    insert = recorder._append_in

    def capped(cursor: Any, stored_events: Any, keys: Any, after: Any) -> Any:
        cursor.execute("PRAGMA max_page_count")
        uncapped = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_count")
        cursor.execute(f"PRAGMA max_page_count = {cursor.fetchone()[0]}")
        try:
            return insert(cursor, stored_events, keys, after)
        finally:
            cursor.execute(f"PRAGMA max_page_count = {uncapped}")

    recorder._append_in = capped
    try:
        yield
    finally:
        del recorder._append_in


@contextmanager
def _postgres_disk_full(ledger: Ledger) -> Iterator[None]:
    """A full disk fails the statement that needs room with SQLSTATE 53100 (disk_full: "could not
    extend file …: No space left on device") and aborts its transaction. Filling a real disk means
    a tablespace on a small mounted file system; this trigger raises that same error, from the
    leaves' insert, after the events' insert in the same transaction: exactly what a disk that
    fills up mid-batch does to the append."""
    datastore: Any = ledger.store.datastore  # type: ignore[attr-defined]
    schema, leaves = datastore.schema, ledger.store.leaves_table
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f'CREATE FUNCTION "{schema}".no_space_left() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
            "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$"
        )
        cursor.execute(f'CREATE TRIGGER no_space_left BEFORE INSERT ON {leaves} EXECUTE FUNCTION "{schema}".no_space_left()')
    try:
        yield
    finally:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DROP TRIGGER no_space_left ON {leaves}")


@contextmanager
def write_lock_held_elsewhere(ledger: Ledger, database_url: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """Another process holds the log's write lock (a long import, an operator's open transaction)."""
    if ledger.backend == "sqlite":
        other = sqlite3.connect(unquote(urlsplit(database_url).path.removeprefix("/")), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with psycopg.connect(request.getfixturevalue("postgres_url")) as other:
        other.execute(f"LOCK TABLE {ledger.store.events_table} IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()


def test_a_full_disk_is_a_507_that_appends_nothing_and_the_post_succeeds_once_there_is_room(
    client: TestClient, tokens: Tokens
) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    headers = tokens.get("FRTF")
    head = ledger.store.tree_size()
    batch = a_batch(200)  # needs new pages (SQLite) and writes leaves after events (PostgreSQL)

    with disk_full(ledger):
        refused = client.post("/v1/events", json=batch, headers=headers)

    assert refused.status_code == 507, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "nothing was appended" in refused.json()["detail"]
    assert "Retry-After" not in refused.headers  # retrying soon will not help: someone must make room
    assert ledger.store.tree_size() == head
    assert ledger.store.logged_after(head, 10) == []  # no event without its leaf, nor a leaf alone

    accepted = client.post("/v1/events", json=batch, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert [r["position"] for r in accepted.json()["receipts"]] == list(range(head + 1, head + 201))
    assert verify_log(ledger.store, None, None).ok


def test_a_write_lock_held_past_the_lock_timeout_is_a_503_with_retry_after_that_appends_nothing(
    client: TestClient, tokens: Tokens, database_url: str, request: pytest.FixtureRequest
) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    headers = tokens.get("FRTF")
    head = ledger.store.tree_size()
    batch = a_batch(3)

    with write_lock_held_elsewhere(ledger, database_url, request):
        started = time.monotonic()
        refused = client.post("/v1/events", json=batch, headers=headers)
        waited = time.monotonic() - started

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1"
    assert "nothing was appended" in refused.json()["detail"]
    # Told once the lock timeout expired, not after retries that would each wait for it again.
    assert LOCK_TIMEOUT_SECONDS <= waited < 3 * LOCK_TIMEOUT_SECONDS
    assert ledger.store.tree_size() == head

    accepted = client.post("/v1/events", json=batch, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert ledger.store.tree_size() == head + 3
    assert verify_log(ledger.store, None, None).ok
