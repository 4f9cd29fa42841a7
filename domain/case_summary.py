"""What a case's record says now: members, milestones and each child's status (DESIGN.md §3).

A pure reading of the case's effective entries (retractions left out, corrections applied);
periods are measured in occurred time, so a late report changes the past it reports on.
"""

from typing import Any

from domain.case_facts import CaseFacts
from domain.vocabulary import MemberRole
from domain.family_case import Entry, FamilyCase


def _first(entries: list[Entry], *types: str) -> Entry | None:
    matching = [e for e in entries if e.type in types]
    return min(matching, key=lambda e: (e.effective_occurred_at, e.version), default=None)


def _latest(entries: list[Entry], *types: str) -> Entry | None:
    matching = [e for e in entries if e.type in types]
    return max(matching, key=lambda e: (e.effective_occurred_at, e.version), default=None)


def child_status(facts: CaseFacts, member_id: str) -> str:
    """`reunified`, or the status of a child still to reunify (the compliance report's definition)."""
    return "reunified" if facts.reunification_of(member_id) else facts.remaining_status()


def case_summary(case: FamilyCase) -> dict[str, Any]:
    entries = list(case.effective_entries())
    members = case.members()
    facts = CaseFacts.of_case(case)
    identified = _first(entries, "SeparationIdentified")
    separation = identified.effective_data if identified else {}

    def occurred(*types: str) -> str | None:
        entry = _first(entries, *types)
        return entry.effective_occurred_at if entry else None

    services: dict[str, str] = {}
    for entry in sorted(
        (e for e in entries if e.type.startswith("Service")), key=lambda e: (e.effective_occurred_at, e.version)
    ):
        services[entry.effective_data["service"]] = {
            "ServiceReferred": "referred",
            "ServiceStarted": "active",
            "ServiceEnded": "ended",
        }[entry.type]
    preference = _latest(entries, "PreferenceRecorded")
    travel = _latest(entries, "TravelArranged")
    closed = _latest(entries, "CaseClosed")
    return {
        "case_id": case.case_id,
        "version": case.version,
        "identified": identified is not None,
        "separation": {
            key: separation[key]
            for key in ("separation_date", "nationality", "border_sector", "source", "certainty")
            if key in separation
        },
        "members": [
            {
                "member_id": m.member_id,
                "role": m.role,
                "birth_year": m.birth_year,
                "name": m.name,
                "status": child_status(facts, m.member_id) if m.role == MemberRole.CHILD else None,
            }
            for m in members.values()
        ],
        "milestones": {
            "identified_at": occurred("SeparationIdentified"),
            "first_contact_attempt_at": occurred("ContactAttempted"),
            "located_at": occurred("ParentLocated"),
            "registered_at": occurred("RegistrationSubmitted"),
            "parole_requested_at": occurred("ParoleRequested"),
            "parole_decided_at": occurred("ParoleDecided"),
            "arrived_at": occurred("ArrivedInUS"),
            "reunified_at": occurred("FamilyReunified"),
        },
        "contact_attempts": sum(e.type == "ContactAttempted" for e in entries),
        "preference": preference.effective_data["election"] if preference else None,
        "travel_arranged_by": travel.organization if travel else None,
        "services": services,
        "closed": closed.effective_data["reason"] if closed else None,
        "merged_into": case.merged_into,
        "merged_cases": [e.effective_data["duplicate_case_id"] for e in entries if e.type == "CasesMerged"],
        "corrections": sum(e.type == "EntryCorrected" for e in case.entries.values()),
        "retractions": sum(e.type == "EntryRetracted" for e in case.entries.values()),
    }
