"""Refuse request bodies over a size limit before they are read into memory (HTTP 413).

FastAPI's own `max_body_size` (Starlette's RequestBodyLimitMiddleware) answers a too-large declared
Content-Length with its own text/plain response, replacing the app's; the contract promises
RFC 9457 problem details for every error, so the ledger keeps this small middleware instead.

A body sent without Content-Length (chunked) is counted as it is read: past the limit, reading
raises BodyTooLarge. It is an HTTPException, because FastAPI's body parsing lets those through
(any other exception it turns into a 400 "error parsing the body"), so the app's problem handler
answers 413; the middleware answers it itself if nothing else did.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem


class BodyTooLarge(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request bodies are limited to {max_bytes} bytes; send smaller batches")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await problem(413, BodyTooLarge(self.max_bytes).detail)(scope, receive, send)
