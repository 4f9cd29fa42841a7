"""`ledger demo`, `report`, `project` and `rebuild`, end to end on both backends."""

import csv
import io
import json
from datetime import date
from itertools import accumulate
from pathlib import Path
from typing import Any
from uuid import uuid4

from domain.envelope import EventBatch, postings
from ledger.application import Ledger
from ledger.demo import SETTLEMENT_EVENTS, Population, append_population, family_story
from tests.harness import Tokens
from tests.test_cli import Run, assert_fails_with_one_line_reason, assert_succeeded, cli, key_file  # noqa: F401


def test_demo_appends_a_plausible_population_once_per_seed(cli: Run, ledger: Ledger) -> None:
    first = cli("demo", "--cases", 120, "--seed", 5)
    assert_succeeded(first)
    size = ledger.store.tree_size()
    assert size > 120 * 4
    again = cli("demo", "--cases", 120, "--seed", 5)
    assert_succeeded(again)
    assert "0 events appended" in again.stderr
    assert ledger.store.tree_size() == size
    report = json.loads(cli("report").stdout)
    assert report["children"]["identified"] > 120
    assert report["breakdowns"]["nationality"]["GT"]["identified"] > report["breakdowns"]["nationality"].get("RO", {"identified": 0})["identified"]
    assert sum(report["reunified_by_facilitator"].values()) == report["children"]["reunified"]
    assert report["terms"]["extensions"], "the 2025 extensions are on the settlement's record"


def test_the_demos_progress_moves_family_by_family_as_each_is_wholly_recorded(ledger: Ledger) -> None:
    """It moved once per chunk of 2,000 families: `ledger demo`'s bar sat at 0 until the end."""
    population = Population(30, 11, date(2026, 11, 1))
    [stories] = list(population.chunks())
    last = [story.events[-1][1] for story in stories if story.events]
    nothing_to_post = len(stories) - len(last)

    def recorded(envelope: dict[str, Any]) -> bool:
        page = ledger.reader.history(envelope["case_id"], 0, 1000)
        return page is not None and any(item.receipt.event_id == envelope["event_id"] for item in page.items)

    told: list[tuple[int, int]] = []  # (families told of, families whose last event was recorded then)
    ledger.appender.adopt_default_terms()
    append_population(ledger, population, lambda families: told.append((families, sum(map(recorded, last)))))
    done = list(accumulate(families for families, _ in told))
    assert done[-1] == 30 and all(families > 0 for families, _ in told)
    assert [now for _, now in told] == [n - nothing_to_post for n in done], "a family is told of once wholly recorded, not before"
    assert len(told) >= 5, "the bar moves as families finish, not once for the chunk"


def test_demos_of_other_seeds_and_sizes_on_one_database_record_each_court_order_once(cli: Run, ledger: Ledger) -> None:
    ledger.appender.adopt_default_terms()
    by_hand = dict(SETTLEMENT_EVENTS[2][1])  # one of the demo's orders, recorded by DOJ before any demo ran
    doj = ledger.tokens.authenticate(Tokens(ledger).secret("DOJ"))
    assert by_hand["data"]["obligation"] == "parole_term" and doj is not None
    envelope = {"event_id": str(uuid4()), "case_id": "SETTLEMENT", **by_hand}
    assert ledger.appender.append(postings(EventBatch.model_validate({"events": [envelope]})), doj).appended == 1
    assert_succeeded(cli("demo", "--cases", 30, "--seed", 1))
    assert_succeeded(cli("demo", "--cases", 45, "--seed", 2))
    extensions = json.loads(cli("report").stdout)["terms"]["extensions"]
    orders = [(e["court_order_id"], e["obligation"]) for e in extensions]
    assert len(orders) == 3 and len(set(orders)) == 3, orders
    settlement_events = [
        ledger.reader.decode(n).type
        for n in ledger.store.select_notifications(start=None, limit=100_000, topics=["DeadlineExtended", "ServiceInterrupted"])
    ]
    assert sorted(settlement_events) == ["DeadlineExtended"] * 3 + ["ServiceInterrupted"]


def test_a_seed_always_tells_the_same_story() -> None:
    today = date(2026, 6, 1)
    assert family_story(17, 3, today).events == family_story(17, 3, today).events
    assert family_story(17, 3, today).events != family_story(17, 4, today).events
    months = [story.events[0][1]["data"]["separation_date"][:7] for story in next(Population(400, 1, today).chunks())]
    peak = sum(month in ("2018-04", "2018-05", "2018-06", "2018-07") for month in months)
    assert peak > len(months) / 2  # zero tolerance: most separations fall in Apr–Jul 2018


