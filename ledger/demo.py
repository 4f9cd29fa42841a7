"""A plausible synthetic population of separated families, appended through the normal path.

Shapes follow the public record (DOMAIN.md §1, §6): most separations in Apr–Jul 2018 (zero
tolerance), nationalities led by Guatemala and Honduras, many dead phone numbers before a parent
is reached, some families declining, parole and travel mostly through IOM (a few by Al Otro Lado),
services after arrival, corrections, retractions, duplicates merged, children added and removed,
and the 2025 extensions and the legal-services interruption on the settlement's stream.

Every envelope goes through the API's validation and the cases' rules. The same seed gives the
same event ids, so running the demo again appends nothing. The settlement's events are the same
whatever the seed or size (fixed event ids), and a court order already in force is not posted
again: another demo on the same database must not extend a deadline twice. This is a backfill:
everything is recorded now, so most events count as late reports, except the recent tail.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from domain.envelope import SETTLEMENT_CASE_ID, EventBatch, postings
from domain.events import STREAM_NAMESPACE
from domain.organizations import Organization, Role
from domain.terms import court_order, iso
from ledger.application import Ledger

CHUNK = 2000  # families generated and appended together (bounded memory)
BATCH = 1000

NATIONALITIES = {"GT": 38, "HN": 33, "SV": 10, "MX": 6, "BR": 4, "EC": 3, "RO": 2, "NI": 2, "CO": 2}
SECTORS = {
    "El Paso": 30, "Rio Grande Valley": 25, "San Diego": 12, "Yuma": 10, "Tucson": 8,
    "El Centro": 5, "Laredo": 4, "Del Rio": 4, "Big Bend": 2,
}
CLASS_START, CLASS_END = date(2017, 1, 20), date(2021, 1, 20)
ZERO_TOLERANCE = (date(2018, 4, 1), date(2018, 7, 31))
NGOS = [Organization.KIND, Organization.JIM, Organization.WRC, Organization.AOL]
FAILED_OUTCOMES = ["no_answer", "no_answer", "invalid_number", "invalid_number", "wrong_person", "refused"]
SETTLEMENT_EVENTS: list[tuple[Organization, dict[str, Any]]] = [
    (
        Organization.ACACIA,
        {
            "type": "ServiceInterrupted",
            "occurred_at": "2025-03-21T00:00:00Z",
            "data": {"service": "legal", "from": "2025-03-21", "to": "2025-06-30", "cause": "legal-services contract terminated"},
        },
    ),
    *(
        (
            Organization.DOJ,
            {
                "type": "DeadlineExtended",
                "occurred_at": "2025-07-15T00:00:00Z",
                "data": {
                    "court_order_id": "18-cv-00428 order enforcing settlement (2025)",
                    "obligation": obligation,
                    "extension": extension,
                    "effective_date": "2025-07-15",
                },
            },
        )
        for obligation, extension in [
            ("asylum_filing_window", {"years": 1}),
            ("parole_term", {"months": 6}),
            ("behavioral_health", {"months": 6}),
        ]
    ),
]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _instant(day: date, rng: random.Random) -> str:
    return f"{day.isoformat()}T{rng.randrange(8, 20):02d}:{rng.randrange(60):02d}:00Z"


@dataclass
class Story:
    """One family's events in the order they are posted, each with the organization posting it."""

    case_id: str
    rng: random.Random
    today: date
    events: list[tuple[Organization, dict[str, Any]]] = field(default_factory=list)

    def post(self, organization: Organization, event_type: str, day: date, data: dict[str, Any], case_id: str = "") -> str | None:
        if day >= self.today:
            return None  # not happened yet
        event_id = str(UUID(int=self.rng.getrandbits(128), version=4))
        self.events.append(
            (
                organization,
                {"event_id": event_id, "case_id": case_id or self.case_id, "type": event_type,
                 "occurred_at": _instant(day, self.rng), "data": data},
            )
        )
        return event_id


