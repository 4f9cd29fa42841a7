"""CaseFacts, the one reading of a case the case view and the report share.

The projection folds facts one event at a time and folds a case again only when a correction or
retraction changes its past; these tests hold that to a full fold of the case's effective entries,
for random histories, and pin the readings the report's definitions rely on.
"""

from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.case_facts import CaseFacts, Fact, Stated
from domain.catalog import AMENDMENTS
from domain.envelope import EventBatch, Posting
from domain.errors import Refusal
from domain.family_case import FamilyCase
from domain.terms import SETTLEMENT_2023, Terms
from projections.case_rows import case_rows, update_rows

CASE = "FRTF-000777"
TERMS = Terms.adopted(SETTLEMENT_2023)


def posting(event_type: str, data: dict[str, Any], day: int) -> Posting:
    envelope = {
        "event_id": str(uuid4()),
        "case_id": CASE,
        "type": event_type,
        "occurred_at": f"2025-{1 + day // 28:02d}-{1 + day % 28:02d}T12:00:00Z",
        "data": data,
    }
    return Posting.from_envelope(EventBatch.model_validate({"events": [envelope]}).events[0])


PLAIN = {
    "MemberAdded": lambda r: {"member_id": r.choice(["C2", "C3", "P2"]), "role": r.choice(["child", "parent"]), "birth_year": 2012, "reason": "review"},
    "MemberRemoved": lambda r: {"member_id": r.choice(["C1", "C2", "C3"]), "reason": "review"},
    "ContactAttempted": lambda r: {"channel": "phone", "outcome": r.choice(["reached", "no_answer"]), "country": "GT"},
    "WhereaboutsUnknownDeclared": lambda r: {"attempts_made": 3},
    "PreferenceRecorded": lambda r: {"election": r.choice(["declined", "reunify_in_us", "undecided"])},
    "RegistrationSubmitted": lambda r: {"registration_number": "TF-1"},
    "ClassMembershipDetermined": lambda r: {"decision": r.choice(["member", "excluded"]), "basis": "b"},
    "ParoleRequested": lambda r: {"receipt_number": "IOE1"},
    "ParoleDecided": lambda r: {"decision": "granted", "valid_until": "2028-01-01"},
    "TravelArranged": lambda r: {"port_of_entry": "El Paso", "travel_date": "2025-06-01"},
    "ArrivedInUS": lambda r: {"port_of_entry": "El Paso", "parole_start": "2025-06-01", "parole_end": r.choice(["2026-06-01", "2028-06-01"])},
    "FamilyReunified": lambda r: {"children": r.choice([[], ["C1"]]), "location_country": r.choice(["US", "GT"])},
    "ServiceStarted": lambda r: {"service": r.choice(["housing", "medical", "behavioral_health"])},
    "ServiceEnded": lambda r: {"service": "behavioral_health", "reason": r.choice(["interrupted", "completed"])},
    "WorkAuthorizationDecided": lambda r: {"decision": "granted"},
    "AsylumApplicationFiled": lambda r: {"receipt_number": "ZAR1"},
    "ParoleRenewed": lambda r: {"valid_until": r.choice(["2027-01-01", "2029-01-01"])},
    "ParoleExpired": lambda r: {"valid_until": r.choice(["2025-09-01", "2027-03-01"])},
    "CaseClosed": lambda r: {"reason": r.choice(["declined", "excluded", "other"])},
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(3, 40))
def test_folding_event_by_event_equals_folding_the_whole_record(rng: Any, steps: int) -> None:
    separation = {
        "separation_date": "2018-05-20", "nationality": "GT", "border_sector": "Yuma",
        "children": [{"member_id": "C1", "birth_year": 2015}], "parents": [{"member_id": "P1"}],
        "source": "ngo", "certainty": "certified",
    }
    case = FamilyCase.identify(posting("SeparationIdentified", separation, rng.randrange(200)), "FRTF", "t")
    incremental = CaseFacts.of_case(case)
    for _ in range(steps):
        if rng.random() < 0.2 and case.entries:
            target = rng.choice(list(case.entries.values()))
            if rng.random() < 0.5:
                candidate = posting("EntryRetracted", {"event_id": target.event_id, "reason": "r"}, rng.randrange(200))
            else:
                moved = f"2025-0{rng.randrange(1, 9)}-1{rng.randrange(10)}T00:00:00Z"
                candidate = posting("EntryCorrected", {"event_id": target.event_id, "occurred_at": moved, "reason": "r"}, rng.randrange(200))
        else:
            event_type = rng.choice(sorted(PLAIN))
            candidate = posting(event_type, PLAIN[event_type](rng), rng.randrange(200))
        try:
            event = case.record(candidate, "FRTF", "t")
        except Refusal:
            continue
        if event.type in AMENDMENTS:
            incremental = CaseFacts.of_case(case)
        else:
            rows_before = case_rows(incremental, TERMS)
            touched = incremental.apply(Fact(event.type, event.occurred_at, event.originator_version, event.organization, event.data))
            # Deriving only what the fact touched gives the rows a full derivation gives.
            assert case_rows(incremental, TERMS, rows_before, touched) == case_rows(incremental, TERMS)
            # And what it says may have changed is every row that did, each with its row before
            # (the projection writes those alone).
            rows = dict(rows_before)
            may_have_changed = update_rows(rows, incremental, TERMS, touched)
            changed = {key for key in rows_before.keys() | rows.keys() if rows_before.get(key) != rows.get(key)}
            assert changed <= may_have_changed.keys()
            assert all(before == rows_before.get(key) for key, before in may_have_changed.items())
        whole = CaseFacts.of_case(case)
        assert incremental == whole
        assert case_rows(incremental, TERMS) == case_rows(whole, TERMS)


