"""The words a reader sees for each key of the compliance report: one table, for every renderer.

The JSON report is the contract (DESIGN.md §3) and keeps its keys (`in_process`, `5_to_17`,
`AOL`); the CSV, HTML and PDF forms, the charts and the dashboard show these labels instead
("in process", "5 to 17", "AOL (Al Otro Lado)"), so a monitor never reads an identifier. A key
added to the report needs its label here: tests/test_labels.py walks reports and fails naming
any key without one. Until it has one it is shown with its underscores as spaces, so no page
breaks for want of a label.

Breakdown values are data, not keys: a border sector or a month is shown as recorded, a
nationality's ISO code with the country's name, an age band by its label.
"""

import re
from collections.abc import Mapping
from typing import Any

import pycountry

from domain.organizations import NAMES

LABELS: dict[str, str] = {
    # The report's identification, and the terms it applied.
    "as_of": "as of",
    "checkpoint": "log checkpoint",
    "witnessed": "witnessed",
    "witnesses": "witnesses",
    "tree_size": "tree size",
    "root_hash": "root hash",
    "terms_version": "terms version",
    "terms": "terms applied",
    "what_if": "what-if terms",
    "effective_date": "effective date",
    "extensions": "court-ordered extensions",
    "court_order_id": "court order",
    "extension": "extension",
    "years": "years",
    "months": "months",
    "days": "days",
    # Children and families.
    "children": "children",
    "identified": "identified",
    "reunified": "reunified",
    "remaining": "remaining",
    "remaining_by_status": "remaining by status",
    "in_process": "in process",
    "informed": "informed",
    "not_reached": "not reached",
    "whereabouts_unknown": "whereabouts unknown",
    "declined": "declined",
    "families": "families",
    "registered": "registered",
    "services": "services",
    "case_management": "case management",
    "behavioral_health": "behavioral health",
    "housing": "housing",
    "medical": "medical",
    "legal": "legal",
    # Breakdowns.
    "breakdowns": "breakdowns",
    "nationality": "nationality",
    "border_sector": "border sector",
    "separation_month": "separation month",
    "age_band": "age band",
    "under_5": "under 5",
    "5_to_17": "5 to 17",
    "reunified_by_facilitator": "reunified by facilitator",
    "none_recorded": "none recorded",
    "reunified_by_month": "reunified by month",
    # Obligations: their names, kinds and statuses.
    "obligations": "obligations",
    "obligation": "obligation",
    "kind": "kind",
    "deadline": "deadline",
    "duration": "duration",
    "first_outreach": "first outreach",
    "parole_decision": "parole decision",
    "parole_term": "parole term",
    "work_authorization_decision": "work authorization decision",
    "asylum_filing_window": "asylum filing window",
    "housing_assistance": "housing assistance",
    "medical_coverage": "medical coverage",
    "parole_renewal": "parole renewal",
    "met": "met",
    "met_late": "met late",
    "open": "open",
    "overdue": "overdue",
    "breached": "breached",
    "not_applicable": "not applicable",
    "median_days": "median days",
    # Data quality.
    "data_quality": "data quality",
    "corrections": "corrections",
    "retractions": "retractions",
    "merged_cases": "merged cases",
    "late_reports": "late reports",
    # Sequences a monitor would question but the rules allow (domain/sequence_warnings.py).
    "contact_before_identification": "contact dated before the identification",
    "parole_decision_without_request": "parole decision without a request",
    "travel_before_parole_decision": "travel before a parole decision",
    "travel_after_parole_denied": "travel after parole was denied",
    "second_reunification": "second reunification",
    "dated_before_separation": "dated before the separation",
    "dated_after_closure": "dated after the case was closed",
    # Keys of the definitions only (projections/definitions.py), and of the overdue list's rows.
    "counted_case": "counted case",
    "overdue_list": "overdue list",
    "case_id": "case",
    "status": "status",
    "since": "since",
    "due": "due",
    # Organizations (a facilitator, or who signed in), by code and name.
    **{organization.value: f"{organization.value} ({name})" for organization, name in NAMES.items()},
}

# Sections whose keys below the section are data: shown as recorded (or by value_label).
_VALUES_BELOW = {"reunified_by_month": 1}
_KEY = re.compile(r"(?<![\w-])(?:[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+|[A-Z]{2,})(?![\w-])")
_CODES = frozenset(organization.value for organization in NAMES)


def label(key: str) -> str:
    """The words for a report key; a key without a label, its underscores as spaces."""
    return LABELS.get(key) or key.replace("_", " ")


def country_label(code: str) -> str:
    """An ISO 3166 alpha-2 code with the country's common name, e.g. "GT (Guatemala)"."""
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    if country is None:
        return code
    return f"{code} ({getattr(country, 'common_name', None) or country.name})"


def value_label(dimension: str, value: str) -> str:
    """A breakdown's value as shown: a nationality with its country, an age band by its label,
    anything else (a border sector, a month) as recorded."""
    if dimension == "nationality":
        return country_label(value)
    if dimension == "age_band" and value in LABELS:
        return LABELS[value]
    return value


def path_parts(path: str) -> list[str]:
    """The labels along a dotted report path (as definitions and report changes name numbers),
    e.g. "breakdowns.nationality.GT.identified" → breakdowns, nationality, GT (Guatemala),
    identified. A breakdown value or a month may itself hold dots: it is what lies between the
    keys around it."""
    parts = path.split(".")
    if parts[0] == "breakdowns" and len(parts) >= 3:
        head, tail = parts[:2], parts[2:]
        measure = [label(tail.pop())] if len(tail) > 1 else []
        return [label(head[0]), label(head[1]), value_label(head[1], ".".join(tail)), *measure]
    if parts[0] in _VALUES_BELOW and len(parts) > 1:
        return [label(parts[0]), ".".join(parts[1:])]
    return [label(part) for part in parts]


def path_label(path: str, below: int = 0) -> str:
    """A dotted report path in words, e.g. "children: remaining by status: in process"; `below`
    leaves out that many labels at its start (a section already named by a table's caption)."""
    return ": ".join(path_parts(path)[below:])


def in_words(text: str) -> str:
    """Prose with every report key it names (a word with underscores: in_process, 5_to_17) in its
    label, and every organization's code with its name. Event types and their fields
    (SeparationIdentified, recorded_at) are left as they are: they are the catalog's names, not
    the report's."""

    def words(found: re.Match[str]) -> str:
        key = found.group()
        return LABELS[key] if key in LABELS and ("_" in key or key in _CODES) else key

    return _KEY.sub(words, text)


def labelled_definitions(definitions: Mapping[str, str]) -> dict[str, str]:
    """The definitions as a reader sees them: each keyed by its path's words, in words."""
    return {path_label(key): in_words(text) for key, text in definitions.items()}


def witnessed_text(report: Mapping[str, Any]) -> str:
    """The report's `witnessed`, as every renderer says it."""
    seen = report.get("witnessed")
    if not seen or seen.get("tree_size") is None:
        return "not yet witnessed"
    return f"cosigned by {', '.join(seen['witnesses'])} at tree size {seen['tree_size']:,} (root {seen['root_hash']})"
