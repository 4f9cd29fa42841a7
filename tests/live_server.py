"""A real uvicorn server in this process (a thread), for tests that speak HTTP over a socket; and a
SQLite ledger behind one, for the browser tests."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.demo import Population, append_population


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: FastAPI, log_level: str = "warning", **options: Any) -> Iterator[str]:
    """`app` behind uvicorn on a free port; yields its base URL, stops the server afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, **options))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serving_ledger(
    tmp_path: Path, signer: Signer, master_key: bytes, population: Population | None = None, **settings: Any
) -> Iterator[tuple[str, Ledger]]:
    """A real server on a SQLite ledger in `tmp_path` with the default terms adopted (and the demo
    `population` appended): (base URL, the ledger)."""
    app_settings = Settings(database_url=f"sqlite:///{tmp_path}/ledger.db", signing_key_file=tmp_path / "key.pem", **settings)
    with Ledger(app_settings.database_url, signer, master_key) as ledger:
        ledger.appender.adopt_default_terms()
        if population is not None:
            append_population(ledger, population)
        with serving(create_app(app_settings, ledger), log_config=None) as base_url:
            yield base_url, ledger
