"""Sequences a monitor would question but the rules allow, without a database: each warning is
drawn by its sequence and by no ordinary one, read from the case as it stood (its effective
entries), and never drawn by what amends the record or by the case's first fact."""

from typing import Any
from uuid import uuid4

import pytest

from domain.envelope import EventBatch, Posting
from domain.family_case import FamilyCase
from domain.sequence_warnings import WARNING_CODES, sequence_warnings
from tests.builders import VALID_DATA

CASE = "FRTF-000123"
IDENTIFIED = "2021-05-03T14:00:00Z"
SEPARATED = "2018-05-20"

# Who posts each type in these sequences (the permission matrix is not what is tested here).
POSTER = {
    "SeparationIdentified": "FRTF",
    "ContactAttempted": "KIND",
    "ParoleRequested": "IOM",
    "ParoleDecided": "USCIS",
    "TravelArranged": "IOM",
    "FamilyReunified": "FRTF",
    "CaseClosed": "FRTF",
    "MemberAdded": "FRTF",
    "EntryRetracted": "IOM",
    "EntryCorrected": "FRTF",
}
DATA: dict[str, dict[str, Any]] = {
    "ContactAttempted": {"channel": "phone", "outcome": "no_answer", "country": "GT"},
    "ParoleRequested": {"receipt_number": "IOE0912345678"},
    "ParoleDecided": {"decision": "granted", "valid_until": "2024-06-01"},
    "TravelArranged": {"port_of_entry": "LAX", "travel_date": "2021-09-01"},
    "FamilyReunified": {"location_country": "US"},
    "CaseClosed": {"reason": "reunified_services_complete"},
    "MemberAdded": {"member_id": "C2", "role": "child", "reason": "a sibling found", "birth_year": 2016},
}


def posting(event_type: str, on: str, data: dict[str, Any] | None = None) -> Posting:
    """A posting as the API makes it; `on` is a date (noon UTC) or an instant."""
    envelope = {
        "event_id": str(uuid4()),
        "case_id": CASE,
        "type": event_type,
        "occurred_at": on if "T" in on else f"{on}T12:00:00Z",
        "data": DATA.get(event_type, {}) if data is None else data,
    }
    [event] = EventBatch.model_validate({"events": [envelope]}).events
    return Posting.from_envelope(event)


def case_with(*postings: Posting) -> FamilyCase:
    """The case identified on IDENTIFIED (children C1, separated on SEPARATED), then `postings` recorded."""
    identification = {**VALID_DATA["SeparationIdentified"], "separation_date": SEPARATED}
    identified = posting("SeparationIdentified", IDENTIFIED, identification)
    case = FamilyCase.identify(identified, "FRTF", "frtf-intake")
    for each in postings:
        case.record(each, POSTER[each.type], "token")
    return case


def codes(case: FamilyCase, event: Posting) -> list[str]:
    return [warning.code for warning in sequence_warnings(case, event.type, event.occurred_at, event.data)]


