"""The project's one compact JSON encoder: no spaces, UTF-8 text as it is (not \\u-escaped).

Its bytes are stored and hashed: an envelope's fingerprint (keys sorted, `canonical_json`), a
report's JSON form (keys in the report's own order, `compact_json`). Each is exactly what
`json.dumps(value, separators=(",", ":"), ensure_ascii=False[, sort_keys=True])` writes, with the C
encoder built once rather than for every call (it runs for every posted event).
"""

import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring
from typing import Any


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
