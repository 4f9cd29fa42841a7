"""What each event type of the catalog is for, in one line, and who may post it: the text an
integrator reads first (GET /v1/catalog, the OpenAPI schema's envelope descriptions, docs/catalog.md).

The fields are described by the pydantic models and the posters by the permission matrix; only the
purpose is written here, and every type of the catalog needs one (checked at import).
"""

from types import MappingProxyType

from domain.catalog import CATALOG, SETTLEMENT_EVENTS
from domain.organizations import NAMES
from domain.permissions import POSTERS

PURPOSES: MappingProxyType[str, str] = MappingProxyType(
    {
        "SeparationIdentified": "A family separated at the border is identified: opens the case with its children and parents.",
        "MemberAdded": "A parent, child or qualifying additional family member is added to the case.",
        "MemberRemoved": "A member listed by mistake is removed from the case.",
        "ContactAttempted": "An attempt to reach the family (by phone, in person, ...) and its outcome.",
        "ParentLocated": "The parent is located, in a country.",
        "WhereaboutsUnknownDeclared": "The parent could not be found after the attempts made.",
        "PreferenceRecorded": "The family's election: reunify in the U.S., in the home country, decline, or undecided.",
        "RegistrationSubmitted": "The family registered its claim with the Task Force (its registration number).",
        "ClassMembershipDetermined": "The Task Force decides whether the family belongs to the class.",
        "ParoleRequested": "A parole request (Form I-131) is filed for the family.",
        "ParoleDecided": "USCIS grants (until a date) or denies parole.",
        "TravelArranged": "Travel to a U.S. port of entry is arranged, for a date.",
        "ArrivedInUS": "The family arrived at a port of entry; its parole starts.",
        "FamilyReunified": "Children of the case are reunified with their parent (none named: all of them).",
        "ServiceReferred": "A member is referred to a service (case management, behavioral health, housing, medical, legal).",
        "ServiceStarted": "A service starts for members of the family.",
        "ServiceEnded": "A service ends, and why.",
        "WorkAuthorizationDecided": "USCIS grants or denies work authorization (Form I-765).",
        "AsylumApplicationFiled": "An asylum application (Form I-589) is filed.",
        "AsylumDecided": "The asylum application is decided.",
        "ParoleRenewed": "Parole is renewed until a later date.",
        "ParoleExpired": "Parole lapsed on its date without renewal.",
        "CaseClosed": "The case is closed (reunified and served, declined, excluded, duplicate, other).",
        "CasesMerged": "Another case number turned out to be the same family: it is merged into this case.",
        "EntryCorrected": "Fixes fields (or occurred_at) of an earlier event of the case posted by the same organization; the original is kept.",
        "EntryRetracted": "Withdraws an earlier event of the case posted by the same organization: it no longer counts; the original is kept.",
        "TermsAdopted": "The settlement's terms (each obligation's duration) adopted or replaced, from an effective date (case SETTLEMENT).",
        "DeadlineExtended": "A court order extends one obligation's deadline, from an effective date (case SETTLEMENT).",
        "ServiceInterrupted": "A service was interrupted for everyone between two dates, e.g. a contract terminated (case SETTLEMENT).",
    }
)

if PURPOSES.keys() != CATALOG.keys():
    raise RuntimeError("every catalog type needs a purpose in domain/catalog_guide.py, and only they")


def stream(event_type: str) -> str:
    """Where events of the type are posted: a family's case, or the settlement's own stream."""
    return "settlement" if event_type in SETTLEMENT_EVENTS else "case"


def posters(event_type: str) -> list[str]:
    """The organizations that may post the type, in the order of domain/organizations.py."""
    return [organization.value for organization in NAMES if organization in POSTERS[event_type]]


def description(event_type: str) -> str:
    """The type's purpose and who may post it, as the OpenAPI schema describes its envelope."""
    return f"{PURPOSES[event_type]} Posted by: {', '.join(posters(event_type))}."
