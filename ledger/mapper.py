"""eventsourcing's Mapper, with a faster path to the same stored bytes for the ledger's events.

The library's JSON transcoder calls back into Python for every value JSON has no type for (in a
ledger event, only the `timestamp`) and builds a new C encoder for every event. Here the
timestamp is transcoded up front, exactly as the library's DatetimeAsISO would, and one C encoder
with the library's settings does the rest without a callback. Anything else that is not plain
JSON makes it raise, and that event goes the library's way instead: either way the bytes are the
library's.
"""

import json
from collections.abc import Callable
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.catalog import CATALOG, has_personal_values
from domain.events import LedgerEvent
from ledger.personal_data import in_clear


class LedgerMapper(Mapper[UUID]):
    """Refuses, whoever calls it, to store a personal value in clear: the append path seals each
    event first (CaseKeys.sealed), explicitly."""

    def __init__(self, transcoder: Any, compressor: Any = None, cipher: Any = None) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self._fast = (
            compressor is None
            and cipher is None
            and type(transcoder) is JSONTranscoder
            and type(transcoder.types.get(datetime)) is DatetimeAsISO
        )
        if self._fast:
            self._datetime_name = transcoder.types[datetime].name
            self._encode = _plain_json_encoder()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if (
            isinstance(domain_event, LedgerEvent)
            and domain_event.type in CATALOG
            and has_personal_values(domain_event.data)
            and in_clear(domain_event.data)
        ):
            raise LookupError("personal data not sealed: refusing to store it in clear")
        if not self._fast or not isinstance(domain_event, LedgerEvent) or getattr(type(domain_event), "class_version", 1) > 1:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        timestamp = state.get("timestamp")
        if type(timestamp) is datetime:  # keeps its place among the keys, so the bytes are the same
            state["timestamp"] = {"_type_": self._datetime_name, "_data_": timestamp.isoformat()}
        try:
            stored_state = self._encode(state).encode("utf8")
        except TypeError:  # a value that needs a transcoding: the library's way
            return super().to_stored_event(domain_event)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=stored_state,
        )


def _plain_json_encoder() -> Callable[[dict[str, Any]], str]:
    """json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode, the library's settings,
    without a `default`: a value JSON has no type for raises TypeError."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    if c_make_encoder is None:  # a Python without the C accelerator
        return encoder.encode
    # Built once rather than per call. No circular-reference markers: an event's state is
    # decoded JSON or a pydantic dump, which cannot refer to itself.
    make_chunks = c_make_encoder(None, encoder.default, encode_basestring, None, ":", ",", False, False, True)
    return lambda state: "".join(make_chunks(state, 0))
