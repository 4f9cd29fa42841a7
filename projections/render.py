"""The compliance report as JSON, CSV (one table per section, for spreadsheets), HTML and PDF.

All carry the same numbers; CSV, HTML and PDF are drawn from the JSON form, never recomputed.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from projections.spreadsheet_csv import csv_bytes

_templates = Environment(loader=PackageLoader("projections"), autoescape=select_autoescape(), keep_trailing_newline=True)

class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"
    PDF = "pdf"


MEDIA_TYPES = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv; charset=utf-8",
    Format.HTML: "text/html; charset=utf-8",
    Format.PDF: "application/pdf",
}


# Each kind of obligation clock has its own statuses (DOMAIN.md §5), so each has its own table.
DEADLINE_COLUMNS = ("met", "met_late", "open", "overdue", "not_applicable", "median_days")
DURATION_COLUMNS = ("met", "open", "breached", "not_applicable")


def render_json(report: Mapping[str, Any]) -> bytes:
    """The canonical bytes: two reports with the same numbers are the same bytes."""
    return json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode()


def tables(report: Mapping[str, Any]) -> Iterator[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) of each section, as the CSV and HTML forms lay them out."""
    yield (
        "report",
        ["field", "value"],
        [
            ["as_of", report["as_of"]],
            ["tree_size", report["checkpoint"]["tree_size"]],
            ["root_hash", report["checkpoint"]["root_hash"]],
            ["terms_version", report["terms_version"]],
            ["what_if", report["terms"]["what_if"]],
        ],
    )
    children = report["children"]
    yield (
        "children",
        ["measure", "children"],
        [[key, children[key]] for key in ("identified", "reunified", "remaining")]
        + [[f"remaining: {status}", n] for status, n in children["remaining_by_status"].items()],
    )
    families = report["families"]
    yield (
        "families",
        ["measure", "families"],
        [[key, families[key]] for key in ("identified", "registered", "reunified")]
        + [[f"services: {service}", n] for service, n in families["services"].items()],
    )
    for dimension, counts in report["breakdowns"].items():
        yield (
            f"children by {dimension}",
            [dimension, "identified", "reunified"],
            [[value, n["identified"], n["reunified"]] for value, n in counts.items()],
        )
    yield (
        "reunified by facilitator",
        ["organization", "children"],
        [[org, n] for org, n in report["reunified_by_facilitator"].items()],
    )
    yield (
        "reunified by month",
        ["month", "children"],
        [[month, n] for month, n in report["reunified_by_month"].items()],
    )
    for kind, columns in (("deadline", DEADLINE_COLUMNS), ("duration", DURATION_COLUMNS)):
        yield (
            f"obligations: {kind}s",
            ["obligation", *columns],
            [
                [name, *("" if row[c] is None else row[c] for c in columns)]
                for name, row in report["obligations"].items()
                if row["kind"] == kind
            ],
        )
    yield ("data quality", ["measure", "events"], [[key, n] for key, n in report["data_quality"].items()])


def render_csv(report: Mapping[str, Any]) -> bytes:
    """One table per section, a blank line between them; no cell a spreadsheet would evaluate."""
    lines: list[Sequence[Any]] = []
    for i, (title, header, rows) in enumerate(tables(report)):
        if i:
            lines.append([])
        lines += [[title], header, *rows]
    return csv_bytes(lines)


def render_html(report: Mapping[str, Any], definitions: Mapping[str, str]) -> bytes:
    return _templates.get_template("report.html").render(report=report, tables=list(tables(report)), definitions=definitions).encode()


def render(report: Mapping[str, Any], format: Format, definitions: Mapping[str, str]) -> bytes:
    """The report in `format`; `definitions` are published with the HTML and PDF forms."""
    if format is Format.CSV:
        return render_csv(report)
    if format is Format.HTML:
        return render_html(report, definitions)
    if format is Format.PDF:
        from projections.pdf import render_pdf  # reportlab loads only when a PDF is asked for

        return render_pdf(report, definitions)
    return render_json(report)
