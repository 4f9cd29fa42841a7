"""The test harness: the origin test checkpoints are signed for, tokens issued on demand, and
PostgreSQL schemas of their own."""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg

from domain.organizations import Organization, Role
from ledger.application import Ledger

ORIGIN = "test.ledger/ms-l"


class Tokens:
    """Issues tokens on demand through the client's ledger: tokens.get("KIND") → bearer headers."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._issued: dict[tuple[str, str], str] = {}

    def secret(self, organization: str, role: str = "agency") -> str:
        key = (organization, role)
        if key not in self._issued:
            name = f"{organization.lower()}-{role}-{uuid4().hex[:6]}"
            self._issued[key] = self._ledger.tokens.issue(name, Organization(organization), Role(role))
        return self._issued[key]

    def get(self, organization: str, role: str = "agency") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret(organization, role)}"}


@contextmanager
def fresh_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema on the test server, as a ledger database URL; dropped afterwards."""
    schema = f"test_{uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    parts = urlsplit(postgres_url)
    query = f"{parts.query}&schema={schema}" if parts.query else f"schema={schema}"
    yield urlunsplit(parts._replace(query=query))
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
