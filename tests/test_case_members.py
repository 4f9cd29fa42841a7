"""A case's members, kept entry by entry, are those its effective entries give; and a case may have
at most MAX_CASE_MEMBERS of them, at every door a posting can add one through.

The reference below is how members were read before issue 15: folding every effective entry
(retractions left out, corrections applied) in version order. Kept here as the specification the
incremental members must equal, order included (the case view lists members in it).
"""

from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.case_members import MAX_CASE_MEMBERS, Member
from domain.vocabulary import MemberRole
from domain.envelope import EventBatch, Posting
from domain.errors import CaseConflict, Refusal
from domain.family_case import FamilyCase

CASE = "FRTF-000321"
IDS = ("C1", "C2", "C3", "C4", "P1", "P2", "Q1")


def posting(event_type: str, data: dict[str, Any]) -> Posting:
    envelope = {"event_id": str(uuid4()), "case_id": CASE, "type": event_type, "occurred_at": "2021-05-03T14:00:00Z", "data": data}
    [event] = EventBatch.model_validate({"events": [envelope]}).events
    return Posting.from_envelope(event)


def separation_data(children: list[str], parents: list[str]) -> dict[str, Any]:
    return {
        "separation_date": "2018-05-20", "nationality": "GT", "border_sector": "El Paso",
        "children": [{"member_id": c, "birth_year": 2014} for c in children],
        "parents": [{"member_id": p} for p in parents],
        "source": "government_records", "certainty": "certified",
    }


def identified(children: tuple[str, ...] = ("C1",), parents: tuple[str, ...] = ("P1",)) -> FamilyCase:
    return FamilyCase.identify(posting("SeparationIdentified", separation_data(list(children), list(parents))), "FRTF", "f")


def added(member_id: str, role: str = "child") -> Posting:
    data: dict[str, Any] = {"member_id": member_id, "role": role, "reason": "found in the 2018 review"}
    if role == "child":
        data["birth_year"] = 2016
    return posting("MemberAdded", data)


def removed(member_id: str) -> Posting:
    return posting("MemberRemoved", {"member_id": member_id, "reason": "not separated"})


def corrected(event_id: str, changes: dict[str, Any]) -> Posting:
    return posting("EntryCorrected", {"event_id": event_id, "changes": changes, "reason": "entered wrongly"})


def retracted(event_id: str) -> Posting:
    return posting("EntryRetracted", {"event_id": event_id, "reason": "posted to the wrong case"})


def folded_members(case: FamilyCase) -> list[tuple[str, Member]]:
    """The specification: every effective entry folded in version order."""
    members: dict[str, Member] = {}
    for entry in case.effective_entries():
        data = entry.effective_data
        if entry.type == "SeparationIdentified":
            for child in data.get("children", []):
                members[child["member_id"]] = Member(child["member_id"], MemberRole.CHILD, child.get("birth_year"), child.get("name"))
            for parent in data.get("parents", []):
                members[parent["member_id"]] = Member(parent["member_id"], MemberRole.PARENT, None, parent.get("name"))
        elif entry.type == "MemberAdded":
            members[data["member_id"]] = Member(data["member_id"], data["role"], data.get("birth_year"), data.get("name"))
        elif entry.type == "MemberRemoved":
            members.pop(data["member_id"], None)
    return list(members.items())


def replayed(case: FamilyCase) -> FamilyCase:
    """The case folded again from its recorded events, as a projection or a fresh process reads it."""
    again = FamilyCase.before_any_event(CASE)
    for event in case.collect_events():
        again.record_entry(event)  # type: ignore[arg-type]
    return again


