"""Scenarios run on SQLite and on PostgreSQL: pytest-bdd requests step fixtures at run time, so the
parametrized database_url must be in each scenario's fixture closure from the start."""

import pytest


@pytest.fixture(autouse=True)
def on_both_backends(database_url: str) -> str:
    return database_url
