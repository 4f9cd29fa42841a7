"""The aggregates' rules, without a database: FamilyCase, Settlement, a case's state and Token.

Postings are built the way the API builds them (validated envelope → `Posting`), then handed to
the aggregates; refusals are asserted by their kind and by the envelope field they name.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.access import Principal, Token, token_digest, token_name_of
from domain.case_summary import case_summary
from domain.envelope import EventBatch, Posting
from domain.errors import CaseConflict, InvalidReference, NotPermitted
from domain.events import SETTLEMENT_STREAM_ID, LedgerEvent, case_stream_id, token_stream_id
from domain.family_case import FamilyCase
from domain.organizations import Organization, Role
from domain.settlement import Settlement

CASE = "FRTF-000123"
DUPLICATE = "FRTF-000124"
T0 = "2021-05-03T14:00:00Z"

# --- helpers -----------------------------------------------------------------------------------


def posting(
    event_type: str,
    data: dict[str, Any],
    *,
    case_id: str = CASE,
    occurred_at: str = T0,
    expected_version: int | None = None,
) -> Posting:
    """A posting exactly as the API would make it from a valid envelope."""
    envelope: dict[str, Any] = {
        "event_id": str(uuid4()),
        "case_id": case_id,
        "type": event_type,
        "occurred_at": occurred_at,
        "data": data,
    }
    if expected_version is not None:
        envelope["expected_version"] = expected_version
    [event] = EventBatch.model_validate({"events": [envelope]}).events
    return Posting.from_envelope(event)


def separation(
    case_id: str = CASE, children: tuple[str, ...] = ("C1",), parents: tuple[str, ...] = ("P1",), **kw: Any
) -> Posting:
    data = {
        "separation_date": "2018-05-20",
        "nationality": "GT",
        "border_sector": "El Paso",
        "children": [{"member_id": c, "birth_year": 2014} for c in children],
        "parents": [{"member_id": p} for p in parents],
        "source": "government_records",
        "certainty": "certified",
    }
    return posting("SeparationIdentified", data, case_id=case_id, **kw)


def identified(
    case_id: str = CASE, children: tuple[str, ...] = ("C1",), parents: tuple[str, ...] = ("P1",)
) -> FamilyCase:
    return FamilyCase.identify(separation(case_id, children, parents), "FRTF", "frtf-intake")


def contact(outcome: str = "no_answer", **kw: Any) -> Posting:
    return posting("ContactAttempted", {"channel": "phone", "outcome": outcome, "country": "GT"}, **kw)


def preference(election: str, **kw: Any) -> Posting:
    return posting("PreferenceRecorded", {"election": election}, **kw)


def correction(target: LedgerEvent | str, changes: dict[str, Any] | None = None, **data: Any) -> Posting:
    event_id = target if isinstance(target, str) else target.event_id
    body: dict[str, Any] = {"event_id": event_id, "reason": "entered wrongly", **data}
    if changes is not None:
        body["changes"] = changes
    return posting("EntryCorrected", body)


def retraction(target: LedgerEvent | str) -> Posting:
    event_id = target if isinstance(target, str) else target.event_id
    return posting("EntryRetracted", {"event_id": event_id, "reason": "posted to the wrong case"})


def merge(duplicate_id: str = DUPLICATE, case_id: str = CASE) -> Posting:
    return posting("CasesMerged", {"duplicate_case_id": duplicate_id}, case_id=case_id)


def added(member_id: str, role: str = "child", **kw: Any) -> Posting:
    data: dict[str, Any] = {"member_id": member_id, "role": role, "reason": "found in the 2018 review"}
    if role == "child":
        data["birth_year"] = 2016
    return posting("MemberAdded", data, **kw)


def removed(member_id: str) -> Posting:
    return posting("MemberRemoved", {"member_id": member_id, "reason": "not separated"})


def reunified(*children: str) -> Posting:
    return posting("FamilyReunified", {"children": list(children), "location_country": "US"})


def refusal(kind: type[Exception], call: Any, *args: Any) -> Any:
    with pytest.raises(kind) as raised:
        call(*args)
    return raised.value


def statuses(case: FamilyCase) -> dict[str, str]:
    return {m["member_id"]: m["status"] for m in case_summary(case)["members"] if m["role"] == "child"}


def status(case: FamilyCase, child: str = "C1") -> str:
    return statuses(case)[child]


def replayed(aggregate: Any) -> Any:
    """The aggregate rebuilt by the eventsourcing library from the events it produced."""
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(*aggregate.collect_events())
    return app.repository.get(aggregate.id)


def settlement_posting(event_type: str, data: dict[str, Any], **kw: Any) -> Posting:
    return posting(event_type, data, case_id="SETTLEMENT", **kw)


def terms(version: int = 1, obligations: tuple[str, ...] = ("first_outreach", "parole_decision")) -> Posting:
    return settlement_posting(
        "TermsAdopted",
        {
            "terms_version": version,
            "effective_date": "2023-12-11",
            "obligations": {name: {"days": 30} for name in obligations},
        },
    )


def extension(obligation: str = "first_outreach", **kw: Any) -> Posting:
    return settlement_posting(
        "DeadlineExtended",
        {
            "court_order_id": "ECF 742",
            "obligation": obligation,
            "extension": {"months": 1},
            "effective_date": "2024-02-01",
        },
        **kw,
    )


NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


# --- identification ----------------------------------------------------------------------------


def test_identifying_a_separation_opens_the_case_at_version_1_with_its_children_and_parents() -> None:
    case = identified(children=("C1", "C2"), parents=("P1",))
    assert case.version == 1
    assert case.case_id == CASE
    assert case.id == case_stream_id(CASE)
    members = case.members()
    assert {m: (v.role, v.birth_year) for m, v in members.items()} == {
        "C1": ("child", 2014),
        "C2": ("child", 2014),
        "P1": ("parent", None),
    }
    [event] = case.pending_events
    assert isinstance(event, LedgerEvent)
    assert (event.type, event.organization, event.token_name, event.case_id) == (
        "SeparationIdentified",
        "FRTF",
        "frtf-intake",
        CASE,
    )


def test_identifying_with_expected_version_zero_is_accepted() -> None:
    case = FamilyCase.identify(separation(expected_version=0), "FRTF", "frtf-intake")
    assert case.version == 1


def test_identifying_with_the_expected_version_of_an_existing_case_is_refused() -> None:
    error = refusal(CaseConflict, FamilyCase.identify, separation(expected_version=3), "FRTF", "frtf-intake")
    assert error.field == "expected_version"


def test_a_second_separation_identified_on_the_same_case_is_refused() -> None:
    case = identified()
    error = refusal(CaseConflict, case.record, separation(children=("C9",)), "FRTF", "frtf-intake")
    assert error.field == "type"
    assert case.version == 1


def test_a_merge_cannot_be_recorded_as_an_ordinary_event() -> None:
    case = identified()
    assert refusal(CaseConflict, case.record, merge(), "FRTF", "t").field == "type"


def test_each_recorded_event_takes_the_next_version() -> None:
    case = identified()
    first = case.record(contact(), "KIND", "kind-1")
    second = case.record(contact("reached"), "JIM", "jim-1")
    assert (first.originator_version, second.originator_version, case.version) == (2, 3, 3)
    assert [e.type for e in case.entries.values()] == ["SeparationIdentified", "ContactAttempted", "ContactAttempted"]
    assert case.entries[second.event_id].organization == "JIM"


# --- optimistic concurrency --------------------------------------------------------------------


def test_expected_version_equal_to_the_current_version_is_accepted() -> None:
    case = identified()
    case.record(contact(), "KIND", "k")
    event = case.record(contact(expected_version=2), "KIND", "k")
    assert event.originator_version == 3


def test_a_stale_expected_version_is_refused_and_nothing_is_recorded() -> None:
    case = identified()
    case.record(contact(), "KIND", "k")
    error = refusal(CaseConflict, case.record, contact(expected_version=1), "KIND", "k")
    assert error.field == "expected_version"
    assert case.version == 2
    assert len(case.entries) == 2


def test_an_expected_version_ahead_of_the_case_is_refused() -> None:
    case = identified()
    assert refusal(CaseConflict, case.record, contact(expected_version=5), "KIND", "k").field == "expected_version"


# --- corrections and retractions ---------------------------------------------------------------


def test_amending_an_event_the_case_does_not_have_is_an_invalid_reference() -> None:
    case = identified()
    unknown = str(uuid4())
    assert refusal(InvalidReference, case.record, correction(unknown, {"outcome": "reached"}), "KIND", "k").field == (
        "data.event_id"
    )
    assert refusal(InvalidReference, case.record, retraction(unknown), "KIND", "k").field == "data.event_id"


def test_only_the_organization_that_posted_an_event_may_correct_it() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    error = refusal(NotPermitted, case.record, correction(original, {"outcome": "reached"}), "JIM", "j")
    assert error.field == "data.event_id"


def test_only_the_organization_that_posted_an_event_may_retract_it() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    assert refusal(NotPermitted, case.record, retraction(original), "FRTF", "f").field == "data.event_id"
    assert not case.entries[original.event_id].retracted


def test_another_token_of_the_same_organization_may_amend_its_entries() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "kind-field-office")
    case.record(correction(original, {"outcome": "reached"}), "KIND", "kind-hq")
    assert case.entries[original.event_id].effective_data["outcome"] == "reached"


def test_a_retracted_event_cannot_be_corrected() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(retraction(original), "KIND", "k")
    error = refusal(CaseConflict, case.record, correction(original, {"outcome": "reached"}), "KIND", "k")
    assert error.field == "data.event_id"


def test_a_retracted_event_cannot_be_retracted_again() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(retraction(original), "KIND", "k")
    assert refusal(CaseConflict, case.record, retraction(original), "KIND", "k").field == "data.event_id"


@pytest.mark.parametrize(
    "then",
    [contact(), preference("reunify_in_us"), added("C7"), reunified("C1"), separation(children=("C9",)), merge()],
    ids=lambda p: p.type,
)
def test_a_case_whose_identification_was_retracted_is_withdrawn_and_takes_no_new_fact(then: Posting) -> None:
    """Found: retracting a case's SeparationIdentified left it half open: outreach was still
    accepted, while identifying it again was refused as "already identified" and correcting the
    identification as "retracted". It is withdrawn: new facts are refused, naming the way out."""
    case = identified()
    earlier = case.record(contact(), "KIND", "k")
    case.record(retraction(next(iter(case.entries))), "FRTF", "frtf-intake")

    def post(posting: Posting) -> object:
        if posting.type == "CasesMerged":
            return case.absorb(identified(DUPLICATE), posting, "FRTF", "frtf-intake")
        return case.record(posting, "FRTF", "frtf-intake")

    error = refusal(CaseConflict, post, then)

    assert error.field == "case_id"
    assert "was retracted, so the case is withdrawn" in str(error) and "new case id" in str(error)
    assert case.version == 3
    case.record(retraction(earlier), "KIND", "k")  # its own entries may still be amended
    assert case.version == 4


def test_a_correction_cannot_itself_be_corrected_or_retracted() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    fix = case.record(correction(original, {"outcome": "reached"}), "KIND", "k")
    assert refusal(CaseConflict, case.record, correction(fix, {"reason": "x"}), "KIND", "k").field == "data.event_id"
    assert refusal(CaseConflict, case.record, retraction(fix), "KIND", "k").field == "data.event_id"
    assert case.entries[original.event_id].effective_data["outcome"] == "reached"


def test_a_retraction_cannot_itself_be_retracted() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    undo = case.record(retraction(original), "KIND", "k")
    error = refusal(CaseConflict, case.record, retraction(undo), "KIND", "k")
    assert error.field == "data.event_id"
    assert str(error) == f"EntryRetracted events cannot be amended (event {undo.event_id} is one)"  # found: "a EntryRetracted"
    assert case.entries[original.event_id].retracted


def test_a_merge_cannot_be_amended() -> None:
    case, duplicate = identified(), identified(DUPLICATE)
    merged, _ = case.absorb(duplicate, merge(), "FRTF", "f")
    assert refusal(CaseConflict, case.record, retraction(merged), "FRTF", "f").field == "data.event_id"


def test_a_correction_to_a_value_outside_the_vocabulary_is_refused_at_that_change() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    error = refusal(InvalidReference, case.record, correction(original, {"outcome": "fax"}), "KIND", "k")
    assert error.field.startswith("data.changes")
    assert error.field == "data.changes.outcome"
    assert case.entries[original.event_id].corrections == []


def test_a_correction_naming_a_field_the_event_does_not_have_is_refused() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    error = refusal(InvalidReference, case.record, correction(original, {"colour": "red"}), "KIND", "k")
    assert error.field.startswith("data.changes")
    assert "colour" in error.field


def test_a_correction_that_breaks_a_cross_field_rule_is_refused() -> None:
    case = identified()
    original = case.record(posting("ParoleDecided", {"decision": "denied"}), "USCIS", "u")
    error = refusal(InvalidReference, case.record, correction(original, {"decision": "granted"}), "USCIS", "u")
    assert error.field.startswith("data.changes")


def test_a_correction_of_a_separation_is_checked_against_the_separation_model() -> None:
    case = identified()
    [original] = case.entries
    error = refusal(InvalidReference, case.record, correction(original, {"nationality": "XX"}), "FRTF", "f")
    assert error.field == "data.changes.nationality"


def test_a_correction_changes_the_effective_data_but_never_the_recorded_data() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(correction(original, {"outcome": "reached", "channel": "in_person"}), "KIND", "k")
    entry = case.entries[original.event_id]
    assert entry.data == {"channel": "phone", "outcome": "no_answer", "country": "GT"}
    assert entry.effective_data == {"channel": "in_person", "outcome": "reached", "country": "GT"}
    assert entry.effective_occurred_at == "2021-05-03T14:00:00.000000Z"


def test_a_correction_of_occurred_at_changes_the_effective_occurred_at_only() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(correction(original, occurred_at="2021-05-01T09:30:00Z"), "KIND", "k")
    entry = case.entries[original.event_id]
    assert entry.occurred_at == "2021-05-03T14:00:00.000000Z"
    assert entry.effective_occurred_at.startswith("2021-05-01T09:30:00")
    assert entry.effective_data == entry.data


def test_later_corrections_win_over_earlier_ones() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(correction(original, {"outcome": "refused"}), "KIND", "k")
    case.record(correction(original, {"outcome": "reached"}), "KIND", "k")
    assert case.entries[original.event_id].effective_data["outcome"] == "reached"


def test_a_correction_is_checked_against_the_already_corrected_data() -> None:
    case = identified()
    original = case.record(posting("ParoleDecided", {"decision": "denied"}), "USCIS", "u")
    case.record(correction(original, {"valid_until": "2024-06-01"}), "USCIS", "u")
    case.record(correction(original, {"decision": "granted"}), "USCIS", "u")
    assert case.entries[original.event_id].effective_data == {"decision": "granted", "valid_until": "2024-06-01"}


def test_a_retraction_removes_the_entry_from_the_effective_record() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(retraction(original), "KIND", "k")
    effective = [entry.event_id for entry in case.effective_entries()]
    assert original.event_id not in effective
    assert original.event_id in case.entries
    assert case.entries[original.event_id].data["outcome"] == "no_answer"


def test_amendments_are_not_facts_of_the_effective_record() -> None:
    case = identified()
    original = case.record(contact(), "KIND", "k")
    case.record(correction(original, {"outcome": "reached"}), "KIND", "k")
    assert [entry.type for entry in case.effective_entries()] == ["SeparationIdentified", "ContactAttempted"]


def test_a_corrected_occurred_at_given_with_an_offset_orders_the_record_by_its_instant() -> None:
    case = identified()
    case.record(preference("declined", occurred_at="2021-05-03T14:00:00Z"), "KIND", "k")
    later = case.record(preference("reunify_in_us", occurred_at="2021-05-04T14:00:00Z"), "KIND", "k")
    # The second preference actually came first: 23:00 at +10:00 is 13:00 UTC, before 14:00 UTC.
    case.record(correction(later, occurred_at="2021-05-03T23:00:00+10:00"), "KIND", "k")
    assert case_summary(case)["preference"] == "declined"
    assert status(case) == "declined"


@pytest.mark.parametrize(
    ("event_type", "data", "field", "given", "canonical"),
    [
        ("ContactAttempted", {"channel": "phone", "outcome": "reached", "country": "GT"}, "country", "hn", "HN"),
        ("RegistrationSubmitted", {"registration_number": "R-1"}, "registration_number", "  R-2  ", "R-2"),
        (
            "SeparationIdentified",
            None,
            "separation_date",
            "2018-05-21T00:00:00Z",
            "2018-05-21",
        ),
    ],
    ids=["country", "short_text", "date"],
)
def test_a_corrected_value_reads_in_the_canonical_form_the_catalog_stores(
    event_type: str, data: dict[str, Any] | None, field: str, given: str, canonical: str
) -> None:
    # A correction is accepted because the corrected payload validates; what the record then
    # says must be what the catalog would have stored for that payload, never the raw input.
    case = identified()
    target = next(iter(case.entries)) if data is None else case.record(posting(event_type, data), "FRTF", "f")
    try:
        case.record(correction(target, {field: given}), "FRTF", "f")
    except InvalidReference as refused:  # refusing a non-canonical value outright is fine too
        assert refused.field == f"data.changes.{field}"
        return
    event_id = target if isinstance(target, str) else target.event_id
    assert case.entries[event_id].effective_data[field] == canonical


# --- members -----------------------------------------------------------------------------------


def test_adding_a_member_the_case_already_has_is_refused() -> None:
    case = identified()
    error = refusal(InvalidReference, case.record, added("C1"), "FRTF", "f")
    assert error.field == "data.member_id"
    error = refusal(InvalidReference, case.record, added("P1", role="parent"), "ORR", "o")
    assert error.field == "data.member_id"


def test_an_added_child_becomes_a_member_with_its_birth_year() -> None:
    case = identified()
    case.record(added("C2"), "ORR", "o")
    assert case.members()["C2"].role == "child"
    assert case.members()["C2"].birth_year == 2016


def test_removing_a_member_the_case_does_not_have_is_refused_naming_the_member_id() -> None:
    case = identified()
    error = refusal(InvalidReference, case.record, removed("C7"), "FRTF", "f")
    assert error.field == "data.member_id"


def test_a_removed_member_leaves_the_case() -> None:
    case = identified(children=("C1", "C2"))
    case.record(removed("C2"), "FRTF", "f")
    assert set(case.members()) == {"C1", "P1"}
    assert set(statuses(case)) == {"C1"}


def test_a_removed_member_may_be_added_again() -> None:
    case = identified(children=("C1", "C2"))
    case.record(removed("C2"), "FRTF", "f")
    case.record(added("C2"), "FRTF", "f")
    assert "C2" in case.members()


def test_a_removed_member_cannot_be_removed_again() -> None:
    case = identified(children=("C1", "C2"))
    case.record(removed("C2"), "FRTF", "f")
    refusal(InvalidReference, case.record, removed("C2"), "FRTF", "f")


def test_retracting_a_removal_brings_the_member_back() -> None:
    case = identified(children=("C1", "C2"))
    removal = case.record(removed("C2"), "FRTF", "f")
    case.record(retraction(removal), "FRTF", "f")
    assert "C2" in case.members()


def test_correcting_a_separation_changes_its_members() -> None:
    case = identified(children=("C1",))
    [original] = case.entries
    children = [{"member_id": "C1", "birth_year": 2013}, {"member_id": "C3", "birth_year": 2015}]
    case.record(correction(original, {"children": children}), "FRTF", "f")
    assert {m: v.birth_year for m, v in case.members().items() if v.role == "child"} == {"C1": 2013, "C3": 2015}


def test_members_read_before_an_entry_that_changes_them_are_not_served_stale() -> None:
    case = identified(children=("C1",))
    [original] = case.entries

    def members_after(change: Posting, organization: str = "FRTF") -> set[str]:
        case.members()  # read (and kept) before the change
        case.record(change, organization, "f")
        return set(case.members())

    adding = added("C2")
    assert members_after(adding) == {"C1", "C2", "P1"}
    assert members_after(removed("P1")) == {"C1", "C2"}
    children = [{"member_id": "C1", "birth_year": 2014}, {"member_id": "C3", "birth_year": 2015}]
    assert members_after(correction(original, {"children": children})) == {"C1", "C2", "C3"}
    assert members_after(retraction(adding.event_id)) == {"C1", "C3"}
    assert members_after(contact(), "KIND") == {"C1", "C3"}
    assert replayed(case).members() == case.members()


def test_changing_the_members_a_case_returned_does_not_change_the_case() -> None:
    case = identified()
    case.members().pop("C1")
    assert "C1" in case.members()


def test_a_reunification_naming_a_parent_is_refused_at_that_child() -> None:
    case = identified(children=("C1",), parents=("P1",))
    error = refusal(InvalidReference, case.record, reunified("P1"), "FRTF", "f")
    assert error.field == "data.children[0]"


def test_a_reunification_naming_an_unknown_child_is_refused_at_its_index() -> None:
    case = identified(children=("C1",))
    assert refusal(InvalidReference, case.record, reunified("C1", "C9"), "FRTF", "f").field == "data.children[1]"


def test_a_reunification_naming_a_removed_child_is_refused() -> None:
    case = identified(children=("C1", "C2"))
    case.record(removed("C2"), "FRTF", "f")
    assert refusal(InvalidReference, case.record, reunified("C2"), "FRTF", "f").field == "data.children[0]"


def test_a_reunification_of_a_case_without_children_is_refused() -> None:
    case = identified(children=("C1",))
    case.record(removed("C1"), "FRTF", "f")
    assert refusal(CaseConflict, case.record, reunified(), "FRTF", "f").field == "data.children"


def test_a_reunification_naming_an_added_child_is_accepted() -> None:
    case = identified(children=("C1",))
    case.record(added("C2"), "FRTF", "f")
    case.record(reunified("C2"), "FRTF", "f")
    assert statuses(case)["C2"] == "reunified"


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("ServiceReferred", {"service": "medical"}),
        ("ServiceStarted", {"service": "case_management"}),
        ("ServiceEnded", {"service": "housing", "reason": "completed"}),
        ("ParoleRequested", {"receipt_number": "IOE0912345678"}),
        ("WorkAuthorizationDecided", {"decision": "denied"}),
        ("AsylumApplicationFiled", {"receipt_number": "ZLA1234567890"}),
    ],
)
def test_member_ids_of_services_and_parole_must_be_members_of_the_case(event_type: str, data: dict[str, Any]) -> None:
    case = identified(children=("C1",), parents=("P1",))
    stranger = posting(event_type, {**data, "member_ids": ["P1", "X9"]})
    error = refusal(InvalidReference, case.record, stranger, "ANY", "t")
    assert error.field == "data.member_ids[1]"
    event = case.record(posting(event_type, {**data, "member_ids": ["P1", "C1"]}), "ANY", "t")
    assert event.data["member_ids"] == ["P1", "C1"]


def test_a_parent_located_must_be_a_parent_of_the_case() -> None:
    case = identified(children=("C1",), parents=("P1",))
    a_child = posting("ParentLocated", {"country": "GT", "member_id": "C1"})
    error = refusal(InvalidReference, case.record, a_child, "KIND", "k")
    assert error.field == "data.member_id"
    case.record(posting("ParentLocated", {"country": "GT", "member_id": "P1"}), "KIND", "k")


# --- merges ------------------------------------------------------------------------------------


def test_a_case_cannot_absorb_itself() -> None:
    case = identified()
    error = refusal(InvalidReference, case.absorb, case, merge(CASE), "FRTF", "f")
    assert error.field == "data.duplicate_case_id"
    assert case.version == 1


def test_absorbing_a_case_that_does_not_exist_is_refused() -> None:
    case = identified()
    assert refusal(InvalidReference, case.absorb, None, merge(), "FRTF", "f").field == "data.duplicate_case_id"
    assert case.version == 1


def test_a_merge_records_on_both_streams_and_points_the_duplicate_at_the_survivor() -> None:
    case, duplicate = identified(), identified(DUPLICATE)
    merged, pointer = case.absorb(duplicate, merge(), "FRTF", "frtf-intake")
    assert (merged.type, merged.originator_id, merged.originator_version) == ("CasesMerged", case.id, 2)
    assert (pointer.type, pointer.originator_id, pointer.originator_version) == ("MergedInto", duplicate.id, 2)
    assert pointer.data == {"surviving_case_id": CASE, "merge_event_id": merged.event_id}
    assert pointer.event_id != merged.event_id
    assert duplicate.merged_into == CASE
    assert case.merged_into is None
    assert case_summary(case)["merged_cases"] == [DUPLICATE]


def test_a_merged_duplicate_refuses_any_further_event() -> None:
    case, duplicate = identified(), identified(DUPLICATE)
    case.absorb(duplicate, merge(), "FRTF", "f")
    error = refusal(CaseConflict, duplicate.record, contact(case_id=DUPLICATE), "KIND", "k")
    assert error.field == "case_id"
    assert duplicate.version == 2


def test_a_merged_duplicate_cannot_absorb_another_case() -> None:
    case, duplicate, third = identified(), identified(DUPLICATE), identified("FRTF-000125")
    case.absorb(duplicate, merge(), "FRTF", "f")
    error = refusal(CaseConflict, duplicate.absorb, third, merge("FRTF-000125", DUPLICATE), "FRTF", "f")
    assert error.field == "case_id"
    assert third.merged_into is None


def test_an_already_merged_duplicate_cannot_be_merged_again() -> None:
    case, duplicate, other = identified(), identified(DUPLICATE), identified("FRTF-000125")
    case.absorb(duplicate, merge(), "FRTF", "f")
    error = refusal(CaseConflict, other.absorb, duplicate, merge(DUPLICATE, "FRTF-000125"), "FRTF", "f")
    assert error.field == "data.duplicate_case_id"
    assert duplicate.merged_into == CASE
    assert other.version == 1


def test_a_withdrawn_case_cannot_be_absorbed_as_a_duplicate() -> None:
    """Found: a case whose identification was retracted took no new fact, yet could be merged into
    another, bringing a record posted in error into a family's history."""
    case, duplicate = identified(), identified(DUPLICATE)
    withdrawal = posting("EntryRetracted", {"event_id": next(iter(duplicate.entries)), "reason": "not a family"}, case_id=DUPLICATE)
    duplicate.record(withdrawal, "FRTF", "frtf-intake")
    error = refusal(CaseConflict, case.absorb, duplicate, merge(), "FRTF", "f")
    assert error.field == "data.duplicate_case_id" and "withdrawn" in str(error)
    assert (case.version, duplicate.merged_into) == (1, None)


