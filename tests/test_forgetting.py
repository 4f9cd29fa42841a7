"""Forgetting that cannot be undone, on both backends.

Once `ledger forget` says a case is forgotten, no copy of the case's wrapped key is left in the
database's files: read raw (SQLite: the file, its WAL and shared memory; PostgreSQL: every page of
the case-key table, through pageinspect), with a reader holding an older snapshot meanwhile (an
export, a report, `pg_dump`). While such a reader outlasts the wait, `forget` exits 1 saying what
holds the key and how to finish. A forgetting killed half-way is finished at the next start-up
(the API's, any CLI command's, `ledger verify`'s); one that an earlier version left with its keys
live is reported by `ledger verify` and finished by `ledger forget CASE --finish`.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from api.app import create_app
from api.cli import app
from api.settings import Settings
from domain.envelope import EventBatch, postings
from domain.events import case_stream_id
from domain.family_case import FamilyCase
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.erasure import finish_erasure
from ledger.leaves import LeafKey
from ledger.personal_data import REDACTED
from tests.builders import batch, contact, envelope, separation
from tests.harness import ORIGIN

NAME, PHONE = "Ana Example", "+502 5555 0100"


def wrapped_keys(ledger: Ledger, case_id: str) -> list[bytes]:
    return [wrapped for _, wrapped in ledger.store.case_keys([case_id]).get(case_id, [])]


_READ_FILES = "import glob, sys; sys.stdout.buffer.write(b''.join(open(n, 'rb').read() for n in glob.glob(sys.argv[1] + '*')))"


def stored_raw(database_url: str) -> bytes:
    """The bytes a thief with the files would have: SQLite's file, WAL and shared memory; on
    PostgreSQL, every page of the case-key table as pageinspect reads it from disk or buffers."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        # Read by another process: closing a file this process opened on them would drop every
        # POSIX lock the process holds on them, its SQLite readers' too (SQLite's "how to corrupt").
        return subprocess.run([sys.executable, "-c", _READ_FILES, parts.path.removeprefix("/")], capture_output=True, check=True).stdout
    table = f'"{parse_qs(parts.query)["schema"][0]}".ledger_case_keys'
    with psycopg.connect(database_url.split("?")[0], autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        pages = connection.execute("SELECT pg_relation_size(%s::regclass) / 8192", (table,)).fetchone()
        assert pages is not None
        return b"".join(
            bytes(connection.execute("SELECT get_raw_page(%s, %s)", (table, block)).fetchone()[0])  # type: ignore[index]
            for block in range(pages[0])
        )


class OlderReader:
    """Another connection in a read transaction with its snapshot taken: an export's, a report's,
    `pg_dump`'s (repeatable read, as it runs)."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        if parts.scheme == "sqlite":
            self._connection: Any = sqlite3.connect(parts.path.removeprefix("/"), isolation_level=None, check_same_thread=False)
            self._connection.execute("BEGIN")
            self._connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        else:
            schema = parse_qs(parts.query)["schema"][0]
            self._connection = psycopg.connect(database_url.split("?")[0], application_name="pg_dump")
            self._connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self._connection.execute(f'SELECT COUNT(*) FROM "{schema}".ledger_case_keys').fetchone()
        self._ended = threading.Event()

    def end(self) -> None:
        if not self._ended.is_set():
            self._ended.set()
            self._connection.rollback()
            self._connection.close()

    def end_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.end)
        timer.start()
        return timer


@contextmanager
def older_reader(database_url: str) -> Iterator[OlderReader]:
    reader = OlderReader(database_url)
    try:
        yield reader
    finally:
        reader.end()


@pytest.fixture
def family(ledger: Ledger) -> list[bytes]:
    """FRTF-1 with a parent's name and a phone number tried: its wrapped key."""
    ledger.tokens.issue("frtf-forgetting", Organization.FRTF, Role.AGENCY)
    ledger.tokens.issue("kind-forgetting", Organization.KIND, Role.AGENCY)
    identified = separation("FRTF-1")
    identified["data"]["parents"] = [{"member_id": "P1", "name": NAME}]
    tried = contact("FRTF-1", outcome="reached")
    tried["data"]["contact_detail"] = PHONE
    post(ledger, "frtf-forgetting", identified)
    post(ledger, "kind-forgetting", tried)
    keys = wrapped_keys(ledger, "FRTF-1")
    assert len(keys) == 1 and keys[0] in stored_raw(ledger.database_url)
    return keys


def post(ledger: Ledger, token: str, *envelopes: dict[str, Any]) -> None:
    principal = ledger.tokens.principal_named(token)
    assert principal is not None
    ledger.appender.append(postings(EventBatch.model_validate(batch(*envelopes))), principal)


def readable(ledger: Ledger, case_id: str) -> list[str]:
    """The personal values of the case that still open."""
    values = []
    for event in ledger.reader.stream_through(case_stream_id(case_id), ledger.store.tree_size()):
        revealed, _ = ledger.reader.reveal(case_id, event.data)
        values += [parent["name"] for parent in revealed.get("parents", []) if "name" in parent]
        values += [revealed["contact_detail"]] if "contact_detail" in revealed else []
    return [value for value in values if value != REDACTED]


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "cli-signing-key.pem"))
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args))


