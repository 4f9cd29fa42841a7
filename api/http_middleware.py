"""What the ledger's four ASGI middlewares share (the body limit, metrics, request log, page policy).

Each acts on HTTP requests only, and lets lifespan and websocket messages through untouched; three
of them watch the response's start on its way out (its status, its headers), and the body limit
needs to know whether it has started. Written once here rather than again in each: a middleware
subclasses `HttpMiddleware`, writes `handle`, and passes `ResponseWatch.send` on as the app's send.
"""

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware:
    """An ASGI middleware that sees HTTP requests only: any other scope goes straight to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class ResponseWatch:
    """Wraps a request's `send`: notes whether the response has started and its status (500 until
    it has: an exception before that is answered as a 500), and lets the middleware change the
    response's headers as it starts."""

    def __init__(self, send: Send, on_start: Callable[[MutableHeaders], None] | None = None) -> None:
        self._send = send
        self._on_start = on_start
        self.started = False
        self.status = 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            if self._on_start is not None:
                self._on_start(MutableHeaders(scope=message))
        await self._send(message)