def test_a_merge_respects_the_survivors_expected_version() -> None:
    case, duplicate = identified(), identified(DUPLICATE)
    stale = posting("CasesMerged", {"duplicate_case_id": DUPLICATE}, expected_version=0)
    assert refusal(CaseConflict, case.absorb, duplicate, stale, "FRTF", "f").field == "expected_version"
    assert duplicate.merged_into is None


# --- replay ------------------------------------------------------------------------------------


def test_a_case_replays_from_the_events_its_rules_produced() -> None:
    case = identified(children=("C1", "C2"), parents=("P1",))
    attempt = case.record(contact(), "KIND", "k")
    case.record(correction(attempt, {"outcome": "reached"}, occurred_at="2021-05-02T10:00:00Z"), "KIND", "k")
    case.record(added("C3"), "ORR", "o")
    case.record(removed("C2"), "FRTF", "f")
    wrong = case.record(preference("declined"), "JIM", "j")
    case.record(retraction(wrong), "JIM", "j")
    case.record(posting("RegistrationSubmitted", {"registration_number": "R-1"}), "FRTF", "f")
    case.record(reunified("C1"), "FRTF", "f")
    expected_entries, expected_members, expected_state = case.entries, case.members(), case_summary(case)

    rebuilt = replayed(case)

    assert isinstance(rebuilt, FamilyCase)
    assert rebuilt.version == 9
    assert rebuilt.case_id == CASE
    assert rebuilt.entries == expected_entries
    assert rebuilt.members() == expected_members
    assert case_summary(rebuilt) == expected_state
    assert rebuilt.entries[attempt.event_id].effective_data["outcome"] == "reached"
    assert rebuilt.entries[wrong.event_id].retracted


