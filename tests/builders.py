"""Envelopes for tests: realistic defaults, any field overridable."""

from typing import Any
from uuid import uuid4

OCCURRED = "2021-05-03T14:00:00Z"
A_PAST_EVENT = "0b6d8f52-1e1b-4d0a-9d8e-6f5c3b2a1e00"

# One realistic, minimal valid `data` per catalog type. A type added to the catalog without an
# example here makes tests/test_catalog.py's
# `test_every_catalog_type_accepts_a_realistic_minimal_payload` fail.
VALID_DATA: dict[str, dict[str, Any]] = {
    "SeparationIdentified": {
        "separation_date": "2018-05-20",
        "nationality": "GT",
        "border_sector": "El Paso",
        "children": [{"member_id": "C1", "birth_year": 2014}],
        "parents": [{"member_id": "P1"}],
        "source": "government_records",
        "certainty": "certified",
    },
    "MemberAdded": {"member_id": "C2", "role": "child", "reason": "added in the 2018 review", "birth_year": 2015},
    "MemberRemoved": {"member_id": "C2", "reason": "not separated at the border"},
    "ContactAttempted": {"channel": "phone", "outcome": "no_answer", "country": "GT"},
    "ParentLocated": {"country": "HN"},
    "WhereaboutsUnknownDeclared": {"attempts_made": 3},
    "PreferenceRecorded": {"election": "reunify_in_us"},
    "RegistrationSubmitted": {"registration_number": "FRTF-R-000123"},
    "ClassMembershipDetermined": {"decision": "member", "basis": "separated at the border in 2018"},
    "ParoleRequested": {"receipt_number": "IOE0912345678"},
    "ParoleDecided": {"decision": "granted", "valid_until": "2024-06-01"},
    "TravelArranged": {"port_of_entry": "LAX", "travel_date": "2021-06-01"},
    "ArrivedInUS": {"port_of_entry": "LAX", "parole_start": "2021-06-01", "parole_end": "2024-06-01"},
    "FamilyReunified": {"location_country": "US"},
    "ServiceReferred": {"service": "case_management"},
    "ServiceStarted": {"service": "behavioral_health"},
    "ServiceEnded": {"service": "housing", "reason": "completed"},
    "WorkAuthorizationDecided": {"decision": "granted", "valid_until": "2023-06-01"},
    "AsylumApplicationFiled": {"receipt_number": "ZLA1234567890"},
    "AsylumDecided": {"decision": "granted"},
    "ParoleRenewed": {"valid_until": "2027-06-01"},
    "ParoleExpired": {"valid_until": "2024-06-01"},
    "CaseClosed": {"reason": "reunified_services_complete"},
    "CasesMerged": {"duplicate_case_id": "FRTF-000124"},
    "EntryCorrected": {"event_id": A_PAST_EVENT, "changes": {"outcome": "reached"}, "reason": "typo"},
    "EntryRetracted": {"event_id": A_PAST_EVENT, "reason": "posted to the wrong case"},
    "TermsAdopted": {
        "terms_version": 1,
        "effective_date": "2023-12-11",
        "obligations": {"first_outreach": {"days": 30}},
    },
    "DeadlineExtended": {
        "court_order_id": "ECF 123",
        "obligation": "first_outreach",
        "extension": {"months": 1},
        "effective_date": "2024-01-01",
    },
    "ServiceInterrupted": {
        "service": "legal",
        "from": "2025-03-21",
        "to": "2025-04-15",
        "cause": "contract terminated",
    },
}




def envelope(case_id: str, event_type: str, data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "case_id": case_id,
        "type": event_type,
        "occurred_at": OCCURRED,
        "data": data,
        **overrides,
    }


def separation(case_id: str, children: tuple[str, ...] = ("C1",), **overrides: Any) -> dict[str, Any]:
    data = {
        "separation_date": "2018-05-20",
        "nationality": "GT",
        "border_sector": "El Paso",
        "children": [{"member_id": child, "birth_year": 2014} for child in children],
        "parents": [{"member_id": "P1", "name": "Ana Example"}],
        "source": "government_records",
        "certainty": "certified",
    }
    return envelope(case_id, "SeparationIdentified", data, **overrides)


def contact(case_id: str, outcome: str = "no_answer", **overrides: Any) -> dict[str, Any]:
    data = {"channel": "phone", "outcome": outcome, "country": "GT", "contact_detail": "+502 5555 0100"}
    return envelope(case_id, "ContactAttempted", data, **overrides)


def preference(case_id: str, election: str = "reunify_in_us", **overrides: Any) -> dict[str, Any]:
    return envelope(case_id, "PreferenceRecorded", {"election": election}, **overrides)


def batch(*envelopes: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(envelopes)}
