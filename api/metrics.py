"""Prometheus metrics at GET /metrics, in prometheus-client's text format.

Counted as they happen, per process (Prometheus sums the processes): requests by route template
(never the raw path, so case ids add no series) and status, request and append latency, events
appended by type and posting organization. Read from the database at each scrape: the log's size,
the projection's position and lag, whether a failure stalls it (where, and of what type, whichever
process projects), and the latest signed checkpoint.
"""

import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http_middleware import HttpMiddleware, ResponseWatch
from ledger.receipts import AppendResult
from ledger.witnessing import WitnessStatus

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

router = APIRouter(tags=["operations"])


class Metrics:
    """One registry per app, so that several apps in one process (tests) keep separate counts."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ledger_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "ledger_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.append_seconds = Histogram(
            "ledger_append_duration_seconds",
            "Time to decide and commit one posted batch (Ledger.append), for batches accepted or replayed.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_appended = Counter(
            "ledger_events_appended",
            "Events appended through this process's API, by event type and posting organization.",
            ["type", "organization"],
            registry=self.registry,
        )
        self.registry.register(_LedgerState(app))

    def appended(self, result: AppendResult, organization: str, seconds: float) -> None:
        self.append_seconds.observe(seconds)
        # The batch's new events were written last, in one transaction: they hold its highest
        # positions; the rest were replays of events already in the log.
        by_position = sorted(result.receipts, key=lambda receipt: receipt.position)
        for receipt in by_position[len(by_position) - result.appended :]:
            self.events_appended.labels(receipt.type, organization).inc()


class _LedgerState(Collector):
    """Gauges read at scrape time; a database that cannot be read shows as ledger_database_up 0."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("ledger_database_up", "1 if the last scrape could read the database, else 0.")
        state = self._app.state
        if not hasattr(state, "ledger"):  # not started yet
            return
        try:
            size = state.ledger.reader.tree_size()
            tracked = state.projection.tracked()
            fault = state.projection.fault()
            latest = state.ledger.signed_heads.last_signed()
        except Exception:  # noqa: BLE001 - a scrape reports the failure, never raises it
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("ledger_log_size_events", "Events in the log (its Merkle tree size).", value=size)
        yield GaugeMetricFamily("ledger_projection_position", "The last log position the reports' projection has applied.", value=tracked)
        yield GaugeMetricFamily(
            "ledger_projection_lag_events", "Events in the log not yet applied to the reports' projection.", value=max(0, size - tracked)
        )
        yield GaugeMetricFamily(
            "ledger_projection_stalled", "1 while a failure stops the reports' projection (see ledger_projection_fault_position), else 0.",
            value=int(fault is not None),
        )
        if fault is not None:
            where = GaugeMetricFamily(
                "ledger_projection_fault_position", "The log position the projection cannot get past, by the failure's exception type.",
                labels=["error_type"],
            )
            where.add_metric([fault.error_type], fault.position)
            yield where
            since = GaugeMetricFamily(
                "ledger_projection_fault_since_seconds", "When the projection first failed there (Unix time), by exception type.",
                labels=["error_type"],
            )
            since.add_metric([fault.error_type], _unix(fault.first_failed_at))
            yield since
        yield GaugeMetricFamily(
            "ledger_checkpoint_tree_size",
            "Tree size of the latest signed checkpoint (0 before the first).",
            value=latest.tree_size if latest is not None else 0,
        )
        if latest is not None:
            yield GaugeMetricFamily(
                "ledger_checkpoint_timestamp_seconds", "When the latest checkpoint was signed (Unix time).", value=_unix(latest.timestamp)
            )
        collector = getattr(state, "cosignatures", None)
        if collector is not None and collector.status:
            yield from _witness_metrics(collector.status.values())


def _witness_metrics(statuses: Iterable[WitnessStatus]) -> Iterator[GaugeMetricFamily]:
    """Per witness, this process's view: up (its last attempt cosigned or had nothing to do), the
    tree size it last cosigned, failures in a row, and the last error (its kind as a label)."""
    up = GaugeMetricFamily("ledger_witness_up", "1 if the witness's last attempt succeeded, 0 if it failed.", labels=["witness"])
    size = GaugeMetricFamily("ledger_witness_cosigned_tree_size", "Tree size of the latest checkpoint the witness cosigned.", labels=["witness"])
    failures = GaugeMetricFamily("ledger_witness_failures", "Failed attempts in a row (retried with backoff).", labels=["witness"])
    error = GaugeMetricFamily(
        "ledger_witness_last_error_seconds", "When the witness last failed (Unix time), with the error.", labels=["witness", "error"]
    )
    for status in statuses:
        up.add_metric([status.name], 1 if status.up else 0)
        size.add_metric([status.name], status.cosigned_tree_size or 0)
        failures.add_metric([status.name], status.failures)
        if status.last_error and status.last_error_at:
            error.add_metric([status.name, status.last_error.split(":")[0].split(" (")[0]], _unix(status.last_error_at))
    yield from (up, size, failures, error)


def _unix(instant: str) -> float:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp()


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."}},
)
def prometheus_metrics(registry: Annotated[Metrics, Depends(get_metrics)]) -> Response:
    """Prometheus metrics: requests, latencies, events appended, projection lag, checkpoints. No token needed."""
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """The route a request matched, as declared (e.g. /v1/cases/{case_id}); "unmatched" otherwise."""
    return getattr(scope.get("route"), "path", None) or "unmatched"


class RequestMetrics(HttpMiddleware):
    """ASGI middleware counting every request and timing it, errors included (as 500)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        response = ResponseWatch(send)
        try:
            await self.app(scope, receive, response.send)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_template(scope)
            self.metrics.requests.labels(method, route, str(response.status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(time.perf_counter() - started)
