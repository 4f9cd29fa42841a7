"""Hypothesis strategies for the catalog's payloads, read off the very JSON Schema the API publishes.

Every event type's `data` is drawn from its pydantic model's schema (types, enums, lengths,
patterns, bounds), with values pushed to the edges: the longest and shortest texts, wide Unicode,
the bounds of every integer, dates from the calendar's first year to its last. What validation then
refuses is refused; what it accepts, the projection must project. A type added to the catalog is
drawn without anyone writing a strategy for it.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pycountry
from hypothesis import strategies as st

from domain.border_sectors import BORDER_PLACES
from domain.date_ranges import CLASS_PERIOD_START, DAWN, HORIZON

# Dates a posting may carry: mostly plausible ones, and often the ends of the ranges validation
# publishes (domain/date_ranges.py) and the days just past them, the calendar's very ends, and the
# days the rules turn on (the terms' effective date, leap days).
_TODAY = date.today()
RANGE_EDGES = [DAWN, CLASS_PERIOD_START, date(2023, 12, 11), date(2024, 2, 29), _TODAY, HORIZON]
BEYOND_EDGES = [date.min, DAWN - timedelta(days=1), CLASS_PERIOD_START - timedelta(days=1), _TODAY + timedelta(days=2), HORIZON + timedelta(days=1), date.max]
_PAST = st.dates(min_value=CLASS_PERIOD_START, max_value=_TODAY)
_AHEAD = st.dates(min_value=_TODAY, max_value=date(2032, 12, 31))
DATES = st.one_of(_PAST, _AHEAD, st.sampled_from(RANGE_EDGES), st.sampled_from(RANGE_EDGES), st.sampled_from(BEYOND_EDGES), st.dates())

# Texts: mostly what a person types (any script, accents, quotes, a formula's first character), and
# often what breaks things (invisible, control and bidirectional characters, odd spaces), which
# validation refuses where it must.
_TYPED = st.one_of(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S")),
    st.sampled_from([" ", "ó", "漢", "ن", "\"", "'", "=", "+", "-", "@"]),
)
_ANY = st.characters(codec="utf-8", exclude_categories=("Cs",))

# Fields whose schema says less than validation asks, drawn by name (a field name means one thing
# across the catalog): an ISO 3166 code is a pattern in the schema, a list lookup in validation.
_COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    **{
        name: st.one_of(st.sampled_from(["GT", "HN", "SV", "MX", "US"]), st.sampled_from(_COUNTRIES), st.sampled_from(["gt", "XX"]))
        for name in ("nationality", "country", "location_country")
    },
    # one of the U.S. Border Patrol's places, as CBP spells it or not (case, accents, "Sector"), or none
    "border_sector": st.one_of(
        st.sampled_from(BORDER_PLACES),
        st.sampled_from(["el paso", "EL PASO SECTOR", "Tucsón", "Tucso\u0301n", "rio grande valley", "Marfa", "Atlantis"]),
    ),
    # a year, bounded by validation only (no schema maximum): mostly plausible ones, and the edges
    "birth_year": st.one_of(st.integers(2000, date.today().year), st.integers(2000, date.today().year), st.sampled_from([1899, 1900, date.today().year, date.today().year + 1])),
}


def instants(now: datetime) -> st.SearchStrategy[str]:
    """Instants with a UTC offset: recent ones mostly, and the edges."""
    recent = st.datetimes(min_value=datetime(2015, 1, 1), max_value=now.replace(tzinfo=None))
    edges = st.sampled_from([datetime.combine(d, time()) for d in [*RANGE_EDGES, *BEYOND_EDGES[1:-2]]] + [now.replace(tzinfo=None) + timedelta(days=1)])
    return st.one_of(recent, recent, edges).map(lambda moment: moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"))


def from_schema(schema: dict[str, Any], now: datetime, defs: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Values of the JSON Schema subset pydantic writes for the catalog."""
    defs = schema.get("$defs", defs or {})
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[1]], now, defs)
    if "anyOf" in schema:
        return st.one_of(*(from_schema(option, now, defs) for option in schema["anyOf"]))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = schema.get("minimum", -(2**40)), schema.get("maximum", 2**40)
        return st.one_of(st.integers(low, high), st.sampled_from([low, high]))
    if kind == "string":
        return _strings(schema, now)
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        return st.lists(from_schema(schema.get("items", {}), now, defs), min_size=low, max_size=high)
    if kind == "object":
        return _objects(schema, now, defs)
    return st.none()


def _strings(schema: dict[str, Any], now: datetime) -> st.SearchStrategy[str]:
    form = schema.get("format")
    if form == "date":
        return DATES.map(date.isoformat)
    if form == "date-time":
        return instants(now)
    if form == "uuid":
        return st.uuids().map(str)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    return st.one_of(
        st.text(_TYPED, min_size=low, max_size=min(high, 24)),
        st.text(_TYPED, min_size=low, max_size=min(high, 24)),
        st.text(_ANY, min_size=low, max_size=min(high, 24)),
        st.text(st.sampled_from("ab "), min_size=high, max_size=high),  # the longest allowed
    )


def _objects(schema: dict[str, Any], now: datetime, defs: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    if not properties and isinstance(schema.get("additionalProperties"), dict):  # a mapping, e.g. obligations
        keys = from_schema(schema.get("propertyNames", {"type": "string"}), now, defs)
        values = from_schema(schema["additionalProperties"], now, defs)
        return st.dictionaries(keys, values, min_size=schema.get("minProperties", 0), max_size=4)
    required = set(schema.get("required", ()))
    fields = {name: BY_NAME[name] if name in BY_NAME else from_schema(sub, now, defs) for name, sub in properties.items()}
    optional = {name: strategy for name, strategy in fields.items() if name not in required}
    return st.fixed_dictionaries({name: fields[name] for name in required}, optional=optional)