def test_a_merged_duplicate_replays_as_merged() -> None:
    case, duplicate = identified(), identified(DUPLICATE)
    case.absorb(duplicate, merge(), "FRTF", "f")
    rebuilt_duplicate, rebuilt_case = replayed(duplicate), replayed(case)
    assert rebuilt_duplicate.merged_into == CASE
    assert rebuilt_case.merged_into is None
    assert refusal(CaseConflict, rebuilt_duplicate.record, contact(case_id=DUPLICATE), "KIND", "k").field == "case_id"


def test_a_replayed_case_goes_on_deciding_from_where_it_stood() -> None:
    case = identified()
    case.record(contact(), "KIND", "k")
    rebuilt = replayed(case)
    assert refusal(CaseConflict, rebuilt.record, contact(expected_version=1), "KIND", "k").field == "expected_version"
    assert rebuilt.record(contact(expected_version=2), "KIND", "k").originator_version == 3


# --- a child's status (DESIGN.md §3: reunified > declined > in_process > informed > ...) -------


def test_a_child_nobody_has_reached_is_not_reached() -> None:
    case = identified()
    assert status(case) == "not_reached"
    case.record(contact("no_answer"), "KIND", "k")
    case.record(contact("invalid_number"), "KIND", "k")
    assert status(case) == "not_reached"


