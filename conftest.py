"""Fixtures shared by tests/ and features/: both storage backends, a ledger, an API client, tokens.

Every storage behaviour runs on SQLite and on PostgreSQL. PostgreSQL tests use
LEDGER_TEST_DATABASE_URL, each in a schema of its own that is dropped afterwards; without the
variable they skip loudly, and under CI they fail instead.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.checkpoints import Signer, load_or_create_signing_key
from ledger.personal_data import load_or_create_master_key
from tests.chromium import launched_chromium
from tests.harness import ORIGIN, Tokens, fresh_schema

POSTGRES_URL = os.environ.get("LEDGER_TEST_DATABASE_URL", "")
IN_CI = bool(os.environ.get("CI"))


def pytest_report_header() -> str:
    if POSTGRES_URL:
        return f"PostgreSQL tests: {urlsplit(POSTGRES_URL).hostname} (LEDGER_TEST_DATABASE_URL)"
    return "PostgreSQL tests: SKIPPED — set LEDGER_TEST_DATABASE_URL=postgresql://... to run them"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        message = "LEDGER_TEST_DATABASE_URL is not set: the PostgreSQL half of this test did not run"
        if IN_CI:
            pytest.fail(message + " (it must be set in CI)")
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    with fresh_schema(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("postgres_schema_url")  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """As database_url, but one database per backend shared by all of a module's tests (for
    modules that examine one costly set-up from many sides)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module')}/ledger.db"
        return
    with fresh_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The key file of `signer`: for a command run on a log the tests' ledger signed."""
    path = tmp_path_factory.mktemp("keys") / "signing-key.pem"
    load_or_create_signing_key(path)
    return path


@pytest.fixture(scope="session")
def signer(signing_key_file: Path) -> Signer:
    return Signer(load_or_create_signing_key(signing_key_file), ORIGIN)


@pytest.fixture(scope="session")
def master_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "encryption-key"
    load_or_create_master_key(path)
    return path


@pytest.fixture(scope="session")
def master_key(master_key_file: Path) -> bytes:
    return load_or_create_master_key(master_key_file)


@pytest.fixture(autouse=True)
def _one_master_key(master_key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ledger a test opens, in process or in a child (the CLI), seals with the same key."""
    monkeypatch.setenv("LEDGER_ENCRYPTION_KEY_FILE", str(master_key_file))


@pytest.fixture
def ledger(database_url: str, signer: Signer, master_key: bytes) -> Iterator[Ledger]:
    with Ledger(database_url, signer, master_key) as opened:
        yield opened


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, signing_key_file=tmp_path / "keys" / "signing-key.pem", origin=ORIGIN)


@pytest.fixture
def client(settings: Settings, signer: Signer, master_key: bytes) -> Iterator[TestClient]:
    with Ledger(settings.database_url, signer, master_key) as shared, TestClient(create_app(settings, shared)) as test_client:
        yield test_client


@pytest.fixture
def external_client(database_url: str, signer: Signer, master_key: bytes, tmp_path: Path) -> Iterator[TestClient]:
    """The app with LEDGER_PROJECTOR=external and no projector running: reports wait 0.1 s for it."""
    settings = Settings(database_url=database_url, signing_key_file=tmp_path / "key.pem", projector="external", report_wait_seconds=0.1)
    with Ledger(database_url, signer, master_key) as ledger, TestClient(create_app(settings, ledger)) as test_client:
        yield test_client


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium, headless (tests/chromium.py): the browser tests' browser."""
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def tokens(client: TestClient) -> Tokens:
    return Tokens(client.app.state.ledger)  # type: ignore[attr-defined]
