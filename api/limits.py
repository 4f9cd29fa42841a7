"""Refuse request bodies over a size limit before they are read into memory (HTTP 413), and bodies
that do not arrive within a time limit of the request's head (HTTP 408).

FastAPI's own `max_body_size` (Starlette's RequestBodyLimitMiddleware) answers a too-large declared
Content-Length with its own text/plain response, replacing the app's; the contract promises
RFC 9457 problem details for every error, so the ledger keeps this small middleware instead.

A body sent without Content-Length (chunked) is counted as it is read: past the limit, reading
raises BodyTooLarge. A body still incomplete when its time is up (a client sending a byte now and
then holds a connection and its request for as long as it likes; issue 15) raises BodyTooSlow,
whose answer closes the connection. Both are HTTPExceptions, because FastAPI's body parsing lets
those through (any other exception it turns into a 400 "error parsing the body"), so the app's
problem handler answers them; the middleware answers itself if nothing else did.

The server (api/http_server.py) bounds the head's time, and a body's time once the app has
answered without reading it; this bounds a body the app reads.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http_middleware import HttpMiddleware, ResponseWatch
from api.problems import problem, refused_write


class BodyTooLarge(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request bodies are limited to {max_bytes} bytes; send smaller batches")


class BodyTooSlow(HTTPException):
    def __init__(self, seconds: float, scope: Scope) -> None:
        super().__init__(
            408,
            refused_write(scope, f"the request body did not arrive within {seconds:g} seconds of its head") + ", send it again",
            headers={"Connection": "close"},  # the rest of the body may still be on its way
        )


class BodyLimit(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(BodyTooLarge(self.max_bytes), scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_seconds
        received = 0
        complete = False
        response = ResponseWatch(send)

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # past the body: a wait for the client's disconnect, however long
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise BodyTooSlow(self.timeout_seconds, scope) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
                complete = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited_receive, response.send)
        except (BodyTooLarge, BodyTooSlow) as refusal:
            if not response.started:
                await self._refuse(refusal, scope, receive, send)

    async def _refuse(self, refusal: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
        await problem(refusal.status_code, refusal.detail, headers=refusal.headers)(scope, receive, send)
