"""The compliance report's charts, laid out once as plain shapes.

The dashboard writes them out as SVG (`svg`), the PDF report draws the same shapes with reportlab
(projections/pdf.py): both show one picture of the same numbers, taken from the report's JSON
form and never recomputed. Each chart also carries its numbers as a table, for screen readers
and for whoever would rather read than look.

Colours keep at least 3:1 contrast against white (WCAG 1.4.11), and no chart relies on colour
alone: every bar is labelled or listed in the legend's order.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

import pycountry

from projections.chart_text import fitted, text_width

INK = "#1b1b1b"
MUTED = "#575757"
GRID = "#d6d6d6"
BLUE = "#0b5cad"
PALE_BLUE = "#cfe1f5"
STATUS_COLOURS = {"met": BLUE, "met_late": "#8a5a00", "open": "#737373", "overdue": "#b42318", "breached": "#6f2da8"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
WIDTH = 640
NARROW = 480  # charts narrower than this put bar labels above the bars
PHONE_WIDTH = 340
ROW = 24  # a bar's row, in px
MAX_ROWS = 12  # a breakdown shows its largest values; the rest are summed into "other"
MAX_LABEL_WIDTH = 200  # px: a longer label is cut (the chart's table keeps it whole)
NOTE_ROOM = 96  # px on the right of a bar for its note, at least


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    fill: str
    stroke: str | None = None
    tip: str | None = None  # shown on hover in the browser


@dataclass(frozen=True, slots=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = GRID


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float  # the text's baseline
    text: str
    size: float = 12
    anchor: str = "start"  # start, middle or end
    fill: str = INK
    bold: bool = False


Shape = Box | Rule | Label


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # unique on a page, used in element ids
    title: str
    summary: str  # one sentence: what the picture shows
    width: float
    height: float
    shapes: tuple[Shape, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def report_charts(report: Mapping[str, Any], width: int = WIDTH) -> list[Chart]:
    """The charts of one report, in the order the dashboard and the PDF show them. Below
    NARROW px wide (a phone), bar labels go above the bars instead of beside them."""
    return [
        reunified_by_month(report["reunified_by_month"], width),
        children_by_status(report["children"], width),
        breakdown("nationality", "Children by nationality", report["breakdowns"]["nationality"], width, country_name),
        breakdown("border_sector", "Children by border sector", report["breakdowns"]["border_sector"], width),
        obligations(report["obligations"], width),
    ]


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return f"{code} {getattr(country, 'common_name', None) or country.name}" if country else code


# --- the charts -----------------------------------------------------------------------------------


def reunified_by_month(by_month: Mapping[str, int], width: int = WIDTH) -> Chart:
    """Columns: children reunified in each month, every month from the first to the last shown."""
    months = _month_range(min(by_month), max(by_month)) if by_month else []
    counts = [by_month.get(month, 0) for month in months]
    ticks = _ticks(max(counts, default=0))
    height, top, bottom, right = 240, 16, 28, 8
    left = max(44.0, text_width(f"{ticks[-1]:,}", 11) + 10)  # room for the widest gridline label
    plot_width, plot_height = width - left - right, height - top - bottom
    shapes: list[Shape] = []
    rows, total = [], 0
    for month, n in zip(months, counts, strict=True):
        total += n
        rows.append((month, n, total))
    if not months:
        shapes.append(Label(width / 2, height / 2, "No reunification recorded by this date.", anchor="middle", fill=MUTED))
        summary = "No child had been reunified by the as-of date."
    else:
        scale = plot_height / ticks[-1]
        for tick in ticks:
            y = top + plot_height - tick * scale
            shapes.append(Rule(left, y, width - right, y))
            shapes.append(Label(left - 6, y + 4, f"{tick:,}", size=11, anchor="end", fill=MUTED))
        step = plot_width / len(months)
        gap = 1 if step > 3 else 0
        for i, (month, n) in enumerate(zip(months, counts, strict=True)):
            if n:
                shapes.append(Box(left + i * step + gap / 2, top + plot_height - n * scale, step - gap, n * scale, BLUE, tip=f"{month}: {n:,}"))
        shapes.append(Rule(left, top + plot_height, width - right, top + plot_height, MUTED))
        years = sorted({month[:4] for month in months})
        every = max(1, math.ceil(len(years) * 40 / plot_width))  # a year label needs about 40 px
        for year in years[::every]:
            first = months.index(year + "-01") if year + "-01" in months else 0
            x = left + first * step
            shapes.append(Rule(x, top + plot_height, x, top + plot_height + 4, MUTED))
            # The last year's label may start too near the right edge: it ends there instead.
            ends_at_edge = x + text_width(year, 11) > width
            shapes.append(Label(width if ends_at_edge else x, height - 8, year, size=11, fill=MUTED, anchor="end" if ends_at_edge else "start"))
        busiest = months[counts.index(max(counts))]
        summary = (
            f"{total:,} children reunified from {months[0]} to {months[-1]}; "
            f"the most in one month was {max(counts):,}, in {busiest}."
        )
    return Chart(
        "reunified-by-month",
        "Children reunified, by month of reunification",
        summary,
        width,
        height,
        tuple(shapes),
        ("month", "reunified", "cumulative"),
        tuple(rows),
    )


def children_by_status(children: Mapping[str, Any], width: int = WIDTH) -> Chart:
    """One bar per status: reunified, then each status of the remaining children."""
    named = [("reunified", children["reunified"])] + [
        (status.replace("_", " "), n) for status, n in children["remaining_by_status"].items()
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


def breakdown(dimension: str, title: str, counts: Mapping[str, Mapping[str, int]], width: int = WIDTH, name: Any = str) -> Chart:
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
    labelled = [(name(key) if key in counts else key, n["identified"], n["reunified"]) for key, n in ordered]
    notes = [f"{reunified:,} / {identified:,}" for _, identified, reunified in labelled]
    legend, legend_height = _legend([(PALE_BLUE, "identified", BLUE), (BLUE, "reunified", None)], width)
    layout = _Rows(width, [label for label, _, _ in labelled], notes, top=legend_height)
    widest = max((max(identified, reunified) for _, identified, reunified in labelled), default=0) or 1
    shapes: list[Shape] = legend
    for i, (label, identified, reunified) in enumerate(labelled):
        y = layout.bar_y(i)
        shown = fitted(label, 2 * MAX_LABEL_WIDTH, 12)  # a hover tip may run longer than a label
        shapes.append(layout.label(i, label))
        shapes.append(Box(layout.x0, y, max(layout.span * identified / widest, 1), 16, PALE_BLUE, BLUE, f"{shown}: {identified:,} identified"))
        shapes.append(Box(layout.x0, y, layout.span * reunified / widest, 16, BLUE, None, f"{shown}: {reunified:,} reunified"))
        shapes.append(layout.note(i, notes[i]))
    if not labelled:
        shapes.append(Label(width / 2, layout.top + 16, "No child identified by this date.", anchor="middle", fill=MUTED))
    top = labelled[0] if labelled else None
    summary = (
        f"{len(counts)} {dimension.replace('_', ' ')} values; the largest, {fitted(top[0], 2 * MAX_LABEL_WIDTH, 12)}, "
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
        (dimension.replace("_", " "), "identified", "reunified"),
        tuple(labelled),
    )


def obligations(statuses: Mapping[str, Mapping[str, Any]], width: int = WIDTH) -> Chart:
    """One bar per obligation, split into its kind's statuses (of the cases it applies to): a
    deadline's met, met late, open and overdue; a duration's met, open and breached."""
    order = tuple(STATUS_COLOURS)
    names = [obligation.replace("_", " ") for obligation in statuses]
    lapses = ["breached" if row["kind"] == "duration" else "overdue" for row in statuses.values()]
    notes = [f"{row[lapse]:,} {lapse}" for row, lapse in zip(statuses.values(), lapses, strict=True)]
    legend, legend_height = _legend([(STATUS_COLOURS[s], s.replace("_", " "), None) for s in order], width)
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
                shapes.append(Box(x, y, part, 16, STATUS_COLOURS[status], "#ffffff", f"{name}: {row[status]:,} {status.replace('_', ' ')}"))
                x += part
        if not applicable:
            shapes.append(Box(layout.x0, y, layout.span, 16, "#ffffff", GRID, f"{name}: applies to no case yet"))
        shapes.append(layout.note(i, notes[i]))
        rows.append((name, row["kind"], *(row.get(status, "–") for status in order)))
    overdue = sum(row.get("overdue", 0) for row in statuses.values())
    breached = sum(row.get("breached", 0) for row in statuses.values())
    worst = max(statuses.items(), key=lambda item: item[1].get("overdue", 0) + item[1].get("breached", 0), default=None)
    worst_count = worst[1].get("overdue", 0) + worst[1].get("breached", 0) if worst else 0
    summary = f"{overdue:,} deadline clocks overdue and {breached:,} duration clocks breached in all" + (
        f"; the most, {worst_count:,}, for {worst[0].replace('_', ' ')}." if worst and worst_count else "."
    )
    return Chart(
        "obligations",
        "Obligations: met, met late, open, overdue and breached",
        summary,
        width,
        layout.height,
        tuple(shapes),
        ("obligation", "kind", *(status.replace("_", " ") for status in order)),
        tuple(rows),
    )


# --- SVG ----------------------------------------------------------------------------------------


def svg(chart: Chart, css_class: str = "chart") -> str:
    """The chart as an inline SVG element, its text escaped (safe to mark safe in a template)."""
    ids = f"chart-{chart.key}-{chart.width:g}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" viewBox="0 0 {chart.width:g} {chart.height:g}" '
        f'width="{chart.width:g}" height="{chart.height:g}" role="img" aria-labelledby="{ids}-title {ids}-desc" '
        f'font-family="{escape(FONT)}">',
        f'<title id="{ids}-title">{escape(chart.title)}</title>',
        f'<desc id="{ids}-desc">{escape(chart.summary)}</desc>',
    ]
    for shape in chart.shapes:
        if isinstance(shape, Box):
            stroke = f' stroke="{shape.stroke}"' if shape.stroke else ""
            tip = f"<title>{escape(shape.tip)}</title>" if shape.tip else ""
            parts.append(
                f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.width:.1f}" height="{shape.height:.1f}" '
                f'fill="{shape.fill}"{stroke}>{tip}</rect>'
            )
        elif isinstance(shape, Rule):
            parts.append(f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" y2="{shape.y2:.1f}" stroke="{shape.stroke}"/>')
        else:
            weight = ' font-weight="600"' if shape.bold else ""
            parts.append(
                f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" text-anchor="{shape.anchor}" '
                f'fill="{shape.fill}"{weight}>{escape(shape.text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


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


def _ticks(top: int) -> list[int]:
    """Round gridline values from 0 to at least `top`: steps of 1, 2 or 5 times a power of ten."""
    top = max(top, 1)
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _month_range(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first + "-01"), date.fromisoformat(last + "-01")
    months = []
    index = start.year * 12 + start.month - 1
    while index <= end.year * 12 + end.month - 1:
        months.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
        index += 1
    return months