def family_story(index: int, seed: int, today: date) -> Story:
    rng = random.Random(f"{seed}:{index}")
    story = Story(f"DEMO-{seed}-{index:06d}", rng, today)
    if rng.random() < 0.65:
        separated = ZERO_TOLERANCE[0] + timedelta(days=rng.randrange((ZERO_TOLERANCE[1] - ZERO_TOLERANCE[0]).days))
    else:
        separated = CLASS_START + timedelta(days=rng.randrange((CLASS_END - CLASS_START).days))
    nationality = _weighted(rng, NATIONALITIES)
    children = [
        {"member_id": f"C{n + 1}", "birth_year": separated.year - (rng.randrange(1, 5) if rng.random() < 0.15 else rng.randrange(5, 18))}
        for n in range(rng.choices([1, 2, 3], weights=[80, 15, 5])[0])
    ]
    identified_on = separated + timedelta(days=rng.randrange(10, 60) if separated.year == 2018 else rng.randrange(30, 1500))
    identifier = Organization.FRTF if rng.random() < 0.7 else Organization.ORR
    separation = {
        "separation_date": separated.isoformat(),
        "nationality": nationality,
        "border_sector": _weighted(rng, SECTORS),
        "children": children,
        "parents": [{"member_id": "P1"}] + ([{"member_id": "P2"}] if rng.random() < 0.1 else []),
        "source": rng.choice(["government_records", "government_records", "ngo", "registration"]),
        "certainty": "certified" if rng.random() < 0.85 else "indication_only",
    }
    if story.post(identifier, "SeparationIdentified", identified_on, separation) is None:
        return story
    day = identified_on
    if rng.random() < 0.02:  # a review finds another child
        day += timedelta(days=rng.randrange(5, 90))
        story.post(identifier, "MemberAdded", day, {"member_id": "C9", "role": "child", "reason": "records review", "birth_year": separated.year - 9})
    if len(children) > 1 and rng.random() < 0.03:
        day += timedelta(days=rng.randrange(5, 60))
        story.post(identifier, "MemberRemoved", day, {"member_id": children[-1]["member_id"], "reason": "not separated: records review"})
    if rng.random() < 0.03:  # the separation date was mistyped
        fixed = min(separated + timedelta(days=rng.randrange(1, 20)), CLASS_END)
        identification = story.events[0][1]["event_id"]
        story.post(identifier, "EntryCorrected", day + timedelta(days=3), {"event_id": identification, "changes": {"separation_date": fixed.isoformat()}, "reason": "date transposed"})
    if rng.random() < 0.01:
        _duplicate(story, separation, identified_on)
    if separated.year == 2018 and rng.random() < 0.45:  # reunified under the 2018 injunction
        story.post(Organization.FRTF, "FamilyReunified", identified_on + timedelta(days=rng.randrange(5, 40)), {"location_country": "US"})
        return story
    if rng.random() < 0.03:
        day += timedelta(days=rng.randrange(30, 300))
        story.post(Organization.FRTF, "ClassMembershipDetermined", day, {"decision": "excluded", "basis": "criminal history"})
        story.post(Organization.FRTF, "CaseClosed", day + timedelta(days=1), {"reason": "excluded"})
        return story
    reached = _outreach(story, day)
    if reached is None:
        return story
    _reunification(story, reached, nationality)
    return story


def _duplicate(story: Story, separation: dict[str, Any], identified_on: date) -> None:
    duplicate = f"{story.case_id}-D"
    later = identified_on + timedelta(days=story.rng.randrange(20, 200))
    story.post(Organization.ORR, "SeparationIdentified", later, separation, case_id=duplicate)
    story.post(Organization.FRTF, "CasesMerged", later + timedelta(days=story.rng.randrange(5, 60)), {"duplicate_case_id": duplicate})


def _outreach(story: Story, since: date) -> date | None:
    """Contact attempts until a parent is reached; the day they were, or None."""
    rng = story.rng
    day = since + timedelta(days=int(rng.expovariate(1 / 25)))
    for attempt in range(rng.randrange(1, 9)):
        ngo = rng.choice(NGOS)
        outcome = "reached" if rng.random() < 0.35 else rng.choice(FAILED_OUTCOMES)
        contact = story.post(ngo, "ContactAttempted", day, {"channel": rng.choice(["phone", "phone", "messaging", "in_person", "via_relative"]), "outcome": outcome, "country": story.events[0][1]["data"]["nationality"]})
        if contact is None:
            return None
        if attempt == 0 and rng.random() < 0.01:
            story.post(ngo, "EntryRetracted", day + timedelta(days=2), {"event_id": contact, "reason": "posted to the wrong case"})
        elif outcome != "reached" and rng.random() < 0.02:
            story.post(ngo, "EntryCorrected", day + timedelta(days=2), {"event_id": contact, "changes": {"outcome": "reached"}, "reason": "outcome misrecorded"})
            return day
        if outcome == "reached":
            story.post(ngo, "ParentLocated", day + timedelta(days=1), {"country": story.events[0][1]["data"]["nationality"]})
            return day
        day += timedelta(days=rng.randrange(7, 120))
    if rng.random() < 0.5:
        story.post(rng.choice(NGOS), "WhereaboutsUnknownDeclared", day, {"attempts_made": 8})
    return None


