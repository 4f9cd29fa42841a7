"""Which organization may post which event type (DOMAIN.md §2). The matrix is data.

A refusal names what the organization may post instead: an integrator whose first batch mixes in
a type of another organization's (FRTF posting ContactAttempted, say) learns the whole list from
the 403, not by trying types one at a time."""

from collections.abc import Iterable
from types import MappingProxyType

from domain.access import Principal
from domain.catalog import CATALOG
from domain.errors import BatchRejected, Problem
from domain.organizations import Organization as O
from domain.organizations import Role

_NGOS = frozenset({O.KIND, O.JIM, O.WRC})
_OUTREACH = _NGOS | {O.AOL}  # Al Otro Lado may post what the Steering Committee NGOs may
_SERVICE_PROVIDERS = frozenset({O.SENECA, O.ACACIA})
_AGENCIES = frozenset(O) - {O.MONITOR, O.OIG}

POSTERS: MappingProxyType[str, frozenset[O]] = MappingProxyType(
    {
        "SeparationIdentified": frozenset({O.FRTF, O.ORR}),
        "MemberAdded": frozenset({O.FRTF, O.ORR}),
        "MemberRemoved": frozenset({O.FRTF, O.ORR}),
        "ContactAttempted": _OUTREACH,
        "ParentLocated": _OUTREACH | {O.ICE},
        "WhereaboutsUnknownDeclared": _OUTREACH | {O.FRTF},
        "PreferenceRecorded": _OUTREACH,
        "RegistrationSubmitted": frozenset({O.FRTF}),
        "ClassMembershipDetermined": frozenset({O.FRTF}),
        "ParoleRequested": frozenset({O.IOM}),
        "ParoleDecided": frozenset({O.USCIS}),
        "TravelArranged": frozenset({O.IOM, O.STATE, O.AOL}),
        "ArrivedInUS": frozenset({O.CBP}),
        "FamilyReunified": frozenset({O.FRTF}),
        "ServiceReferred": _SERVICE_PROVIDERS,
        "ServiceStarted": _SERVICE_PROVIDERS,
        "ServiceEnded": _SERVICE_PROVIDERS,
        "WorkAuthorizationDecided": frozenset({O.USCIS}),
        "AsylumApplicationFiled": frozenset({O.ACACIA}),
        "AsylumDecided": frozenset({O.USCIS}),
        "ParoleRenewed": frozenset({O.USCIS}),
        "ParoleExpired": frozenset({O.USCIS}),
        "CaseClosed": frozenset({O.FRTF}),
        "CasesMerged": frozenset({O.FRTF}),
        # Any agency may fix its own entries; the case checks that the original is theirs.
        "EntryCorrected": _AGENCIES,
        "EntryRetracted": _AGENCIES,
        "TermsAdopted": frozenset({O.DOJ, O.ACLU}),
        "DeadlineExtended": frozenset({O.DOJ, O.ACLU}),
        "ServiceInterrupted": _SERVICE_PROVIDERS | {O.FRTF},
    }
)

if POSTERS.keys() != CATALOG.keys():
    raise RuntimeError("every catalog type needs a row in the permission matrix, and only they")


def may_post(organization: str, event_type: str) -> bool:
    return organization in POSTERS.get(event_type, frozenset())


def allowed_types(organization: str) -> list[str]:
    return [event_type for event_type, posters in POSTERS.items() if organization in posters]


def not_permitted(organization: str, event_type: str) -> str:
    """Why `organization` may not post `event_type`, and what it may post."""
    allowed = allowed_types(organization)
    return f"{organization} may not post {event_type}; {organization} may post " + (", ".join(allowed) if allowed else "no event type")


def refuse_forbidden(principal: Principal, types: Iterable[tuple[int, str]]) -> None:
    """Raises BatchRejected (forbidden) unless the principal may post every (index, type) given:
    an agency token, of an organization the matrix lets post each type. Each refusal names what
    the organization may post, and so does the problem's `may_post`."""
    if principal.role is not Role.AGENCY:
        raise BatchRejected("forbidden", [Problem(0, "", f"{principal.role.with_article} token cannot post events")])
    organization = principal.organization.value
    forbidden = [Problem(i, "type", not_permitted(organization, t)) for i, t in types if not may_post(organization, t)]
    if forbidden:
        raise BatchRejected("forbidden", forbidden, {"may_post": allowed_types(organization)})
