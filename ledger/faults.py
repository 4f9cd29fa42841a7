"""What a failed storage operation means for the caller: retry shortly, or make room first.

eventsourcing wraps the driver's error (psycopg's or sqlite3's) in its own OperationalError and
keeps the original as the cause; the original carries what matters: PostgreSQL's SQLSTATE, or
SQLite's result code. Each kind of fault gets the HTTP status that tells a client what to do:

- `unavailable`: the server is down or restarting, the connection was lost, the pool timed out.
  503 with Retry-After. A batch whose answer was lost may have committed: a retry with the same
  event_ids is safe (they are the idempotency keys), so the detail says to retry, not "nothing".
- `busy`: a lock was not granted in time, or a serialization failure or deadlock was detected.
  The transaction was rolled back: nothing was appended. 503 with Retry-After.
- `full`: the disk (or another resource of the server) is exhausted. The transaction was rolled
  back: nothing was appended, and retrying will not help until an operator makes room: 507.

Each says what became of a posted batch only to its writer: a read refused for a busy database
is told to retry, not that nothing was appended.
"""

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from eventsourcing.persistence import ConnectionUnavailableError
from psycopg_pool import PoolTimeout


@dataclass(frozen=True, slots=True)
class StorageFault:
    kind: str  # unavailable, busy or full
    status: int
    detail: str  # what a reader is told
    append_detail: str  # what a writer is told: the same, and what became of the batch it posted
    retry_after: int | None  # seconds, for the Retry-After header

    def detail_for(self, appending: bool) -> str:
        return self.append_detail if appending else self.detail


UNAVAILABLE = StorageFault(
    "unavailable",
    503,
    "the database could not be reached or the connection was lost; retry",
    "the database could not be reached or the connection was lost; retry. A batch whose answer was "
    "lost may have been appended: retrying it with the same event_ids never appends anything twice",
    2,
)
BUSY = StorageFault(
    "busy",
    503,
    "the database is busy (a lock was not granted in time); retry",
    "the database is busy (a lock was not granted in time); nothing was appended, retry",
    1,
)
FULL = StorageFault(
    "full",
    507,
    "the database has no room left (disk full). Retrying will not help until the operator makes room",
    "the database has no room left (disk full); nothing was appended. Retrying will not help until "
    "the operator makes room",
    None,
)

# PostgreSQL SQLSTATEs (Appendix A of its manual).
_BUSY_STATES = {
    "55P03",  # lock_not_available: lock_timeout expired (e.g. waiting for the events table lock)
    "57014",  # query_canceled: statement_timeout, or a lock wait cancelled
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
}
_UNAVAILABLE_STATES = {
    "57P01",  # admin_shutdown: the server is stopping or restarting
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: the server is starting up or shutting down
    "53300",  # too_many_connections: class 53, but it passes once other clients disconnect
}

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 13, 14


def classify(error: BaseException) -> StorageFault | None:
    """The fault behind `error`, or None if it is not one of these (a bug, or bad SQL: a 500)."""
    for cause in _causes(error):
        if isinstance(cause, psycopg.Error):
            return _postgres(cause)
        if isinstance(cause, sqlite3.Error):
            return _sqlite(cause)
        if isinstance(cause, ConnectionUnavailableError):
            return BUSY  # every connection of the SQLite pool is in use: the process is saturated
    return None


def reconnecting_helps(error: BaseException) -> bool:
    """True if the operation failed only because the connection went away: the same statements on
    a fresh connection may well succeed. Not for lock timeouts or a full disk, where an immediate
    retry would only keep the client waiting for the same answer; nor for a pool that could not
    get a connection in time, which has just waited as long as a client should."""
    return classify(error) is UNAVAILABLE and not any(isinstance(cause, PoolTimeout) for cause in _causes(error))


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _postgres(error: psycopg.Error) -> StorageFault | None:
    state = error.sqlstate
    if state is None:
        # No SQLSTATE: the client library's own error (connection refused or closed, pool timeout).
        return UNAVAILABLE if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)) else None
    if state in _BUSY_STATES:
        return BUSY
    if state in _UNAVAILABLE_STATES or state.startswith("08"):  # class 08: connection exception
        return UNAVAILABLE
    if state.startswith("53"):  # insufficient resources: 53100 disk_full, 53200 out_of_memory, ...
        return FULL
    return None


def _sqlite(error: sqlite3.Error) -> StorageFault | None:
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    message = str(error)
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in message:
        return BUSY
    if primary == _SQLITE_FULL or "database or disk is full" in message:
        return FULL
    if primary == _SQLITE_CANTOPEN:
        return UNAVAILABLE
    return None
