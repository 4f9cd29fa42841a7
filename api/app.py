"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.limits import BodyLimit
from api.routes import audit, cases, events, health
from api.settings import Settings
from ledger.application import Ledger

DESCRIPTION = """
The shared record of the Ms. L. settlement: agencies post immutable events, monitors pull
compliance reports, auditors replay and verify the log. Every event is a leaf of an RFC 6962
Merkle tree; checkpoints are signed with Ed25519 (C2SP signed notes).

Authenticate with `Authorization: Bearer <token>`. Errors are RFC 9457 problem details.
"""


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    """`ledger` may be given (tests share one); otherwise the app opens and closes its own."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.ledger = ledger or Ledger(settings.database_url, settings.signer)
        try:
            yield
        finally:
            if ledger is None:
                app.state.ledger.close()

    app = FastAPI(
        title="Settlement compliance ledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    for module in (events, cases, audit, health):
        app.include_router(module.router)
    return app