# (the case's postings before, the posting, the codes it draws)
SEQUENCES: dict[str, tuple[tuple[Posting, ...], Posting, list[str]]] = {
    "a contact after the identification": ((), posting("ContactAttempted", "2021-05-04"), []),
    "a contact dated before the identification": ((), posting("ContactAttempted", "2021-05-03T09:00:00Z"), ["contact_before_identification"]),
    "a parole decision after its request": (
        (posting("ParoleRequested", "2021-06-01"),), posting("ParoleDecided", "2021-07-01"), []
    ),
    "a parole decision without a request": ((), posting("ParoleDecided", "2021-07-01"), ["parole_decision_without_request"]),
    "a parole decision dated before its request": (
        (posting("ParoleRequested", "2021-08-01"),), posting("ParoleDecided", "2021-07-01"), ["parole_decision_without_request"]
    ),
    "travel after a parole grant": (
        (posting("ParoleRequested", "2021-06-01"), posting("ParoleDecided", "2021-07-01")), posting("TravelArranged", "2021-08-01"), []
    ),
    "travel before a parole decision": (
        (posting("ParoleRequested", "2021-06-01"),), posting("TravelArranged", "2021-08-01"), ["travel_before_parole_decision"]
    ),
    "travel dated before the decision recorded earlier": (
        (posting("ParoleRequested", "2021-06-01"), posting("ParoleDecided", "2021-09-01")),
        posting("TravelArranged", "2021-08-01"),
        ["travel_before_parole_decision"],
    ),
    "travel after a parole denial": (
        (posting("ParoleRequested", "2021-06-01"), posting("ParoleDecided", "2021-07-01", {"decision": "denied"})),
        posting("TravelArranged", "2021-08-01"),
        ["travel_after_parole_denied"],
    ),
    "travel after a denial, then a grant": (
        (
            posting("ParoleRequested", "2021-06-01"),
            posting("ParoleDecided", "2021-07-01", {"decision": "denied"}),
            posting("ParoleDecided", "2021-07-15"),
        ),
        posting("TravelArranged", "2021-08-01"),
        [],
    ),
    "a first reunification": ((), posting("FamilyReunified", "2021-09-01"), []),
    "a second reunification of every child": (
        (posting("FamilyReunified", "2021-09-01"),), posting("FamilyReunified", "2021-10-01"), ["second_reunification"]
    ),
    "a reunification of a child not yet reunified": (
        (posting("MemberAdded", "2021-05-10"), posting("FamilyReunified", "2021-09-01", {"children": ["C1"], "location_country": "US"})),
        posting("FamilyReunified", "2021-10-01", {"children": ["C2"], "location_country": "US"}),
        [],
    ),
    "a reunification naming a child reunified before": (
        (posting("MemberAdded", "2021-05-10"), posting("FamilyReunified", "2021-09-01", {"children": ["C1"], "location_country": "US"})),
        posting("FamilyReunified", "2021-10-01", {"children": ["C1", "C2"], "location_country": "US"}),
        ["second_reunification"],
    ),
    "an event dated before the separation": ((), posting("ParoleRequested", "2018-05-19"), ["dated_before_separation"]),
    "an event on the day of the separation": ((), posting("ParoleRequested", SEPARATED), []),
    "an event dated after the case was closed": (
        (posting("CaseClosed", "2022-01-01"),), posting("ContactAttempted", "2022-02-01"), ["dated_after_closure"]
    ),
    "an event dated before the closure, posted after it": (
        (posting("CaseClosed", "2022-01-01"),), posting("ContactAttempted", "2021-12-01"), []
    ),
    "a second closure": ((posting("CaseClosed", "2022-01-01"),), posting("CaseClosed", "2022-03-01"), ["dated_after_closure"]),
}


@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_each_questionable_sequence_draws_its_warning_and_ordinary_ones_none(sequence: str) -> None:
    before, event, expected = SEQUENCES[sequence]
    assert codes(case_with(*before), event) == expected


def test_every_warning_code_is_drawn_by_some_sequence() -> None:
    drawn = {code for _, _, expected in SEQUENCES.values() for code in expected}
    assert drawn == set(WARNING_CODES)


def test_a_retracted_entry_no_longer_answers_for_the_sequence() -> None:
    requested = posting("ParoleRequested", "2021-06-01")
    retracted = posting("EntryRetracted", "2021-06-02", {"event_id": requested.event_id, "reason": "wrong family"})
    decided = posting("ParoleDecided", "2021-07-01")

    assert codes(case_with(requested), decided) == []
    assert codes(case_with(requested, retracted), decided) == ["parole_decision_without_request"]


def test_a_corrected_date_is_the_date_the_sequence_is_read_by() -> None:
    closed = posting("CaseClosed", "2022-01-01")
    reopened_later = posting("EntryCorrected", "2022-01-05", {"event_id": closed.event_id, "occurred_at": "2022-06-01T00:00:00Z", "reason": "closed in June"})
    contact = posting("ContactAttempted", "2022-02-01")

    assert codes(case_with(closed), contact) == ["dated_after_closure"]
    assert codes(case_with(closed, reopened_later), contact) == []


def test_amendments_and_the_first_fact_draw_no_warning() -> None:
    case = case_with(posting("CaseClosed", "2022-01-01"))
    late = posting("EntryCorrected", "2022-02-01", {"event_id": str(uuid4()), "changes": {"reason": "declined"}, "reason": "typo"})
    assert codes(case, late) == []
    assert sequence_warnings(case, "SeparationIdentified", "2022-02-01T00:00:00.000000Z", {}) == ()


def test_warnings_name_dates_and_member_ids_never_personal_data() -> None:
    named = posting(
        "ContactAttempted",
        "2018-01-01",
        {"channel": "phone", "outcome": "reached", "country": "GT", "contact_detail": "+502 5555 0100", "notes": "Ana Example"},
    )
    warnings = sequence_warnings(case_with(), named.type, named.occurred_at, named.data)
    assert [w.code for w in warnings] == ["contact_before_identification", "dated_before_separation"]
    assert all("5555" not in w.message and "Ana" not in w.message for w in warnings)
    assert "2018-01-01" in warnings[1].message and SEPARATED in warnings[1].message
