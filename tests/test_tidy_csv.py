"""The tidy CSV (issue 16): `section, group, key, measure, value`, one row per number of the JSON
report and nothing else, in labels, UTF-8 with a byte order mark; a pivot of it gives back the
report's tables; it is `csv` at every door (the API, `ledger report`, the dashboard's downloads),
the one-table-per-section CSV `csv-tables`."""

import copy
import csv
import io
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.checkpoints import Signer
from projections.labels import label
from projections.render import Format, render
from projections.spreadsheet_csv import BOM
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.report_samples import demo_report, json_numbers
from tests.test_cli import Run, assert_succeeded, cli, key_file  # noqa: F401
from tests.test_dashboard import sign_in

HEADER = ["section", "group", "key", "measure", "value"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, signer: Signer, master_key: bytes) -> dict[str, Any]:
    return demo_report(tmp_path_factory.mktemp("tidy"), signer, master_key)


def tidy(report: dict[str, Any]) -> list[list[str]]:
    body = render(report, Format.CSV, {})
    assert body.startswith(BOM)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADER
    return rows[1:]


def numbered(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every number made distinct (a median of no case too), so each row's value
    says which number of the JSON form it is."""
    distinct = copy.deepcopy(report)
    counter = itertools.count(1001)
    for path, _ in list(json_numbers(report)):
        holder = distinct
        for part in path[:-1]:
            holder = holder[part]
        holder[path[-1]] = next(counter) + (0.5 if path[-1] == "median_days" else 0)
    return distinct


def test_every_number_of_the_json_report_is_one_row_of_the_tidy_csv_and_nothing_else(report: dict[str, Any]) -> None:
    distinct = numbered(report)
    numbers = dict(json_numbers(distinct))
    rows = tidy(distinct)
    assert len(numbers) > 150 and any(path[0] == "terms" for path in numbers), "the sample fills every section"
    assert sorted(float(row[4]) for row in rows) == sorted(float(value) for value in numbers.values())  # type: ignore[arg-type]
    by_value = {float(row[4]): row for row in rows}
    for path, value in numbers.items():
        row = by_value[float(value)]  # type: ignore[arg-type]
        assert row[0] in ("report", label(path[0])), (path, row)
        assert label(str(path[-1])) in (row[2], row[3]), (path, row)  # the number's own key is its key or its measure
    assert len({tuple(row[:4]) for row in rows}) == len(rows), "each row's section, group, key and measure name one number"


def test_a_median_of_no_case_is_a_row_with_an_empty_value(report: dict[str, Any]) -> None:
    none = copy.deepcopy(report)
    none["obligations"]["first_outreach"]["median_days"] = None
    assert ["obligations", "deadline", "first outreach", "median days", ""] in tidy(none)


def test_a_pivot_of_the_tidy_csv_gives_back_the_reports_tables(report: dict[str, Any]) -> None:
    pivot: dict[tuple[str, str, str], dict[str, str]] = {}
    for section, group, key, measure, value in tidy(report):
        pivot.setdefault((section, group, key), {})[measure] = value
    guatemala = report["breakdowns"]["nationality"]["GT"]
    assert pivot["breakdowns", "nationality", "GT (Guatemala)"] == {"identified": str(guatemala["identified"]), "reunified": str(guatemala["reunified"])}
    assert pivot["breakdowns", "age band", "5 to 17"]["identified"] == str(report["breakdowns"]["age_band"]["5_to_17"]["identified"])
    work = report["obligations"]["work_authorization_decision"]
    assert pivot["obligations", "deadline", "work authorization decision"] == {
        label(status): "" if work[status] is None else str(work[status]) for status in work if status != "kind"
    }
    assert pivot["children", "remaining by status", "in process"] == {"children": str(report["children"]["remaining_by_status"]["in_process"])}
    assert pivot["reunified by facilitator", "", "AOL (Al Otro Lado)"] == {"children": str(report["reunified_by_facilitator"]["AOL"])}
    [identification] = [row for row in tidy(report) if row[3] == "tree size"]
    assert identification == ["report", f"as of {report['as_of']}", "log checkpoint", "tree size", str(report["checkpoint"]["tree_size"])]


def test_text_beyond_ascii_reads_back_through_the_byte_order_mark(report: dict[str, Any]) -> None:
    accented = copy.deepcopy(report)
    accented["breakdowns"]["nationality"] = {"CI": {"identified": 2, "reunified": 1}}
    accented["breakdowns"]["border_sector"] = {"Nogales–Mariposa": {"identified": 2, "reunified": 1}}
    rows = tidy(accented)
    assert ["breakdowns", "nationality", "CI (Côte d'Ivoire)", "identified", "2"] in rows
    assert ["breakdowns", "border sector", "Nogales–Mariposa", "reunified", "1"] in rows


def test_csv_is_the_tidy_csv_and_csv_tables_the_tables_at_every_door(client: TestClient, tokens: Tokens, cli: Run, tmp_path: Path) -> None:  # noqa: F811
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    monitor = tokens.get("MONITOR", "monitor")
    as_of = client.get("/v1/reports/compliance", headers=monitor).json()["as_of"]
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    page = client.get("/", params={"as_of": as_of[:10]})
    links = dict(re.findall(r'<a href="/download/compliance\.([\w-]+)\?as_of=[^"]+" download><span class="visually-hidden">Report as </span>([^<]+)</a>', page.text))
    assert links == {"pdf": "PDF", "csv": "CSV, one row per number", "csv-tables": "CSV, one table per section", "json": "JSON", "html": "HTML"}
    for format in ("csv", "csv-tables"):
        api = client.get("/v1/reports/compliance", params={"as_of": as_of, "format": format}, headers=monitor)
        assert api.status_code == 200 and api.content.startswith(BOM)
        downloaded = client.get(f"/download/compliance.{format}", params={"as_of": as_of})
        out = tmp_path / f"{format}.csv"
        assert_succeeded(cli("report", "--as-of", as_of, "--format", format, "--out", out))
        assert downloaded.content == api.content == out.read_bytes()
    assert next(csv.reader(io.StringIO(api.content.decode("utf-8-sig")))) == ["report"], "csv-tables: one table per section"
    first = client.get("/v1/reports/compliance", params={"as_of": as_of, "format": "csv"}, headers=monitor)
    assert first.content.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER)
    refused = client.get("/v1/reports/compliance", params={"format": "tsv"}, headers=monitor)
    assert refused.status_code == 422 and "csv-tables" in refused.text