def test_forget_waits_for_an_older_reader_then_leaves_no_copy_of_the_key_in_the_files(
    ledger: Ledger, family: list[bytes], cli: CliRunner, database_url: str
) -> None:
    with older_reader(database_url) as reader:
        reader.end_after(1.5)
        forgot = run(cli, "forget", "FRTF-1", "--reason", "erasure requested through class counsel", "--wait", "60")
    assert forgot.exit_code == 0, forgot.output
    stored = stored_raw(database_url)
    assert all(key not in stored for key in family)
    assert "1 keys destroyed" in forgot.stderr
    assert "waiting" in forgot.stderr and "older readers" in forgot.stderr  # it said why it waited
    assert "erased: no copy of the destroyed keys" in forgot.stderr
    # Found: on PostgreSQL it claimed no copy in the database's files while pg_wal still held one
    said = " ".join(forgot.stderr.split())
    assert ("pg_wal" in said) == (ledger.backend == "postgresql") and ("left in the database's files" in said) == (ledger.backend == "sqlite")
    assert readable(ledger, "FRTF-1") == []
    assert ledger.store.destroyed_case_keys() == {}


def test_forget_exits_1_naming_what_holds_the_key_while_a_reader_outlasts_its_wait_and_finish_completes_it(
    ledger: Ledger, family: list[bytes], cli: CliRunner, database_url: str
) -> None:
    with older_reader(database_url):
        forgot = run(cli, "forget", "FRTF-1", "--reason", "the family asked", "--wait", "1")
        assert forgot.exit_code == 1, forgot.output
        if database_url.startswith("sqlite"):
            assert "a reader of" in forgot.stderr and "still holds a snapshot" in forgot.stderr
        else:
            assert "pg_dump" in forgot.stderr and "holds a snapshot" in forgot.stderr
        assert "ledger forget --finish" in forgot.stderr
        # What it said is true: the key's old bytes are still in the files...
        assert family[0] in stored_raw(database_url)
        # ...but nothing opens the family's personal data any more.
        assert readable(ledger, "FRTF-1") == []
        assert set(ledger.store.destroyed_case_keys()) == {"FRTF-1"}
        refused = run(cli, "forget", "--finish", "--wait", "0.5")
        assert refused.exit_code == 1 and "ledger forget --finish" in refused.stderr
    finished = run(cli, "forget", "--finish", "--wait", "60")
    assert finished.exit_code == 0, finished.output
    assert "erased: no copy of the destroyed keys of case FRTF-1" in finished.stderr
    assert family[0] not in stored_raw(database_url)
    assert ledger.store.destroyed_case_keys() == {}


