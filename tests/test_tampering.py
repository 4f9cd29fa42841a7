"""Tampering behind the ledger's back, with SQL, caught by `ledger verify`.

Each test builds a 12-event log over three cases through `Ledger.append`, signs it with
`ledger checkpoint`, checks that `ledger verify` passes, then alters the database directly and runs
`ledger verify` again: it must exit 1 and name the first bad position (or the checkpoint).

The database refuses UPDATE and DELETE of events, leaves and checkpoints (triggers). The attacker
here first sees a plain statement refused, then does what an owner or superuser can: on SQLite,
drops the triggers for the statement and puts them back afterwards; on PostgreSQL, runs the
statement with `session_replication_role = replica`, under which ordinary triggers do not fire.
"""

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import UUID

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import TypeAdapter
from typer.testing import CliRunner, Result

from api.cli import app
from domain.envelope import Envelope, Posting
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.config import persistence_env
from ledger.leaves import leaf_hash_of
from tests.builders import contact, preference, separation

ORIGIN = "tamper.test/ms-l"
LOG_SIZE = 12
_envelope = TypeAdapter(Envelope)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

Run = Callable[..., Result]


# --- the attacker -------------------------------------------------------------------------------


class Attacker:
    """A session on the ledger's database with the owner's (SQLite) or superuser's (PostgreSQL) rights.

    SQL is written with `%s` placeholders and `{events}`, `{leaves}`, `{checkpoints}` table names.
    """

    def __init__(self, database_url: str) -> None:
        env = persistence_env(database_url)
        if "SQLITE_DBNAME" in env:
            self.backend = "sqlite"
            self.tables = {"events": "stored_events", "leaves": "ledger_leaves", "checkpoints": "ledger_checkpoints"}
            self._sqlite = sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None)
            self._sqlite.row_factory = sqlite3.Row
        else:
            self.backend = "postgresql"
            parts = urlsplit(database_url)
            schema = parse_qs(parts.query)["schema"][0]
            self.tables = {
                name: f'"{schema}".ledger_{name}' for name in ("events", "leaves", "checkpoints")
            }
            self._postgres = psycopg.connect(urlunsplit(parts._replace(query="")), autocommit=True)

    def close(self) -> None:
        if self.backend == "sqlite":
            self._sqlite.close()
        else:
            self._postgres.close()

    def _sql(self, template: str) -> str:
        sql = template.format(**self.tables)
        return sql.replace("%s", "?") if self.backend == "sqlite" else sql

    def query(self, template: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self.backend == "sqlite":
            return [dict(row) for row in self._sqlite.execute(self._sql(template), params).fetchall()]
        with self._postgres.cursor(row_factory=psycopg.rows.dict_row) as cursor:
            cursor.execute(self._sql(template), params)  # type: ignore[arg-type]
            return list(cursor.fetchall())

    def execute_plainly(self, template: str, params: tuple[Any, ...] = ()) -> None:
        if self.backend == "sqlite":
            self._sqlite.execute(self._sql(template), params)
        else:
            self._postgres.execute(self._sql(template), params)  # type: ignore[arg-type]

    def assert_refused(self, template: str, params: tuple[Any, ...] = ()) -> None:
        """The database itself refuses the statement (the append-only triggers)."""
        error: type[Exception] = sqlite3.DatabaseError if self.backend == "sqlite" else psycopg.Error
        with pytest.raises(error) as refused:
            self.execute_plainly(template, params)
        assert "append-only" in str(refused.value)

    def force(self, template: str, params: tuple[Any, ...] = ()) -> None:
        """Sees the statement refused, then runs it anyway, bypassing the triggers."""
        self.assert_refused(template, params)
        if self.backend == "sqlite":
            triggers = self.query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            assert triggers, "the ledger's triggers are in place"
            self._sqlite.execute("BEGIN")
            for trigger in triggers:
                self._sqlite.execute(f'DROP TRIGGER "{trigger["name"]}"')
            self._sqlite.execute(self._sql(template), params)
            for trigger in triggers:  # covering the tracks
                self._sqlite.execute(trigger["sql"])
            self._sqlite.execute("COMMIT")
        else:
            with self._postgres.transaction():
                self._postgres.execute("SET LOCAL session_replication_role = replica")
                self._postgres.execute(self._sql(template), params)  # type: ignore[arg-type]

    def event(self, position: int) -> dict[str, Any]:
        [row] = self.query(
            "SELECT originator_id, originator_version, topic, state FROM {events} WHERE notification_id = %s",
            (position,),
        )
        return row

    def leaf(self, position: int) -> dict[str, Any]:
        [row] = self.query("SELECT * FROM {leaves} WHERE position = %s", (position,))
        return row


# --- the log ------------------------------------------------------------------------------------


def _postings(*envelopes: dict[str, Any]) -> list[Posting]:
    return [Posting.from_envelope(_envelope.validate_json(json.dumps(e))) for e in envelopes]


def build_log(database_url: str, master_key: bytes) -> None:
    """Twelve events: two token issues, then three cases identified and worked on, one append each."""
    with Ledger(database_url, master_key=master_key) as ledger:
        ledger.tokens.issue("frtf-intake", Organization.FRTF, Role.AGENCY)  # position 1
        ledger.tokens.issue("kind-outreach", Organization.KIND, Role.AGENCY)  # 2
        frtf, kind = ledger.tokens.principal_named("frtf-intake"), ledger.tokens.principal_named("kind-outreach")
        assert frtf is not None and kind is not None
        for case in ("FRTF-000001", "FRTF-000002", "FRTF-000003"):  # 3, 4, 5
            ledger.appender.append(_postings(separation(case, children=("C1", "C2"))), frtf)
        for envelope in (
            contact("FRTF-000001"),  # 6
            contact("FRTF-000002"),  # 7
            contact("FRTF-000003", "wrong_person"),  # 8
            contact("FRTF-000001", "reached"),  # 9
            preference("FRTF-000001"),  # 10
            contact("FRTF-000002", "reached"),  # 11
            preference("FRTF-000002", "reunify_in_home_country"),  # 12
        ):
            ledger.appender.append(_postings(envelope), kind)
        assert ledger.store.tree_size() == LOG_SIZE


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "keys" / "signing-key.pem"))
    monkeypatch.setenv("LEDGER_ORIGIN", ORIGIN)
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(arg) for arg in args])

    return run


