"""Structured logs: one JSON object a line on standard error, each carrying the request id.

Every request gets an id: the caller's `X-Request-ID` if it is a plain token (letters, digits,
`.`, `_`, `-`; at most 64), otherwise a new one. It is echoed back in the response's
`X-Request-ID` and attached to every log record written while the request is served.

What is never logged: headers (bearer tokens), query strings and bodies (personal fields of
posted envelopes, tokens pasted into the dashboard's sign-in form), nor an exception's message,
which can quote the input that caused it: exceptions are logged as their type and stack only.
nor the raw path (anything can be typed into one): a request's line names its method, the route
template it matched, its status and its duration.
"""

import logging
import re
import sys
import time
import traceback
from contextvars import ContextVar
from types import TracebackType
from uuid import uuid4

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.types import Receive, Scope, Send

from api.http_middleware import HttpMiddleware, ResponseWatch
from api.metrics import route_template

HEADER = "X-Request-ID"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_current_id: ContextVar[str | None] = ContextVar("request_id", default=None)
log = logging.getLogger("ledger.requests")


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current_id.get()
        return True


class _Formatter(JsonFormatter):
    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:  # type: ignore[override]  # noqa: N802
        kind, _, stack = ei
        where = "".join(traceback.format_list(traceback.extract_tb(stack)))
        return f"{where}{kind.__module__}.{kind.__qualname__} (message withheld: it may quote request data)"


def configure_logging(level: str) -> None:
    """JSON lines on standard error for every logger, uvicorn's included. Safe to call again.

    uvicorn's access log is silenced: each request's line here replaces it, and it would write
    the query string."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("ledger-json")
    handler.setFormatter(
        _Formatter(
            "{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's copy with terminal colours
        )
    )
    handler.addFilter(_WithRequestId())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "ledger-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()  # uvicorn's own text handlers, if it installed them
        uvicorn_logger.propagate = name != "uvicorn.access"


class RequestLog(HttpMiddleware):
    """ASGI middleware: a request id for each request, and one log line when it is answered."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"x-request-id"), "")
        request_id = given if _PLAIN_ID.fullmatch(given) else uuid4().hex
        reset = _current_id.set(request_id)
        started = time.perf_counter()
        response = ResponseWatch(send, on_start=lambda headers: headers.append(HEADER, request_id))
        try:
            await self.app(scope, receive, response.send)
        except Exception:
            log.exception("request failed", extra={"method": scope["method"], "route": route_template(scope)})
            raise
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route_template(scope),
                    "status": response.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            _current_id.reset(reset)