def test_a_child_whose_parents_whereabouts_are_declared_unknown_is_whereabouts_unknown() -> None:
    case = identified()
    case.record(contact("invalid_number"), "KIND", "k")
    case.record(posting("WhereaboutsUnknownDeclared", {"attempts_made": 4}), "FRTF", "f")
    assert status(case) == "whereabouts_unknown"


def test_a_reached_contact_after_whereabouts_unknown_makes_the_child_informed() -> None:
    case = identified()
    declared = posting("WhereaboutsUnknownDeclared", {"attempts_made": 4}, occurred_at="2021-05-01T00:00:00Z")
    case.record(declared, "FRTF", "f")
    case.record(contact("reached", occurred_at="2021-06-01T00:00:00Z"), "KIND", "k")
    assert status(case) == "informed"


def test_a_child_whose_parent_was_reached_but_who_has_no_registration_counts_as_informed() -> None:
    case = identified()
    case.record(contact("reached"), "KIND", "k")
    assert status(case) == "informed"


def test_a_recorded_preference_other_than_declined_makes_the_child_informed() -> None:
    case = identified()
    case.record(preference("undecided"), "KIND", "k")
    assert status(case) == "informed"


@pytest.mark.parametrize(
    ("event_type", "data", "organization"),
    [
        ("RegistrationSubmitted", {"registration_number": "R-1"}, "FRTF"),
        ("ParoleRequested", {"receipt_number": "IOE0912345678"}, "IOM"),
        ("TravelArranged", {"port_of_entry": "LAX", "travel_date": "2021-06-01"}, "IOM"),
        ("ArrivedInUS", {"port_of_entry": "LAX", "parole_start": "2021-06-01", "parole_end": "2024-06-01"}, "CBP"),
    ],
)
def test_a_registration_parole_request_travel_or_arrival_puts_the_child_in_process(
    event_type: str, data: dict[str, Any], organization: str
) -> None:
    case = identified()
    case.record(contact("reached"), "KIND", "k")
    case.record(posting(event_type, data), organization, "t")
    assert status(case) == "in_process"