def _reunification(story: Story, reached: date, nationality: str) -> None:
    rng = story.rng
    ngo = rng.choice(NGOS)
    day = reached + timedelta(days=rng.randrange(1, 60))
    election = rng.choices(["reunify_in_us", "reunify_in_home_country", "declined", "undecided"], weights=[70, 10, 10, 10])[0]
    story.post(ngo, "PreferenceRecorded", day, {"election": election})
    if election == "declined":
        if rng.random() < 0.5:
            story.post(Organization.FRTF, "CaseClosed", day + timedelta(days=rng.randrange(10, 90)), {"reason": "declined"})
        return
    if election == "undecided":
        return
    if election == "reunify_in_home_country":
        if rng.random() < 0.6:
            story.post(Organization.FRTF, "FamilyReunified", day + timedelta(days=rng.randrange(30, 300)), {"location_country": nationality})
        return
    day += timedelta(days=rng.randrange(5, 120))
    if rng.random() < 0.15 or story.post(Organization.FRTF, "RegistrationSubmitted", day, {"registration_number": f"TF-{rng.randrange(10**7):07d}"}) is None:
        return
    day += timedelta(days=rng.randrange(10, 90))
    story.post(Organization.FRTF, "ClassMembershipDetermined", day, {"decision": "member", "basis": "separated in the class period"})
    if rng.random() < 0.2:
        return
    day += timedelta(days=rng.randrange(5, 60))
    story.post(Organization.IOM, "ParoleRequested", day, {"receipt_number": f"IOE{rng.randrange(10**10):010d}"})
    day += timedelta(days=int(rng.expovariate(1 / 45)) + 5)
    if rng.random() < 0.05:
        story.post(Organization.USCIS, "ParoleDecided", day, {"decision": "denied"})
        return
    story.post(Organization.USCIS, "ParoleDecided", day, {"decision": "granted", "valid_until": (day + timedelta(days=3 * 365)).isoformat()})
    travel_day = day + timedelta(days=rng.randrange(10, 90))
    facilitator = rng.choices([Organization.IOM, Organization.STATE, Organization.AOL], weights=[85, 10, 5])[0]
    port = rng.choice(["San Ysidro", "El Paso", "Brownsville", "Hidalgo", "Nogales"])
    story.post(facilitator, "TravelArranged", travel_day - timedelta(days=7), {"port_of_entry": port, "travel_date": travel_day.isoformat()})
    parole_end = travel_day + timedelta(days=3 * 365)
    if story.post(Organization.CBP, "ArrivedInUS", travel_day, {"port_of_entry": port, "parole_start": travel_day.isoformat(), "parole_end": parole_end.isoformat()}) is None:
        return
    story.post(Organization.FRTF, "FamilyReunified", travel_day + timedelta(days=rng.randrange(0, 5)), {"location_country": "US"})
    _services(story, travel_day)
    if rng.random() < 0.7:
        story.post(Organization.USCIS, "WorkAuthorizationDecided", travel_day + timedelta(days=int(rng.expovariate(1 / 70))), {"decision": "granted", "valid_until": parole_end.isoformat()})
    if rng.random() < 0.5:
        story.post(Organization.ACACIA, "AsylumApplicationFiled", max(travel_day, date(2023, 12, 11)) + timedelta(days=rng.randrange(30, 700)), {"receipt_number": f"ZAR{rng.randrange(10**9):09d}"})
    if rng.random() < 0.7:
        renewal = parole_end - timedelta(days=rng.randrange(-60, 120))
        story.post(Organization.USCIS, "ParoleRenewed", renewal, {"valid_until": (parole_end + timedelta(days=3 * 365)).isoformat()})


