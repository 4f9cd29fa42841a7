"""What every bench script sets up the same way: its command line's common options, a fresh
database per measurement on either backend, and the machine's load average printed beside the
figures (other work on the machine skews them).

Each bench stays a script of its own (`python bench/ingest.py --help`); this module is what they
share, imported once the repository's root is on sys.path.
"""

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import psycopg

POSTGRES_URL = os.environ.get("LEDGER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def bench_arguments(description: str | None, rounds: str) -> argparse.ArgumentParser:
    """A bench's command line with the options they all take: --backends, --rounds (its help says
    what a round repeats) and --postgres-url; the bench adds its own sizes."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3, help=rounds)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    return parser


@contextmanager
def database(backend: str, postgres_url: str) -> Iterator[str]:
    """A fresh database URL: an SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    schema = f"bench_{uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_url}{'&' if '?' in postgres_url else '?'}schema={schema}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes."""
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())
