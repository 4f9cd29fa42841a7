"""PostgreSQL: the role the ledger runs as can append, and cannot change or remove what was appended.

`ledger migrate --writer ROLE`, run as the owner (the URL's user), makes the tables and the writer
role. The writer then starts the ledger, appends, projects, signs checkpoints and forgets a case's
keys; by hand, with SQL, it cannot UPDATE, DELETE or TRUNCATE events or leaves, nor switch their
triggers off. Making tables (migrate, rebuild) stays the owner's, and a writer trying is told so.
Roles belong to the whole server: each test makes its own, with a unique name, and drops it.
"""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from api.app import create_app
from api.cli import app
from api.sessions import COOKIE
from api.settings import Settings
from domain.envelope import EventBatch, postings
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.erasure import finish_erasure
from ledger.verify import verify_log
from projections.runner import Projection
from tests.builders import contact, separation
from tests.harness import ORIGIN
from tests.test_dashboard import csrf_of, sign_in

pytestmark = pytest.mark.postgres


def as_role(url: str, role: str, with_query: bool = True) -> str:
    """The URL, connecting as `role` (trusted on this server); without the ledger's own ?schema=."""
    parts = urlsplit(url)
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc, query=parts.query if with_query else ""))


@pytest.fixture
def writer(postgres_schema_url: str, postgres_url: str) -> Iterator[str]:
    role = f"ledger_writer_{uuid4().hex[:12]}"
    yield role
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            connection.execute(f'DROP OWNED BY "{role}"')  # its grants, and the keys table it owns
            connection.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def ledger_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing-key.pem"))
    yield CliRunner()


def run(cli: CliRunner, url: str, *args: str) -> Result:
    return cli.invoke(app, list(args), env={"LEDGER_DATABASE_URL": url})


def parsed(*envelopes: dict[str, object]) -> list[object]:
    return postings(EventBatch.model_validate({"events": list(envelopes)}))  # type: ignore[arg-type]


