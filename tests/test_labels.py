"""Labels, not keys (issue 16): every key of the compliance report has a label in one table
(projections/labels.py), and no form a person reads (the tidy and tables CSV, HTML, PDF, the
charts, the dashboard and its overdue download) shows a raw key such as `in_process`, `5_to_17`
or `work_authorization_decision`, or an organization's code without its name. The JSON report
keeps its keys: it is the contract.

A key added to the report (a data-quality count, say) fails the first test until it has a label."""

import copy
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from domain.case_facts import REMAINING_STATUSES
from domain.vocabulary import Obligation, Service
from domain.organizations import Organization
from domain.obligation_status import STATUSES_OF
from ledger.checkpoints import Signer
from projections.case_rows import BREAKDOWNS
from projections.chart_text import fitted
from projections.chart_shapes import WIDTH, Label, svg
from projections.charts import MAX_LABEL_WIDTH, report_charts
from projections.report_numbers import DATA_QUALITY
from projections.definitions import DEFINITIONS, definitions
from projections.labels import LABELS, path_parts
from projections.render import Format, render
from tests.harness import Tokens
from tests.report_samples import demo_report
from tests.test_dashboard import post_two_families, sign_in


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, signer: Signer, master_key: bytes) -> dict[str, Any]:
    return demo_report(tmp_path_factory.mktemp("labels"), signer, master_key)


def report_keys(value: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every key of a report's JSON form, but the data a breakdown or a month is keyed by."""
    if isinstance(value, list):
        for inner in value:
            yield from report_keys(inner, path)
    if not isinstance(value, dict):
        return
    for key, inner in value.items():
        # A border sector, a nationality or a month is data; an age band is the report's own.
        data = path[:1] == ("breakdowns",) and len(path) == 2 and path[1] != "age_band" or path == ("reunified_by_month",)
        if not data:
            yield key
        yield from report_keys(inner, (*path, key))


def test_every_key_of_the_report_has_a_label(report: dict[str, Any]) -> None:
    what_if = copy.deepcopy(report) | {"terms": {**report["terms"], "what_if": True}}
    keys = set(report_keys(report)) | set(report_keys(what_if))
    assert {"in_process", "5_to_17", "under_5", "AOL", "court_order_id", "median_days"} <= keys, "the sample has every section"
    # What the report may hold that this sample does not: every status, service, obligation,
    # organization and data-quality measure the code knows.
    keys |= {*REMAINING_STATUSES, *(s.value for s in Service), *(o.value for o in Obligation), *BREAKDOWNS}
    keys |= {*(status for statuses in STATUSES_OF.values() for status in statuses), *DATA_QUALITY, *(o.value for o in Organization)}
    missing = sorted(keys - LABELS.keys())
    assert not missing, f"report keys without a label in projections/labels.py: {missing}"


def test_every_definition_is_named_by_labels() -> None:
    missing = sorted({part for key in DEFINITIONS for part in key.split(".")} - LABELS.keys())
    assert not missing, f"definition keys without a label: {missing}"
    assert path_parts("breakdowns.border_sector.St. Louis.identified") == ["breakdowns", "border sector", "St. Louis", "identified"]


# Keys a reader must never meet: those with an underscore, a digit first, or an organization's
# code (shown only as part of its label, "AOL (Al Otro Lado)").
RAW = sorted((key for key, words in LABELS.items() if key != words and ("_" in key or key[0].isdigit())), key=len, reverse=True)
CODES = {organization.value: LABELS[organization.value] for organization in Organization}


def raw_keys_in(text: str) -> list[str]:
    for words in CODES.values():
        text = text.replace(words, " ")
    # A query parameter of a URL the text gives (GET /v1/checkpoint?tree_size=N) is the API's name.
    found = [key for key in RAW if re.search(rf"(?<![\w?&-]){re.escape(key)}(?![\w-])", text)]
    return found + [code for code in CODES if re.search(rf"(?<![\w-]){code}(?![\w-])", text)]


class VisibleText(HTMLParser):
    """The text a browser shows (and reads aloud: titles and descriptions of charts included)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.feed(html)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def test_the_raw_key_check_finds_keys_and_bare_codes() -> None:
    assert raw_keys_in("remaining: in_process 3; 5_to_17: 4") == ["in_process", "5_to_17"]
    assert raw_keys_in("IOM 3, AOL (Al Otro Lado) 2") == ["IOM"]
    assert raw_keys_in("in process, 5 to 17, IOM (International Organization for Migration), case FRTF-000123") == []


def test_no_rendered_format_shows_a_raw_key(report: dict[str, Any]) -> None:
    notes = definitions(30)
    for format in (Format.CSV, Format.CSV_TABLES):
        body = render(report, format, notes).decode("utf-8-sig")
        assert raw_keys_in(body) == [], format
    html = render(report, Format.HTML, notes).decode()
    assert raw_keys_in(VisibleText(html).text) == [], "html"
    pdf = PdfReader(io.BytesIO(render(report, Format.PDF, notes)))
    assert raw_keys_in(" ".join(" ".join(page.extract_text().split()) for page in pdf.pages)) == [], "pdf"
    for chart in report_charts(report):
        assert raw_keys_in(VisibleText(svg(chart)).text) == [], chart.key
        assert raw_keys_in(" ".join(str(cell) for row in chart.rows for cell in (*row, *chart.header))) == [], chart.key


def test_the_json_report_keeps_its_keys(report: dict[str, Any]) -> None:
    body = render(report, Format.JSON, definitions(30)).decode()
    assert '"in_process":' in body and '"5_to_17":' in body and '"work_authorization_decision":' in body


def test_every_label_a_chart_row_shows_fits_its_room(report: dict[str, Any]) -> None:
    for key in (*REMAINING_STATUSES, *(o.value for o in Obligation)):
        assert fitted(LABELS[key], MAX_LABEL_WIDTH, 12) == LABELS[key], key
    obligations = {chart.key: chart for chart in report_charts(report, WIDTH)}["obligations"]
    shown = {shape.text for shape in obligations.shapes if isinstance(shape, Label)}
    assert "work authorization decision" in shown and "asylum filing window" in shown


def test_every_organizations_label_is_printed_whole_in_the_pdf(report: dict[str, Any]) -> None:
    every = copy.deepcopy(report)
    every["reunified_by_facilitator"] = {organization.value: n for n, organization in enumerate(Organization)}
    pdf = PdfReader(io.BytesIO(render(every, Format.PDF, definitions(30))))
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    assert "Appendix C" not in text, "no label cut"
    for words in CODES.values():
        assert words in text, words


def test_the_dashboard_and_its_overdue_download_show_no_raw_key(client: TestClient, tokens: Tokens) -> None:
    post_two_families(client, tokens)
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    page = client.get("/", params={"since": "2020-01-01"})  # the changes' tables too
    assert page.status_code == 200 and 'id="changes-heading"' in page.text
    text = VisibleText(page.text).text
    assert raw_keys_in(text) == [] and "not reached" in text and "MONITOR (the settlement's monitor)" in text
    overdue = client.get(re.search(r'href="(/download/overdue\.csv\?as_of=[^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    assert raw_keys_in(overdue.content.decode("utf-8-sig")) == [] and "first outreach" in overdue.text