def test_report_writes_each_format_and_reproduces_an_earlier_point(cli: Run, ledger: Ledger, tmp_path: Path) -> None:
    assert_succeeded(cli("demo", "--cases", 60))
    middle = ledger.store.tree_size() // 2
    out = tmp_path / "report.json"
    assert_succeeded(cli("report", "--as-of", middle, "--out", out))
    earlier = json.loads(out.read_text())
    assert earlier["checkpoint"]["tree_size"] == middle
    now = json.loads(cli("report").stdout)
    assert_succeeded(cli("demo", "--cases", 90, "--seed", 2))
    assert_succeeded(cli("report", "--as-of", middle, "--out", tmp_path / "again.json"))
    assert (tmp_path / "again.json").read_text() == out.read_text()
    assert json.loads(cli("report", "--as-of", now["as_of"]).stdout) == now
    rows = list(csv.reader(io.StringIO(cli("report", "--format", "csv").stdout.removeprefix("\ufeff"))))
    assert rows[0] == ["section", "group", "key", "measure", "value"] and rows[1][0] == "report" and rows[1][1].startswith("as of ")
    rows = list(csv.reader(io.StringIO(cli("report", "--format", "csv-tables").stdout.removeprefix("\ufeff"))))
    assert rows[0] == ["report"] and ["obligation", "met", "met late", "open", "overdue", "not applicable", "median days"] in rows
    html = cli("report", "--format", "html", "--as-of", middle).stdout
    assert earlier["checkpoint"]["root_hash"] in html


def test_what_if_terms_come_by_name_inline_or_from_a_file(cli: Run, ledger: Ledger, tmp_path: Path) -> None:
    assert_succeeded(cli("demo", "--cases", 40))
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"obligations": {"first_outreach": {"years": 20}}}))
    from_file = json.loads(cli("report", "--terms", f"@{terms}").stdout)
    assert from_file["terms"]["what_if"]
    assert from_file["obligations"]["first_outreach"]["overdue"] == 0
    assert json.loads(cli("report", "--terms", "settlement-2023").stdout)["terms"]["what_if"]


def test_bad_report_options_fail_with_one_line(cli: Run, ledger: Ledger, tmp_path: Path) -> None:
    # A usage error, as typer's own are: exit 2.
    assert_fails_with_one_line_reason(cli("report", "--as-of", "yesterday-ish"), "--as-of", code=2)
    assert_fails_with_one_line_reason(cli("report", "--terms", "treaty-of-1848"), "--terms", "unknown terms document", code=2)
    assert_fails_with_one_line_reason(cli("report", "--terms", '{"obligations": {}}'), "--terms", "terms.obligations", code=2)
    assert_fails_with_one_line_reason(cli("report", "--terms", f"@{tmp_path}/missing.json"), "--terms", "cannot read", code=2)
    # Terms the projection could not compute with (the year 10000) were a crash: now a usage error naming the field.
    beyond = json.dumps({"obligations": {"first_outreach": {"days": 30}}, "effective_date": "9999-12-31"})
    assert_fails_with_one_line_reason(
        cli("report", "--terms", beyond), "--terms", "terms.effective_date", "from 1990-01-01 to 2100-12-31", code=2
    )
    assert cli("report", "--format", "docx").exit_code == 2  # typer names the allowed values


def test_project_then_rebuild_give_the_same_report(cli: Run, ledger: Ledger) -> None:
    assert_succeeded(cli("demo", "--cases", 50))
    projected = cli("project", "--once")
    assert_succeeded(projected)
    assert f"the projection is at position {ledger.store.tree_size()}" in projected.stderr
    size = ledger.store.tree_size()
    before = cli("report", "--as-of", size).stdout
    rebuilt = cli("rebuild")
    assert_succeeded(rebuilt)
    assert "generation 2" in rebuilt.stderr
    assert cli("report", "--as-of", size).stdout == before
    shared = cli("rebuild", "--workers", 2)  # processes of their own, opening the database by its URL
    assert_succeeded(shared)
    assert "generation 3" in shared.stderr
    assert cli("report", "--as-of", size).stdout == before
    refused = cli("rebuild", "--workers", -1)
    assert refused.exit_code == 2 and "--workers" in refused.output  # a usage error, nothing rebuilt
