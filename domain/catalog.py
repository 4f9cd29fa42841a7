"""The v1 event catalog (DOMAIN.md §4): one pydantic model per event type for its `data`.

Every model is strict about shape: unknown fields are rejected, closed vocabularies are enums,
countries are ISO 3166 codes, and facts that already happened cannot be dated in the future.
"""

from enum import StrEnum
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from domain.date_ranges import INSTANT_RANGE, BirthYear, CalendarDate, Instant, PastDate, SeparationDate
from domain.values import (
    PERSONAL,
    BorderSector,
    CaseId,
    Count,
    Country,
    Duration,
    EventId,
    MemberId,
    PersonalLongText,
    PersonalShortText,
    PlainJson,
    ShortText,
)


class Source(StrEnum):
    GOVERNMENT_RECORDS = "government_records"
    NGO = "ngo"
    REGISTRATION = "registration"


class Certainty(StrEnum):
    CERTIFIED = "certified"
    INDICATION_ONLY = "indication_only"


class MemberRole(StrEnum):
    PARENT = "parent"
    CHILD = "child"
    QAFM = "qafm"  # qualifying additional family member


class Channel(StrEnum):
    PHONE = "phone"
    IN_PERSON = "in_person"
    MESSAGING = "messaging"
    VIA_RELATIVE = "via_relative"
    MAIL = "mail"


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    INVALID_NUMBER = "invalid_number"
    WRONG_PERSON = "wrong_person"
    REFUSED = "refused"


class Election(StrEnum):
    REUNIFY_IN_US = "reunify_in_us"
    REUNIFY_IN_HOME_COUNTRY = "reunify_in_home_country"
    DECLINED = "declined"
    UNDECIDED = "undecided"


class MembershipDecision(StrEnum):
    MEMBER = "member"
    QAFM = "qafm"
    EXCLUDED = "excluded"


