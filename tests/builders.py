"""Envelopes for tests: realistic defaults, any field overridable."""

from typing import Any
from uuid import uuid4

OCCURRED = "2021-05-03T14:00:00Z"


def envelope(case_id: str, event_type: str, data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "case_id": case_id,
        "type": event_type,
        "occurred_at": OCCURRED,
        "data": data,
        **overrides,
    }


def separation(case_id: str, children: tuple[str, ...] = ("C1",), **overrides: Any) -> dict[str, Any]:
    data = {
        "separation_date": "2018-05-20",
        "nationality": "GT",
        "border_sector": "El Paso",
        "children": [{"member_id": child, "birth_year": 2014} for child in children],
        "parents": [{"member_id": "P1", "name": "Ana Example"}],
        "source": "government_records",
        "certainty": "certified",
    }
    return envelope(case_id, "SeparationIdentified", data, **overrides)


def contact(case_id: str, outcome: str = "no_answer", **overrides: Any) -> dict[str, Any]:
    data = {"channel": "phone", "outcome": outcome, "country": "GT", "contact_detail": "+502 5555 0100"}
    return envelope(case_id, "ContactAttempted", data, **overrides)


def preference(case_id: str, election: str = "reunify_in_us", **overrides: Any) -> dict[str, Any]:
    return envelope(case_id, "PreferenceRecorded", {"election": election}, **overrides)


def batch(*envelopes: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(envelopes)}