def test_the_writer_appends_projects_and_forgets_but_cannot_change_the_log(
    postgres_schema_url: str, writer: str, ledger_cli: CliRunner, signer: Signer, master_key: bytes
) -> None:
    migrated = run(ledger_cli, postgres_schema_url, "migrate", "--writer", writer, "--login")
    assert migrated.exit_code == 0, migrated.output
    writer_url = as_role(postgres_schema_url, writer)

    # Everything the API does, as the writer: start (tables are not made again), adopt the terms,
    # issue a token, append with personal data (a case key), project, sign, forget the case.
    with Ledger(writer_url, signer, master_key) as ledger:
        assert ledger.appender.adopt_default_terms()
        ledger.tokens.issue("frtf-writer", Organization.FRTF, Role.AGENCY)
        ledger.tokens.issue("kind-writer", Organization.KIND, Role.AGENCY)
        frtf, kind = ledger.tokens.principal_named("frtf-writer"), ledger.tokens.principal_named("kind-writer")
        assert frtf is not None and kind is not None
        ledger.appender.append(parsed(separation("FRTF-0001"), separation("FRTF-0002")), frtf)
        ledger.appender.append(parsed(contact("FRTF-0001")), kind)
        projection = Projection(ledger)
        projection.catch_up()
        assert projection.tracked() == ledger.store.tree_size()
        ledger.signed_heads.sign()
        _, destroyed = ledger.appender.forget("FRTF-0001", "the family asked")
        assert destroyed == 1
        assert finish_erasure(ledger.store, 30).finished  # the keys' old row versions vacuumed away
        assert verify_log(ledger.store, signer.public_key_raw, signer.origin).ok

    # By hand, as the writer: the log's tables refuse every change, by privilege (not only by the
    # triggers, which the writer cannot switch off).
    schema = parse_qs(urlsplit(postgres_schema_url).query)["schema"][0]
    with psycopg.connect(as_role(postgres_schema_url, writer, with_query=False)) as connection:
        for table in ("ledger_events", "ledger_leaves"):
            qualified = f'"{schema}"."{table}"'
            for statement in (
                f"UPDATE {qualified} SET {'topic = topic' if table == 'ledger_events' else 'recorded_at = recorded_at'}",
                f"DELETE FROM {qualified}",
                f"TRUNCATE {qualified}",
                f"ALTER TABLE {qualified} DISABLE TRIGGER ALL",
                f"DROP TABLE {qualified}",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                    connection.execute(statement)
                connection.rollback()
                reason = str(refused.value)
                assert reason.startswith(("permission denied", "must be owner")), f"{statement}: {reason}"

    # Making tables is the owner's: a rebuild (fresh tables) as the writer fails, saying so...
    refused_rebuild = run(ledger_cli, writer_url, "rebuild")
    assert refused_rebuild.exit_code == 1
    assert "permission denied" in refused_rebuild.stderr and "owner" in refused_rebuild.stderr
    # ...and as the owner succeeds, and the writer's projector carries on in the new tables.
    rebuilt = run(ledger_cli, postgres_schema_url, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    with Ledger(writer_url, signer, master_key) as ledger:
        kind = ledger.tokens.principal_named("kind-writer")
        assert kind is not None
        ledger.appender.append(parsed(contact("FRTF-0002")), kind)
        projection = Projection(ledger)
        assert projection.generation() == 2
        projection.catch_up()
        assert projection.tracked() == ledger.store.tree_size()


def test_a_writer_on_a_database_never_migrated_is_told_to_run_migrate(
    postgres_schema_url: str, postgres_url: str, writer: str, ledger_cli: CliRunner
) -> None:
    schema = parse_qs(urlsplit(postgres_schema_url).query)["schema"][0]
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{writer}" LOGIN')
        connection.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{writer}"')
    refused = run(ledger_cli, as_role(postgres_schema_url, writer), "checkpoint")
    assert refused.exit_code == 2  # there is no ledger there: as the README says of any command but those that make one
    assert "ledger migrate" in refused.stderr and "owner" in refused.stderr


def test_the_writer_keeps_the_dashboards_sessions_and_cannot_extend_one(
    postgres_schema_url: str, writer: str, ledger_cli: CliRunner, signer: Signer, master_key: bytes, tmp_path: Path
) -> None:
    """Signing in, signing out and revoking run as the writer; a session's end is not its to move."""
    assert run(ledger_cli, postgres_schema_url, "migrate", "--writer", writer, "--login").exit_code == 0
    writer_url = as_role(postgres_schema_url, writer)
    settings = Settings(database_url=writer_url, signing_key_file=tmp_path / "key.pem", origin=ORIGIN)
    with Ledger(writer_url, signer, master_key) as ledger, TestClient(create_app(settings, ledger)) as client:
        monitor = ledger.tokens.issue("monitor-writer", Organization.MONITOR, Role.MONITOR)
        sign_in(client, monitor)
        copied = client.cookies[COOKIE]
        assert client.get("/", follow_redirects=False).status_code == 200
        assert client.post("/sign-out", data={"csrf": csrf_of(client.get("/").text)}, follow_redirects=False).status_code == 303
        client.cookies.set(COOKIE, copied)
        assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in?notice=expired"
        client.cookies.clear()
        sign_in(client, monitor)
        ledger.tokens.revoke("monitor-writer", "rotated")
        assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in?notice=revoked"
        sign_in(client, ledger.tokens.issue("auditor-writer", Organization.OIG, Role.AUDITOR))
    schema = parse_qs(urlsplit(postgres_schema_url).query)["schema"][0]
    with psycopg.connect(as_role(postgres_schema_url, writer, with_query=False)) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(f"UPDATE \"{schema}\".ledger_dashboard_sessions SET expires_at = '2100-01-01T00:00:00.000000Z'")
        connection.rollback()
        [(name,)] = connection.execute(f'SELECT token_name FROM "{schema}".ledger_dashboard_sessions').fetchall()
        assert name == "auditor-writer"
