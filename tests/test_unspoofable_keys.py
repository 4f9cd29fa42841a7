"""Keys that cannot be spoofed: look-alike texts are one text, or refused.

Found: the border-sector breakdown counted `El Paso` and `El Paso` + U+200B (ZERO WIDTH SPACE)
apart, and `Tucsón` composed and decomposed apart. Free text is now NFC-normalized and refuses
invisible and control characters (every short text field of the catalog; multi-line ones keep
their line breaks and tabs); a border sector must be one of the Border Patrol's sectors or a
southwest-border port of entry, stored in its canonical spelling. Events already in a log are
replayed as stored.
"""

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.border_sectors import BORDER_PLACES, SECTORS, SOUTHWEST_PORTS_OF_ENTRY, SOUTHWEST_SECTORS
from domain.catalog import CATALOG, SETTLEMENT_EVENTS
from domain.envelope import Posting
from tests.builders import VALID_DATA, batch, envelope, separation
from tests.harness import Tokens
from tests.test_catalog import accept, refusals

REPORT = "/v1/reports/compliance"
DECOMPOSED, COMPOSED = "Tucso\u0301n", "Tucsón"


def _text_fields(kind: str) -> list[tuple[str, str]]:
    """(event type, dotted path in its data) of every text field of `kind` ("Text on one line" or
    "Text of 1 to 4000"), nested members' too, as the catalog's published schema describes them."""
    found = []
    for event_type, model in sorted(CATALOG.items()):
        schema = model.model_json_schema(by_alias=True)
        places = [("", schema)] + [(f"{name.lower()}ren.0." if name == "Child" else "parents.0.", spec)
                                   for name, spec in schema.get("$defs", {}).items() if name in ("Child", "Parent")]
        for prefix, spec in places:
            for field, prop in spec.get("properties", {}).items():
                described = " ".join([prop.get("description", ""), *(o.get("description", "") for o in prop.get("anyOf", []))])
                if described.startswith(kind) or f" {kind}" in described:
                    found.append((event_type, prefix + field))
    return found


SHORT_TEXT = _text_fields("Text on one line")
LONG_TEXT = _text_fields("Text of 1 to 4000")


def posted(event_type: str, path: str, value: str) -> dict[str, Any]:
    data = copy.deepcopy(VALID_DATA[event_type])
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = value
    case_id = "SETTLEMENT" if event_type in SETTLEMENT_EVENTS else "FRTF-1"
    return envelope(case_id, event_type, data)


def stored(event: dict[str, Any], path: str) -> Any:
    [posting] = accept(event)
    value: Any = posting.data
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_the_catalog_has_the_free_text_fields_this_file_checks() -> None:
    names = {path.split(".")[-1] for _, path in SHORT_TEXT}
    assert {"reason", "basis", "registration_number", "receipt_number", "port_of_entry", "court_order_id", "cause",
            "name", "contact_detail"} == names
    assert {path for _, path in LONG_TEXT} == {"notes", "address"}
    assert len(SHORT_TEXT) >= 15 and len(LONG_TEXT) == len(CATALOG) + 1


@pytest.mark.parametrize(("event_type", "path"), SHORT_TEXT + LONG_TEXT)
@pytest.mark.parametrize(
    ("sneaked", "named"),
    [("\u200b", "U+200B"), ("\u202e", "U+202E"), ("\u00a0", "U+00A0"), ("\ufeff", "U+FEFF"), ("\u2066", "U+2066"),
     ("\u00ad", "U+00AD"), ("\ue000", "U+E000"), ("\u2028", "U+2028"), ("\u3164", "U+3164"), ("\x1b", "U+001B")],
)
def test_every_free_text_field_refuses_invisible_and_control_characters_naming_them(
    event_type: str, path: str, sneaked: str, named: str
) -> None:
    [error] = refusals(posted(event_type, path, f"El Paso{sneaked}x"))
    assert ".".join(map(str, error["loc"][3:])) == f"data.{path}"
    assert f"found {named}" in error["msg"]


@pytest.mark.parametrize(("event_type", "path"), SHORT_TEXT + LONG_TEXT)
def test_every_free_text_field_is_kept_in_nfc(event_type: str, path: str) -> None:
    assert stored(posted(event_type, path, f"Clínica {DECOMPOSED}"), path) == f"Clínica {COMPOSED}"


@pytest.mark.parametrize(("event_type", "path"), SHORT_TEXT)
def test_short_text_is_one_line(event_type: str, path: str) -> None:
    for line_break in ("a\nb", "a\rb", "a\tb"):
        [error] = refusals(posted(event_type, path, line_break))
        assert "control characters" in error["msg"]


@pytest.mark.parametrize(("event_type", "path"), LONG_TEXT)
def test_multi_line_text_keeps_its_line_breaks_and_tabs(event_type: str, path: str) -> None:
    text = "first line\r\nsecond\tline\nthird"
    assert stored(posted(event_type, path, text), path) == text


def test_visible_wide_and_right_to_left_text_is_accepted() -> None:
    for text in ("Ñandú", "北京市", "القاهرة", "עברית", "Zoë 👩🏽"):
        assert stored(posted("MemberRemoved", "reason", text), "reason") == text


# --- border sectors ---------------------------------------------------------------------------------


