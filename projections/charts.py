"""The compliance report's charts, laid out once as plain shapes.

The dashboard and the HTML report write them out as SVG (`svg`), the PDF report draws the same
shapes with reportlab (projections/pdf.py): all show one picture of the same numbers, taken from the report's JSON
form and never recomputed, in labels (projections/labels.py), never keys. Each chart also carries
its numbers as a table, for screen readers and for whoever would rather read than look.

Colours keep at least 3:1 contrast against white (WCAG 1.4.11), and no chart relies on colour
alone: every bar is labelled or listed in the legend's order.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.obligation_status import ObligationKind, lapse
from projections.chart_shapes import BLUE, GRID, MUTED, NARROW, PALE_BLUE, WIDTH, Box, Chart, Label, Shape
from projections.chart_text import fitted, text_width
from projections.labels import label, value_label
from projections.month_chart import reunified_by_month

STATUS_COLOURS = {"met": BLUE, "met_late": "#8a5a00", "open": "#737373", "overdue": "#b42318", "breached": "#6f2da8"}
ROW = 24  # a bar's row, in px
MAX_ROWS = 12  # a breakdown shows its largest values; the rest are summed into "other"
# px: a longer label is cut (the chart's table keeps it whole); every obligation's and status's
# label fits ("work authorization decision" is 201 px at 12 px).
MAX_LABEL_WIDTH = 216
NOTE_ROOM = 96  # px on the right of a bar for its note, at least


def report_charts(report: Mapping[str, Any], width: int = WIDTH) -> list[Chart]:
    """The charts of one report, in the order the dashboard and the PDF show them. Below
    NARROW px wide (a phone), bar labels go above the bars instead of beside them."""
    return [
        reunified_by_month(report["reunified_by_month"], width),
        children_by_status(report["children"], width),
        breakdown("nationality", "Children by nationality", report["breakdowns"]["nationality"], width),
        breakdown("border_sector", "Children by border sector", report["breakdowns"]["border_sector"], width),
        obligations(report["obligations"], width),
    ]


def children_by_status(children: Mapping[str, Any], width: int = WIDTH) -> Chart:
    """One bar per status: reunified, then each status of the remaining children."""
    named = [("reunified", children["reunified"])] + [
        (label(status), n) for status, n in children["remaining_by_status"].items()
    ]
    identified = children["identified"]
    notes = [f"{n:,} ({_share(n, identified)})" for _, n in named]
    layout = _Rows(width, [name for name, _ in named], notes)
    widest = max((n for _, n in named), default=0) or 1
    shapes: list[Shape] = []
    for i, (name, n) in enumerate(named):
        shapes.append(layout.label(i, name))
        shapes.append(Box(layout.x0, layout.bar_y(i), max(layout.span * n / widest, 1), 16, BLUE, None, f"{name}: {n:,}"))
        shapes.append(layout.note(i, notes[i]))
    summary = f"Of {identified:,} children identified, {children['reunified']:,} reunified and {children['remaining']:,} remaining: " + ", ".join(
        f"{n:,} {name}" for name, n in named[1:]
    ) + "."
    return Chart(
        "children-by-status",
        "Children by status",
        summary,
        width,
        layout.height,
        tuple(shapes),
        ("status", "children", "share of identified"),
        tuple((name, n, _share(n, identified)) for name, n in named),
    )


def breakdown(dimension: str, title: str, counts: Mapping[str, Mapping[str, int]], width: int = WIDTH) -> Chart:
    """Identified children (pale bar) and the reunified among them (solid bar), largest first."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1]["identified"], item[0]))
    if len(ordered) > MAX_ROWS:
        rest = ordered[MAX_ROWS - 1 :]
        ordered = ordered[: MAX_ROWS - 1] + [
            (
                f"{len(rest)} others",
                {"identified": sum(n["identified"] for _, n in rest), "reunified": sum(n["reunified"] for _, n in rest)},
            )
        ]
    labelled = [(value_label(dimension, key) if key in counts else key, n["identified"], n["reunified"]) for key, n in ordered]
    notes = [f"{reunified:,} / {identified:,}" for _, identified, reunified in labelled]
    legend, legend_height = _legend([(PALE_BLUE, label("identified"), BLUE), (BLUE, label("reunified"), None)], width)
    layout = _Rows(width, [text for text, _, _ in labelled], notes, top=legend_height)
    widest = max((max(identified, reunified) for _, identified, reunified in labelled), default=0) or 1
    shapes: list[Shape] = legend
    for i, (text, identified, reunified) in enumerate(labelled):
        y = layout.bar_y(i)
        shown = fitted(text, 2 * MAX_LABEL_WIDTH, 12)  # a hover tip may run longer than a label
        shapes.append(layout.label(i, text))
        shapes.append(Box(layout.x0, y, max(layout.span * identified / widest, 1), 16, PALE_BLUE, BLUE, f"{shown}: {identified:,} identified"))
        shapes.append(Box(layout.x0, y, layout.span * reunified / widest, 16, BLUE, None, f"{shown}: {reunified:,} reunified"))
        shapes.append(layout.note(i, notes[i]))
    if not labelled:
        shapes.append(Label(width / 2, layout.top + 16, "No child identified by this date.", anchor="middle", fill=MUTED))
    top = labelled[0] if labelled else None
    summary = (
        f"{len(counts)} {label(dimension)} values; the largest, {fitted(top[0], 2 * MAX_LABEL_WIDTH, 12)}, "
        f"has {top[1]:,} children identified and {top[2]:,} reunified."
        if top
        else "No child identified by the as-of date."
    )
    return Chart(
        dimension.replace("_", "-"),
        title,
        summary,
        width,
        layout.height,
        tuple(shapes),
        (label(dimension), label("identified"), label("reunified")),
        tuple(labelled),
    )


