"""What one case's record establishes, folded from its effective entries (DESIGN.md §3).

`CaseFacts` is the single reading of a case that both the case view and the compliance report
use: who the children are, each child's status, the family's milestones and services, and the
facts every obligation clock hangs on (read off by domain/case_clock_inputs.py). It folds one
fact at a time, so a projection can keep it up to date event by event; a correction or retraction
changes the past, so the caller folds the case's effective entries again (`CaseFacts.of`). Periods are measured in occurred time (UTC dates).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from domain.vocabulary import CloseReason, Election, MemberRole, Obligation, Outcome, Service, ServiceEndReason
from domain.family_case import Entry, FamilyCase
from domain.terms import day_of

# What a fact can change (CaseFacts.apply): the children's rows, the family's row, or the clocks of
# some obligations; EVERYTHING when whether the case counts may change.
NOTHING: frozenset[str] = frozenset()
CHILDREN = frozenset({"children"})
ONE_CHILD = "child "  # + a member id: that child's row alone (with the family's, which counts it)
FAMILY = frozenset({"family"})
EVERYTHING = frozenset({"everything"})
OUTREACH = frozenset({Obligation.FIRST_OUTREACH.value})
PAROLE_DECISION = frozenset({Obligation.PAROLE_DECISION.value})
ASYLUM = frozenset({Obligation.ASYLUM_FILING_WINDOW.value})
WORK_AUTHORIZATION = frozenset({Obligation.WORK_AUTHORIZATION_DECISION.value})
CARE = frozenset({Obligation.BEHAVIORAL_HEALTH.value})
PAROLE_TERM = frozenset({Obligation.PAROLE_TERM.value})
RENEWAL = PAROLE_TERM | {Obligation.PAROLE_RENEWAL.value}
ARRIVAL = RENEWAL | WORK_AUTHORIZATION | CARE | {Obligation.HOUSING_ASSISTANCE.value, Obligation.MEDICAL_COVERAGE.value}
SERVICE_CLOCKS = {
    Service.HOUSING.value: frozenset({Obligation.HOUSING_ASSISTANCE.value}),
    Service.MEDICAL.value: frozenset({Obligation.MEDICAL_COVERAGE.value}),
}

UNCOUNTED_CLOSURES = frozenset({CloseReason.EXCLUDED, CloseReason.DUPLICATE})
IN_PROCESS = frozenset({"RegistrationSubmitted", "ParoleRequested", "TravelArranged", "ArrivedInUS"})
REMAINING_STATUSES = ("in_process", "informed", "not_reached", "whereabouts_unknown", "declined")
NONE_RECORDED = "none_recorded"
US = "US"


class Fact(NamedTuple):
    """One effective entry of a case, as the fold reads it (a tuple: a projection makes one per event)."""

    type: str
    occurred_at: str  # ISO 8601 UTC, as the ledger stores it: sorts chronologically
    version: int
    organization: str
    data: Mapping[str, Any]


class Moment(NamedTuple):
    """When a fact was recorded to happen: entries order by it (occurred time, then log order)."""

    occurred_at: str
    version: int


class Stated(NamedTuple):
    """One value a fact stated, with when: the latest (or first) by (occurred_at, version) wins."""

    occurred_at: str
    version: int
    value: str


class Arrival(NamedTuple):
    """A parolee's arrival: when, and the parole CBP granted at the port (first and last days)."""

    occurred_at: str
    version: int
    parole_start: int
    parole_end: int


@dataclass(slots=True)
class Child:
    birth_year: int | None


