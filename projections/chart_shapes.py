"""What a chart is made of: boxes, rules and labels in a width × height frame, and its SVG.

The charts (projections/charts.py, projections/month_chart.py) lay themselves out once as these
plain shapes; the dashboard and the HTML report write them out as inline SVG (`svg`: presentation
attributes only, no style attribute, so the pages' Content-Security-Policy needs nothing more), and
the PDF draws the same shapes with reportlab. `extent` is where a label's text lies, so a layout
can keep labels apart and a test can check that none overlap.

Colours keep at least 3:1 contrast against white (WCAG 1.4.11).
"""

from dataclasses import dataclass
from html import escape
from typing import Any

from projections.chart_text import text_width

INK = "#1b1b1b"
MUTED = "#575757"
GRID = "#d6d6d6"
BLUE = "#0b5cad"
PALE_BLUE = "#cfe1f5"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
WIDTH = 640
NARROW = 480  # charts narrower than this put bar labels above the bars
PHONE_WIDTH = 340


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


@dataclass(frozen=True, slots=True)
class Extent:
    """The rectangle a label's text covers (y grows downwards, as in SVG)."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: "Extent", gap: float = 0) -> bool:
        return (
            self.left < other.right + gap
            and other.left < self.right + gap
            and self.top < other.bottom + gap
            and other.top < self.bottom + gap
        )


def extent(label: Label) -> Extent:
    """From a full em above the baseline (accents included) to a descender's depth below it."""
    width = text_width(label.text, label.size)
    left = {"start": label.x, "middle": label.x - width / 2, "end": label.x - width}[label.anchor]
    return Extent(left, label.y - label.size, left + width, label.y + 0.3 * label.size)


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
