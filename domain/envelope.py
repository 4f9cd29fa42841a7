"""What an agency posts: an envelope around one event's data, and batches of them.

The envelope model is a union discriminated by `type`, so one validation names the exact field
that is wrong (`data.channel`, `occurred_at`, ...) and the OpenAPI schema documents every type.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, create_model

from domain.canonical_json import canonical_json
from domain.catalog import CASE_EVENTS, SETTLEMENT_EVENTS, Payload, personal_values
from domain.catalog_guide import description
from domain.date_ranges import INSTANT_RANGE, Instant
from domain.values import CaseId, EventId

MAX_BATCH = 1000



# Ledger-wide events (terms, extensions, interruptions) are posted to this pseudo case id.
SETTLEMENT_CASE_ID = "SETTLEMENT"


def _not_reserved(case_id: str) -> str:
    if case_id == SETTLEMENT_CASE_ID:
        raise ValueError(f"'{SETTLEMENT_CASE_ID}' is reserved for the settlement's own events")
    return case_id


class EnvelopeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Annotated[EventId, Field(description="Client-chosen UUID; the idempotency key.")]
    occurred_at: Annotated[Instant, Field(description=f"When it happened in the world, {INSTANT_RANGE}.")]
    expected_version: Annotated[
        StrictInt | None,
        Field(ge=0, description="The case version the poster last saw; 409 if it has moved on."),
    ] = None


def _envelope_model(type_name: str, payload: type[Payload]) -> type[EnvelopeBase]:
    if type_name in SETTLEMENT_EVENTS:
        case_id: Any = (Literal["SETTLEMENT"], Field(description="Always SETTLEMENT for this type."))
    else:
        case_id = (Annotated[CaseId, AfterValidator(_not_reserved)], ...)
    return create_model(
        f"{type_name}Envelope",
        __base__=EnvelopeBase,
        __doc__=description(type_name),  # its purpose, and who may post it
        case_id=case_id,
        type=(Literal[type_name], ...),  # type: ignore[valid-type]
        data=(payload, ...),
    )


_ENVELOPES = [_envelope_model(name, model) for name, model in {**CASE_EVENTS, **SETTLEMENT_EVENTS}.items()]
Envelope = Annotated[Union[tuple(_ENVELOPES)], Field(discriminator="type")]  # noqa: UP007


class EventBatch(BaseModel):
    """The body of POST /v1/events: all of it is appended, or none of it."""

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[Envelope], Field(min_length=1, max_length=MAX_BATCH)]


@dataclass(frozen=True, slots=True)
class Posting:
    """One validated envelope, in the canonical form the ledger stores and compares."""

    event_id: str
    case_id: str
    type: str
    occurred_at: str
    data: dict[str, Any]
    expected_version: int | None = None

    @classmethod
    def from_envelope(cls, envelope: EnvelopeBase) -> "Posting":
        return cls._from_dump(envelope.model_dump(mode="json", by_alias=True, exclude_none=True))

    @classmethod
    def _from_dump(cls, dumped: dict[str, Any]) -> "Posting":
        # The JSON dump is the canonical form: instants in UTC with microseconds, ids as text,
        # absent optionals left out (see domain.catalog.stored_data).
        return cls(
            event_id=dumped["event_id"],
            case_id=dumped["case_id"],
            type=dumped["type"],
            occurred_at=dumped["occurred_at"],
            data=dumped["data"],
            expected_version=dumped.get("expected_version"),
        )

    def digest(self, organization: str, personal: Callable[[str], str] | None = None) -> str:
        """What "the same envelope" means for idempotency: the facts and who posted them.

        `expected_version` is a precondition, not content: a retry after success still matches.
        `personal` stands in for each personal value (the ledger passes a keyed hash), so the
        digest it keeps does not let anyone test guesses at a name.
        """
        data = self.data if personal is None else personal_values(self.data, personal)
        facts = [self.event_id, self.case_id, self.type, self.occurred_at, data, organization]
        return hashlib.sha256(canonical_json(facts).encode()).hexdigest()


def postings(batch: EventBatch) -> list[Posting]:
    """The batch's postings, dumped in one call rather than one per envelope."""
    dumped = batch.model_dump(mode="json", by_alias=True, exclude_none=True)["events"]
    return [Posting._from_dump(envelope) for envelope in dumped]
