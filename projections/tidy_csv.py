"""The compliance report as a tidy CSV: one row per number, for spreadsheets to filter and pivot.

Columns `section, group, key, measure, value`: a breakdown is one row per (dimension, value,
identified | reunified), an obligation one row per (obligation, status), so a pivot table of key
by measure rebuilds any of the report's tables. Every number of the JSON report is one row, and
no row holds anything else: the value column is always a number (empty for a median of no
case). The text columns hold labels (projections/labels.py), never keys. The report's own
identification is in the first rows' group ("as of …"), beside the checkpoint's tree size and the
terms version, so a copy pasted apart from its file still says which report it came from.

UTF-8 with a byte order mark, which spreadsheets need to read anything but ASCII as UTF-8 (a
country's or a border sector's name, a court order), written by the spreadsheet-safe writer.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from projections.labels import label, value_label, witnessed_text
from projections.spreadsheet_csv import csv_file

HEADER = ("section", "group", "key", "measure", "value")
Row = tuple[str, str, str, str, float | int | None]


def tidy_rows(report: Mapping[str, Any]) -> Iterator[Row]:
    """One row per number of the report, in the JSON form's order."""
    for path, value in _numbers(report):
        yield (*_where(report, path), value)


def render_tidy_csv(report: Mapping[str, Any]) -> bytes:
    return csv_file([HEADER, *tidy_rows(report)])


def _numbers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], float | int | None]]:
    """(path, number) of every number of the report, a median of no case (None) included."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _numbers(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _numbers(inner, (*path, index))
    elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        yield path, value


def _where(report: Mapping[str, Any], path: Sequence[Any]) -> tuple[str, str, str, str]:
    """(section, group, key, measure) of the number at `path`."""
    section, *rest = path
    match (section, *rest):
        case ("checkpoint", "tree_size"):
            return "report", _identification(report), label("checkpoint"), label("tree_size")
        case ("witnessed", "tree_size"):  # its group says who cosigned (or not yet witnessed)
            return "report", witnessed_text(report), label("tree_size"), label("witnessed")
        case ("terms_version",):
            return "report", _identification(report), label("terms"), label("terms_version")
        case ("children" | "families", key):
            return label(section), "", label(key), label(section)
        case ("children" | "families", group, key):
            return label(section), label(group), label(key), label(section)
        case ("breakdowns", dimension, value, measure):
            return label(section), label(dimension), value_label(dimension, value), label(measure)
        case ("reunified_by_facilitator", organization):
            return label(section), "", label(organization), label("children")
        case ("reunified_by_month", month):
            return label(section), "", month, label("children")
        case ("obligations", obligation, status):
            return label(section), label(report["obligations"][obligation]["kind"]), label(obligation), label(status)
        case ("data_quality", key):
            return label(section), "", label(key), "events"
        case ("terms", "terms_version"):
            return label(section), "", "version", label("terms_version")
        case ("terms", "obligations", obligation, unit):
            return label(section), "durations", label(obligation), label(unit)
        case ("terms", "extensions", index, "extension", unit):
            extension = report["terms"]["extensions"][index]
            key = f"{label(extension['obligation'])}, effective {extension['effective_date']}, {extension['court_order_id']}"
            return label(section), label("extensions"), key, label(unit)
    # A number in a place this module does not know yet still gets its row, by its keys' labels.
    *group, key = (label(str(part)) for part in rest) or [""]
    return label(section), ": ".join(group), key, "value"


def _identification(report: Mapping[str, Any]) -> str:
    what_if = ", what-if terms" if report.get("terms", {}).get("what_if") else ""
    return f"as of {report['as_of']}{what_if}"