class Decision(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class AsylumOutcome(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"
    REFERRED = "referred"
    DISMISSED = "dismissed"


class Service(StrEnum):
    CASE_MANAGEMENT = "case_management"
    BEHAVIORAL_HEALTH = "behavioral_health"
    HOUSING = "housing"
    MEDICAL = "medical"
    LEGAL = "legal"


class ServiceEndReason(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    LOST_CONTACT = "lost_contact"
    INTERRUPTED = "interrupted"
    OTHER = "other"


class CloseReason(StrEnum):
    REUNIFIED_SERVICES_COMPLETE = "reunified_services_complete"
    DECLINED = "declined"
    EXCLUDED = "excluded"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Obligation(StrEnum):
    """The clocks compliance is measured against (docs/obligations.md)."""

    FIRST_OUTREACH = "first_outreach"
    PAROLE_DECISION = "parole_decision"
    PAROLE_TERM = "parole_term"
    WORK_AUTHORIZATION_DECISION = "work_authorization_decision"
    ASYLUM_FILING_WINDOW = "asylum_filing_window"
    BEHAVIORAL_HEALTH = "behavioral_health"
    HOUSING_ASSISTANCE = "housing_assistance"
    MEDICAL_COVERAGE = "medical_coverage"
    PAROLE_RENEWAL = "parole_renewal"


class Payload(BaseModel):
    """Base of every event's `data`: closed shape, and an optional free-text note."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notes: PersonalLongText | None = Field(default=None, json_schema_extra=PERSONAL)


def _unique(ids: list[str], what: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"{what} must be unique")


class Child(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    member_id: MemberId
    birth_year: BirthYear
    name: PersonalShortText | None = Field(default=None, json_schema_extra=PERSONAL)


class Parent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    member_id: MemberId
    name: PersonalShortText | None = Field(default=None, json_schema_extra=PERSONAL)


# --- identification and membership -------------------------------------------------------------


class SeparationIdentified(Payload):
    separation_date: SeparationDate
    nationality: Country
    border_sector: BorderSector
    children: Annotated[list[Child], Field(min_length=1, max_length=50)]
    parents: Annotated[list[Parent], Field(max_length=20)] = []
    source: Source
    certainty: Certainty

    @model_validator(mode="after")
    def _members_unique(self) -> "SeparationIdentified":
        _unique([m.member_id for m in [*self.children, *self.parents]], "member ids")
        return self


class MemberAdded(Payload):
    member_id: MemberId
    role: MemberRole
    reason: ShortText
    birth_year: BirthYear | None = None
    name: PersonalShortText | None = Field(default=None, json_schema_extra=PERSONAL)

    @model_validator(mode="after")
    def _child_has_birth_year(self) -> "MemberAdded":
        if self.role is MemberRole.CHILD and self.birth_year is None:
            raise ValueError("a child needs a birth_year (the report's age band depends on it)")
        return self


class MemberRemoved(Payload):
    member_id: MemberId
    reason: ShortText


class ClassMembershipDetermined(Payload):
    decision: MembershipDecision
    basis: ShortText


class RegistrationSubmitted(Payload):
    registration_number: ShortText


# --- outreach ----------------------------------------------------------------------------------


class ContactAttempted(Payload):
    channel: Channel
    outcome: Outcome
    country: Country
    contact_detail: PersonalShortText | None = Field(default=None, json_schema_extra=PERSONAL)


class ParentLocated(Payload):
    country: Country
    member_id: MemberId | None = None
    address: PersonalLongText | None = Field(default=None, json_schema_extra=PERSONAL)


class WhereaboutsUnknownDeclared(Payload):
    attempts_made: Count


class PreferenceRecorded(Payload):
    election: Election


# --- parole, travel, reunification -------------------------------------------------------------


class ParoleRequested(Payload):
    receipt_number: ShortText
    member_ids: Annotated[list[MemberId], Field(max_length=50)] = []


class ParoleDecided(Payload):
    decision: Decision
    valid_until: CalendarDate | None = None

    @model_validator(mode="after")
    def _grant_has_term(self) -> "ParoleDecided":
        if self.decision is Decision.GRANTED and self.valid_until is None:
            raise ValueError("a granted parole needs valid_until")
        return self


class TravelArranged(Payload):
    port_of_entry: ShortText
    travel_date: CalendarDate  # travel is arranged ahead: a future date is expected


class ArrivedInUS(Payload):
    port_of_entry: ShortText
    parole_start: PastDate
    parole_end: CalendarDate

    @model_validator(mode="after")
    def _parole_ends_after_start(self) -> "ArrivedInUS":
        if self.parole_end <= self.parole_start:
            raise ValueError("parole_end must be after parole_start")
        return self


class FamilyReunified(Payload):
    children: Annotated[
        list[MemberId],
        Field(max_length=50, description="Children reunified; empty means all of the case's children."),
    ] = []
    location_country: Country

    @model_validator(mode="after")
    def _children_unique(self) -> "FamilyReunified":
        _unique(self.children, "children")
        return self


class ParoleRenewed(Payload):
    valid_until: CalendarDate


class ParoleExpired(Payload):
    valid_until: CalendarDate


# --- services and status decisions ------------------------------------------------------------


class ServiceReferred(Payload):
    service: Service
    member_ids: Annotated[list[MemberId], Field(max_length=50)] = []


class ServiceStarted(Payload):
    service: Service
    member_ids: Annotated[list[MemberId], Field(max_length=50)] = []


class ServiceEnded(Payload):
    service: Service
    member_ids: Annotated[list[MemberId], Field(max_length=50)] = []
    reason: ServiceEndReason


class WorkAuthorizationDecided(Payload):
    decision: Decision
    valid_until: CalendarDate | None = None
    member_ids: Annotated[list[MemberId], Field(max_length=50)] = []


class AsylumApplicationFiled(Payload):
    receipt_number: ShortText
    member_ids: Annotated[list[MemberId], Field(max_length=50)] = []


class AsylumDecided(Payload):
    decision: AsylumOutcome
    receipt_number: ShortText | None = None


# --- closing, merging and fixing the record ---------------------------------------------------


class CaseClosed(Payload):
    reason: CloseReason


class CasesMerged(Payload):
    duplicate_case_id: CaseId


class EntryCorrected(Payload):
    """Supersedes fields of an earlier event of the same case (never edits it)."""

    event_id: Annotated[EventId, Field(description="The event being corrected.")]
    changes: Annotated[
        PlainJson,
        Field(max_length=50, description="New values for fields of the corrected event's data."),
    ] = {}
    occurred_at: Instant | None = Field(default=None, description=f"Corrected occurred_at, if it was wrong; {INSTANT_RANGE}.")
    reason: ShortText

    @model_validator(mode="after")
    def _changes_something(self) -> "EntryCorrected":
        if not self.changes and self.occurred_at is None:
            raise ValueError("a correction needs changes or a corrected occurred_at")
        return self


class EntryRetracted(Payload):
    event_id: Annotated[EventId, Field(description="The event being retracted.")]
    reason: ShortText


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


def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """Top-level fields of a payload model marked as personal data."""
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("x-personal-data")
    )


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