def test_a_retracted_registration_no_longer_puts_the_child_in_process() -> None:
    case = identified()
    case.record(contact("reached"), "KIND", "k")
    registration = case.record(posting("RegistrationSubmitted", {"registration_number": "R-1"}), "FRTF", "f")
    assert status(case) == "in_process"
    case.record(retraction(registration), "FRTF", "f")
    assert status(case) == "informed"


def test_a_retracted_reached_contact_no_longer_makes_the_child_informed() -> None:
    case = identified()
    reached = case.record(contact("reached"), "KIND", "k")
    case.record(retraction(reached), "KIND", "k")
    assert status(case) == "not_reached"


def test_a_corrected_contact_outcome_decides_the_status() -> None:
    case = identified()
    attempt = case.record(contact("no_answer"), "KIND", "k")
    case.record(correction(attempt, {"outcome": "reached"}), "KIND", "k")
    assert status(case) == "informed"


def test_a_declined_preference_outranks_being_in_process() -> None:
    case = identified()
    case.record(posting("RegistrationSubmitted", {"registration_number": "R-1"}), "FRTF", "f")
    case.record(preference("declined"), "KIND", "k")
    assert status(case) == "declined"


def test_only_the_latest_preference_counts_for_declined() -> None:
    case = identified()
    case.record(preference("declined", occurred_at="2021-05-01T00:00:00Z"), "KIND", "k")
    case.record(preference("reunify_in_us", occurred_at="2021-06-01T00:00:00Z"), "KIND", "k")
    assert status(case) == "informed"