def a_change(draw: st.DrawFn, case: FamilyCase) -> Posting:
    """A posting that may change the members: added, removed, an entry that names members
    corrected (its ids, roles or lists) or retracted; or one that names none."""
    kind = draw(st.sampled_from(["add", "add", "remove", "correct", "correct", "retract", "contact"]))
    member_entries = [e for e in case.entries.values() if e.type in ("SeparationIdentified", "MemberAdded", "MemberRemoved")]
    if kind == "add":
        return added(draw(st.sampled_from(IDS)), draw(st.sampled_from(["child", "parent", "qafm"])))
    if kind == "remove":
        return removed(draw(st.sampled_from(IDS)))
    if kind == "contact":
        return posting("ContactAttempted", {"channel": "phone", "outcome": "no_answer", "country": "GT"})
    target = draw(st.sampled_from(member_entries))
    if kind == "retract":
        return retracted(target.event_id)
    if target.type == "SeparationIdentified":
        children = draw(st.lists(st.sampled_from(IDS[:4]), min_size=1, max_size=3, unique=True))
        parents = draw(st.lists(st.sampled_from([i for i in IDS if i not in children]), max_size=2, unique=True))
        data = separation_data(children, parents)
        return corrected(target.event_id, draw(st.sampled_from([{"children": data["children"]}, {"parents": data["parents"]}, {"children": data["children"], "parents": data["parents"]}])))
    changes: dict[str, Any] = {"member_id": draw(st.sampled_from(IDS))}
    if target.type == "MemberAdded" and draw(st.booleans()):
        changes["role"] = draw(st.sampled_from(["child", "parent", "qafm"]))
        changes["birth_year"] = 2012
    return corrected(target.event_id, changes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_members_kept_entry_by_entry_are_those_the_effective_entries_give(data: st.DataObject) -> None:
    case = identified(
        children=tuple(data.draw(st.lists(st.sampled_from(IDS[:4]), min_size=1, max_size=3, unique=True))),
        parents=tuple(data.draw(st.lists(st.sampled_from(IDS[4:]), max_size=2, unique=True))),
    )
    for _ in range(data.draw(st.integers(1, 30))):
        try:
            case.record(data.draw(st.composite(lambda draw: a_change(draw, case))()), "FRTF", "f")
        except Refusal:
            continue
        assert list(case.members().items()) == folded_members(case)
    assert list(replayed(case).members().items()) == folded_members(case)


def test_a_member_removed_then_added_again_is_listed_where_it_came_back() -> None:
    case = identified(children=("C1", "C2"), parents=("P1",))
    case.record(removed("C1"), "FRTF", "f")
    case.record(added("C1"), "FRTF", "f")
    assert list(case.members()) == ["C2", "P1", "C1"] == [member_id for member_id, _ in folded_members(case)]


# --- the bound ---------------------------------------------------------------------------------


def full_case() -> tuple[FamilyCase, str]:
    """A case at MAX_CASE_MEMBERS, one of whose members (X) was removed along the way: the
    removal's event id is returned."""
    case = identified(children=("C1",), parents=("P1",))
    case.record(added("X"), "FRTF", "f")
    removal = case.record(removed("X"), "FRTF", "f").event_id
    for n in range(MAX_CASE_MEMBERS - 2):
        case.record(added(f"M{n}"), "FRTF", "f")
    assert len(case.members()) == MAX_CASE_MEMBERS
    return case, removal


@pytest.fixture(scope="module")
def full() -> tuple[FamilyCase, str]:
    return full_case()


def refused(case: FamilyCase, change: Posting) -> CaseConflict:
    version = case.version
    with pytest.raises(CaseConflict) as raised:
        case.record(change, "FRTF", "f")
    assert case.version == version and len(case.members()) == MAX_CASE_MEMBERS  # nothing recorded
    assert f"more than {MAX_CASE_MEMBERS} members" in raised.value.message
    return raised.value


def test_a_member_added_past_the_bound_is_refused_naming_the_member_id(full: tuple[FamilyCase, str]) -> None:
    case, _ = full
    assert refused(case, added("ONE-TOO-MANY")).field == "data.member_id"


def test_retracting_a_removal_that_would_bring_a_member_back_past_the_bound_is_refused(full: tuple[FamilyCase, str]) -> None:
    case, removal = full
    assert refused(case, retracted(removal)).field == "data.event_id"


def test_correcting_a_removal_so_that_a_member_comes_back_past_the_bound_is_refused(full: tuple[FamilyCase, str]) -> None:
    case, removal = full
    assert refused(case, corrected(removal, {"member_id": "NOT-A-MEMBER"})).field == "data.changes.member_id"


def test_correcting_a_separation_to_list_one_child_more_past_the_bound_is_refused(full: tuple[FamilyCase, str]) -> None:
    case, _ = full
    [identification] = [e for e in case.entries.values() if e.type == "SeparationIdentified"]
    children = separation_data(["C1", "C-NEW"], [])["children"]
    assert refused(case, corrected(identification.event_id, {"children": children})).field == "data.changes.children"


def test_at_the_bound_amendments_that_add_no_member_and_removals_still_stand() -> None:
    case, removal = full_case()
    case.record(corrected(removal, {"member_id": "C1"}), "FRTF", "f")  # X back, C1 out: as many as before
    assert len(case.members()) == MAX_CASE_MEMBERS and "X" in case.members() and "C1" not in case.members()
    case.record(removed("M1"), "FRTF", "f")
    case.record(added("M1"), "FRTF", "f")
    assert len(case.members()) == MAX_CASE_MEMBERS
