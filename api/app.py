"""The FastAPI application factory."""

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import docs_pages, metrics, problems
from api.bootstrap import opened_runtime
from api.content_security import EveryHtmlPage
from api.limits import BodyLimit
from api.metrics import Metrics, RequestMetrics
from api.request_logging import RequestLog, configure_logging
from api.routes import access_log_page, audit, auditor_pages, cases, catalog, dashboard, events, export, favicon, health, integrity_page, reports
from api.settings import Settings
from ledger.application import Ledger
from ledger.erasure import Erasure
from ledger.publisher import publishing_checkpoints
from ledger.witnessing import collecting_cosignatures

log = logging.getLogger("ledger.api")

DESCRIPTION = f"""
The shared record of the Ms. L. settlement: agencies post immutable events, monitors pull
compliance reports, auditors replay and verify the log. Every event is a leaf of an RFC 6962
Merkle tree; checkpoints are signed with Ed25519 (C2SP signed notes).

Authenticate with `Authorization: Bearer <token>`.

Errors are RFC 9457 problem details (`application/problem+json`). Their `type` is
`{problems.PROBLEM_TYPE_PREFIX}<name>`, the same whatever host serves the ledger (a name to match
on, not a page to fetch); `title` is the kind's, `detail` says what happened, and `errors` names
each field (with the event's `index` in a batch). Only a refused `POST /v1/events` says that
nothing was appended. The names:

""" + "\n".join(f"- `{name}` ({status}): {title}" for status, (name, title) in problems.PROBLEM_TYPES.items()) + "\n"


def _settle_garbage_collector() -> None:
    """A serving process holds many long-lived objects (start-up's, and the write path's cases),
    which CPython's collector traverses again at every 25% of growth, besides collecting the
    young generation every 700 allocations: ~1.4 ms of every 100-event request, measured with
    gc.callbacks in the server. Collect once, take what start-up built out of the collector's
    sight (gc.freeze), and collect the young generation less often: ~0.3 ms. Cyclic garbage is
    still collected, and reference counting frees everything else as before."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)  # the young generation: CPython's default is 700


def _say_erasure(erasure: Erasure | None) -> None:
    """Says what start-up erased of destroyed keys left in the database's files by a `ledger forget`
    that could not finish (or was killed), or that it cannot yet (case counts only: no personal data)."""
    if erasure is None:
        return
    if erasure.finished and erasure.cases:
        log.info("finished erasing the destroyed keys of %d forgotten cases", len(erasure.cases))
    elif not erasure.finished:
        log.warning(
            "the destroyed keys of %d forgotten cases are still in the database's files (%s): run `ledger forget --finish`",
            len(erasure.cases),
            "; ".join(erasure.held_by),
        )


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    """`ledger` may be given (tests share one); otherwise the app opens and closes its own."""
    settings = settings or Settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with opened_runtime(settings, ledger, adopt_terms=True) as runtime:
            _say_erasure(runtime.erasure)
            app.state.settings = settings
            app.state.ledger = opened = runtime.ledger
            app.state.sessions = runtime.sessions
            app.state.projection = projection = runtime.projection
            if ledger is None:  # this process serves the ledger it opened
                _settle_garbage_collector()
            stop = threading.Event()
            follower = threading.Thread(target=projection.follow, args=(stop,), name="projector", daemon=True)
            if settings.projector == "in-process":
                follower.start()
            app.state.cosignatures = collector = runtime.cosignatures
            try:
                with publishing_checkpoints(opened, settings.checkpoint_interval_seconds), collecting_cosignatures(collector):
                    yield
            finally:
                stop.set()
                if follower.is_alive():
                    follower.join(timeout=30)

    app = FastAPI(
        title="Settlement compliance ledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by api/docs_pages.py from this origin (FastAPI's own load them from a CDN); no
        # OAuth2 redirect page: the API's tokens are bearer tokens.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    problems.install(app)
    app.state.metrics = Metrics(app)
    # The last added runs first: the request id and the metrics cover even a refused body.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout_seconds=settings.request_body_timeout_seconds)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(RequestLog)
    app.add_middleware(EveryHtmlPage)
    for module in (events, catalog, cases, reports, audit, export, health, metrics, dashboard, auditor_pages, integrity_page, access_log_page, favicon, docs_pages):
        app.include_router(module.router)
    return app