def test_the_latest_preference_is_the_latest_in_occurred_time_not_in_recording_order() -> None:
    case = identified()
    case.record(preference("declined", occurred_at="2021-06-01T00:00:00Z"), "KIND", "k")
    case.record(preference("reunify_in_us", occurred_at="2021-05-01T00:00:00Z"), "KIND", "k")  # reported late
    assert status(case) == "declined"


def test_a_reunified_child_is_reunified_whatever_else_is_recorded() -> None:
    case = identified()
    case.record(preference("declined"), "KIND", "k")
    case.record(reunified("C1"), "FRTF", "f")
    assert status(case) == "reunified"


def test_a_reunification_naming_no_children_reunifies_all_of_them() -> None:
    case = identified(children=("C1", "C2", "C3"))
    case.record(reunified(), "FRTF", "f")
    assert statuses(case) == {"C1": "reunified", "C2": "reunified", "C3": "reunified"}


def test_a_reunification_naming_some_children_leaves_the_others_remaining() -> None:
    case = identified(children=("C1", "C2"))
    case.record(contact("reached"), "KIND", "k")
    case.record(reunified("C1"), "FRTF", "f")
    assert statuses(case) == {"C1": "reunified", "C2": "informed"}


def test_a_retracted_reunification_no_longer_reunifies() -> None:
    case = identified()
    event = case.record(reunified(), "FRTF", "f")
    case.record(retraction(event), "FRTF", "f")
    assert status(case) == "not_reached"