def _services(story: Story, arrived: date) -> None:
    rng = story.rng
    for service, provider, chance in [
        ("case_management", Organization.SENECA, 0.8),
        ("behavioral_health", Organization.SENECA, 0.55),
        ("housing", Organization.SENECA, 0.4),
        ("medical", Organization.SENECA, 0.6),
        ("legal", Organization.ACACIA, 0.5),
    ]:
        if rng.random() >= chance:
            continue
        referred = arrived + timedelta(days=rng.randrange(0, 20))
        story.post(provider, "ServiceReferred", referred, {"service": service})
        started = referred + timedelta(days=int(rng.expovariate(1 / 15)))
        story.post(provider, "ServiceStarted", started, {"service": service})
        if service == "behavioral_health" and rng.random() < 0.04:
            story.post(provider, "ServiceEnded", started + timedelta(days=rng.randrange(30, 400)), {"service": service, "reason": "interrupted"})


class Population:
    """`cases` families from `seed`, generated a chunk at a time."""

    def __init__(self, cases: int, seed: int, today: date | None = None) -> None:
        self.cases = cases
        self.seed = seed
        self.today = today or datetime.now(UTC).date()

    def chunks(self) -> Iterator[list[Story]]:
        for start in range(0, self.cases, CHUNK):
            yield [family_story(i, self.seed, self.today) for i in range(start, min(start + CHUNK, self.cases))]


def append_population(ledger: Ledger, population: Population, progress: Callable[[int], None] | None = None) -> int:
    """Appends the population (then the settlement's 2025 events); the number of events appended.
    `progress` is told, after each batch, how many more families are now wholly recorded."""
    principals = {}

    def principal(organization: Organization) -> Any:
        if organization not in principals:
            name = f"demo-{organization.value.lower()}"
            if ledger.tokens.principal_named(name) is None:
                ledger.tokens.issue(name, organization, Role.AGENCY)
            principals[organization] = ledger.tokens.principal_named(name)
        return principals[organization]

    def append(organization: Organization, envelopes: list[dict[str, Any]]) -> int:
        batch = EventBatch.model_validate({"events": envelopes})
        return ledger.appender.append(postings(batch), principal(organization)).appended

    def told(families: int) -> None:
        if progress and families:
            progress(families)

    appended = 0
    for stories in population.chunks():
        told(sum(1 for story in stories if not story.events))  # nothing to post: done already
        # Round r posts every family's r-th event: each family's own order is kept, and each
        # round's events go in one batch per organization. A family is done once the batch
        # holding its last event is in (a chunk's families used to be told of all at once).
        for round_number in range(max(len(story.events) for story in stories)):
            by_organization: dict[Organization, list[tuple[dict[str, Any], bool]]] = {}
            for story in stories:
                if round_number < len(story.events):
                    organization, envelope = story.events[round_number]
                    by_organization.setdefault(organization, []).append((envelope, round_number == len(story.events) - 1))
            for organization, entries in by_organization.items():
                for start in range(0, len(entries), BATCH):
                    batch = entries[start : start + BATCH]
                    appended += append(organization, [envelope for envelope, _ in batch])
                    told(sum(last for _, last in batch))
    terms = ledger.reader.terms_at(ledger.reader.tree_size())
    in_force = {(e.court_order_id, e.obligation.value) for e in terms.extensions}
    outages = {(o.service, iso(o.start), iso(o.end), o.cause) for o in terms.interruptions}
    for number, (organization, envelope) in enumerate(SETTLEMENT_EVENTS):
        data = envelope["data"]
        if envelope["type"] == "DeadlineExtended" and court_order(data) in in_force:
            continue  # recorded already, by an earlier demo or by hand: the ledger would refuse it (409)
        if envelope["type"] == "ServiceInterrupted" and (data["service"], data["from"], data.get("to"), data["cause"]) in outages:
            continue
        # Not drawn from the seed: a demo with another seed posts the same events, which the
        # ledger takes as the ones it holds already.
        event_id = str(uuid5(STREAM_NAMESPACE, f"demo/settlement/{number}"))
        appended += append(organization, [{"event_id": event_id, "case_id": SETTLEMENT_CASE_ID, **envelope}])
    return appended
