"""Whatever validation accepts, the domain can count: no accepted event, under any accepted
terms, raises while it is folded into a case's facts, rows, cells and report numbers.

The database-free half of tests/test_projection_properties.py: the same payloads (drawn from the
published schema, pushed to every field's edges, kept only if the door's validation accepts them),
each type added to a family whose record starts every clock, so that a rare accepted extreme of
any field meets the rules it could break.
"""

from collections import Counter
from datetime import UTC, datetime, time
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.case_facts import CaseFacts, Fact
from domain.catalog import AMENDMENTS, CASE_EVENTS, CATALOG, SETTLEMENT_EVENTS
from domain.envelope import Envelope, Posting
from domain.date_ranges import DAWN, HORIZON
from domain.terms import SETTLEMENT_2023, Terms
from domain.values import utc_text
from projections.case_rows import case_rows, cells
from projections.report_numbers import report_numbers
from projections.render import Format, render
from tests.catalog_strategies import DATES, from_schema, instants

NOW = datetime.now(UTC)
SCHEMAS = {name: model.model_json_schema() for name, model in CATALOG.items()}
FACTS = sorted(set(CASE_EVENTS) - AMENDMENTS - {"SeparationIdentified", "CasesMerged"})
_ENVELOPE = TypeAdapter(Envelope)


def accepted(data: st.DataObject, event_type: str, case_id: str) -> Posting | None:
    """A drawn posting of `event_type` as the door stores it, or None if the door refuses it."""
    envelope = {
        "event_id": str(uuid4()),
        "case_id": case_id,
        "type": event_type,
        "occurred_at": data.draw(instants(NOW)),
        "data": data.draw(from_schema(SCHEMAS[event_type], NOW)),
    }
    try:
        return Posting.from_envelope(_ENVELOPE.validate_python(envelope))
    except ValidationError:
        return None


# A family whose record starts every clock: identified, reached, registered, determined a member,
# paroled, arrived, reunified in the US, serviced. Each drawn event is added to it.
_STORY = [
    ("SeparationIdentified", {"separation_date": "2018-05-20", "nationality": "GT", "border_sector": "El Paso",
                              "children": [{"member_id": "C1", "birth_year": 2014}], "parents": [{"member_id": "P1"}],
                              "source": "government_records", "certainty": "certified"}),
    ("ContactAttempted", {"channel": "phone", "outcome": "reached", "country": "GT"}),
    ("ClassMembershipDetermined", {"decision": "member", "basis": "separated in 2018"}),
    ("ParoleRequested", {"receipt_number": "IOE0912345678"}),
    ("ArrivedInUS", {"port_of_entry": "LAX", "parole_start": "2024-06-01", "parole_end": "2027-06-01"}),
    ("FamilyReunified", {"location_country": "US"}),
    ("ServiceStarted", {"service": "behavioral_health"}),
]


def _terms(data: st.DataObject) -> Terms:
    """The settlement's terms, then what accepted settlement events make of them."""
    terms = Terms.adopted(SETTLEMENT_2023)
    for event_type in data.draw(st.lists(st.sampled_from(sorted(SETTLEMENT_EVENTS)), max_size=3), label="settlement"):
        posting = accepted(data, event_type, "SETTLEMENT")
        if posting is not None:
            terms = terms.then(event_type, posting.data)
    return terms


@pytest.mark.parametrize("event_type", ["SeparationIdentified", *FACTS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_accepted_event_is_counted_under_any_accepted_terms(event_type: str, data: st.DataObject) -> None:
    terms = _terms(data)
    history = [Fact(kind, "2024-06-01T10:00:00.000000Z", version, "FRTF", payload) for version, (kind, payload) in enumerate(_STORY, 1)]
    for _ in range(data.draw(st.integers(1, 3), label="events")):
        posting = accepted(data, event_type, "FRTF-1")
        if posting is None:
            continue
        if event_type == "SeparationIdentified":  # it opens a case: the case is this one
            history[0] = Fact(posting.type, posting.occurred_at, 1, "FRTF", posting.data)
        else:
            history.append(Fact(posting.type, posting.occurred_at, len(history) + 1, "FRTF", _referring_to(posting.data, ["C1"])))
    facts = CaseFacts.of("FRTF-1", history)

    counted: Counter[Any] = Counter()
    for key, row in case_rows(facts, terms).items():
        counted.update(cells(key, row))
    for day in {NOW.date(), data.draw(DATES.filter(lambda d: DAWN <= d <= HORIZON), label="as of")}:
        report = {
            "as_of": utc_text(datetime.combine(day, time(12), UTC)),
            "checkpoint": {"tree_size": len(history), "root_hash": "00" * 32},
            "terms_version": terms.version,
            **report_numbers(counted, day.toordinal(), terms),
            "terms": {**terms.as_json(), "what_if": False},
        }
        for format in (Format.JSON, Format.CSV, Format.CSV_TABLES):
            render(report, format, {})


def _referring_to(data: dict[str, Any], members: list[str]) -> dict[str, Any]:
    """The data with the member ids it names made the case's own (as the case rules demand)."""
    data = dict(data)
    for key in ("member_ids", "children"):
        if isinstance(data.get(key), list):
            data[key] = members[: len(data[key])]
    if "member_id" in data:
        data["member_id"] = members[0]
    return data