def test_parents_have_no_status() -> None:
    case = identified()
    [parent] = [m for m in case_summary(case)["members"] if m["member_id"] == "P1"]
    assert parent["status"] is None


def test_the_case_state_counts_corrections_and_retractions() -> None:
    case = identified()
    attempt = case.record(contact(), "KIND", "k")
    case.record(correction(attempt, {"outcome": "reached"}), "KIND", "k")
    case.record(retraction(attempt), "KIND", "k")
    state = case_summary(case)
    assert (state["corrections"], state["retractions"], state["contact_attempts"]) == (1, 1, 0)


# --- the settlement's stream -------------------------------------------------------------------


def test_terms_then_an_extension_of_one_of_their_obligations_are_accepted() -> None:
    settlement = Settlement.empty()
    assert (settlement.version, settlement.terms_version, settlement.id) == (0, 0, SETTLEMENT_STREAM_ID)
    adopted = settlement.record(terms(1), "DOJ", "doj")
    assert (adopted.originator_version, settlement.terms_version) == (1, 1)
    assert settlement.obligations == {"first_outreach", "parole_decision"}
    extended = settlement.record(extension("first_outreach"), "ACLU", "aclu")
    assert (extended.type, extended.originator_version, settlement.version) == ("DeadlineExtended", 2, 2)


def test_an_extension_before_any_terms_is_refused() -> None:
    settlement = Settlement.empty()
    error = refusal(CaseConflict, settlement.record, extension(), "DOJ", "doj")
    assert error.field == "data.obligation"
    assert settlement.version == 0


def test_an_extension_of_an_obligation_the_terms_do_not_have_is_refused() -> None:
    settlement = Settlement.empty()
    settlement.record(terms(1, ("first_outreach",)), "DOJ", "doj")
    assert refusal(CaseConflict, settlement.record, extension("housing_assistance"), "DOJ", "doj").field == (
        "data.obligation"
    )


def test_an_extension_is_judged_against_the_terms_now_in_force() -> None:
    settlement = Settlement.empty()
    settlement.record(terms(1, ("first_outreach",)), "DOJ", "doj")
    settlement.record(terms(2, ("parole_decision",)), "DOJ", "doj")
    refusal(CaseConflict, settlement.record, extension("first_outreach"), "DOJ", "doj")
    settlement.record(extension("parole_decision"), "DOJ", "doj")


@pytest.mark.parametrize("next_version", [1, 2])
def test_new_terms_must_have_a_higher_version_than_those_in_force(next_version: int) -> None:
    settlement = Settlement.empty()
    settlement.record(terms(2), "DOJ", "doj")
    error = refusal(CaseConflict, settlement.record, terms(next_version), "DOJ", "doj")
    assert error.field == "data.terms_version"
    assert settlement.version == 1
    settlement.record(terms(3), "ACLU", "aclu")
    assert settlement.terms_version == 3


def test_a_service_interruption_needs_no_terms() -> None:
    settlement = Settlement.empty()
    data = {"service": "legal", "from": "2025-03-21", "cause": "contract terminated"}
    event = settlement.record(settlement_posting("ServiceInterrupted", data), "ACACIA", "a")
    assert (event.type, event.originator_version) == ("ServiceInterrupted", 1)


