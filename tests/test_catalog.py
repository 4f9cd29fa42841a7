"""The event catalog at the door: what an envelope batch must look like to be accepted.

Everything is validated the way the API validates it, through `EventBatch.model_validate`, and
refusals are asserted by the location and type pydantic reports (the API turns them into
`{"index", "field", "message"}` problems).
"""

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from domain.case_payloads import Child, Parent
from domain.catalog import CASE_EVENTS, CATALOG, SETTLEMENT_EVENTS, ContactAttempted, MemberAdded, ParentLocated, Payload
from domain.envelope import MAX_BATCH, SETTLEMENT_CASE_ID, EventBatch, Posting
from domain.organizations import Organization
from domain.permissions import POSTERS, allowed_types, may_post
from tests.builders import A_PAST_EVENT, VALID_DATA

CASE = "FRTF-000123"
OCCURRED = "2021-05-03T14:00:00Z"

# --- helpers -----------------------------------------------------------------------------------


def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """Top-level fields of a payload model marked as personal data."""
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("x-personal-data")
    )


def envelope(event_type: str, data: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid envelope of `event_type` (its example data unless given), any field overridable."""
    return {
        "event_id": str(uuid4()),
        "case_id": SETTLEMENT_CASE_ID if event_type in SETTLEMENT_EVENTS else CASE,
        "type": event_type,
        "occurred_at": OCCURRED,
        "data": copy.deepcopy(VALID_DATA[event_type]) if data is None else data,
        **overrides,
    }


def with_data(event_type: str, **changes: Any) -> dict[str, Any]:
    return envelope(event_type, {**copy.deepcopy(VALID_DATA[event_type]), **changes})


def without(event_type: str, *keys: str) -> dict[str, Any]:
    data = copy.deepcopy(VALID_DATA[event_type])
    for key in keys:
        del data[key]
    return envelope(event_type, data)


def accept(*envelopes: dict[str, Any]) -> list[Posting]:
    batch = EventBatch.model_validate({"events": list(envelopes)})
    return [Posting.from_envelope(event) for event in batch.events]


def refusals(*envelopes: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as raised:
        EventBatch.model_validate({"events": list(envelopes)})
    return raised.value.errors()


def refused_fields(envelope_: dict[str, Any]) -> set[tuple[str, str]]:
    """(field path inside the envelope, error type) of every refusal of one envelope.

    pydantic reports ('events', index, <type tag>, field, ...); the path is what follows the tag.
    """
    found = set()
    for error in refusals(envelope_):
        loc = error["loc"]
        assert loc[:3] == ("events", 0, envelope_["type"]), loc
        found.add((".".join(str(part) for part in loc[3:]), error["type"]))
    return found


def iso(instant: datetime) -> str:
    return instant.isoformat()


def today_plus(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


# --- every type has a valid shape --------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_every_catalog_type_accepts_a_realistic_minimal_payload(event_type: str) -> None:
    [posting] = accept(envelope(event_type))
    assert posting.type == event_type
    # What is stored reads back as the very payload that was posted (defaults filled in).
    model = CATALOG[event_type]
    assert model.model_validate(posting.data) == model.model_validate(VALID_DATA[event_type])
    assert VALID_DATA[event_type].keys() <= posting.data.keys()


def test_the_catalog_has_the_twenty_nine_types_of_domain_section_4() -> None:
    assert len(CATALOG) == 29
    assert set(CATALOG) == set(CASE_EVENTS) | set(SETTLEMENT_EVENTS)
    assert set(SETTLEMENT_EVENTS) == {"TermsAdopted", "DeadlineExtended", "ServiceInterrupted"}


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_every_payload_refuses_a_missing_required_field_by_name(event_type: str) -> None:
    required = [name for name, field in CATALOG[event_type].model_fields.items() if field.is_required()]
    if not required:
        pytest.skip(f"{event_type} has no required field")
    field = CATALOG[event_type].model_fields[required[0]]
    key = field.alias or required[0]
    assert (f"data.{key}", "missing") in refused_fields(without(event_type, key))


# --- closed shapes -----------------------------------------------------------------------------


def test_an_unknown_field_in_data_is_rejected_by_name() -> None:
    assert refused_fields(with_data("ContactAttempted", colour="red")) == {("data.colour", "extra_forbidden")}


def test_an_unknown_top_level_envelope_field_is_rejected_by_name() -> None:
    assert refused_fields(envelope("ContactAttempted", recorded_at=OCCURRED)) == {("recorded_at", "extra_forbidden")}


def test_an_unknown_field_of_a_nested_child_is_rejected() -> None:
    data = copy.deepcopy(VALID_DATA["SeparationIdentified"])
    data["children"][0]["age"] = 7
    assert refused_fields(envelope("SeparationIdentified", data)) == {("data.children.0.age", "extra_forbidden")}


def test_an_unknown_field_beside_the_events_list_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        EventBatch.model_validate({"events": [envelope("ContactAttempted")], "dry_run": True})
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [(("dry_run",), "extra_forbidden")]


def test_an_unknown_type_is_rejected_at_the_type_discriminator() -> None:
    [error] = refusals(envelope("ContactAttempted", type="ContactMade"))
    assert error["loc"] == ("events", 0)
    assert error["type"] == "union_tag_invalid"
    assert error["ctx"]["tag"] == "ContactMade"


def test_a_missing_type_is_rejected_at_the_type_discriminator() -> None:
    event = envelope("ContactAttempted")
    del event["type"]
    [error] = refusals(event)
    assert error["loc"] == ("events", 0)
    assert error["type"] == "union_tag_not_found"


def test_the_error_names_the_index_of_the_bad_envelope_in_the_batch() -> None:
    errors = refusals(envelope("ContactAttempted"), with_data("ContactAttempted", channel="fax"))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (("events", 1, "ContactAttempted", "data", "channel"), "enum")
    ]


# --- closed vocabularies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "field", "bad"),
    [
        ("ContactAttempted", "channel", "fax"),
        ("ContactAttempted", "outcome", "Reached"),
        ("PreferenceRecorded", "election", "reunify"),
        ("ParoleDecided", "decision", "approved"),
        ("ClassMembershipDetermined", "decision", "granted"),
        ("AsylumDecided", "decision", "pending"),
        ("ServiceStarted", "service", "dental"),
        ("ServiceEnded", "reason", "finished"),
        ("CaseClosed", "reason", "reunified"),
        ("MemberAdded", "role", "grandparent"),
        ("SeparationIdentified", "source", "media"),
        ("SeparationIdentified", "certainty", "likely"),
        ("DeadlineExtended", "obligation", "first_contact"),
        ("ServiceInterrupted", "service", "transport"),
    ],
)
def test_a_value_outside_a_closed_vocabulary_is_rejected(event_type: str, field: str, bad: str) -> None:
    assert refused_fields(with_data(event_type, **{field: bad})) == {(f"data.{field}", "enum")}


def test_an_obligation_outside_the_vocabulary_is_rejected_as_a_terms_key() -> None:
    obligations = {"first_outreach": {"days": 30}, "lunch_break": {"days": 1}}
    fields = refused_fields(with_data("TermsAdopted", obligations=obligations))
    assert ("data.obligations.lunch_break.[key]", "enum") in fields


@pytest.mark.parametrize("code", ["GT", "HN", "SV", "MX", "US"])
def test_an_uppercase_iso_country_code_is_accepted(code: str) -> None:
    [posting] = accept(with_data("ContactAttempted", country=code))
    assert posting.data["country"] == code


def test_a_country_code_that_iso_3166_does_not_assign_is_rejected() -> None:
    assert refused_fields(with_data("ContactAttempted", country="XX")) == {("data.country", "country_alpha2")}


def test_a_lowercase_country_code_is_rejected() -> None:
    assert {field for field, _ in refused_fields(with_data("ContactAttempted", country="gt"))} == {"data.country"}


def test_a_country_name_or_alpha3_code_is_rejected() -> None:
    assert {f for f, _ in refused_fields(with_data("SeparationIdentified", nationality="GTM"))} == {"data.nationality"}
    assert {f for f, _ in refused_fields(with_data("ParentLocated", country="Guatemala"))} == {"data.country"}


def test_blank_text_is_rejected() -> None:
    assert refused_fields(with_data("RegistrationSubmitted", registration_number="   ")) == {
        ("data.registration_number", "string_too_short")
    }


# --- occurred_at -------------------------------------------------------------------------------


def test_occurred_at_without_a_timezone_is_rejected() -> None:
    fields = refused_fields(envelope("ContactAttempted", occurred_at="2021-05-03T14:00:00"))
    assert fields == {("occurred_at", "timezone_aware")}


def test_occurred_at_as_a_number_of_epoch_seconds_is_rejected() -> None:
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", occurred_at=1620050400))} == {"occurred_at"}


def test_occurred_at_that_is_not_a_date_is_rejected() -> None:
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", occurred_at="yesterday"))} == {"occurred_at"}


def test_occurred_at_a_minute_ahead_of_the_ledger_clock_is_accepted() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=1)
    [posting] = accept(envelope("ContactAttempted", occurred_at=iso(soon)))
    assert posting.occurred_at.endswith("Z")


def test_occurred_at_an_hour_in_the_future_is_rejected() -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", occurred_at=iso(later)))} == {"occurred_at"}


def test_occurred_at_in_the_future_is_judged_in_utc_whatever_the_offset() -> None:
    # An hour ahead of now, written in a zone whose wall clock shows an earlier hour than UTC's.
    later = (datetime.now(UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-10)))
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", occurred_at=iso(later)))} == {"occurred_at"}


def test_a_corrected_occurred_at_may_not_be_in_the_future_either() -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    fields = refused_fields(with_data("EntryCorrected", occurred_at=iso(later)))
    assert {f for f, _ in fields} == {"data.occurred_at"}


# --- dates -------------------------------------------------------------------------------------


def test_a_separation_date_of_tomorrow_is_accepted_as_clock_skew() -> None:
    accept(with_data("SeparationIdentified", separation_date=today_plus(1)))


def test_a_separation_date_in_the_future_is_rejected() -> None:
    fields = refused_fields(with_data("SeparationIdentified", separation_date=today_plus(2)))
    assert {f for f, _ in fields} == {"data.separation_date"}


def test_a_parole_start_in_the_future_is_rejected_but_its_end_may_be() -> None:
    accept(with_data("ArrivedInUS", parole_start="2024-01-01", parole_end=today_plus(3 * 365)))
    fields = refused_fields(with_data("ArrivedInUS", parole_start=today_plus(30), parole_end=today_plus(3 * 365)))
    assert {f for f, _ in fields} == {"data.parole_start"}


def test_a_travel_date_may_be_in_the_future() -> None:
    [posting] = accept(with_data("TravelArranged", travel_date=today_plus(30)))
    assert posting.data["travel_date"] == today_plus(30)


@pytest.mark.parametrize("event_type", ["ParoleDecided", "ParoleRenewed", "WorkAuthorizationDecided"])
def test_a_valid_until_may_be_in_the_future(event_type: str) -> None:
    [posting] = accept(with_data(event_type, valid_until=today_plus(3 * 365)))
    assert posting.data["valid_until"] == today_plus(3 * 365)


def test_a_date_given_as_a_number_is_rejected() -> None:
    assert {f for f, _ in refused_fields(with_data("TravelArranged", travel_date=1622505600))} == {
        "data.travel_date"
    }


def test_a_date_that_does_not_exist_is_rejected() -> None:
    assert {f for f, _ in refused_fields(with_data("SeparationIdentified", separation_date="2018-02-30"))} == {
        "data.separation_date"
    }


def test_a_birth_year_in_the_future_is_rejected() -> None:
    data = copy.deepcopy(VALID_DATA["SeparationIdentified"])
    data["children"][0]["birth_year"] = datetime.now(UTC).year + 1
    assert {f for f, _ in refused_fields(envelope("SeparationIdentified", data))} == {"data.children.0.birth_year"}


# --- numbers are numbers, text is text ---------------------------------------------------------


def test_a_birth_year_given_as_text_is_rejected() -> None:
    data = copy.deepcopy(VALID_DATA["SeparationIdentified"])
    data["children"][0]["birth_year"] = "2014"
    assert refused_fields(envelope("SeparationIdentified", data)) == {("data.children.0.birth_year", "int_type")}


def test_attempts_made_given_as_text_is_rejected() -> None:
    assert refused_fields(with_data("WhereaboutsUnknownDeclared", attempts_made="3")) == {
        ("data.attempts_made", "int_type")
    }


def test_attempts_made_may_not_be_negative() -> None:
    assert refused_fields(with_data("WhereaboutsUnknownDeclared", attempts_made=-1)) == {
        ("data.attempts_made", "greater_than_equal")
    }


def test_a_terms_version_given_as_text_is_rejected() -> None:
    assert refused_fields(with_data("TermsAdopted", terms_version="1")) == {("data.terms_version", "int_type")}


def test_expected_version_given_as_text_is_rejected() -> None:
    assert refused_fields(envelope("ContactAttempted", expected_version="4")) == {("expected_version", "int_type")}


def test_expected_version_may_not_be_negative() -> None:
    assert refused_fields(envelope("ContactAttempted", expected_version=-1)) == {
        ("expected_version", "greater_than_equal")
    }


def test_expected_version_may_not_be_a_boolean() -> None:
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", expected_version=True))} == {
        "expected_version"
    }


def test_expected_version_zero_is_accepted() -> None:
    [posting] = accept(envelope("SeparationIdentified", expected_version=0))
    assert posting.expected_version == 0


def test_text_given_as_a_number_is_rejected() -> None:
    assert refused_fields(with_data("RegistrationSubmitted", registration_number=123456)) == {
        ("data.registration_number", "string_type")
    }


def test_an_event_id_given_as_a_number_is_rejected() -> None:
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", event_id=12345))} == {"event_id"}


def test_an_event_id_that_is_not_a_uuid_is_rejected() -> None:
    assert {f for f, _ in refused_fields(envelope("ContactAttempted", event_id="evt-1"))} == {"event_id"}


# --- rules across fields -----------------------------------------------------------------------


def test_a_granted_parole_needs_valid_until() -> None:
    assert refused_fields(without("ParoleDecided", "valid_until")) == {("data", "value_error")}


def test_a_denied_parole_needs_no_valid_until() -> None:
    accept(envelope("ParoleDecided", {"decision": "denied"}))


@pytest.mark.parametrize("parole_end", ["2021-06-01", "2021-05-31"])
def test_a_parole_must_end_after_it_starts(parole_end: str) -> None:
    fields = refused_fields(with_data("ArrivedInUS", parole_start="2021-06-01", parole_end=parole_end))
    assert fields == {("data", "value_error")}


def test_a_child_added_to_a_case_needs_a_birth_year() -> None:
    assert refused_fields(without("MemberAdded", "birth_year")) == {("data", "value_error")}


@pytest.mark.parametrize("role", ["parent", "qafm"])
def test_an_adult_added_to_a_case_needs_no_birth_year(role: str) -> None:
    accept(envelope("MemberAdded", {"member_id": "P2", "role": role, "reason": "second parent found"}))


def test_a_separation_with_the_same_member_id_twice_is_rejected() -> None:
    data = copy.deepcopy(VALID_DATA["SeparationIdentified"])
    data["parents"] = [{"member_id": "C1"}]
    assert refused_fields(envelope("SeparationIdentified", data)) == {("data", "value_error")}


def test_a_separation_with_two_children_of_the_same_id_is_rejected() -> None:
    data = copy.deepcopy(VALID_DATA["SeparationIdentified"])
    data["children"].append({"member_id": "C1", "birth_year": 2016})
    assert refused_fields(envelope("SeparationIdentified", data)) == {("data", "value_error")}


def test_a_separation_needs_at_least_one_child() -> None:
    assert refused_fields(with_data("SeparationIdentified", children=[])) == {("data.children", "too_short")}


def test_a_separation_may_name_no_parent() -> None:
    accept(with_data("SeparationIdentified", parents=[]))


def test_a_reunification_naming_a_child_twice_is_rejected() -> None:
    assert refused_fields(with_data("FamilyReunified", children=["C1", "C1"])) == {("data", "value_error")}


def test_a_correction_needs_changes_or_an_occurred_at() -> None:
    assert refused_fields(without("EntryCorrected", "changes")) == {("data", "value_error")}
    assert refused_fields(with_data("EntryCorrected", changes={})) == {("data", "value_error")}


def test_a_correction_of_occurred_at_alone_is_accepted() -> None:
    [posting] = accept(envelope("EntryCorrected", {"event_id": A_PAST_EVENT, "occurred_at": "2021-05-01T10:00:00Z",
                                                   "reason": "wrong day"}))
    assert posting.data["changes"] == {}


def test_a_correction_must_name_the_corrected_event_by_uuid() -> None:
    assert {f for f, _ in refused_fields(with_data("EntryCorrected", event_id="the-last-one"))} == {"data.event_id"}


def test_a_service_interruption_is_posted_with_from_and_to_keys() -> None:
    [posting] = accept(envelope("ServiceInterrupted"))
    assert posting.data["from"] == "2025-03-21"
    assert posting.data["to"] == "2025-04-15"
    assert "interrupted_from" not in posting.data


def test_a_service_interruption_with_python_attribute_names_is_rejected() -> None:
    data = {"service": "legal", "interrupted_from": "2025-03-21", "cause": "contract terminated"}
    fields = refused_fields(envelope("ServiceInterrupted", data))
    assert ("data.interrupted_from", "extra_forbidden") in fields
    assert ("data.from", "missing") in fields


def test_a_service_interruption_may_still_be_open() -> None:
    [posting] = accept(without("ServiceInterrupted", "to"))
    assert "to" not in posting.data


def test_a_service_interruption_cannot_end_before_it_begins() -> None:
    assert refused_fields(with_data("ServiceInterrupted", **{"from": "2025-04-15", "to": "2025-03-21"})) == {
        ("data", "value_error")
    }


def test_a_service_interruption_of_one_day_is_accepted() -> None:
    accept(with_data("ServiceInterrupted", **{"from": "2025-04-15", "to": "2025-04-15"}))


@pytest.mark.parametrize("extension", [{}, {"days": 0}, {"years": 0, "months": 0, "days": 0}])
def test_a_duration_needs_a_non_zero_part(extension: dict[str, int]) -> None:
    assert refused_fields(with_data("DeadlineExtended", extension=extension)) == {("data.extension", "value_error")}


def test_a_duration_part_may_not_be_negative_or_text() -> None:
    assert refused_fields(with_data("DeadlineExtended", extension={"days": -5})) == {
        ("data.extension.days", "greater_than_equal")
    }
    assert refused_fields(with_data("DeadlineExtended", extension={"months": "2"})) == {
        ("data.extension.months", "int_type")
    }


def test_a_duration_with_an_unknown_unit_is_rejected() -> None:
    assert ("data.extension.weeks", "extra_forbidden") in refused_fields(
        with_data("DeadlineExtended", extension={"weeks": 2})
    )


def test_terms_with_a_zero_duration_are_rejected_at_that_obligation() -> None:
    fields = refused_fields(with_data("TermsAdopted", obligations={"first_outreach": {}}))
    assert fields == {("data.obligations.first_outreach", "value_error")}


def test_terms_need_at_least_one_obligation() -> None:
    assert refused_fields(with_data("TermsAdopted", obligations={})) == {("data.obligations", "too_short")}


# --- case ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", ["FRTF-000123", "ORR_2018_77", "a", "A" * 64, "123"])
def test_a_case_id_of_letters_digits_dashes_and_underscores_is_accepted(case_id: str) -> None:
    [posting] = accept(envelope("ContactAttempted", case_id=case_id))
    assert posting.case_id == case_id


@pytest.mark.parametrize(
    "case_id",
    ["FRTF/000123", "..", "../etc", "FRTF 000123", "A" * 65, "", "-FRTF", "_x", "FRTF-1\n", "token:frtf", "Ñandú"],
)
def test_a_case_id_outside_the_pattern_is_rejected(case_id: str) -> None:
    assert refused_fields(envelope("ContactAttempted", case_id=case_id)) == {("case_id", "string_pattern_mismatch")}


@pytest.mark.parametrize("event_type", sorted(SETTLEMENT_EVENTS))
def test_a_settlement_event_must_be_posted_to_the_settlement_case(event_type: str) -> None:
    assert refused_fields(envelope(event_type, case_id=CASE)) == {("case_id", "literal_error")}


@pytest.mark.parametrize("event_type", sorted(SETTLEMENT_EVENTS))
def test_a_settlement_event_posted_to_the_settlement_case_is_accepted(event_type: str) -> None:
    [posting] = accept(envelope(event_type, case_id="SETTLEMENT"))
    assert posting.case_id == "SETTLEMENT"


@pytest.mark.parametrize("event_type", sorted(CASE_EVENTS))
def test_a_case_event_may_not_use_the_reserved_settlement_case_id(event_type: str) -> None:
    assert refused_fields(envelope(event_type, case_id="SETTLEMENT")) == {("case_id", "value_error")}


def test_a_merge_must_name_the_duplicate_by_a_valid_case_id() -> None:
    assert refused_fields(with_data("CasesMerged", duplicate_case_id="../FRTF-1")) == {
        ("data.duplicate_case_id", "string_pattern_mismatch")
    }


def test_member_ids_follow_the_case_id_pattern() -> None:
    assert refused_fields(with_data("ServiceStarted", member_ids=["C1", "C 2"])) == {
        ("data.member_ids.1", "string_pattern_mismatch")
    }


# --- batches -----------------------------------------------------------------------------------


def test_an_empty_batch_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        EventBatch.model_validate({"events": []})
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [(("events",), "too_short")]


def test_a_batch_of_the_maximum_size_is_accepted() -> None:
    assert MAX_BATCH == 1000
    event = envelope("ContactAttempted")
    batch = EventBatch.model_validate({"events": [{**event, "event_id": str(uuid4())} for _ in range(1000)]})
    assert len(batch.events) == 1000


def test_a_batch_over_the_maximum_size_is_rejected() -> None:
    event = envelope("ContactAttempted")
    with pytest.raises(ValidationError) as raised:
        EventBatch.model_validate({"events": [event] * 1001})
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [(("events",), "too_long")]


def test_a_batch_without_events_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        EventBatch.model_validate({})
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [(("events",), "missing")]


# --- the canonical posting ---------------------------------------------------------------------


def test_a_posting_states_occurred_at_in_utc_with_microseconds_and_z() -> None:
    [posting] = accept(envelope("ContactAttempted", occurred_at="2021-05-03T10:00:00-04:00"))
    assert posting.occurred_at == "2021-05-03T14:00:00.000000Z"


def test_a_posting_keeps_the_microseconds_it_was_given() -> None:
    [posting] = accept(envelope("ContactAttempted", occurred_at="2021-05-03T14:00:00.123456+00:00"))
    assert posting.occurred_at == "2021-05-03T14:00:00.123456Z"


def test_a_posting_carries_the_envelope_identity_and_precondition() -> None:
    event = envelope("ContactAttempted", expected_version=4)
    [posting] = accept(event)
    assert (posting.event_id, posting.case_id, posting.type, posting.expected_version) == (
        event["event_id"],
        CASE,
        "ContactAttempted",
        4,
    )
    assert isinstance(posting.event_id, str)


def test_a_posting_omits_absent_optional_fields_from_its_data() -> None:
    [posting] = accept(envelope("ContactAttempted"))
    assert posting.data == {"channel": "phone", "outcome": "no_answer", "country": "GT"}
    assert "notes" not in posting.data
    assert "contact_detail" not in posting.data


def test_a_posting_keeps_given_optional_fields_and_defaulted_lists() -> None:
    [posting] = accept(with_data("ParentLocated", member_id="P1", address="Calle 5, Zona 1"))
    assert posting.data == {"country": "HN", "member_id": "P1", "address": "Calle 5, Zona 1"}
    [reunified] = accept(envelope("FamilyReunified"))
    assert reunified.data == {"children": [], "location_country": "US"}


def test_a_posting_data_is_plain_json() -> None:
    [posting] = accept(envelope("TermsAdopted"))
    assert posting.data["obligations"] == {"first_outreach": {"years": 0, "months": 0, "days": 30}}
    assert type(posting.data["effective_date"]) is str


def test_the_digest_is_the_same_for_the_same_facts_given_with_different_utc_offsets() -> None:
    event = envelope("ContactAttempted", occurred_at="2021-05-03T14:00:00Z")
    [utc] = accept(event)
    [eastern] = accept({**event, "occurred_at": "2021-05-03T10:00:00-04:00"})
    [india] = accept({**event, "occurred_at": "2021-05-03T19:30:00.000+05:30"})
    assert utc.digest("KIND") == eastern.digest("KIND") == india.digest("KIND")


def test_the_digest_is_the_sha256_of_the_sorted_compact_json_of_the_facts() -> None:
    """Digests are stored with the leaves: however it is computed, it must stay this function."""
    posting = Posting(
        event_id="0b6f1c2e-8d7a-4f43-9a51-3c8e2f6d9b10",
        case_id="FRTF-1",
        type="SeparationIdentified",
        occurred_at="2021-05-03T14:00:00.000000Z",
        data={"parents": [], "children": [{"name": "Ñandú \"q\" ✓", "member_id": "C1", "birth_year": 2014}], "x": 1.5},
    )
    facts = [posting.event_id, posting.case_id, posting.type, posting.occurred_at, posting.data, "FRTF"]
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert posting.digest("FRTF") == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_digest_differs_for_different_data() -> None:
    event = envelope("ContactAttempted")
    [one] = accept(event)
    [other] = accept({**event, "data": {**event["data"], "outcome": "reached"}})
    assert one.digest("KIND") != other.digest("KIND")


def test_the_digest_differs_for_a_different_occurred_at() -> None:
    event = envelope("ContactAttempted")
    [one] = accept(event)
    [other] = accept({**event, "occurred_at": "2021-05-03T14:00:01Z"})
    assert one.digest("KIND") != other.digest("KIND")


def test_the_digest_differs_for_a_different_organization() -> None:
    [posting] = accept(envelope("ContactAttempted"))
    assert posting.digest("KIND") != posting.digest("JIM")


def test_the_digest_ignores_expected_version() -> None:
    event = envelope("ContactAttempted")
    [without_precondition] = accept(event)
    [with_precondition] = accept({**event, "expected_version": 7})
    assert without_precondition.digest("KIND") == with_precondition.digest("KIND")


def test_the_digest_is_a_sha256_hex() -> None:
    [posting] = accept(envelope("ContactAttempted"))
    digest = posting.digest("KIND")
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_the_digest_of_a_correction_is_the_same_whatever_offset_its_occurred_at_is_given_in() -> None:
    # A corrected occurred_at is a fact like the envelope's own: the same instant, the same posting.
    event = envelope("EntryCorrected", {"event_id": A_PAST_EVENT, "occurred_at": "2021-05-03T13:00:00Z",
                                        "reason": "wrong hour"})
    [utc] = accept(event)
    [sydney] = accept({**event, "data": {**event["data"], "occurred_at": "2021-05-03T23:00:00+10:00"}})
    assert utc.digest("KIND") == sydney.digest("KIND")


# --- personal data -----------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_notes_are_personal_on_every_payload(event_type: str) -> None:
    assert "notes" in personal_fields(CATALOG[event_type])


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (ContactAttempted, {"notes", "contact_detail"}),
        (ParentLocated, {"notes", "address"}),
        (MemberAdded, {"notes", "name"}),
        (Child, {"name"}),
        (Parent, {"name"}),
    ],
)
def test_personal_fields_are_those_the_catalog_marks(model: type[Payload], expected: set[str]) -> None:
    assert personal_fields(model) == expected


def test_pseudonymous_fields_are_not_personal() -> None:
    for event_type, model in CATALOG.items():
        personal = personal_fields(model)
        assert not personal & {"member_id", "member_ids", "country", "nationality", "border_sector", "case_id"}, (
            event_type
        )
        if event_type not in {"ContactAttempted", "ParentLocated", "MemberAdded"}:
            assert personal == {"notes"}, event_type


# --- who may post what -------------------------------------------------------------------------


def test_every_catalog_type_has_posters() -> None:
    assert set(POSTERS) == set(CATALOG)
    for event_type, posters in POSTERS.items():
        assert posters, event_type


@pytest.mark.parametrize(
    ("organization", "event_type"),
    [
        ("KIND", "ContactAttempted"),
        ("JIM", "PreferenceRecorded"),
        ("WRC", "ParentLocated"),
        ("AOL", "ContactAttempted"),
        ("AOL", "TravelArranged"),
        ("IOM", "TravelArranged"),
        ("STATE", "TravelArranged"),
        ("ORR", "SeparationIdentified"),
        ("FRTF", "SeparationIdentified"),
        ("USCIS", "ParoleDecided"),
        ("CBP", "ArrivedInUS"),
        ("FRTF", "CasesMerged"),
        ("SENECA", "ServiceStarted"),
        ("DOJ", "TermsAdopted"),
        ("ACLU", "TermsAdopted"),
        ("ACLU", "DeadlineExtended"),
        ("KIND", "EntryCorrected"),
        ("USCIS", "EntryRetracted"),
    ],
)
def test_an_organization_may_post_its_own_kind_of_event(organization: str, event_type: str) -> None:
    assert may_post(organization, event_type)


@pytest.mark.parametrize(
    ("organization", "event_type"),
    [
        ("KIND", "ParoleDecided"),
        ("KIND", "SeparationIdentified"),
        ("IOM", "ParoleDecided"),
        ("CBP", "FamilyReunified"),
        ("ORR", "CasesMerged"),
        ("FRTF", "TermsAdopted"),
        ("USCIS", "TermsAdopted"),
        ("SENECA", "AsylumApplicationFiled"),
        ("ICE", "ContactAttempted"),
    ],
)
def test_an_organization_may_not_post_another_kind_of_event(organization: str, event_type: str) -> None:
    assert not may_post(organization, event_type)


def test_only_doj_and_class_counsel_may_adopt_terms() -> None:
    assert {o for o in Organization if may_post(o, "TermsAdopted")} == {Organization.DOJ, Organization.ACLU}


@pytest.mark.parametrize("organization", ["MONITOR", "OIG"])
def test_monitors_and_the_inspector_general_may_post_nothing(organization: str) -> None:
    assert allowed_types(organization) == []
    assert not any(may_post(organization, event_type) for event_type in CATALOG)


def test_an_unknown_organization_or_type_may_post_nothing() -> None:
    assert not may_post("ACME", "ContactAttempted")
    assert not may_post("KIND", "ContactMade")
    assert allowed_types("ACME") == []


def test_allowed_types_lists_what_may_post_allows() -> None:
    for organization in Organization:
        assert allowed_types(organization) == [t for t in CATALOG if may_post(organization, t)]