@pytest.fixture
def attacker(database_url: str, cli: Run, master_key: bytes) -> Iterator[Attacker]:
    """A signed, verified 12-event log, and an attacker on its database."""
    build_log(database_url, master_key)
    signed = cli("checkpoint")
    assert signed.exit_code == 0, signed.output
    assert json.loads(_ANSI.sub("", signed.stdout))["tree_size"] == LOG_SIZE
    untouched = cli("verify")
    assert untouched.exit_code == 0, untouched.output
    session = Attacker(database_url)
    yield session
    session.close()


def detected(cli: Run) -> str:
    """Runs `ledger verify`, which must exit 1 with a one-line report; returns the report."""
    result = cli("verify")
    assert result.exit_code == 1, f"tampering went unnoticed: {result.output}"
    assert isinstance(result.exception, SystemExit), f"verify crashed: {result.exception!r}"
    report = " ".join(_ANSI.sub("", result.stderr).split())
    assert report.startswith("error: TAMPERING DETECTED"), report
    assert len(_ANSI.sub("", result.stderr).strip().splitlines()) == 1, result.stderr
    return report


def first_position_named(report: str) -> int | None:
    found = re.search(r"position (\d+)", report)
    return int(found.group(1)) if found else None


# --- the control ----------------------------------------------------------------------------------


def test_an_untouched_signed_log_verifies(cli: Run, attacker: Attacker) -> None:
    result = cli("verify")

    assert result.exit_code == 0, result.output
    report = " ".join(_ANSI.sub("", result.stdout).split())
    assert f"verified {LOG_SIZE} events" in report
    assert f"signed checkpoint at tree size {LOG_SIZE} matches" in report


def test_the_database_itself_refuses_plain_updates_and_deletes_of_events_leaves_and_checkpoints(
    cli: Run, attacker: Attacker
) -> None:
    for statement in (
        "UPDATE {events} SET topic = topic WHERE notification_id = 5",
        "DELETE FROM {events} WHERE notification_id = 12",
        "UPDATE {leaves} SET recorded_at = recorded_at WHERE position = 5",
        "DELETE FROM {leaves} WHERE position = 12",
        "UPDATE {checkpoints} SET note = note",
        "DELETE FROM {checkpoints}",
    ):
        attacker.assert_refused(statement)
    if attacker.backend == "postgresql":
        for table in ("{events}", "{leaves}", "{checkpoints}"):
            attacker.assert_refused(f"TRUNCATE {table}")

    assert attacker.query("SELECT COUNT(*) AS n FROM {events}")[0]["n"] == LOG_SIZE
    assert attacker.query("SELECT COUNT(*) AS n FROM {leaves}")[0]["n"] == LOG_SIZE
    assert cli("verify").exit_code == 0


# --- tampering with events and leaves -------------------------------------------------------------


