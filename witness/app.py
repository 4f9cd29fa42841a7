"""The witness's HTTP API: POST /add-checkpoint (c2sp.org/tlog-witness), answered in the
specification's plain-text formats, and GET / naming the witness and its verifier key."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from witness.service import Witness

MAX_BODY_BYTES = 64 * 1024  # an old size, at most 63 hashes and a checkpoint with a few signatures


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(title="Transparency log witness", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return PlainTextResponse(f"the body is larger than {MAX_BODY_BYTES} bytes\n", status_code=413)
        answer = await run_in_threadpool(witness.add_checkpoint, body)  # SQLite and Ed25519 off the loop
        # The header as given: Starlette would add `; charset=utf-8` to a text/ media type, and the
        # specification's clients match `text/x.tlog.size` exactly.
        return Response(answer.body, status_code=answer.status, headers={"content-type": answer.content_type})

    @app.get("/")
    def about() -> PlainTextResponse:
        logs = "\n".join(str(key) for key in witness.logs.values())
        return PlainTextResponse(f"witness {witness.cosigner.key}\n\nwitnessing:\n{logs}\n")

    return app
