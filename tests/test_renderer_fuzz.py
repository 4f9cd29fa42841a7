"""Renderers that cannot break: every format of the report (JSON, CSV, HTML, PDF) and the
dashboard's SVG charts, drawn from extreme report data: many keys, long keys (hundreds of
characters, wide, right-to-left, combining, control characters a log may hold from before the
door refused them), zero counts, one month, a hundred months.

Found: a PDF with 40 border sectors of 60 characters answered 500 (a ReportLab layout error) on the
API, the dashboard and the CLI. The report's shape comes from the real report of an empty ledger;
only its keys and numbers are drawn, so the test follows the report wherever its shape goes.
"""

import copy
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from domain.as_of import AsOf
from domain.envelope import Posting
from ledger.application import Ledger
from projections.chart_text import text_width
from projections.chart_shapes import PHONE_WIDTH, WIDTH, Box, Chart, Label, svg
from projections.charts import report_charts
from projections.definitions import definitions
from projections.render import Format, render
from projections.report import compliance_report
from projections.runner import Projection
from tests.builders import separation
from tests.harness import Tokens
from tests.report_samples import json_numbers
from tests.test_cli import Run, assert_succeeded, cli, key_file  # noqa: F401
from tests.test_dashboard import sign_in

REPORT = "/v1/reports/compliance"


