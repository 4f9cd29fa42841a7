"""Which storage errors tell a client to retry (503), which to wait for room (507), and which are bugs.

The errors are built as the drivers raise them and wrapped as eventsourcing wraps them; the real
faults (a restart, a full disk, a held lock) are in test_pg_restart.py and test_storage_faults.py.
"""

import sqlite3

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import OperationalError, ProgrammingError

from ledger.faults import BUSY, FULL, UNAVAILABLE, StorageFault, classify, reconnecting_helps


def wrapped(cause: BaseException, wrapper: type[Exception] = OperationalError) -> Exception:
    try:
        raise wrapper(str(cause)) from cause
    except wrapper as error:
        return error


def sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("cause", "fault"),
    [
        (psycopg.errors.lookup("53100")("could not extend file: No space left on device"), FULL),
        (psycopg.errors.lookup("53200")("out of memory"), FULL),
        (psycopg.errors.lookup("55P03")("canceling statement due to lock timeout"), BUSY),
        (psycopg.errors.lookup("57014")("canceling statement due to statement timeout"), BUSY),
        (psycopg.errors.lookup("40001")("could not serialize access"), BUSY),
        (psycopg.errors.lookup("40P01")("deadlock detected"), BUSY),
        (psycopg.errors.lookup("57P01")("terminating connection due to administrator command"), UNAVAILABLE),
        (psycopg.errors.lookup("57P03")("the database system is starting up"), UNAVAILABLE),
        (psycopg.errors.lookup("08006")("connection failure"), UNAVAILABLE),
        (psycopg.errors.lookup("53300")("too many connections"), UNAVAILABLE),
        (psycopg.OperationalError("connection refused"), UNAVAILABLE),  # no SQLSTATE: never reached the server
        (psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"), UNAVAILABLE),
        (sqlite_error("database or disk is full", 13), FULL),
        (sqlite_error("database is locked", 5), BUSY),
        (sqlite_error("database table is locked", 6), BUSY),
        (sqlite3.OperationalError("database is locked"), BUSY),  # an SQLite without result codes
    ],
    ids=lambda value: value.kind if isinstance(value, StorageFault) else getattr(value, "sqlstate", None) or str(value)[:30],
)
def test_each_storage_error_is_told_as_what_the_client_should_do(cause: BaseException, fault: StorageFault) -> None:
    assert classify(wrapped(cause)) is fault


def test_a_full_disk_is_507_without_retry_after_and_the_rest_503_with_it() -> None:
    assert (FULL.status, FULL.retry_after) == (507, None)
    assert BUSY.status == UNAVAILABLE.status == 503
    assert BUSY.retry_after and UNAVAILABLE.retry_after


def test_a_bug_is_not_a_storage_fault() -> None:
    assert classify(wrapped(psycopg.errors.lookup("42P01")("relation does not exist"), ProgrammingError)) is None
    assert classify(wrapped(sqlite3.OperationalError("no such table: x"))) is None
    assert classify(ValueError("nothing to do with storage")) is None


def test_only_a_lost_connection_is_worth_trying_again_at_once() -> None:
    assert reconnecting_helps(wrapped(psycopg.errors.lookup("57P01")("terminating connection")))
    assert not reconnecting_helps(wrapped(psycopg.errors.lookup("55P03")("lock timeout")))
    assert not reconnecting_helps(wrapped(psycopg.errors.lookup("53100")("disk full")))
    assert not reconnecting_helps(wrapped(psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec")))
