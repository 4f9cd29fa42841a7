"""The charts' fixes of issue 16: one month is drawn as one bar, not a block the plot's width, and
no two labels of a chart overlap, whatever the months (1, 2, 12, 60, 100, from January or from
late in a year) and the width (a laptop's, a phone's). Each label's box is computed here from the
chart's shapes: its anchor, its font size and the estimated width of its text."""

from itertools import combinations
from typing import Any

import pytest

from ledger.checkpoints import Signer
from projections.chart_text import text_width
from projections.chart_shapes import PHONE_WIDTH, WIDTH, Box, Chart, Label
from projections.charts import report_charts
from projections.month_chart import MAX_BAR, reunified_by_month
from tests.report_samples import demo_report

WIDTHS = (WIDTH, 480, PHONE_WIDTH)


def months(count: int, first: str = "2018-01") -> dict[str, int]:
    start = int(first[:4]) * 12 + int(first[5:]) - 1
    return {f"{(start + i) // 12:04d}-{(start + i) % 12 + 1:02d}": (i * 37) % 11 + 1 for i in range(count)}


def box(label: Label) -> tuple[float, float, float, float]:
    """(left, top, right, bottom): a full em above the baseline, a descender's depth below."""
    width = text_width(label.text, label.size)
    left = {"start": label.x, "middle": label.x - width / 2, "end": label.x - width}[label.anchor]
    return left, label.y - label.size, left + width, label.y + 0.3 * label.size


def overlapping(chart: Chart) -> list[tuple[str, str]]:
    labels = [shape for shape in chart.shapes if isinstance(shape, Label)]
    found = []
    for a, b in combinations(labels, 2):
        (l1, t1, r1, b1), (l2, t2, r2, b2) = box(a), box(b)
        if l1 < r2 and l2 < r1 and t1 < b2 and t2 < b1:
            found.append((a.text, b.text))
    return found


def axis_labels(chart: Chart) -> list[Label]:
    return [shape for shape in chart.shapes if isinstance(shape, Label) and shape.y > chart.height - 20]


@pytest.mark.parametrize("width", WIDTHS)
def test_one_month_is_drawn_as_one_bar_not_a_block(width: int) -> None:
    chart = reunified_by_month({"2021-05": 7}, width)
    [bar] = [shape for shape in chart.shapes if isinstance(shape, Box)]
    assert bar.width <= MAX_BAR < width / 4
    [axis] = axis_labels(chart)
    assert axis.text == "2021-05" and axis.anchor == "middle" and abs(axis.x - (bar.x + bar.width / 2)) < 0.01


@pytest.mark.parametrize("width", WIDTHS)
def test_two_months_are_two_bars_each_under_its_month(width: int) -> None:
    chart = reunified_by_month({"2021-05": 7, "2021-06": 3}, width)
    bars = [shape for shape in chart.shapes if isinstance(shape, Box)]
    assert [bar.width <= MAX_BAR for bar in bars] == [True, True]
    assert [label.text for label in axis_labels(chart)] == ["2021-05", "2021-06"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("count", [1, 2, 12, 60, 100])
@pytest.mark.parametrize("first", ["2018-01", "2018-11"])
def test_no_two_labels_of_the_month_chart_overlap(width: int, count: int, first: str) -> None:
    chart = reunified_by_month(months(count, first), width)
    assert overlapping(chart) == []
    for label in chart.shapes:
        if isinstance(label, Label):
            left, top, right, bottom = box(label)
            assert -0.5 <= left and right <= width + 0.5 and 0 <= top and bottom <= chart.height, label
    shown = axis_labels(chart)
    assert shown, "the time axis says when"
    assert len(shown) >= min(count, 2)


def test_sixty_months_on_a_phone_name_their_years(width: int = PHONE_WIDTH) -> None:
    chart = reunified_by_month(months(60, "2018-11"), width)
    assert [label.text for label in axis_labels(chart)] == ["2019", "2020", "2021", "2022", "2023"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, signer: Signer, master_key: bytes) -> dict[str, Any]:
    return demo_report(tmp_path_factory.mktemp("charts"), signer, master_key)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_two_labels_of_any_chart_of_a_report_overlap(report: dict[str, Any], width: int) -> None:
    for chart in report_charts(report, width):
        assert overlapping(chart) == [], chart.key
