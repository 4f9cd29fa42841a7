"""The compliance report as JSON, CSV, HTML and PDF.

All carry the same numbers; CSV, HTML and PDF are drawn from the JSON form, never recomputed, and
show labels where the JSON has keys (projections/labels.py). Two CSV forms: `csv`, the tidy one
(one row per number, projections/tidy_csv.py), the default because a spreadsheet pivots it and a
script reads it with any CSV reader; and `csv-tables`, one table per section as the HTML and PDF
lay them out, for reading by eye. The HTML form carries the dashboard's charts as inline SVG.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from domain.canonical_json import compact_json
from domain.obligation_status import STATUSES_OF, ObligationKind
from projections.chart_shapes import PHONE_WIDTH, svg
from projections.charts import report_charts
from projections.labels import label, labelled_definitions, value_label, witnessed_text
from projections.spreadsheet_csv import csv_file
from projections.tidy_csv import render_tidy_csv

_templates = Environment(loader=PackageLoader("projections"), autoescape=select_autoescape(), keep_trailing_newline=True)


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"  # tidy: one row per number
    CSV_TABLES = "csv-tables"  # one table per section
    HTML = "html"
    PDF = "pdf"


FORMAT_HELP = (
    "json; csv (tidy: one row per number, section, group, key, measure, value, for pivot tables); "
    "csv-tables (one table per section, as the HTML and PDF lay them out); html (tables, charts, "
    "definitions); or pdf (a court exhibit: tables, charts, definitions)."
)

MEDIA_TYPES = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv; charset=utf-8",
    Format.CSV_TABLES: "text/csv; charset=utf-8",
    Format.HTML: "text/html; charset=utf-8",
    Format.PDF: "application/pdf",
}

# What a download link says, beside the format's name.
DOWNLOAD_NAMES = {
    Format.PDF: "PDF",
    Format.CSV: "CSV, one row per number",
    Format.CSV_TABLES: "CSV, one table per section",
    Format.JSON: "JSON",
    Format.HTML: "HTML",
}


def file_name(report: Mapping[str, Any], format: Format) -> str:
    """The report's file name in `format`, named by the log position it was computed at."""
    kind = "-tables" if format is Format.CSV_TABLES else ""
    extension = "csv" if format is Format.CSV_TABLES else format.value
    return f"compliance-report{kind}-tree-{report['checkpoint']['tree_size']}.{extension}"


# Each kind of obligation clock has its own statuses (DOMAIN.md §5), so each has its own table.
DEADLINE_COLUMNS = (*STATUSES_OF[ObligationKind.DEADLINE], "median_days")
DURATION_COLUMNS = STATUSES_OF[ObligationKind.DURATION]


def render_json(report: Mapping[str, Any]) -> bytes:
    """The canonical bytes: two reports with the same numbers are the same bytes."""
    return compact_json(report).encode()


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One section of the report as the tables-CSV, HTML and PDF forms lay it out, in labels."""

    key: str  # the section's path in the JSON form, e.g. "breakdowns.nationality"
    title: str
    header: list[str]
    rows: list[list[Any]]


# Which chart follows which table, in the HTML and PDF forms (by their keys).
CHARTS_AFTER = {
    "children": "children-by-status",
    "breakdowns.nationality": "nationality",
    "breakdowns.border_sector": "border-sector",
    "reunified_by_month": "reunified-by-month",
    "obligations.duration": "obligations",
}


# The sections that count children and families: their measures, then the section's key that
# breaks one down, and the label its rows go under.
_COUNTED = {
    "children": (("identified", "reunified", "remaining"), "remaining_by_status", "remaining"),
    "families": (("identified", "registered", "reunified"), "services", "services"),
}


def tables(report: Mapping[str, Any]) -> Iterator[ReportTable]:
    """Each section of the report as a table of labels and numbers."""
    yield ReportTable(
        "report",
        "report",
        ["field", "value"],
        [
            [label("as_of"), report["as_of"]],
            [label("tree_size"), report["checkpoint"]["tree_size"]],
            [label("root_hash"), report["checkpoint"]["root_hash"]],
            [label("witnessed"), witnessed_text(report)],
            [label("terms_version"), report["terms_version"]],
            [label("what_if"), "yes" if report["terms"]["what_if"] else "no"],
        ],
    )
    for section, (measures, breakdown, shown_as) in _COUNTED.items():
        counts = report[section]
        yield ReportTable(
            section,
            label(section),
            ["measure", label(section)],
            [[label(key), counts[key]] for key in measures]
            + [[f"{label(shown_as)}: {label(name)}", n] for name, n in counts[breakdown].items()],
        )
    for dimension, counts in report["breakdowns"].items():
        yield ReportTable(
            f"breakdowns.{dimension}",
            f"{label('children')} by {label(dimension)}",
            [label(dimension), label("identified"), label("reunified")],
            [[value_label(dimension, value), n["identified"], n["reunified"]] for value, n in counts.items()],
        )
    yield ReportTable(
        "reunified_by_facilitator",
        label("reunified_by_facilitator"),
        ["organization", label("children")],
        [[label(organization), n] for organization, n in report["reunified_by_facilitator"].items()],
    )
    yield ReportTable(
        "reunified_by_month",
        label("reunified_by_month"),
        ["month", label("children")],
        [[month, n] for month, n in report["reunified_by_month"].items()],
    )
    for kind, columns in (("deadline", DEADLINE_COLUMNS), ("duration", DURATION_COLUMNS)):
        yield ReportTable(
            f"obligations.{kind}",
            f"{label('obligations')}: {label(kind)}s",
            [label("obligation"), *map(label, columns)],
            [
                [label(name), *("" if row[c] is None else row[c] for c in columns)]
                for name, row in report["obligations"].items()
                if row["kind"] == kind
            ],
        )
    yield ReportTable(
        "data_quality",
        label("data_quality"),
        ["measure", "events"],
        [[label(key), n] for key, n in report["data_quality"].items()],
    )


def render_csv_tables(report: Mapping[str, Any]) -> bytes:
    """One table per section, a blank line between them; no cell a spreadsheet would evaluate."""
    lines: list[Sequence[Any]] = []
    for i, table in enumerate(tables(report)):
        if i:
            lines.append([])
        lines += [[table.title], table.header, *table.rows]
    return csv_file(lines)


def render_html(report: Mapping[str, Any], definitions: Mapping[str, str]) -> bytes:
    """Tables, each chart after its table (drawn twice, for a page and for a phone: the report's
    stylesheet shows one), and the definitions, all in labels."""
    charts = {
        wide.key: (wide, svg(wide, "chart wide"), svg(narrow, "chart narrow"))
        for wide, narrow in zip(report_charts(report), report_charts(report, PHONE_WIDTH), strict=True)
    }
    return (
        _templates.get_template("report.html")
        .render(
            report=report,
            witnessed=witnessed_text(report),
            tables=list(tables(report)),
            charts=charts,
            charts_after=CHARTS_AFTER,
            definitions=labelled_definitions(definitions),
        )
        .encode()
    )


def render(report: Mapping[str, Any], format: Format, definitions: Mapping[str, str]) -> bytes:
    """The report in `format`; `definitions` (keyed by JSON path) are published with the HTML and PDF forms."""
    if format is Format.CSV:
        return render_tidy_csv(report)
    if format is Format.CSV_TABLES:
        return render_csv_tables(report)
    if format is Format.HTML:
        return render_html(report, definitions)
    if format is Format.PDF:
        from projections.pdf import render_pdf  # reportlab loads only when a PDF is asked for

        return render_pdf(report, definitions)
    return render_json(report)