@dataclass(slots=True)
class CaseFacts:
    case_id: str
    identified: bool = False
    identified_on: int | None = None
    separation_date: str | None = None
    nationality: str | None = None
    border_sector: str | None = None
    children: dict[str, Child] = field(default_factory=dict)
    merged_into: str | None = None
    closed: Stated | None = None  # the latest closure's reason
    preference: Stated | None = None  # the latest election
    membership: Stated | None = None  # the latest decision
    in_process: bool = False
    registered: bool = False
    reached: bool = False
    whereabouts_unknown: bool = False
    first_contact: int | None = None
    parole_requested: int | None = None
    parole_decisions: list[int] = field(default_factory=list)
    arrival: Arrival | None = None  # the first
    renewals: list[tuple[int, int]] = field(default_factory=list)  # (day, valid until)
    parole_ended: list[int] = field(default_factory=list)  # each ParoleExpired's valid_until
    work_authorization: int | None = None
    asylum_filed: int | None = None
    reunified_in_us: int | None = None
    service_starts: dict[str, int] = field(default_factory=dict)  # service → first start day
    care_started: list[int] = field(default_factory=list)  # each behavioral-health start's day
    care_interrupted: list[int] = field(default_factory=list)  # each behavioral-health end for an interruption
    travels: list[Stated] = field(default_factory=list)  # each travel arrangement's organization
    reunions: dict[str, Moment] = field(default_factory=dict)  # member id → its first reunification
    not_reunified: set[str] = field(default_factory=set)  # the children no reunification names yet

    @classmethod
    def of(cls, case_id: str, facts: Iterable[Fact]) -> "CaseFacts":
        folded = cls(case_id)
        for fact in facts:
            folded.apply(fact)
        return folded

    @classmethod
    def of_case(cls, case: FamilyCase) -> "CaseFacts":
        return cls.of(case.case_id, (fact_of(entry) for entry in case.effective_entries()))

    # --- folding -------------------------------------------------------------------------------

    def apply(self, fact: Fact) -> frozenset[str]:
        """Folds one fact that states something about the family (not a correction or retraction).

        Returns what the fact changed (see `Touched`): many events (a fifth failed call, a
        referral) change nothing the report reads, and most change one part of it, so a projection
        derives only those parts of the case's rows again.
        """
        handler = _HANDLERS.get(fact.type)
        touched = handler(self, fact, fact.data) if handler is not None else NOTHING
        if fact.type in IN_PROCESS and not self.in_process:
            self.in_process = True
            touched |= CHILDREN
        return touched

    def _identified(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        self.identified = True
        self.identified_on = day_of(fact.occurred_at)
        self.separation_date = data["separation_date"]
        self.nationality = data["nationality"]
        self.border_sector = data["border_sector"]
        for child in data.get("children", ()):
            self._add_child(child["member_id"], child.get("birth_year"))
        return EVERYTHING

    def _member_added(self, _: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        if data["role"] == MemberRole.CHILD:
            self._add_child(data["member_id"], data.get("birth_year"))
            return one_child(data["member_id"])
        # a member id names one person: re-added in another role, it is no longer a child
        return self._remove_child(data["member_id"])

    def _member_removed(self, _: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        return self._remove_child(data["member_id"])

    def _add_child(self, member_id: str, birth_year: int | None) -> None:
        self.children[member_id] = Child(birth_year)
        if member_id not in self.reunions:
            self.not_reunified.add(member_id)

    def _remove_child(self, member_id: str) -> frozenset[str]:
        self.not_reunified.discard(member_id)
        return one_child(member_id) if self.children.pop(member_id, None) is not None else NOTHING

    def _contact(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        first = earliest(self.first_contact, day_of(fact.occurred_at))
        reached = self.reached or data["outcome"] == Outcome.REACHED
        touched = (OUTREACH if first != self.first_contact else NOTHING) | (CHILDREN if reached != self.reached else NOTHING)
        self.first_contact, self.reached = first, reached
        return touched

    def _whereabouts_unknown(self, _: Fact, __: Mapping[str, Any]) -> frozenset[str]:
        touched, self.whereabouts_unknown = NOTHING if self.whereabouts_unknown else CHILDREN, True
        return touched

    def _preference(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        before, self.preference = self.preference, _latest(self.preference, Stated(fact.occurred_at, fact.version, data["election"]))
        return NOTHING if before is self.preference else CHILDREN

    def _registered(self, _: Fact, __: Mapping[str, Any]) -> frozenset[str]:
        touched, self.registered = NOTHING if self.registered else CHILDREN | FAMILY, True
        return touched

    def _membership(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        before, self.membership = self.membership, _latest(self.membership, Stated(fact.occurred_at, fact.version, data["decision"]))
        return NOTHING if before is self.membership else ASYLUM

    def _parole_requested(self, fact: Fact, _: Mapping[str, Any]) -> frozenset[str]:
        before, self.parole_requested = self.parole_requested, earliest(self.parole_requested, day_of(fact.occurred_at))
        return NOTHING if before == self.parole_requested else PAROLE_DECISION

    def _parole_decided(self, fact: Fact, _: Mapping[str, Any]) -> frozenset[str]:
        self.parole_decisions.append(day_of(fact.occurred_at))
        return PAROLE_DECISION

    def _travel(self, fact: Fact, _: Mapping[str, Any]) -> frozenset[str]:
        self.travels.append(Stated(fact.occurred_at, fact.version, fact.organization))
        return CHILDREN if self.reunions else NOTHING  # it can only change who is credited

    def _arrived(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        arrival = Arrival(fact.occurred_at, fact.version, day_of(data["parole_start"]), day_of(data["parole_end"]))
        if self.arrival is None or arrival[:2] < self.arrival[:2]:
            self.arrival = arrival
            return ARRIVAL
        return NOTHING

    def _reunified(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        when = Moment(fact.occurred_at, fact.version)
        for member_id in data.get("children") or list(self.children):  # none named: all children so far
            first = self.reunions.get(member_id)
            if first is None or when < first:
                self.reunions[member_id] = when
            self.not_reunified.discard(member_id)
        if data["location_country"] == US:
            self.reunified_in_us = earliest(self.reunified_in_us, day_of(fact.occurred_at))
            return CHILDREN | CARE
        return CHILDREN

    def _service_started(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        service, day = data["service"], day_of(fact.occurred_at)
        touched = NOTHING
        if service == Service.BEHAVIORAL_HEALTH:
            self.care_started.append(day)
            touched = CARE if self.care_interrupted else NOTHING  # a restart ends an interruption
        before = self.service_starts.get(service)
        self.service_starts[service] = earliest(before, day)
        return touched if before == self.service_starts[service] else touched | FAMILY | SERVICE_CLOCKS.get(service, NOTHING)

    def _service_ended(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        if data["service"] == Service.BEHAVIORAL_HEALTH and data["reason"] == ServiceEndReason.INTERRUPTED:
            self.care_interrupted.append(day_of(fact.occurred_at))
            return CARE
        return NOTHING

    def _work_authorization(self, fact: Fact, _: Mapping[str, Any]) -> frozenset[str]:
        before, self.work_authorization = self.work_authorization, earliest(self.work_authorization, day_of(fact.occurred_at))
        return NOTHING if before == self.work_authorization else WORK_AUTHORIZATION

    def _asylum_filed(self, fact: Fact, _: Mapping[str, Any]) -> frozenset[str]:
        before, self.asylum_filed = self.asylum_filed, earliest(self.asylum_filed, day_of(fact.occurred_at))
        return NOTHING if before == self.asylum_filed else ASYLUM

    def _renewed(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        self.renewals.append((day_of(fact.occurred_at), day_of(data["valid_until"])))
        return RENEWAL

    def _parole_expired(self, _: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        self.parole_ended.append(day_of(data["valid_until"]))
        return PAROLE_TERM  # the renewal's deadline is the parole end given on arrival, whatever happens after

    def _closed(self, fact: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        before, self.closed = self.closed, _latest(self.closed, Stated(fact.occurred_at, fact.version, data["reason"]))
        return NOTHING if before is self.closed else EVERYTHING

    def _merged_into(self, _: Fact, data: Mapping[str, Any]) -> frozenset[str]:
        self.merged_into = data["surviving_case_id"]
        return EVERYTHING

    # --- reading -------------------------------------------------------------------------------

    @property
    def counted(self) -> bool:
        """A case counts once identified, unless closed as excluded or duplicate, or merged away."""
        return (
            self.identified
            and self.merged_into is None
            and (self.closed is None or self.closed.value not in UNCOUNTED_CLOSURES)
        )

    def remaining_status(self) -> str:
        """The status of a child not yet reunified: the first that holds, in DESIGN.md §3's order."""
        if self.preference is not None and self.preference.value == Election.DECLINED:
            return "declined"
        if self.in_process:
            return "in_process"
        if self.reached or self.preference is not None:
            return "informed"
        if self.whereabouts_unknown:
            return "whereabouts_unknown"
        return "not_reached"

    def reunification_of(self, member_id: str) -> Moment | None:
        """When the first reunification that names the child happened."""
        return self.reunions.get(member_id)

    @property
    def every_child_reunified(self) -> bool:
        return bool(self.children) and not self.not_reunified

    def facilitator(self, reunified: Moment) -> str:
        """The organization that posted the latest travel arrangement before the reunification."""
        before = [travel for travel in self.travels if travel[:2] <= reunified]
        return max(before).value if before else NONE_RECORDED

    def age_band(self, child: Child) -> str:
        if child.birth_year is None or self.separation_date is None:
            return "5_to_17"
        return "under_5" if int(self.separation_date[:4]) - child.birth_year < 5 else "5_to_17"

def one_child(member_id: str) -> frozenset[str]:
    """What a change to one child touches: its row, and the family's (reunified once every child is)."""
    return frozenset({ONE_CHILD + member_id}) | FAMILY


def children_touched(touched: frozenset[str]) -> list[str]:
    """The member ids of the children whose rows alone `touched` names."""
    return [part[len(ONE_CHILD) :] for part in touched if part.startswith(ONE_CHILD)]


def earliest(current: int | None, day: int | None) -> int | None:
    """The earlier of two days, either of which may be unknown (None)."""
    if current is None:
        return day
    return current if day is None else min(current, day)


def _latest(current: Stated | None, candidate: Stated) -> Stated:
    return candidate if current is None or candidate[:2] > current[:2] else current


_HANDLERS = {
    "SeparationIdentified": CaseFacts._identified,
    "MemberAdded": CaseFacts._member_added,
    "MemberRemoved": CaseFacts._member_removed,
    "ContactAttempted": CaseFacts._contact,
    "WhereaboutsUnknownDeclared": CaseFacts._whereabouts_unknown,
    "PreferenceRecorded": CaseFacts._preference,
    "RegistrationSubmitted": CaseFacts._registered,
    "ClassMembershipDetermined": CaseFacts._membership,
    "ParoleRequested": CaseFacts._parole_requested,
    "ParoleDecided": CaseFacts._parole_decided,
    "TravelArranged": CaseFacts._travel,
    "ArrivedInUS": CaseFacts._arrived,
    "FamilyReunified": CaseFacts._reunified,
    "ServiceStarted": CaseFacts._service_started,
    "ServiceEnded": CaseFacts._service_ended,
    "WorkAuthorizationDecided": CaseFacts._work_authorization,
    "AsylumApplicationFiled": CaseFacts._asylum_filed,
    "ParoleRenewed": CaseFacts._renewed,
    "ParoleExpired": CaseFacts._parole_expired,
    "CaseClosed": CaseFacts._closed,
    "MergedInto": CaseFacts._merged_into,
}


def fact_of(entry: Entry) -> Fact:
    return Fact(entry.type, entry.effective_occurred_at, entry.version, entry.organization, entry.effective_data)