def _forget_in_a_process_killed_while_it_waits(database_url: str, tmp_path: Path) -> None:
    """`ledger forget` in a child process, SIGKILLed once it has recorded the forgetting and is
    waiting for an older reader to let it erase the key's old bytes."""
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "child-key.pem")}
    command = [sys.executable, "-c", "from api.cli import main; main()", "forget", "FRTF-1", "--reason", "asked", "--wait", "120"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    said = []
    try:
        assert child.stderr is not None
        for line in child.stderr:
            said.append(line)
            if line.startswith("waiting"):
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, "".join(said)


@pytest.mark.parametrize("start_up", ["ledger verify", "the API"])
def test_a_forgetting_killed_before_its_erasure_is_finished_by_the_next_start_up(
    ledger: Ledger, family: list[bytes], cli: CliRunner, database_url: str, tmp_path: Path, signer: Signer, start_up: str
) -> None:
    with older_reader(database_url):
        _forget_in_a_process_killed_while_it_waits(database_url, tmp_path)
        # Recorded and destroyed in one transaction: unreadable from the kill on...
        assert [e.type for e in ledger.reader.stream_through(case_stream_id("FRTF-1"), ledger.store.tree_size())][-1] == "PersonalDataForgotten"
        assert readable(ledger, "FRTF-1") == []
        # ...with the key's old bytes still in the files, and the work left on record.
        assert family[0] in stored_raw(database_url)
        assert set(ledger.store.destroyed_case_keys()) == {"FRTF-1"}
    if start_up == "ledger verify":
        verified = run(cli, "verify")
        assert verified.exit_code == 0, verified.output
        assert "finished erasing the destroyed keys of forgotten case FRTF-1" in verified.stderr
    else:
        settings = Settings(database_url=database_url, signing_key_file=tmp_path / "api-key.pem", origin=ORIGIN)
        with TestClient(create_app(settings)) as client:
            assert client.get("/healthz").status_code == 200
    assert family[0] not in stored_raw(database_url)
    assert ledger.store.destroyed_case_keys() == {}


def test_verify_reports_a_forgetting_whose_keys_were_left_live_and_finish_destroys_them(
    ledger: Ledger, family: list[bytes], cli: CliRunner, database_url: str
) -> None:
    # As an earlier version of the ledger left it when killed between recording PersonalDataForgotten
    # and destroying the keys: the event recorded, the key live.
    case = ledger.repository.get(case_stream_id("FRTF-1"))
    assert isinstance(case, FamilyCase)
    event = case.forget_personal_data("the family asked", "2024-05-01T00:00:00.000000Z")
    ledger.store.append([ledger.mapper.to_stored_event(event)], [LeafKey(event.event_id, None)])
    assert readable(ledger, "FRTF-1") == [NAME, PHONE]
    # Another family, forgotten properly, then given new personal data under a new key: not left behind.
    identified = separation("FRTF-2")
    identified["data"]["parents"] = [{"member_id": "P1", "name": "Otra Persona"}]
    post(ledger, "frtf-forgetting", identified)
    assert run(cli, "forget", "FRTF-2", "--reason", "asked").exit_code == 0
    again = contact("FRTF-2", outcome="reached")
    again["data"]["contact_detail"] = "+502 5555 0142"
    post(ledger, "kind-forgetting", again)
    assert readable(ledger, "FRTF-2") == ["+502 5555 0142"]

    reported = run(cli, "verify")
    assert reported.exit_code == 1, reported.output
    assert "verified" in reported.stdout  # the log itself is whole
    assert "FORGETTING UNFINISHED: case FRTF-1 was forgotten" in reported.stderr
    assert "ledger forget FRTF-1 --finish" in reported.stderr and "FRTF-2" not in reported.stderr

    finished = run(cli, "forget", "FRTF-1", "--finish")
    assert finished.exit_code == 0, finished.output
    assert "destroyed 1 keys of forgotten case FRTF-1" in finished.stderr
    assert readable(ledger, "FRTF-1") == []
    assert family[0] not in stored_raw(database_url)
    assert readable(ledger, "FRTF-2") == ["+502 5555 0142"]
    assert run(cli, "verify").exit_code == 0


def test_erasure_waits_a_bounded_time_and_a_start_up_with_nothing_to_erase_does_nothing(ledger: Ledger, family: list[bytes]) -> None:
    assert finish_erasure(ledger.store, 0).finished  # nothing destroyed: nothing to wait for
    ledger.appender.forget("FRTF-1", "the family asked")
    with older_reader(ledger.database_url):
        erasure = finish_erasure(ledger.store, 1.0)
    assert not erasure.finished and erasure.cases == ("FRTF-1",) and erasure.held_by
    assert finish_erasure(ledger.store, 60).finished
    assert family[0] not in stored_raw(ledger.database_url)


def test_an_sqlite_write_that_reads_first_is_not_refused_when_another_connection_writes_meanwhile(
    tmp_path: Path, signer: Signer, master_key: bytes
) -> None:
    """What made `ledger forget` fail now and then with "database is locked" while the API served:
    its key deletion read, then wrote, in a transaction begun DEFERRED, and the API's projector
    wrote in between. SQLite refuses such a write at once, whatever the lock timeout. Every write
    of the recorder goes through _write(), which now holds the write lock from its first statement."""
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db", signer, master_key)
    other = sqlite3.connect(tmp_path / "ledger.db", timeout=0, isolation_level=None)
    try:
        with ledger.store._write() as cursor:
            cursor.execute("SELECT COUNT(*) FROM ledger_case_keys")
            cursor.fetchall()
            try:  # the projector, writing as soon as it can
                other.execute("BEGIN IMMEDIATE")
                other.execute("INSERT INTO ledger_access_log (at, token, organization, role, action, detail) VALUES ('', '', '', '', 'x', '')")
                other.execute("COMMIT")
            except sqlite3.OperationalError as refused:
                assert "locked" in str(refused)  # it waits its turn
            cursor.execute(
                "INSERT INTO ledger_access_log (at, token, organization, role, action, detail) VALUES ('', '', '', '', 'y', '')"
            )
        assert [entry["action"] for entry in ledger.store.access_log(0, 10)] == ["y"]
    finally:
        other.close()
        ledger.close()


def test_forgetting_a_case_forgets_the_cases_merged_into_it(ledger: Ledger, family: list[bytes], cli: CliRunner) -> None:
    """Found: after `ledger forget` on a family's case, the duplicate merged into it still showed
    its notes in clear. A family's personal data is forgotten whole: the cases merged into it too."""
    duplicate = separation("FRTF-2")
    duplicate["data"]["parents"] = [{"member_id": "P1", "name": "Ana Duplicate"}]
    post(ledger, "frtf-forgetting", duplicate)
    post(ledger, "frtf-forgetting", envelope("FRTF-1", "CasesMerged", {"duplicate_case_id": "FRTF-2"}))
    duplicate_keys = wrapped_keys(ledger, "FRTF-2")
    assert readable(ledger, "FRTF-2") == ["Ana Duplicate"] and duplicate_keys

    forgot = run(cli, "forget", "FRTF-1", "--reason", "erasure requested through class counsel", "--wait", "30")
    assert forgot.exit_code == 0, forgot.output
    assert readable(ledger, "FRTF-1") == [] and readable(ledger, "FRTF-2") == []
    raw = stored_raw(ledger.database_url)
    assert not any(key in raw for key in (*family, *duplicate_keys)), "no wrapped key of the family is left in the files"
    assert run(cli, "verify").exit_code == 0
    size = ledger.store.tree_size()
    duplicate_again = run(cli, "forget", "FRTF-2", "--reason", "asked through the duplicate's case")
    assert duplicate_again.exit_code == 1, "found: it recorded a forgetting that destroyed nothing"
    assert "on FRTF-1, the case it was merged into" in " ".join(duplicate_again.stderr.split())
    assert ledger.store.tree_size() == size


def test_forgetting_a_merged_case_whose_survivor_was_never_forgotten_is_recorded(
    ledger: Ledger, family: list[bytes], cli: CliRunner
) -> None:
    """Found (review): a merged case without personal data of its own was refused as "already
    forgotten (the case it was merged into)" while that case had never been forgotten."""
    post(ledger, "frtf-forgetting", separation("FRTF-2"))  # no personal value: no key
    post(ledger, "frtf-forgetting", envelope("FRTF-1", "CasesMerged", {"duplicate_case_id": "FRTF-2"}))
    size = ledger.store.tree_size()

    result = run(cli, "forget", "FRTF-2", "--reason", "the family asked")

    assert result.exit_code == 0, result.output
    assert ledger.store.tree_size() == size + 1
    assert readable(ledger, "FRTF-1") != [], "the case it was merged into is not forgotten by it"


def test_forgetting_again_with_nothing_sealed_since_is_refused_and_records_nothing(
    ledger: Ledger, family: list[bytes], cli: CliRunner
) -> None:
    """Found: `ledger forget` run twice recorded a second PersonalDataForgotten that destroyed nothing."""
    assert run(cli, "forget", "FRTF-1", "--reason", "the family asked").exit_code == 0
    size = ledger.store.tree_size()

    twice = run(cli, "forget", "FRTF-1", "--reason", "asked again")

    assert twice.exit_code == 1
    assert "already forgotten" in " ".join(twice.stderr.split()) and "nothing left to forget" in " ".join(twice.stderr.split())
    assert ledger.store.tree_size() == size
    again = contact("FRTF-1", outcome="reached")
    again["data"]["contact_detail"] = "+502 5555 0142"
    post(ledger, "kind-forgetting", again)  # new personal data, under a new key: forgetting it is recorded
    assert run(cli, "forget", "FRTF-1", "--reason", "asked again").exit_code == 0
    assert readable(ledger, "FRTF-1") == []
