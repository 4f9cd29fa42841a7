"""FamilyCase: one separated family's stream of events; it records a posting that meets the rules
of domain/posting_checks.py and refuses one that does not.

The case keeps every entry as recorded. Corrections and retractions never edit an entry: they are
entries of their own, and `effective_entries()` reads the record with them applied.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import AggregateCreated, BaseAggregate

from domain.case_members import MEMBER_ENTRIES, CaseMembers, Member
from domain.catalog import AMENDMENTS
from domain.case_entry import Entry
from domain.envelope import Posting
from domain.posting_checks import CHECKS, PostingChecks
from domain.errors import CaseConflict, InvalidReference
from domain.events import LedgerEvent, case_stream_id
from domain.organizations import LEDGER_OPERATOR


class FamilyCase(PostingChecks, BaseAggregate[UUID]):
    TOPIC = "FamilyCase"
    Event = LedgerEvent

    class SeparationIdentified(LedgerEvent, AggregateCreated):
        TOPIC = "SeparationIdentified"

    class MemberAdded(LedgerEvent):
        TOPIC = "MemberAdded"

    class MemberRemoved(LedgerEvent):
        TOPIC = "MemberRemoved"

    class ContactAttempted(LedgerEvent):
        TOPIC = "ContactAttempted"

    class ParentLocated(LedgerEvent):
        TOPIC = "ParentLocated"

    class WhereaboutsUnknownDeclared(LedgerEvent):
        TOPIC = "WhereaboutsUnknownDeclared"

    class PreferenceRecorded(LedgerEvent):
        TOPIC = "PreferenceRecorded"

    class RegistrationSubmitted(LedgerEvent):
        TOPIC = "RegistrationSubmitted"

    class ClassMembershipDetermined(LedgerEvent):
        TOPIC = "ClassMembershipDetermined"

    class ParoleRequested(LedgerEvent):
        TOPIC = "ParoleRequested"

    class ParoleDecided(LedgerEvent):
        TOPIC = "ParoleDecided"

    class TravelArranged(LedgerEvent):
        TOPIC = "TravelArranged"

    class ArrivedInUS(LedgerEvent):
        TOPIC = "ArrivedInUS"

    class FamilyReunified(LedgerEvent):
        TOPIC = "FamilyReunified"

    class ServiceReferred(LedgerEvent):
        TOPIC = "ServiceReferred"

    class ServiceStarted(LedgerEvent):
        TOPIC = "ServiceStarted"

    class ServiceEnded(LedgerEvent):
        TOPIC = "ServiceEnded"

    class WorkAuthorizationDecided(LedgerEvent):
        TOPIC = "WorkAuthorizationDecided"

    class AsylumApplicationFiled(LedgerEvent):
        TOPIC = "AsylumApplicationFiled"

    class AsylumDecided(LedgerEvent):
        TOPIC = "AsylumDecided"

    class ParoleRenewed(LedgerEvent):
        TOPIC = "ParoleRenewed"

    class ParoleExpired(LedgerEvent):
        TOPIC = "ParoleExpired"

    class CaseClosed(LedgerEvent):
        TOPIC = "CaseClosed"

    class CasesMerged(LedgerEvent):
        TOPIC = "CasesMerged"

    class MergedInto(LedgerEvent):
        """Written by the ledger on the duplicate's own stream when FRTF posts CasesMerged."""

        TOPIC = "MergedInto"

    class PersonalDataForgotten(LedgerEvent):
        """Written by the ledger when the case's personal data was made unreadable (its keys destroyed)."""

        TOPIC = "PersonalDataForgotten"

    class EntryCorrected(LedgerEvent):
        TOPIC = "EntryCorrected"

    class EntryRetracted(LedgerEvent):
        TOPIC = "EntryRetracted"

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.entries: dict[str, Entry] = {}  # by event_id, in version order
        self._by_type: dict[str, list[Entry]] = {}  # the same entries by type: checks read a few types, not the case
        self.merged_into: str | None = None
        self.absorbed: list[str] = []  # the duplicates merged into this case, in the order merged
        self._members = CaseMembers()  # kept entry by entry: every posting's checks read them

    @classmethod
    def before_any_event(cls, case_id: str) -> "FamilyCase":
        """A case with nothing recorded yet, to fold recorded entries into outside a repository
        (a projection keeps recent cases this way instead of reading their streams again)."""
        case = cls.__new__(cls)
        case.__base_init__(originator_id=case_stream_id(case_id), originator_version=0, timestamp=datetime.min)
        case.__init__(case_id)  # type: ignore[misc]
        return case

    # --- applying recorded events (replay: never refuses) -------------------------------------

    def record_entry(self, event: LedgerEvent) -> None:
        entry = Entry(
            event_id=event.event_id,
            type=event.type,
            organization=event.organization,
            occurred_at=event.occurred_at,
            data=event.data,
            version=event.originator_version,
        )
        self.entries[event.event_id] = entry
        self._by_type.setdefault(event.type, []).append(entry)
        target = self.entries.get(str(event.data.get("event_id")))
        names_members = target is not None and target.type in MEMBER_ENTRIES and not target.retracted
        if event.type == "EntryRetracted" and target:
            if names_members:
                self._members.withdraw(target.type, target.version, target.effective_data)
            target.retracted = True
        elif event.type == "EntryCorrected" and target:
            if names_members:
                self._members.withdraw(target.type, target.version, target.effective_data)
            target.corrections.append(event.data)
            if names_members:
                self._members.mention(target.type, target.version, target.effective_data)
        elif event.type == "MergedInto":
            self.merged_into = event.data["surviving_case_id"]
        elif event.type == "CasesMerged":
            self.absorbed.append(event.data["duplicate_case_id"])
        elif event.type in MEMBER_ENTRIES:
            self._members.mention(event.type, event.originator_version, event.data)

    # --- reading the record -------------------------------------------------------------------

    def effective_entries(self) -> Iterator[Entry]:
        """The facts as they now stand: retracted entries left out, amendments folded in."""
        for entry in self.entries.values():
            if not entry.retracted and entry.type not in AMENDMENTS:
                yield entry

    def effective_entries_of(self, event_type: str) -> list[Entry]:
        """The effective entries of one type, in version order (amendments folded in)."""
        return [entry for entry in self._by_type.get(event_type, ()) if not entry.retracted]

    def members(self) -> dict[str, Member]:
        """The case's members now, in the order they joined (kept up to date entry by entry:
        domain/case_members.py)."""
        return self._members.in_order()

    # --- deciding on new postings -------------------------------------------------------------

    @classmethod
    def identify(cls, posting: Posting, organization: str, token_name: str) -> "FamilyCase":
        if posting.expected_version not in (None, 0):
            raise CaseConflict(
                f"case {posting.case_id} does not exist yet, so expected_version must be 0",
                "expected_version",
            )
        return cls._create(
            cls.SeparationIdentified,
            id=case_stream_id(posting.case_id),
            **_event_fields(posting, organization, token_name),
        )

    def record(self, posting: Posting, organization: str, token_name: str) -> LedgerEvent:
        """Checks `posting` against the case and, if it may stand, records it as the next event."""
        self._check_open(posting)
        if posting.type == "SeparationIdentified":
            raise CaseConflict(
                f"case {self.case_id} is already identified; correct the original with EntryCorrected",
                "type",
            )
        if posting.type == "CasesMerged":
            raise CaseConflict("a merge names two cases: use FamilyCase.absorb", "type")
        if posting.type == "EntryCorrected":
            posting = self._checked_correction(posting, organization)
        elif check := CHECKS.get(posting.type):
            check(self, posting, organization)
        return self._trigger(posting.type, posting, organization, token_name)

    def absorb(
        self, duplicate: "FamilyCase | None", posting: Posting, organization: str, token_name: str
    ) -> list[LedgerEvent]:
        """CasesMerged: this case survives; the duplicate's stream records where it went."""
        self._check_open(posting)
        duplicate_id = posting.data["duplicate_case_id"]
        if duplicate_id == self.case_id:
            raise InvalidReference("a case cannot be merged into itself", "data.duplicate_case_id")
        if duplicate is None:
            raise InvalidReference(f"there is no case {duplicate_id}", "data.duplicate_case_id")
        if duplicate.merged_into is not None:
            raise CaseConflict(
                f"case {duplicate_id} was already merged into {duplicate.merged_into}",
                "data.duplicate_case_id",
            )
        if duplicate.withdrawn_by is not None:  # its identification was an error: no family to merge
            raise CaseConflict(
                f"case {duplicate_id}'s identification (event {duplicate.withdrawn_by}) was retracted, so the case "
                "is withdrawn: there is no family record to merge",
                "data.duplicate_case_id",
            )
        merged = self._trigger("CasesMerged", posting, organization, token_name)
        pointer = duplicate._trigger(
            "MergedInto",
            Posting(
                event_id=str(uuid5(UUID(posting.event_id), "merged-into")),
                case_id=duplicate.case_id,
                type="MergedInto",
                occurred_at=posting.occurred_at,
                data={"surviving_case_id": self.case_id, "merge_event_id": posting.event_id},
            ),
            organization,
            token_name,
        )
        return [merged, pointer]

    def forget_personal_data(self, reason: str, occurred_at: str) -> LedgerEvent:
        """Records that the ledger made the case's personal data unreadable (its keys destroyed)."""
        if not reason.strip() or len(reason) > 200:
            raise InvalidReference("a reason of 1-200 characters is needed", "reason")
        posting = Posting(str(uuid4()), self.case_id, "PersonalDataForgotten", occurred_at, {"reason": reason.strip()})
        return self._trigger("PersonalDataForgotten", posting, LEDGER_OPERATOR, "ledger-cli")

    @property
    def withdrawn_by(self) -> str | None:
        """The event id of the case's identification if it was retracted: a withdrawn case takes no
        new facts (its stream begins with that identification, so it cannot be identified again)."""
        identified = self._by_type.get("SeparationIdentified")
        return identified[0].event_id if identified and identified[0].retracted else None

    def _check_open(self, posting: Posting) -> None:
        if self.merged_into is not None:
            raise CaseConflict(
                f"case {self.case_id} was merged into {self.merged_into}; post to that case instead",
                "case_id",
            )
        if self.withdrawn_by is not None and posting.type not in AMENDMENTS:
            raise CaseConflict(
                f"case {self.case_id}'s identification (event {self.withdrawn_by}) was retracted, so the case is "
                "withdrawn: identify the separation again under a new case id",
                "case_id",
            )
        if posting.expected_version is not None and posting.expected_version != self.version:
            raise CaseConflict(
                f"expected_version is {posting.expected_version} but case {self.case_id} "
                f"is at version {self.version}; read the case and try again",
                "expected_version",
            )

    def _trigger(self, event_type: str, posting: Posting, organization: str, token_name: str) -> LedgerEvent:
        self.trigger_event(EVENT_CLASSES[event_type], **_event_fields(posting, organization, token_name))
        return self.pending_events[-1]  # type: ignore[return-value]

EVENT_CLASSES: dict[str, type[LedgerEvent]] = {
    value.TOPIC: value
    for value in vars(FamilyCase).values()
    if isinstance(value, type) and issubclass(value, LedgerEvent) and value is not LedgerEvent
}


def _event_fields(posting: Posting, organization: str, token_name: str) -> dict[str, Any]:
    return {
        "event_id": posting.event_id,
        "case_id": posting.case_id,
        "occurred_at": posting.occurred_at,
        "organization": organization,
        "token_name": token_name,
        "data": posting.data,
    }
