"""Sequences a monitor would question but the rules allow: accepted, with a warning.

A posting that breaks a rule of the case is refused (domain/family_case.py). Some orders of facts
the rules allow, because the world does produce them (travel booked while the parole decision is
still being written up, a call made from an NGO's own list before the Task Force identified the
family), yet each deserves a second look: the receipt says so, and the compliance report counts
each kind in its data quality section.

A warning is a property of the event and of the case as it stood when the event was recorded: its
effective entries before it (retracted ones left out, corrections applied). The ledger derives it
when it decides a posting, and the projection derives it again from the same entries when it
projects the event, so a rebuild counts the warnings the receipts gave. A later correction or
retraction neither warns nor withdraws a warning already given. Messages name types, dates and
member ids only: never personal data.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.case_facts import CaseFacts
from domain.catalog import AMENDMENTS
from domain.vocabulary import Decision, MemberRole
from domain.family_case import Entry, FamilyCase

CONTACT_BEFORE_IDENTIFICATION = "contact_before_identification"
PAROLE_DECISION_WITHOUT_REQUEST = "parole_decision_without_request"
TRAVEL_BEFORE_PAROLE_DECISION = "travel_before_parole_decision"
TRAVEL_AFTER_PAROLE_DENIED = "travel_after_parole_denied"
SECOND_REUNIFICATION = "second_reunification"
DATED_BEFORE_SEPARATION = "dated_before_separation"
DATED_AFTER_CLOSURE = "dated_after_closure"

# Every code, in the order the report lists their counts.
WARNING_CODES = (
    CONTACT_BEFORE_IDENTIFICATION,
    PAROLE_DECISION_WITHOUT_REQUEST,
    TRAVEL_BEFORE_PAROLE_DECISION,
    TRAVEL_AFTER_PAROLE_DENIED,
    SECOND_REUNIFICATION,
    DATED_BEFORE_SEPARATION,
    DATED_AFTER_CLOSURE,
)

# Never warned about: the case's first fact, amendments (they change other entries, whose own
# warnings stand), and what the ledger writes itself.
_UNWARNED = AMENDMENTS | {"SeparationIdentified", "MergedInto", "PersonalDataForgotten"}


@dataclass(frozen=True, slots=True)
class SequenceWarning:
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def sequence_warnings(case: FamilyCase, event_type: str, occurred_at: str, data: Mapping[str, Any]) -> tuple[SequenceWarning, ...]:
    """What a monitor would question about an event of `event_type`, occurred at `occurred_at`
    (the ledger's UTC text) with `data`, recorded on `case` as it stands (before the event)."""
    if event_type in _UNWARNED:
        return ()
    return tuple(warning for check in _CHECKS.get(event_type, _ANY_EVENT) if (warning := check(case, occurred_at, data)))


def _first(entries: list[Entry]) -> Entry | None:
    if len(entries) < 2:  # nearly always: a case has one SeparationIdentified
        return entries[0] if entries else None
    return min(entries, key=lambda e: (e.effective_occurred_at, e.version))


def _latest(entries: list[Entry]) -> Entry | None:
    return max(entries, key=lambda e: (e.effective_occurred_at, e.version), default=None)


def _on_or_before(case: FamilyCase, event_type: str, occurred_at: str) -> list[Entry]:
    return [e for e in case.effective_entries_of(event_type) if e.effective_occurred_at <= occurred_at]


def _day(instant: str) -> str:
    return instant[:10]


def _contact_before_identification(case: FamilyCase, occurred_at: str, _: Mapping[str, Any]) -> SequenceWarning | None:
    identified = _first(case.effective_entries_of("SeparationIdentified"))
    if identified is None or occurred_at >= identified.effective_occurred_at:
        return None
    return SequenceWarning(
        CONTACT_BEFORE_IDENTIFICATION,
        f"a contact attempt dated {occurred_at}, before the separation was identified ({identified.effective_occurred_at})",
    )


def _decision_without_request(case: FamilyCase, occurred_at: str, _: Mapping[str, Any]) -> SequenceWarning | None:
    if _on_or_before(case, "ParoleRequested", occurred_at):
        return None
    return SequenceWarning(
        PAROLE_DECISION_WITHOUT_REQUEST,
        f"a parole decision dated {_day(occurred_at)} with no ParoleRequested recorded on or before it",
    )


def _travel_without_parole(case: FamilyCase, occurred_at: str, _: Mapping[str, Any]) -> SequenceWarning | None:
    decided = _latest(_on_or_before(case, "ParoleDecided", occurred_at))
    if decided is None:
        return SequenceWarning(
            TRAVEL_BEFORE_PAROLE_DECISION,
            f"travel arranged on {_day(occurred_at)} with no ParoleDecided recorded on or before it",
        )
    if decided.effective_data.get("decision") == Decision.DENIED:
        return SequenceWarning(
            TRAVEL_AFTER_PAROLE_DENIED,
            f"travel arranged on {_day(occurred_at)}, after parole was denied on {_day(decided.effective_occurred_at)}",
        )
    return None


def _second_reunification(case: FamilyCase, _: str, data: Mapping[str, Any]) -> SequenceWarning | None:
    if not case.effective_entries_of("FamilyReunified"):
        return None
    named = data.get("children") or [m.member_id for m in case.members().values() if m.role == MemberRole.CHILD]
    reunified = CaseFacts.of_case(case).reunions  # who the report counts reunified, by the same fold
    again = [member_id for member_id in named if member_id in reunified]
    if not again:
        return None
    return SequenceWarning(
        SECOND_REUNIFICATION, f"reunifies {', '.join(again)}, already reunified by an earlier FamilyReunified"
    )


def _dated_before_separation(case: FamilyCase, occurred_at: str, _: Mapping[str, Any]) -> SequenceWarning | None:
    identified = _first(case.effective_entries_of("SeparationIdentified"))
    separated = None if identified is None else identified.effective_data.get("separation_date")
    if not isinstance(separated, str) or _day(occurred_at) >= separated:
        return None
    return SequenceWarning(DATED_BEFORE_SEPARATION, f"dated {_day(occurred_at)}, before the separation on {separated}")


def _dated_after_closure(case: FamilyCase, occurred_at: str, _: Mapping[str, Any]) -> SequenceWarning | None:
    closures = case.effective_entries_of("CaseClosed")
    if not closures:
        return None
    closed = _latest([e for e in closures if e.effective_occurred_at < occurred_at])
    if closed is None:
        return None
    reason = closed.effective_data.get("reason")
    return SequenceWarning(
        DATED_AFTER_CLOSURE,
        f"dated {_day(occurred_at)}, after the case was closed ({reason}) on {_day(closed.effective_occurred_at)}",
    )


_Check = Callable[[FamilyCase, str, Mapping[str, Any]], SequenceWarning | None]
_BY_TYPE: dict[str, tuple[_Check, ...]] = {
    "ContactAttempted": (_contact_before_identification,),
    "ParoleDecided": (_decision_without_request,),
    "TravelArranged": (_travel_without_parole,),
    "FamilyReunified": (_second_reunification,),
}
_ANY_EVENT: tuple[_Check, ...] = (_dated_before_separation, _dated_after_closure)
_CHECKS = {event_type: (*checks, *_ANY_EVENT) for event_type, checks in _BY_TYPE.items()}
