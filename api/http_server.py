"""How `ledger serve` serves: uvicorn, with connections a client cannot lean on (issue 15).

Measured (issue 15) on loopback, 200 connections each holding half a request head, then one
normal request, one body trickled a byte a second, and a cap below 200 where the server has one:

| server (PyPI)                 | half-sent heads closed | trickled body cut off | normal request under the cap |
|-------------------------------|------------------------|-----------------------|------------------------------|
| uvicorn 0.55 (httptools)      | never (keep-alive only after a response) | never | 503 while they stay open |
| gunicorn 27, `-k asgi`        | never                  | never (each chunk resets its wait) | served |
| hypercorn 0.18                | at --keep-alive        | never (--read-timeout is per read) | no cap to set |
| granian 2.8                   | at --http1-header-read-timeout | never        | hangs (--backpressure queues it) |

None bounds a body's time, so the app does (api/limits.py: 408). For the head and the cap, uvicorn
stays (the server the suite and the benchmarks were measured on) and its HTTP protocol class gets
what it lacks, through its `http` option:
- a deadline for each request's head, from the connection or the previous answer on it: a head
  still incomplete then gets 408 (or, if not one byte of it came, the connection is closed
  silently, as an idle keep-alive one is) and the connection is closed;
- a head of at most MAX_HEAD_BYTES (431 past it): httptools buffers a head without end;
- a cap on connections: a connection made beyond it is answered 503 with Retry-After once its head
  arrives, and closed. The connections under the cap are served as ever, so slow clients cost
  only their sockets until their deadline, and others still get through.
uvicorn's own `limit_concurrency` counts the half-open connections too and answers everyone 503
while they last: not used. The protocol class relies on uvicorn's HttpToolsProtocol callbacks, so
pyproject.toml caps uvicorn's minor version, as it does eventsourcing's, and
tests/test_slow_clients.py is the contract a new minor must pass.
"""

import asyncio
import resource
from http import HTTPStatus
from typing import Any

from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.problems import problem
from api.settings import Settings

# The app logs JSON lines, one per request with its id; uvicorn's own access log would repeat
# each request as text, query string included, so it is off (tests serve with the same options).
SERVER_LOGGING: dict[str, Any] = {"log_config": None, "access_log": False}

MAX_HEAD_BYTES = 64 * 1024  # a request line and headers; the ledger's own need a few hundred bytes
DESCRIPTORS_BESIDE_CONNECTIONS = 128  # database connections, key and log files, the listening socket


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the ledger's API (uvicorn.run or uvicorn.Config)."""
    return {
        "http": guarded_protocol(settings.request_head_timeout_seconds, settings.max_connections),
        "log_level": settings.log_level.lower(),
        **SERVER_LOGGING,
    }


def raise_descriptor_limit(max_connections: int) -> None:
    """Each connection is a file descriptor: past the process's limit, accept() fails and new
    clients wait in the listen queue, the hang the cap is there to prevent. The soft limit is
    raised to fit; a hard limit too low for it is an error naming the setting."""
    needed = max_connections + DESCRIPTORS_BESIDE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ValueError(
                f"LEDGER_MAX_CONNECTIONS={max_connections} needs {needed} open files but this process may open "
                f"{hard} (ulimit -Hn): lower LEDGER_MAX_CONNECTIONS or raise the limit"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def guarded_protocol(head_timeout: float, max_connections: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with a deadline and a size limit for each request's head and a
    cap on the connections served at once."""
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {"head_timeout": head_timeout, "max_connections": max_connections},
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    head_timeout: float
    max_connections: int
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0  # of the head awaited, so far

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.app = _over_capacity(self.max_connections)  # this connection's requests get 503
        self._await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is not None and not self.transport.is_closing():  # still in a head
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._answer_and_close(431, f"a request's line and headers are limited to {MAX_HEAD_BYTES} bytes")

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline and self._head_timer is None:
            self._await_head()  # the next request's head, on this kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head_bytes:
            self._answer_and_close(408, f"the request's line and headers did not arrive within {self.head_timeout:g} seconds")
        else:  # nothing of a next request came: an idle connection, closed as keep-alive ones are
            self.transport.close()

    def _answer_and_close(self, status: int, detail: str) -> None:
        """Answers a request whose head never completed (no app has seen it), then closes."""
        self._stop_head_timer()
        self.transport.write(_raw(problem(status, detail, headers={"Connection": "close"})))
        self.transport.close()


def _raw(response: Response) -> bytes:
    status = f"HTTP/1.1 {response.status_code} {HTTPStatus(response.status_code).phrase}\r\n".encode()
    headers = b"".join(name + b": " + value + b"\r\n" for name, value in response.raw_headers)
    return status + headers + b"\r\n" + response.body


def _over_capacity(max_connections: int) -> Response:
    return problem(
        503,
        f"the ledger is serving its most connections at once ({max_connections}); try again in a moment",
        headers={"Retry-After": "1", "Connection": "close"},
    )
