"""The v1 event catalog (DOMAIN.md §4): one pydantic model per event type for its `data`.

The case events' models are in domain/case_payloads.py, their vocabularies in
domain/vocabulary.py; the settlement's own three are here. The catalog also says which fields
hold personal data (found by name at any depth, so no name may mean personal data in one model
and not in another), and the stored form of a payload.
"""

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, model_validator

from domain.date_ranges import CalendarDate
from domain.values import Duration, ShortText
from domain.case_payloads import (
    ArrivedInUS,
    AsylumApplicationFiled,
    AsylumDecided,
    CaseClosed,
    CasesMerged,
    ClassMembershipDetermined,
    ContactAttempted,
    EntryCorrected,
    EntryRetracted,
    FamilyReunified,
    MemberAdded,
    MemberRemoved,
    ParentLocated,
    ParoleDecided,
    ParoleExpired,
    ParoleRenewed,
    ParoleRequested,
    Payload,
    PreferenceRecorded,
    RegistrationSubmitted,
    SeparationIdentified,
    ServiceEnded,
    ServiceReferred,
    ServiceStarted,
    TravelArranged,
    WhereaboutsUnknownDeclared,
    WorkAuthorizationDecided,
)
from domain.vocabulary import Obligation, Service


# --- the settlement's own stream --------------------------------------------------------------


MAX_TERMS_VERSION = 1_000_000


class TermsAdopted(Payload):
    # Bounded: stored JSON is read back with 64-bit integers (orjson), and versions go up by one.
    terms_version: Annotated[StrictInt, Field(ge=1, le=MAX_TERMS_VERSION)]
    effective_date: CalendarDate
    obligations: Annotated[dict[Obligation, Duration], Field(min_length=1)]
    court_order_id: ShortText | None = None


class DeadlineExtended(Payload):
    court_order_id: ShortText
    obligation: Obligation
    extension: Duration
    effective_date: CalendarDate


class ServiceInterrupted(Payload):
    service: Service
    interrupted_from: CalendarDate = Field(alias="from")
    interrupted_to: CalendarDate | None = Field(default=None, alias="to")
    cause: ShortText

    @model_validator(mode="after")
    def _ordered(self) -> "ServiceInterrupted":
        if self.interrupted_to is not None and self.interrupted_to < self.interrupted_from:
            raise ValueError("'to' must not be before 'from'")
        return self


CASE_EVENTS: dict[str, type[Payload]] = {
    model.__name__: model
    for model in (
        SeparationIdentified,
        MemberAdded,
        MemberRemoved,
        ContactAttempted,
        ParentLocated,
        WhereaboutsUnknownDeclared,
        PreferenceRecorded,
        RegistrationSubmitted,
        ClassMembershipDetermined,
        ParoleRequested,
        ParoleDecided,
        TravelArranged,
        ArrivedInUS,
        FamilyReunified,
        ServiceReferred,
        ServiceStarted,
        ServiceEnded,
        WorkAuthorizationDecided,
        AsylumApplicationFiled,
        AsylumDecided,
        ParoleRenewed,
        ParoleExpired,
        CaseClosed,
        CasesMerged,
        EntryCorrected,
        EntryRetracted,
    )
}

SETTLEMENT_EVENTS: dict[str, type[Payload]] = {
    model.__name__: model for model in (TermsAdopted, DeadlineExtended, ServiceInterrupted)
}

CATALOG: dict[str, type[Payload]] = {**CASE_EVENTS, **SETTLEMENT_EVENTS}

# Case events that fix the record rather than state a fact about the family.
AMENDMENTS = frozenset({"EntryCorrected", "EntryRetracted"})


def stored_data(payload: Payload) -> dict[str, Any]:
    """The JSON-ready form in which a payload is stored and hashed (absent optionals omitted)."""
    return payload.model_dump(mode="json", by_alias=True, exclude_none=True)


def _field_names(model: type[BaseModel], personal: bool) -> set[str]:
    """Names of the fields of `model` and of the models nested in it, personal or not."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        marked = isinstance(field.json_schema_extra, dict) and bool(field.json_schema_extra.get("x-personal-data"))
        if marked == personal:
            names.add(name)
        for nested in _models_in(field.annotation):
            names |= _field_names(nested, personal)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]


# Personal data is found by field name, wherever it sits in an event's data (a correction's
# `changes` included): so no name may mean personal data in one model and not in another.
PERSONAL_FIELD_NAMES = frozenset().union(*(_field_names(model, personal=True) for model in CATALOG.values()))
if PERSONAL_FIELD_NAMES & frozenset().union(*(_field_names(m, personal=False) for m in CATALOG.values())):
    raise RuntimeError("a field name marks personal data in one event type and not in another")


def personal_values(data: Any, replace: Callable[[str], str]) -> Any:
    """`data` with every personal value (a text under a personal field name, at any depth) replaced."""
    if isinstance(data, dict):
        replaced = {}
        for key, value in data.items():
            if isinstance(value, str):
                replaced[key] = replace(value) if key in PERSONAL_FIELD_NAMES else value
            else:  # only containers need a call (this runs on every appended event)
                replaced[key] = personal_values(value, replace) if isinstance(value, dict | list) else value
        return replaced
    if isinstance(data, list):
        return [personal_values(item, replace) for item in data]
    return data


def has_personal_values(data: Any) -> bool:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str):
                if key in PERSONAL_FIELD_NAMES:
                    return True
            elif isinstance(value, dict | list) and has_personal_values(value):
                return True
        return False
    return isinstance(data, list) and any(has_personal_values(item) for item in data)