def test_an_edited_event_payload_is_detected_at_its_position(cli: Run, attacker: Attacker) -> None:
    state = bytes(attacker.event(5)["state"])
    assert b'"GT"' in state
    attacker.force("UPDATE {events} SET state = %s WHERE notification_id = 5", (state.replace(b'"GT"', b'"HN"'),))

    report = detected(cli)

    assert first_position_named(report) == 5
    assert f"(event {json.loads(state)['event_id']}, case FRTF-000003)" in report, "names the event and its case"


def test_an_edited_leaf_hash_is_detected_at_its_position(cli: Run, attacker: Attacker) -> None:
    leaf_hash = bytes(attacker.leaf(7)["leaf_hash"])
    attacker.force("UPDATE {leaves} SET leaf_hash = %s WHERE position = 7", (bytes([leaf_hash[0] ^ 1]) + leaf_hash[1:],))

    report = detected(cli)

    assert first_position_named(report) == 7


def test_a_deleted_event_row_is_detected_at_its_position(cli: Run, attacker: Attacker) -> None:
    event_id = attacker.leaf(4)["event_id"]
    attacker.force("DELETE FROM {events} WHERE notification_id = 4")

    report = detected(cli)

    assert first_position_named(report) == 4
    assert f"(event {event_id}, case unknown)" in report, "the leaf row still names the event"


def test_a_deleted_leaf_row_is_detected_at_its_position(cli: Run, attacker: Attacker) -> None:
    attacker.force("DELETE FROM {leaves} WHERE position = 6")

    report = detected(cli)

    assert first_position_named(report) == 6


def test_two_events_swapped_in_position_are_detected_at_the_earlier_position(cli: Run, attacker: Attacker) -> None:
    assert attacker.event(3)["state"] != attacker.event(8)["state"]
    attacker.force("UPDATE {events} SET notification_id = 1000 WHERE notification_id = 3")
    attacker.force("UPDATE {events} SET notification_id = 3 WHERE notification_id = 8")
    attacker.force("UPDATE {events} SET notification_id = 8 WHERE notification_id = 1000")

    report = detected(cli)

    assert first_position_named(report) == 3


def test_a_changed_recorded_at_is_detected_at_its_position(cli: Run, attacker: Attacker) -> None:
    recorded_at = attacker.leaf(9)["recorded_at"]
    earlier = attacker.leaf(8)["recorded_at"]
    assert earlier < recorded_at
    # Still between its neighbours: only the leaf can tell it was changed.
    attacker.force("UPDATE {leaves} SET recorded_at = %s WHERE position = 9", (earlier,))

    report = detected(cli)

    assert first_position_named(report) == 9


def test_a_tail_truncated_after_the_checkpoint_is_reported_as_shorter_than_the_checkpoint(
    cli: Run, attacker: Attacker
) -> None:
    attacker.force("DELETE FROM {events} WHERE notification_id = %s", (LOG_SIZE,))
    attacker.force("DELETE FROM {leaves} WHERE position = %s", (LOG_SIZE,))

    report = detected(cli)

    assert first_position_named(report) == LOG_SIZE
    assert "checkpoint" in report


def test_an_event_rewritten_together_with_its_leaf_no_longer_matches_the_signed_checkpoint(
    cli: Run, attacker: Attacker
) -> None:
    event, leaf = attacker.event(5), attacker.leaf(5)
    forged = bytes(event["state"]).replace(b'"GT"', b'"HN"')
    assert forged != bytes(event["state"])
    forged_leaf = leaf_hash_of(
        5, UUID(str(event["originator_id"])), event["originator_version"], event["topic"], leaf["recorded_at"], forged
    )
    assert forged_leaf != bytes(leaf["leaf_hash"])
    attacker.force("UPDATE {events} SET state = %s WHERE notification_id = 5", (forged,))
    attacker.force("UPDATE {leaves} SET leaf_hash = %s WHERE position = 5", (forged_leaf,))

    report = detected(cli)

    assert "does not match its leaf" not in report, "the forged leaf is consistent with the forged event"
    assert "checkpoint" in report


def _rewrite_event_5_with_its_leaf(attacker: Attacker) -> None:
    event, leaf = attacker.event(5), attacker.leaf(5)
    forged = bytes(event["state"]).replace(b'"GT"', b'"HN"')
    forged_leaf = leaf_hash_of(
        5, UUID(str(event["originator_id"])), event["originator_version"], event["topic"], leaf["recorded_at"], forged
    )
    attacker.force("UPDATE {events} SET state = %s WHERE notification_id = 5", (forged,))
    attacker.force("UPDATE {leaves} SET leaf_hash = %s WHERE position = 5", (forged_leaf,))


