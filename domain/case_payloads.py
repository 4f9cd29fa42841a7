"""The data of each case event (DOMAIN.md §4): one pydantic model per event type.

Every model is strict about shape: unknown fields are rejected, closed vocabularies are enums
(domain/vocabulary.py), countries are ISO 3166 codes, and facts that already happened cannot be
dated in the future. domain/catalog.py lists them by event type.
"""

from collections import Counter
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.date_ranges import INSTANT_RANGE, BirthYear, CalendarDate, Instant, PastDate, SeparationDate
from domain.values import (
    PERSONAL,
    BorderSector,
    CaseId,
    Count,
    Country,
    EventId,
    MemberId,
    PersonalLongText,
    PersonalShortText,
    PlainJson,
    ShortText,
)

from domain.vocabulary import (
    AsylumOutcome,
    Certainty,
    Channel,
    CloseReason,
    Decision,
    Election,
    MemberRole,
    MembershipDecision,
    Outcome,
    Service,
    ServiceEndReason,
    Source,
)


class Payload(BaseModel):
    """Base of every event's `data`: closed shape, and an optional free-text note."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notes: PersonalLongText | None = Field(default=None, json_schema_extra=PERSONAL)


# The members of the case an entry concerns (domain/posting_checks.py checks each is one).
MemberIds = Annotated[list[MemberId], Field(max_length=50)]


def _unique(ids: list[str], what: str) -> None:
    repeated = [member for member, count in Counter(ids).items() if count > 1]
    if repeated:
        raise ValueError(f"{what} must be unique: {', '.join(repeated)} given more than once")


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
    member_ids: MemberIds = []


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


class ServiceEntry(Payload):
    """What a service's referral, start and end each name: the service, and the members it serves."""

    service: Service
    member_ids: MemberIds = []


class ServiceReferred(ServiceEntry):
    pass


class ServiceStarted(ServiceEntry):
    pass


class ServiceEnded(ServiceEntry):
    reason: ServiceEndReason


class WorkAuthorizationDecided(Payload):
    decision: Decision
    valid_until: CalendarDate | None = None
    member_ids: MemberIds = []


class AsylumApplicationFiled(Payload):
    receipt_number: ShortText
    member_ids: MemberIds = []


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
