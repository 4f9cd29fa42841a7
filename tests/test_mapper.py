"""The ledger's mapper stores exactly the bytes eventsourcing's own mapper would."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, TranscodingNotRegisteredError

from domain.access import Token
from domain.envelope import Posting
from domain.family_case import FamilyCase
from domain.organizations import Organization, Role
from ledger.mapper import LedgerMapper
from ledger.personal_data import CaseKey, CaseKeys


@pytest.fixture
def mappers() -> tuple[Mapper[Any], LedgerMapper]:
    app = Application[Any]({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    transcoder = app.construct_transcoder()
    return Mapper(transcoder), LedgerMapper(transcoder)


def case_events() -> list[Any]:
    posting = Posting(
        event_id="0b6f1c2e-8d7a-4f43-9a51-3c8e2f6d9b10",
        case_id="FRTF-000123",
        type="SeparationIdentified",
        occurred_at="2021-05-03T14:00:00.000000Z",
        data={"children": [{"member_id": "C1", "birth_year": 2014}], "border_sector": "Ñandú \"quoted\" ✓", "nationality": "GT"},
    )
    case = FamilyCase.identify(posting, "FRTF", "frtf-agency")
    contact = Posting(
        event_id="1b6f1c2e-8d7a-4f43-9a51-3c8e2f6d9b10",
        case_id="FRTF-000123",
        type="ContactAttempted",
        occurred_at="2021-05-04T14:00:00.000000Z",
        data={"channel": "phone", "outcome": "reached", "country": "GT", "notes": None},
    )
    case.record(contact, "KIND", "kind-agency")
    token, _ = Token.issue("kind-agency", Organization.KIND, Role.AGENCY, datetime(2024, 1, 2, tzinfo=UTC))
    return [*case.collect_events(), *token.collect_events()]


def test_the_ledgers_events_are_stored_byte_for_byte_as_the_library_would(mappers: tuple[Mapper[Any], LedgerMapper]) -> None:
    library, ledger = mappers
    for event in case_events():
        assert ledger.to_stored_event(event) == library.to_stored_event(event)
        assert ledger.to_domain_event(ledger.to_stored_event(event)) == event


def test_a_value_plain_json_cannot_hold_goes_the_librarys_way(mappers: tuple[Mapper[Any], LedgerMapper]) -> None:
    library, ledger = mappers
    event = case_events()[1]
    object.__setattr__(event, "data", {"when": datetime(2021, 5, 4, tzinfo=UTC), "amount": Decimal("1.5")})
    assert ledger.to_stored_event(event) == library.to_stored_event(event)
    object.__setattr__(event, "data", {"what": object()})  # no transcoding registered: the library's error
    with pytest.raises(TranscodingNotRegisteredError):
        ledger.to_stored_event(event)


def test_personal_values_are_stored_sealed_and_never_unsealed(mappers: tuple[Mapper[Any], LedgerMapper]) -> None:
    _, ledger = mappers
    event = case_events()[0]
    object.__setattr__(event, "data", {**event.data, "children": [{"member_id": "C1", "birth_year": 2014, "name": "Ana María"}]})
    with pytest.raises(LookupError, match="refusing to store it in clear"):
        ledger.to_stored_event(event)
    key = CaseKey("k1", bytes(32))
    stored = ledger.to_stored_event(CaseKeys({"FRTF-000123": key}).sealed(event))
    assert b"Ana Mar" not in stored.state and b'"name":"sealed:v1:k1:' in stored.state
    assert event.data["children"][0]["name"] == "Ana María"  # the event itself is untouched