# --- tampering with the checkpoint ------------------------------------------------------------------


def _flip_root_line(note: str) -> str:
    origin, size, root, rest = note.split("\n", 3)
    forged = root[:-2] + ("A" if root[-2] != "A" else "B") + root[-1:]  # stays 32 bytes of base64
    return "\n".join([origin, size, forged, rest])


def _flip_signature(note: str) -> str:
    body, _, signature = note.rstrip("\n").rpartition(" ")
    forged = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    return f"{body} {forged}\n"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda a, cp: a.force("UPDATE {checkpoints} SET root_hash = %s", (bytes(32),)), id="root-hash-column"
        ),
        pytest.param(
            lambda a, cp: a.force("UPDATE {checkpoints} SET note = %s", (_flip_root_line(cp["note"]),)),
            id="root-in-the-note",
        ),
        pytest.param(
            lambda a, cp: a.force("UPDATE {checkpoints} SET note = %s", (_flip_signature(cp["note"]),)),
            id="signature",
        ),
        pytest.param(
            lambda a, cp: a.force("UPDATE {checkpoints} SET timestamp = %s", ("2020-01-01T00:00:00.000000Z",)),
            id="timestamp-column",
        ),
    ],
)
def test_an_edited_checkpoint_is_reported_as_a_checkpoint_mismatch_or_bad_signature(
    cli: Run, attacker: Attacker, forge: Callable[[Attacker, dict[str, Any]], None]
) -> None:
    [checkpoint] = attacker.query("SELECT * FROM {checkpoints}")
    forge(attacker, checkpoint)
    assert attacker.query("SELECT * FROM {checkpoints}") != [checkpoint]

    report = detected(cli)

    assert "checkpoint" in report
    assert re.search(r"sign|match|differ", report), report


def test_a_rewritten_log_with_a_checkpoint_re_signed_by_another_key_is_reported_as_not_validly_signed(
    cli: Run, attacker: Attacker, database_url: str, master_key: bytes
) -> None:
    _rewrite_event_5_with_its_leaf(attacker)
    [checkpoint] = attacker.query("SELECT * FROM {checkpoints}")
    with Ledger(database_url, master_key=master_key) as ledger:
        forged_root = ledger.tree.root(LOG_SIZE)
    assert forged_root != bytes(checkpoint["root_hash"])
    resigned = Signer(Ed25519PrivateKey.generate(), ORIGIN).sign(LOG_SIZE, forged_root, checkpoint["timestamp"])
    attacker.force("UPDATE {checkpoints} SET root_hash = %s, note = %s", (forged_root, resigned.note))

    report = detected(cli)

    assert "does not match its leaf" not in report
    assert "checkpoint" in report
    assert "sign" in report


# --- a log rewritten with its checkpoints: caught by a checkpoint kept elsewhere ------------------


@pytest.fixture
def saved_checkpoint(cli: Run, attacker: Attacker, tmp_path: Path) -> Path:
    """The signed note of the 12-event log, as an auditor kept it before the tampering."""
    printed = cli("checkpoint")
    assert printed.exit_code == 0, printed.output
    saved = tmp_path / "checkpoint-12.note"
    saved.write_text(json.loads(_ANSI.sub("", printed.stdout))["note"])
    return saved


@pytest.mark.parametrize("rewrite", ["event-and-leaf", "tail-removed"])
def test_a_log_rewritten_with_its_checkpoints_deleted_warns_and_fails_against_a_checkpoint_saved_elsewhere(
    cli: Run, attacker: Attacker, saved_checkpoint: Path, rewrite: str
) -> None:
    """Found: `ledger verify` passed a rewritten database whose checkpoint rows were deleted. Nothing
    in the database can tell; a checkpoint kept outside it can, and verify now warns without one."""
    if rewrite == "event-and-leaf":
        _rewrite_event_5_with_its_leaf(attacker)
    else:
        attacker.force("DELETE FROM {events} WHERE notification_id = %s", (LOG_SIZE,))
        attacker.force("DELETE FROM {leaves} WHERE position = %s", (LOG_SIZE,))
    attacker.force("DELETE FROM {checkpoints}")

    unsigned = cli("verify")
    report = detected(lambda *args: cli(*args, "--checkpoint", saved_checkpoint))

    assert unsigned.exit_code == 0, unsigned.output
    assert "warning: no signed checkpoint covers these events" in " ".join(_ANSI.sub("", unsigned.stderr).split())
    assert "saved checkpoint" in report
    assert ("rewritten" if rewrite == "event-and-leaf" else "a saved checkpoint covers 12") in report


