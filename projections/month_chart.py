"""Children reunified by month: one column per month, from the first to the last shown.

A column is never wider than MAX_BAR, centred in its month's slot: a single month filled the
whole plot as one block, which read as a year's worth. The time axis labels every month, every
second, third or sixth (calendar-aligned) when "YYYY-MM" fits that often, else the years, every
one, two, five… when "YYYY" does. Labels are then placed first-come in priority order (a whole
year before the part-year the series starts in) and any that would touch one already placed, or
a gridline's value, is left out: with 60 months on a phone the part-year's label sat on the next
year's.
"""

import math
from collections.abc import Mapping, Sequence
from datetime import date

from projections.chart_shapes import BLUE, MUTED, WIDTH, Box, Chart, Extent, Label, Rule, Shape, extent
from projections.chart_text import text_width

AXIS_SIZE = 11  # px, the axis labels' font size
MAX_BAR = 40  # px
LABEL_GAP = 6  # px at least between two axis labels
MONTH_STEPS = (1, 2, 3, 6)
YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100)


def reunified_by_month(by_month: Mapping[str, int], width: float = WIDTH) -> Chart:
    months = _month_range(min(by_month), max(by_month)) if by_month else []
    counts = [by_month.get(month, 0) for month in months]
    ticks = _ticks(max(counts, default=0))
    height, top, bottom, right = 240, 16, 28, 8
    left = max(44.0, text_width(f"{ticks[-1]:,}", AXIS_SIZE) + 10)  # room for the widest gridline value
    plot_width, plot_height = width - left - right, height - top - bottom
    base = top + plot_height
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
        values = []
        for tick in ticks:
            y = base - tick * scale
            shapes.append(Rule(left, y, width - right, y))
            values.append(Label(left - 6, y + 4, f"{tick:,}", size=AXIS_SIZE, anchor="end", fill=MUTED))
        shapes += values
        step = plot_width / len(months)
        bar = min(step - (1 if step > 3 else 0), MAX_BAR)
        for i, (month, n) in enumerate(zip(months, counts, strict=True)):
            if n:
                shapes.append(Box(left + i * step + (step - bar) / 2, base - n * scale, bar, n * scale, BLUE, tip=f"{month}: {n:,}"))
        shapes.append(Rule(left, base, width - right, base, MUTED))
        shapes += _time_axis(months, left, step, base, height - 8, width, [extent(value) for value in values])
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


def _time_axis(
    months: Sequence[str], left: float, step: float, base: float, baseline: float, width: float, taken: list[Extent]
) -> list[Shape]:
    """The axis's ticks and labels, none touching another or anything in `taken`."""
    month_room = text_width("0000-00", AXIS_SIZE) + LABEL_GAP
    every = next((k for k in MONTH_STEPS if k * step >= month_room), None)
    # (x of the tick, its label), most wanted first.
    wanted: list[tuple[float, Label]] = []
    if every is not None:
        for i, month in enumerate(months):
            if (int(month[5:]) - 1) % every == 0:
                x = left + (i + 0.5) * step
                wanted.append((x, Label(x, baseline, month, size=AXIS_SIZE, anchor="middle", fill=MUTED)))
    else:
        year_room = text_width("0000", AXIS_SIZE) + LABEL_GAP
        years = next((k for k in YEAR_STEPS if k * 12 * step >= year_room), YEAR_STEPS[-1])
        starts = [(i, month[:4]) for i, month in enumerate(months) if month.endswith("-01") and int(month[:4]) % years == 0]
        if not months[0].endswith("-01"):
            starts.append((0, months[0][:4]))  # the part-year the series starts in, if there is room
        for i, year in starts:
            x = left + i * step
            wanted.append((x, Label(x, baseline, year, size=AXIS_SIZE, fill=MUTED)))
    shapes: list[Shape] = []
    for x, label in wanted:
        placed = _within(label, width)
        box = extent(placed)
        if any(box.overlaps(other, LABEL_GAP) for other in taken):
            continue
        taken.append(box)
        shapes += [Rule(x, base, x, base + 4, MUTED), placed]
    return shapes


def _within(label: Label, width: float) -> Label:
    """The label moved sideways, if need be, to lie within the chart."""
    box = extent(label)
    shift = -box.left if box.left < 0 else width - box.right if box.right > width else 0
    return Label(label.x + shift, label.y, label.text, label.size, label.anchor, label.fill) if shift else label


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