def facts(*events: tuple[str, dict[str, Any], str]) -> CaseFacts:
    return CaseFacts.of(CASE, (Fact(t, f"{day}T12:00:00.000000Z", v, "FRTF", data) for v, (t, data, day) in enumerate(events, 1)))


IDENTIFIED = ("SeparationIdentified", {
    "separation_date": "2018-06-02", "nationality": "HN", "border_sector": "El Paso",
    "children": [{"member_id": "C1", "birth_year": 2016}, {"member_id": "C2", "birth_year": 2005}],
}, "2024-01-02")


def test_a_case_stops_counting_when_closed_as_excluded_or_duplicate_or_merged() -> None:
    assert facts(IDENTIFIED).counted
    assert facts(IDENTIFIED, ("CaseClosed", {"reason": "declined"}, "2024-02-01")).counted
    assert not facts(IDENTIFIED, ("CaseClosed", {"reason": "duplicate"}, "2024-02-01")).counted
    assert facts(IDENTIFIED, ("CaseClosed", {"reason": "excluded"}, "2024-02-01"), ("CaseClosed", {"reason": "other"}, "2024-03-01")).counted
    assert not facts(IDENTIFIED, ("MergedInto", {"surviving_case_id": "X"}, "2024-02-01")).counted
    assert case_rows(facts(IDENTIFIED, ("CaseClosed", {"reason": "excluded"}, "2024-02-01")), TERMS) == {}


def test_children_are_banded_by_age_at_separation() -> None:
    folded = facts(IDENTIFIED)
    assert [folded.age_band(child) for child in folded.children.values()] == ["under_5", "5_to_17"]


def test_the_remaining_status_is_the_first_that_holds() -> None:
    reached = ("ContactAttempted", {"outcome": "reached"}, "2024-02-01")
    assert facts(IDENTIFIED).remaining_status() == "not_reached"
    assert facts(IDENTIFIED, ("WhereaboutsUnknownDeclared", {}, "2024-02-01")).remaining_status() == "whereabouts_unknown"
    assert facts(IDENTIFIED, ("WhereaboutsUnknownDeclared", {}, "2024-02-01"), reached).remaining_status() == "informed"
    assert facts(IDENTIFIED, ("PreferenceRecorded", {"election": "undecided"}, "2024-02-01")).remaining_status() == "informed"
    assert facts(IDENTIFIED, reached, ("ParoleRequested", {}, "2024-03-01")).remaining_status() == "in_process"
    declined = ("PreferenceRecorded", {"election": "declined"}, "2024-04-01")
    assert facts(IDENTIFIED, ("RegistrationSubmitted", {}, "2024-03-01"), declined).remaining_status() == "declined"
    earlier_change = ("PreferenceRecorded", {"election": "reunify_in_us"}, "2024-03-15")
    assert facts(IDENTIFIED, declined, earlier_change).remaining_status() == "declined"


def test_reunification_is_credited_to_the_latest_travel_before_it() -> None:
    folded = facts(
        IDENTIFIED,
        ("TravelArranged", {}, "2024-02-01"),
        ("FamilyReunified", {"children": ["C1"], "location_country": "US"}, "2024-03-01"),
        ("TravelArranged", {}, "2024-04-01"),
    )
    folded.travels = [Stated(at, v, org) for (at, v, _), org in zip(folded.travels, ["AOL", "IOM"], strict=True)]
    reunion = folded.reunification_of("C1")
    assert reunion is not None and folded.facilitator(reunion) == "AOL"
    assert folded.reunification_of("C2") is None