def test_an_untouched_log_agrees_with_its_saved_checkpoint_and_one_signed_by_another_key_is_refused(
    cli: Run, attacker: Attacker, saved_checkpoint: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign.note"
    foreign.write_text(Signer(Ed25519PrivateKey.generate(), ORIGIN).sign(3, bytes(32), "2026-01-01T00:00:00.000000Z").note)

    agrees = cli("verify", "--checkpoint", saved_checkpoint)
    report = detected(lambda *args: cli(*args, "--checkpoint", foreign))

    assert agrees.exit_code == 0, agrees.output
    assert "the 1 checkpoint saved elsewhere agrees" in " ".join(_ANSI.sub("", agrees.stdout).split())
    assert "saved checkpoint 1 is not signed by this ledger's key" in report


@pytest.mark.parametrize(
    "form", ["as `ledger checkpoint` printed it", "without its last newline", "with blank lines around it", "with a byte order mark"]
)
def test_a_saved_checkpoint_is_read_as_printed_or_without_its_last_newline(
    cli: Run, attacker: Attacker, saved_checkpoint: Path, form: str
) -> None:
    """Found: the JSON `ledger checkpoint` prints, or the note saved without its last newline,
    was reported as TAMPERING (exit 1) of an untouched log."""
    note = saved_checkpoint.read_text()
    if form == "without its last newline":
        saved_checkpoint.write_text(note.rstrip("\n"))
    elif form == "with blank lines around it":  # found (review): `jq -r .note` adds a newline
        saved_checkpoint.write_text("\n" + note + "\n\n")
    elif form == "with a byte order mark":
        saved_checkpoint.write_text("\ufeff" + json.dumps({"note": note}))
    else:
        saved_checkpoint.write_text(json.dumps({"tree_size": LOG_SIZE, "note": note}))

    agrees = cli("verify", "--checkpoint", saved_checkpoint)

    assert agrees.exit_code == 0, agrees.output
    assert "the 1 checkpoint saved elsewhere agrees" in " ".join(_ANSI.sub("", agrees.stdout).split())


@pytest.mark.parametrize(
    ("content", "reason"),
    [("", "not a signed checkpoint note"), ('{"tree_size": 12}', 'JSON without a "note"'), ("[1, 2]", "not a signed checkpoint note"),
     ("{not json", 'JSON without a "note"'), ("ledger.local/ms-l\n12\n", "not a signed checkpoint note")],
    ids=["empty", "json-without-note", "json-list", "broken-json", "unsigned-text"],
)
def test_a_saved_checkpoint_file_that_holds_no_note_is_a_usage_error_not_tampering(
    cli: Run, attacker: Attacker, tmp_path: Path, content: str, reason: str
) -> None:
    saved = tmp_path / "saved.note"
    saved.write_text(content)

    result = cli("verify", "--checkpoint", saved)

    assert result.exit_code == 2, result.output
    said = " ".join(_ANSI.sub("", result.stderr).split())
    assert "--checkpoint:" in said and reason in said and "TAMPER" not in result.output


@pytest.mark.parametrize("option", [("--public-key", "AAAA"), ("--policy", "README.md")])
def test_a_bundle_option_given_for_the_database_is_refused_not_ignored(cli: Run, attacker: Attacker, option: tuple[str, str]) -> None:
    result = cli("verify", *option)

    assert result.exit_code == 2, result.output
    assert f"{option[0]} applies to a bundle" in " ".join(_ANSI.sub("", result.stderr).split())


@pytest.mark.parametrize("form", ["null", "text"])
def test_a_stored_event_that_is_no_longer_bytes_is_reported_at_its_position_not_a_crash(
    cli: Run, attacker: Attacker, form: str
) -> None:
    """Found: a stored state set to NULL, or to text, made `ledger verify` crash with a TypeError."""
    if attacker.backend == "postgresql":  # its column holds bytes: an owner changes the column first
        attacker.execute_plainly("ALTER TABLE {events} ALTER COLUMN state DROP NOT NULL")
        if form == "text":
            attacker.execute_plainly("ALTER TABLE {events} ALTER COLUMN state TYPE text USING encode(state, 'escape')")
    value = None if form == "null" else '{"edited": true}'
    attacker.force("UPDATE {events} SET state = %s WHERE notification_id = 6", (value,))

    report = detected(cli)

    retyped_column = attacker.backend == "postgresql" and form == "text"  # every row's state is text now
    assert first_position_named(report) == (1 if retyped_column else 6)
    assert "not in the form the ledger writes" in report
