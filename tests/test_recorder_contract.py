"""The eventsourcing library's own recorder contract, run against the ledger's recorders.

Our recorders add leaves, explicit positions and append-only triggers; these are the library's
test cases, unchanged, proving its contract still holds (ordering, conflicts, concurrency).
"""

import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import psycopg
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.recorders.postgres import LedgerPostgresRecorder
from ledger.recorders.sqlite import LedgerSQLiteRecorder

POSTGRES_URL = os.environ.get("LEDGER_TEST_DATABASE_URL", "")


def join_stray_threads(before: set[threading.Thread]) -> None:
    """The library's concurrency tests stop their reader threads without joining them; closing the
    datastore under a reader still inside sqlite3 crashes the interpreter, so wait for them first."""
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon:  # the pool's workers are daemons and live until it closes
            thread.join(timeout=30)


class TestLedgerSQLiteRecorderContract(ApplicationRecorderTestCase[LedgerSQLiteRecorder]):
    def setUp(self) -> None:
        self.threads = set(threading.enumerate())
        self.directory = tempfile.TemporaryDirectory()
        self.datastore = SQLiteDatastore(db_name=str(Path(self.directory.name) / "contract.db"))

    def tearDown(self) -> None:
        join_stray_threads(self.threads)
        self.datastore.close()
        self.directory.cleanup()

    def create_recorder(self) -> LedgerSQLiteRecorder:
        recorder = LedgerSQLiteRecorder(self.datastore)
        recorder.create_table()
        return recorder


class TestLedgerPostgresRecorderContract(ApplicationRecorderTestCase[LedgerPostgresRecorder]):
    def setUp(self) -> None:
        self.threads = set(threading.enumerate())
        if not POSTGRES_URL:
            message = "LEDGER_TEST_DATABASE_URL is not set: PostgreSQL recorder contract not run"
            if os.environ.get("CI"):
                self.fail(message)
            self.skipTest(message)
        self.schema = f"contract_{uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{self.schema}"')
        url = urlsplit(POSTGRES_URL)
        self.datastore = PostgresDatastore(
            dbname=url.path.strip("/"),
            host=url.hostname or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
            schema=self.schema,
            pool_size=4,
            max_overflow=10,
        )
        assert not parse_qs(url.query).get("schema"), "the test URL must not pin a schema"

    def tearDown(self) -> None:
        if not POSTGRES_URL:
            return
        join_stray_threads(self.threads)
        self.datastore.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{self.schema}" CASCADE')

    def create_recorder(self) -> LedgerPostgresRecorder:
        recorder = LedgerPostgresRecorder(self.datastore, events_table_name="ledger_events")
        recorder.create_table()
        return recorder