@pytest.fixture(scope="module")
def empty_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with Ledger(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/ledger.db") as ledger:
        ledger.appender.adopt_default_terms()
        projection = Projection(ledger)
        projection.catch_up()
        return compliance_report(ledger, projection, ledger.reader.resolve(AsOf.now()), None, 0)


# Text a key may hold: plain, accented, wide (CJK), right-to-left, combining marks, emoji, and the
# control and invisible characters older validation let into the log (all but NUL and surrogates).
KEY_CHARACTERS = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
KEYS = st.one_of(
    st.text(KEY_CHARACTERS, min_size=1, max_size=400),
    st.sampled_from(["El Paso", "北京市朝阳区" * 20, "القاهرة الجديدة " * 12, "a" * 300, "W" * 60, "e\u0301" * 90, "👩🏽‍⚕️" * 40]),
)
COUNTS = st.one_of(st.just(0), st.integers(0, 50), st.integers(0, 10**9))


@st.composite
def months(draw: st.DrawFn) -> dict[str, int]:
    first = draw(st.integers(2017 * 12, 2100 * 12))
    span = draw(st.sampled_from([0, 1, 99, draw(st.integers(0, 120))]))
    chosen = range(first, first + span + 1) if draw(st.booleans()) else sorted({first, first + span})
    return {f"{i // 12:04d}-{i % 12 + 1:02d}": draw(COUNTS) for i in chosen}


def counts_of(draw: st.DrawFn, template: dict[str, Any]) -> dict[str, Any]:
    return {key: draw(COUNTS) if isinstance(value, int) and not isinstance(value, bool) else value for key, value in template.items()}


@st.composite
def extreme_reports(draw: st.DrawFn, base: dict[str, Any], max_keys: int) -> dict[str, Any]:
    report = copy.deepcopy(base)
    children = report["children"]
    children["remaining_by_status"] = counts_of(draw, children["remaining_by_status"])
    children.update(counts_of(draw, {k: v for k, v in children.items() if k != "remaining_by_status"}))
    report["families"] = {**counts_of(draw, report["families"]), "services": counts_of(draw, report["families"]["services"])}
    for dimension in report["breakdowns"]:
        keys = draw(st.lists(KEYS, max_size=max_keys, unique=True))
        report["breakdowns"][dimension] = {key: {"identified": draw(COUNTS), "reunified": draw(COUNTS)} for key in keys}
    report["reunified_by_facilitator"] = counts_of(draw, report["reunified_by_facilitator"])
    report["reunified_by_month"] = draw(months())
    for name, row in report["obligations"].items():
        report["obligations"][name] = {
            **counts_of(draw, row),
            "median_days": draw(st.one_of(st.none(), st.integers(0, 10**6), st.floats(0, 10**6, allow_nan=False))),
        }
    report["data_quality"] = counts_of(draw, report["data_quality"])
    return report


def assert_renders(report: dict[str, Any], formats: tuple[Format, ...]) -> None:
    notes = definitions(30)
    for format in formats:
        body = render(report, format, notes)
        if format is Format.JSON:
            assert json.loads(body) == report
        elif format is Format.CSV:
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
            assert rows[0] == ["section", "group", "key", "measure", "value"]
            assert len(rows) - 1 == sum(1 for _ in json_numbers(report)), "one row per number"
        elif format is Format.CSV_TABLES:
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
            assert ["children by border sector"] in rows
        elif format is Format.HTML:
            assert body.startswith(b"<!doctype html>")
        else:
            assert len(PdfReader(io.BytesIO(body)).pages) >= 3
    for width in (WIDTH, PHONE_WIDTH):
        for chart in report_charts(report, width):
            drawn = svg(chart)
            assert drawn.startswith("<svg") and drawn.endswith("</svg>")
            assert_within(chart)


def assert_within(chart: Chart) -> None:
    """Every shape inside the chart's width, labels as wide as the charts estimate them."""
    for shape in chart.shapes:
        if isinstance(shape, Label):
            extent = text_width(shape.text, shape.size)
            left = {"start": shape.x, "middle": shape.x - extent / 2, "end": shape.x - extent}[shape.anchor]
            assert -0.5 <= left and left + extent <= chart.width + 0.5, (chart.key, shape)
        elif isinstance(shape, Box):
            assert -0.5 <= shape.x and shape.x + shape.width <= chart.width + 0.5, (chart.key, shape)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_text_format_and_chart_renders_extreme_reports(empty_report: dict[str, Any], data: st.DataObject) -> None:
    assert_renders(data.draw(extreme_reports(empty_report, max_keys=60)), (Format.JSON, Format.CSV, Format.CSV_TABLES, Format.HTML))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_the_pdf_renders_extreme_reports(empty_report: dict[str, Any], data: st.DataObject) -> None:
    assert_renders(data.draw(extreme_reports(empty_report, max_keys=40)), (Format.PDF,))


def deterministic_extremes(base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The extremes by name: a hundred months, one month, nothing but zeros, hundreds of long keys."""
    hundred_months = copy.deepcopy(base)
    hundred_months["reunified_by_month"] = {f"{2017 + i // 12}-{i % 12 + 1:02d}": i * 10**6 for i in range(100)}
    yield hundred_months
    one_month = copy.deepcopy(base)
    one_month["reunified_by_month"] = {"2021-05": 1}
    yield one_month
    yield copy.deepcopy(base)  # all zeros, no key
    many = copy.deepcopy(base)
    for n, dimension in enumerate(many["breakdowns"]):
        alphabet = ["北京市朝阳区", "القاهرة الجديدة ", "Ω" * 7, "x\u200by\u202e"][n]
        many["breakdowns"][dimension] = {f"{i} {alphabet * 40}"[:400]: {"identified": i, "reunified": 0} for i in range(300)}
    yield many


def test_named_extremes_render_in_every_format(empty_report: dict[str, Any]) -> None:
    for report in deterministic_extremes(empty_report):
        assert_renders(report, tuple(Format))


def forty_long_sectors() -> dict[str, dict[str, int]]:
    return {f"Sector {n:02d} " + "of a very long name indeed, sixty characters"[: 60 - 10]: {"identified": n, "reunified": n // 2} for n in range(40)}


def test_the_pdf_with_forty_sectors_of_sixty_characters_lays_out(empty_report: dict[str, Any]) -> None:
    report = copy.deepcopy(empty_report)
    report["breakdowns"]["border_sector"] = forty_long_sectors()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render(report, Format.PDF, definitions(30)))).pages)
    assert "Sector 39" in " ".join(text.split())


def test_a_label_too_long_for_a_table_is_cut_there_and_printed_whole_in_an_appendix(empty_report: dict[str, Any]) -> None:
    report = copy.deepcopy(empty_report)
    whole = " ".join(f"word{n:03d}" for n in range(50))  # 399 characters
    report["breakdowns"]["border_sector"] = {whole: {"identified": 7, "reunified": 1}, "El Paso\u200b": {"identified": 1, "reunified": 0}}
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(render(report, Format.PDF, definitions(30)))).pages]
    tables_text, appendix = " ".join(pages[:-1]), pages[-1]
    assert f"{whole[:50]}… [1]" in tables_text and whole not in tables_text
    assert "Appendix C. Labels in full" in appendix and f"[1] {whole}" in appendix
    assert "El Paso[U+200B]" in tables_text, "a character one cannot see is printed as its code"


@pytest.fixture
def long_sectors_logged(client: TestClient, tokens: Tokens) -> Iterator[None]:
    """Forty separations whose sectors are 60 characters long, as the older validation let them in
    (appended without the door's checks, as then): replayed as stored, and reported."""
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    frtf = ledger.tokens.authenticate(tokens.secret("FRTF"))
    postings = []
    for n, sector in enumerate(forty_long_sectors()):
        event = separation(f"FRTF-{n}")
        event["data"]["border_sector"] = sector
        postings.append(Posting(event["event_id"], event["case_id"], event["type"], "2021-05-03T14:00:00.000000Z", event["data"]))
    ledger.appender.append(postings, frtf)
    yield


@pytest.mark.usefixtures("long_sectors_logged")
def test_forty_long_sectors_give_a_pdf_on_the_api_the_dashboard_and_the_cli(
    client: TestClient, tokens: Tokens, cli: Run, tmp_path: Path  # noqa: F811
) -> None:
    api = client.get(REPORT, params={"format": "pdf"}, headers=tokens.get("MONITOR", "monitor"))
    assert api.status_code == 200 and api.content.startswith(b"%PDF")
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    page = client.get("/")
    assert page.status_code == 200
    link = re.search(r'<a href="(/download/compliance\.pdf\?as_of=[^"]+)" download>', page.text).group(1)
    downloaded = client.get(link)
    assert downloaded.status_code == 200 and downloaded.content.startswith(b"%PDF")
    out = tmp_path / "exhibit.pdf"
    assert_succeeded(cli("report", "--format", "pdf", "--out", out))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    assert "Appendix C. Labels in full" not in text, "sixty characters are shown whole, wrapped"
    assert "Sector 39 of a very long name" in text