def test_the_list_holds_the_twenty_border_patrol_sectors_and_the_southwest_ports() -> None:
    assert len(SECTORS) == len(set(SECTORS)) == 20
    assert set(SOUTHWEST_SECTORS) == {
        "San Diego", "El Centro", "Yuma", "Tucson", "El Paso", "Big Bend", "Del Rio", "Laredo", "Rio Grande Valley"
    }
    assert {"San Ysidro", "Otay Mesa", "Nogales", "Brownsville", "Hidalgo", "Eagle Pass"} <= set(SOUTHWEST_PORTS_OF_ENTRY)


@pytest.mark.parametrize("place", BORDER_PLACES)
def test_every_sector_and_port_is_accepted_as_spelled(place: str) -> None:
    assert stored(posted("SeparationIdentified", "border_sector", place), "border_sector") == place


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("el paso", "El Paso"),
        ("EL PASO", "El Paso"),
        ("  El   Paso ", "El Paso"),
        (DECOMPOSED, "Tucson"),
        (COMPOSED, "Tucson"),
        ("TUCSÓN", "Tucson"),
        ("Río Grande Valley", "Rio Grande Valley"),
        ("rio-grande valley", "Rio Grande Valley"),
        ("El Paso Sector", "El Paso"),
        ("San Ysidro Port of Entry", "San Ysidro"),
        ("nogales poe", "Nogales"),
        ("Marfa", "Big Bend"),
        ("RGV", "Rio Grande Valley"),
    ],
)
def test_a_sector_is_matched_without_regard_to_case_accents_or_spacing_and_stored_canonically(typed: str, canonical: str) -> None:
    assert stored(posted("SeparationIdentified", "border_sector", typed), "border_sector") == canonical


@pytest.mark.parametrize("unknown", ["Atlantis", "El Pasoo", "Sector", "Tijuana", "LAX"])
def test_an_unknown_sector_is_refused_with_the_list(unknown: str) -> None:
    [error] = refusals(posted("SeparationIdentified", "border_sector", unknown))
    assert error["loc"][3:] == ("data", "border_sector")
    assert all(place in error["msg"] for place in BORDER_PLACES)


def test_a_correction_of_the_sector_is_stored_canonically(client: TestClient, tokens: Tokens) -> None:
    frtf = tokens.get("FRTF")
    first = separation("FRTF-1")
    assert client.post("/v1/events", json=batch(first), headers=frtf).status_code == 201
    fix = envelope("FRTF-1", "EntryCorrected", {"event_id": first["event_id"], "changes": {"border_sector": "tucsón"}, "reason": "typo"})
    assert client.post("/v1/events", json=batch(fix), headers=frtf).status_code == 201
    report = client.get(REPORT, headers=tokens.get("MONITOR", "monitor")).json()
    assert report["breakdowns"]["border_sector"] == {"Tucson": {"identified": 1, "reunified": 0}}


def test_look_alike_sectors_are_one_row_of_the_report_and_invisible_ones_are_refused(client: TestClient, tokens: Tokens) -> None:
    frtf, monitor = tokens.get("FRTF"), tokens.get("MONITOR", "monitor")
    spellings = {"FRTF-1": "El Paso", "FRTF-2": "el paso", "FRTF-3": COMPOSED, "FRTF-4": DECOMPOSED, "FRTF-5": "tucson"}
    events = [separation(case_id) for case_id in spellings]
    for event in events:
        event["data"]["border_sector"] = spellings[event["case_id"]]
    assert client.post("/v1/events", json=batch(*events), headers=frtf).status_code == 201
    size = client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]

    spoofed = separation("FRTF-6")
    spoofed["data"]["border_sector"] = "El Paso\u200b"
    response = client.post("/v1/events", json=batch(spoofed), headers=frtf)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "data.border_sector" and "U+200B" in response.json()["errors"][0]["message"]
    assert client.app.state.ledger.store.tree_size() == size  # type: ignore[attr-defined]
    breakdown = client.get(REPORT, headers=monitor).json()["breakdowns"]["border_sector"]
    assert breakdown == {"El Paso": {"identified": 2, "reunified": 0}, "Tucson": {"identified": 3, "reunified": 0}}


def test_a_sector_stored_before_the_list_existed_is_replayed_as_stored(client: TestClient, tokens: Tokens) -> None:
    """Replay never re-judges: an event the older validation let in (appended here without the
    door's validation, as it was then) keeps its sector, in the report and in a rebuild."""
    ledger, projection = client.app.state.ledger, client.app.state.projection  # type: ignore[attr-defined]
    frtf = ledger.tokens.authenticate(tokens.secret("FRTF"))
    event = separation("FRTF-OLD")
    event["data"]["border_sector"] = "El Paso\u200b"
    event["occurred_at"] = "2021-05-03T14:00:00.000000Z"
    ledger.appender.append([Posting(event["event_id"], "FRTF-OLD", "SeparationIdentified", event["occurred_at"], event["data"])], frtf)
    monitor = tokens.get("MONITOR", "monitor")
    report = client.get(REPORT, headers=monitor)
    assert report.status_code == 200
    assert report.json()["breakdowns"]["border_sector"] == {"El Paso\u200b": {"identified": 1, "reunified": 0}}
    projection.rebuild()
    assert json.loads(client.get(REPORT, params={"as_of": report.json()["as_of"]}, headers=monitor).content) == report.json()