def test_a_stale_expected_version_on_the_settlement_stream_is_refused() -> None:
    settlement = Settlement.empty()
    settlement.record(terms(1), "DOJ", "doj")
    assert refusal(CaseConflict, settlement.record, extension(expected_version=0), "DOJ", "doj").field == (
        "expected_version"
    )
    settlement.record(extension(expected_version=1), "DOJ", "doj")


def test_the_settlement_replays_from_its_events_the_first_of_which_opens_the_stream() -> None:
    settlement = Settlement.empty()
    settlement.record(terms(1), "DOJ", "doj")
    settlement.record(extension("parole_decision"), "DOJ", "doj")
    rebuilt = replayed(settlement)
    assert isinstance(rebuilt, Settlement)
    assert (rebuilt.version, rebuilt.terms_version) == (2, 1)
    assert rebuilt.obligations == {"first_outreach", "parole_decision"}
    refusal(CaseConflict, rebuilt.record, terms(1), "DOJ", "doj")


def test_a_settlement_stream_opened_by_an_interruption_replays() -> None:
    settlement = Settlement.empty()
    data = {"service": "legal", "from": "2025-03-21", "cause": "contract terminated"}
    settlement.record(settlement_posting("ServiceInterrupted", data), "FRTF", "f")
    rebuilt = replayed(settlement)
    assert (rebuilt.version, rebuilt.terms_version) == (1, 0)


# --- tokens ------------------------------------------------------------------------------------


def test_issuing_a_token_returns_a_secret_named_after_it_and_stores_only_its_hash() -> None:
    token, secret = Token.issue("frtf-intake", Organization.FRTF, Role.AGENCY, NOW)
    name, dot, random_part = secret.partition(".")
    assert (name, dot) == ("frtf-intake", ".")
    assert len(random_part) >= 32
    [issued] = token.pending_events
    assert issued.data["token_sha256"] == hashlib.sha256(secret.encode()).hexdigest() == token_digest(secret)
    stored = repr(issued.data) + repr(issued.envelope())
    assert secret not in stored
    assert random_part not in stored
    assert (issued.data["organization"], issued.data["role"]) == ("FRTF", "agency")
    assert issued.occurred_at == "2024-01-02T03:04:05.000000Z"
    assert token.id == token_stream_id("frtf-intake")
    assert token.version == 1


def test_two_tokens_get_different_secrets() -> None:
    _, first = Token.issue("kind-a", Organization.KIND, Role.AGENCY, NOW)
    _, second = Token.issue("kind-a", Organization.KIND, Role.AGENCY, NOW)
    assert first != second


def test_a_token_admits_its_secret_as_its_principal() -> None:
    token, secret = Token.issue("kind-field", Organization.KIND, Role.AGENCY, NOW)
    assert token.admits(secret) == Principal("kind-field", Organization.KIND, Role.AGENCY)


def test_a_token_refuses_a_wrong_secret() -> None:
    token, secret = Token.issue("kind-field", Organization.KIND, Role.AGENCY, NOW)
    assert token.admits(secret + "x") is None
    assert token.admits(secret[:-1]) is None
    assert token.admits("kind-field.") is None
    assert token.admits(token.digest) is None


def test_a_revoked_token_admits_nothing() -> None:
    token, secret = Token.issue("monitor-1", Organization.MONITOR, Role.MONITOR, NOW)
    token.revoke("laptop lost", NOW)
    assert token.admits(secret) is None
    assert token.revoked
    assert token.pending_events[-1].data == {"reason": "laptop lost"}


def test_revoking_a_token_twice_is_an_error() -> None:
    token, _ = Token.issue("monitor-1", Organization.MONITOR, Role.MONITOR, NOW)
    token.revoke("laptop lost", NOW)
    with pytest.raises(ValueError):
        token.revoke("again", NOW)
    assert token.version == 2


def test_a_token_replays_from_its_events() -> None:
    token, secret = Token.issue("oig-audit", Organization.OIG, Role.AUDITOR, NOW)
    rebuilt = replayed(token)
    assert rebuilt.admits(secret) == Principal("oig-audit", Organization.OIG, Role.AUDITOR)
    assert rebuilt.description == {
        "name": "oig-audit",
        "organization": "OIG",
        "role": "auditor",
        "revoked": False,
        "version": 1,
    }


def test_a_revoked_token_replays_as_revoked() -> None:
    token, secret = Token.issue("oig-audit", Organization.OIG, Role.AUDITOR, NOW)
    token.revoke("rotation", NOW)
    rebuilt = replayed(token)
    assert rebuilt.revoked
    assert rebuilt.admits(secret) is None
    assert rebuilt.version == 2


@pytest.mark.parametrize(
    "name",
    ["FRTF-intake", "frtf intake", "a" * 41, "", "-frtf", "frtf.intake", "frtf_intake", "frtf-intake\n", "écrit"],
)
def test_a_token_name_outside_lowercase_letters_digits_and_dashes_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Token.issue(name, Organization.FRTF, Role.AGENCY, NOW)


@pytest.mark.parametrize("name", ["a", "a" * 40, "frtf-intake-2", "0-day"])
def test_a_token_name_of_up_to_forty_lowercase_letters_digits_and_dashes_is_accepted(name: str) -> None:
    token, secret = Token.issue(name, Organization.FRTF, Role.AGENCY, NOW)
    assert token.name == name
    assert token_name_of(secret) == name


def test_the_token_name_is_read_from_a_presented_secret() -> None:
    assert token_name_of("frtf-intake.s3cr3t") == "frtf-intake"
    assert token_name_of("no-dot-here") is None
    assert token_name_of("BAD NAME.s3cr3t") is None