def obligations(statuses: Mapping[str, Mapping[str, Any]], width: int = WIDTH) -> Chart:
    """One bar per obligation, split into its kind's statuses (of the cases it applies to): a
    deadline's met, met late, open and overdue; a duration's met, open and breached."""
    order = tuple(STATUS_COLOURS)
    names = [label(obligation) for obligation in statuses]
    lapses = [lapse(ObligationKind(row["kind"])).value for row in statuses.values()]
    notes = [f"{row[lapse]:,} {lapse}" for row, lapse in zip(statuses.values(), lapses, strict=True)]
    legend, legend_height = _legend([(STATUS_COLOURS[s], label(s), None) for s in order], width)
    layout = _Rows(width, names, notes, top=legend_height)
    shapes: list[Shape] = legend
    rows = []
    for i, (name, row) in enumerate(zip(names, statuses.values(), strict=True)):
        y = layout.bar_y(i)
        applicable = sum(row.get(status, 0) for status in order)
        shapes.append(layout.label(i, name))
        x = layout.x0
        for status in order:
            if row.get(status) and applicable:
                part = layout.span * row[status] / applicable
                shapes.append(Box(x, y, part, 16, STATUS_COLOURS[status], "#ffffff", f"{name}: {row[status]:,} {label(status)}"))
                x += part
        if not applicable:
            shapes.append(Box(layout.x0, y, layout.span, 16, "#ffffff", GRID, f"{name}: applies to no case yet"))
        shapes.append(layout.note(i, notes[i]))
        rows.append((name, label(row["kind"]), *(row.get(status, "–") for status in order)))
    overdue = sum(row.get("overdue", 0) for row in statuses.values())
    breached = sum(row.get("breached", 0) for row in statuses.values())
    worst = max(statuses.items(), key=lambda item: item[1].get("overdue", 0) + item[1].get("breached", 0), default=None)
    worst_count = worst[1].get("overdue", 0) + worst[1].get("breached", 0) if worst else 0
    summary = f"{overdue:,} deadline clocks overdue and {breached:,} duration clocks breached in all" + (
        f"; the most, {worst_count:,}, for {label(worst[0])}." if worst and worst_count else "."
    )
    return Chart(
        "obligations",
        "Obligations: met, met late, open, overdue and breached",
        summary,
        width,
        layout.height,
        tuple(shapes),
        (label("obligation"), label("kind"), *(label(status) for status in order)),
        tuple(rows),
    )


# --- layout helpers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    """Where a bar chart's rows go: labels beside the bars, or above them on a narrow chart, each
    cut to the room it has; the notes after the bars get the room the widest one needs."""

    width: float
    labels: Sequence[str]
    notes: Sequence[str] = ()
    top: float = 0  # room for a legend

    @property
    def narrow(self) -> bool:
        return self.width < NARROW

    @property
    def label_width(self) -> float:
        if self.narrow:
            return 0
        widest = max((text_width(fitted(label, MAX_LABEL_WIDTH, 12), 12) for label in self.labels), default=40)
        return min(widest, MAX_LABEL_WIDTH) + 4

    @property
    def row(self) -> float:
        return 40 if self.narrow else ROW

    @property
    def x0(self) -> float:
        return 0 if self.narrow else self.label_width + 8

    @property
    def note_room(self) -> float:
        return max(NOTE_ROOM, max((text_width(note, 11) for note in self.notes), default=0) + 10)

    @property
    def span(self) -> float:
        return max(self.width - self.note_room - self.x0, 1)

    @property
    def height(self) -> float:
        return self.top + max(1, len(self.labels)) * self.row + 4

    def bar_y(self, i: int) -> float:
        return self.top + i * self.row + (20 if self.narrow else 4)

    def label(self, i: int, text: str) -> Label:
        if self.narrow:
            return Label(0, self.top + i * self.row + 15, fitted(text, self.width, 12))
        return Label(self.label_width, self.top + i * self.row + 16, fitted(text, MAX_LABEL_WIDTH, 12), anchor="end")

    def note(self, i: int, text: str) -> Label:
        return Label(self.x0 + self.span + 6, self.bar_y(i) + 12, text, size=11, fill=MUTED)


def _legend(entries: Sequence[tuple[str, str, str | None]], width: float) -> tuple[list[Shape], float]:
    """The legend's shapes, in as many lines as `width` needs, and the height they take."""
    shapes: list[Shape] = []
    x, y = 0.0, 0.0
    for colour, name, stroke in entries:
        entry = 17 + text_width(name, 11)
        if x and x + entry > width:
            x, y = 0.0, y + 20
        shapes.append(Box(x, y + 4, 12, 12, colour, stroke))
        shapes.append(Label(x + 17, y + 14, name, size=11))
        x += entry + 16
    return shapes, y + 24


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"
