"""How the API reads a JSON body: declared as JSON, UTF-8, and each key once in an object.

FastAPI's own reading guesses where it should refuse: a body sent without Content-Type, or as
another media type, was validated as if it were a string (a 422 about the body's fields for a
Content-Type mistake), UTF-16 and
UTF-32 were detected and read although the contract says UTF-8 (RFC 8259 §8.1), and a key given
twice in one object kept its last value silently, so two readers of the same bytes could disagree
on what was posted. The route class here (FastAPI's "custom APIRoute and Request" pattern) makes
each of those a clear refusal before anything is decided:

    no Content-Type, one not JSON's, or a charset other than UTF-8    → 415, naming Content-Type
    bytes that are not UTF-8 (a UTF-8 byte order mark is ignored)     → 400 unparsable-body
    a key twice in one object, a number past Python's digit limit    → 400 unparsable-body, saying which
    JSON that does not parse                                          → 422, as before (api/problems.py)
"""

import json
from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.problems import FieldRefused, UnreadableBody


class UnreadableJSON(UnreadableBody):
    """JSON whose meaning the ledger will not guess at; the message says why (a 400)."""


def is_json(content_type: str | None) -> bool:
    """Whether a media type is JSON's: application/json or application/*+json."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def refuse_other_media(content_type: str | None) -> None:
    """Raises a 415 unless the body is declared as UTF-8 JSON."""
    if content_type is None:
        raise FieldRefused(415, "Content-Type", "the body must be sent with Content-Type: application/json (none was given)")
    if not is_json(content_type):
        raise FieldRefused(415, "Content-Type", f"the body must be sent as application/json, not {content_type[:100]!r}")
    declared = Message()
    declared["content-type"] = content_type
    charset = declared.get_param("charset")
    if isinstance(charset, str) and charset.strip().lower() not in ("utf-8", "utf8"):
        raise FieldRefused(415, "Content-Type", f"the body must be UTF-8 JSON, not charset {charset[:40]!r}")


def _each_key_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    read: dict[str, Any] = {}
    for key, value in pairs:
        if key in read:
            raise UnreadableJSON(f"the JSON gives the key {key[:100]!r} twice in one object: which one stands is not defined")
        read[key] = value
    return read


def read_json(body: bytes) -> Any:
    """The JSON value of a body (or of a backfill's line), read strictly: UnicodeDecodeError,
    UnreadableJSON or JSONDecodeError."""
    # surrogatepass, as json.loads reads bytes: an encoded lone surrogate is refused at its field
    # (domain/values.py), naming it. RFC 8259 lets a parser ignore a byte order mark.
    text = body.decode("utf-8", "surrogatepass").removeprefix("\ufeff")
    try:
        return json.loads(text, object_pairs_hook=_each_key_once)
    except json.JSONDecodeError:
        raise  # FastAPI answers it as invalid JSON, with the character it stopped at
    except ValueError as error:
        if isinstance(error, UnreadableJSON):
            raise
        raise UnreadableJSON(f"the JSON cannot be read: {error}") from None  # e.g. a 5,000-digit number


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


class JSONBodyRoute(APIRoute):
    """The route class of routers whose routes take a JSON body (`APIRouter(route_class=...)`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            refuse_other_media(request.headers.get("content-type"))
            return await handle(StrictJSONRequest(request.scope, request.receive))

        return route
