"""The project's one JSON: its compact encoder, and its strict reader of what is posted.

The encoder writes no spaces and UTF-8 text as it is (not \\u-escaped). Its bytes are stored and
hashed: an envelope's fingerprint (keys sorted, `canonical_json`), a report's JSON form (keys in
the report's own order, `compact_json`). Each is exactly what
`json.dumps(value, separators=(",", ":"), ensure_ascii=False[, sort_keys=True])` writes, with the C
encoder built once rather than for every call (it runs for every posted event).

The reader (`read_json`: a posted body, a backfill's line) refuses what it would otherwise guess:
text that is not UTF-8 (RFC 8259 §8.1; a byte order mark is ignored, as it allows), a key given
twice in one object (which value stands is not defined: two readers of the same bytes could
disagree on what was posted), a number past Python's digit limit.
"""

import json
import sys
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from domain.errors import InvalidInput


class UnreadableJSON(InvalidInput):
    """JSON whose meaning the ledger will not guess at; the message says why (a 400: the body)."""

    field = "body"


def _encoder(sort_keys: bool) -> Callable[[Any], str]:
    encoder = json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    if c_make_encoder is None:  # a Python without the C accelerator
        return encoder.encode
    # No circular-reference markers: what is encoded is a pydantic JSON dump or a report built
    # from counts, neither of which can contain itself.
    make_chunks = c_make_encoder(None, encoder.default, encode_basestring, None, ":", ",", sort_keys, False, True)
    return lambda value: "".join(make_chunks(value, 0))


canonical_json: Callable[[Any], str] = _encoder(sort_keys=True)
compact_json: Callable[[Any], str] = _encoder(sort_keys=False)


def _each_key_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    read: dict[str, Any] = {}
    for key, value in pairs:
        if key in read:
            raise UnreadableJSON(f"the JSON gives the key {key[:100]!r} twice in one object: which one stands is not defined")
        read[key] = value
    return read


def read_json(body: bytes) -> Any:
    """The JSON value of `body`, read strictly: UnicodeDecodeError, UnreadableJSON, or (JSON that
    does not parse) json.JSONDecodeError."""
    # surrogatepass, as json.loads reads bytes: an encoded lone surrogate is refused at its field
    # (domain/values.py), naming it.
    text = body.decode("utf-8", "surrogatepass").removeprefix("\ufeff")
    try:
        return json.loads(text, object_pairs_hook=_each_key_once)
    except json.JSONDecodeError:
        raise
    except UnreadableJSON:
        raise
    except ValueError as error:  # a number past Python's digit limit: said without Python's advice to its programmer
        if "digits" in str(error):
            raise UnreadableJSON(f"the JSON cannot be read: a number has more than {sys.get_int_max_str_digits()} digits") from None
        raise UnreadableJSON(f"the JSON cannot be read: {error}") from None
