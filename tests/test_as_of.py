"""One `as_of`, parsed and resolved by one rule, at every door (DESIGN.md §3 "As of").

A point may be resolved only where no append still running can be recorded at or before it:
appends stamp recorded_at under the append lock, and "now" is read under the same lock.
"""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.as_of import BEGINNING, AsOf, AsOfError
from domain.values import utc_text
from ledger.application import Ledger
from ledger.as_of import BeyondTheLog
from ledger.leaves import LeafKey
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_append_path import stored
from tests.test_cli import Run, assert_fails_with_one_line_reason, cli, key_file  # noqa: F401

TODAY = datetime.now(UTC).date()


# --- reading what was asked for --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, AsOf()),
        ("  ", AsOf()),
        ("42", AsOf(position=42)),
        ("2024-02-01", AsOf(day=date(2024, 2, 1))),
        ("2024-02-01T10:00:00Z", AsOf(instant="2024-02-01T10:00:00.000000Z")),
        ("2024-02-01T05:00:00-05:00", AsOf(instant="2024-02-01T10:00:00.000000Z")),
    ],
)
def test_an_as_of_is_a_position_a_date_an_instant_or_now(text: str | None, expected: AsOf) -> None:
    assert AsOf.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("last tuesday", "must be a log position"),
        ("2024-02-30", "must be a log position"),
        ("2024-02-01T10:00:00", "needs a UTC offset"),
        ("٤٢", "must be a log position"),  # digits, but not ASCII ones
        ("9" * 40, "beyond any log"),
        ("9999-12-31T23:00:00-05:00", "out of range"),
    ],
)
def test_an_unreadable_as_of_says_why(text: str, says: str) -> None:
    with pytest.raises(AsOfError, match=says):
        AsOf.parse(text)


def test_a_date_stands_for_the_last_microsecond_of_that_day_utc() -> None:
    assert AsOf.parse("2024-02-01").end_of_day() == "2024-02-01T23:59:59.999999Z"


# --- resolving it against the log ------------------------------------------------------------


def test_now_is_the_head_at_an_instant_no_later_append_can_be_recorded_at(ledger: Ledger) -> None:
    first = ledger.store.append(stored(3))
    now = ledger.reader.resolve(AsOf.now())
    assert now.now and now.position == 3 and now.instant >= first[-1].recorded_at
    later = ledger.store.append(stored(1))
    assert later[0].recorded_at > now.instant
    assert ledger.reader.resolve(AsOf(instant=now.instant)).position == 3  # asked again: the same point


def test_an_instant_before_the_last_recorded_one_resolves_to_what_was_recorded_by_then(ledger: Ledger) -> None:
    first = ledger.store.append(stored(2))
    time.sleep(0.002)
    ledger.store.append(stored(2))
    point = ledger.reader.resolve(AsOf(instant=first[-1].recorded_at))
    assert (point.position, point.instant, point.now) == (2, first[-1].recorded_at, False)
    assert ledger.reader.resolve(AsOf(day=date(2020, 1, 1))).position == 0


def test_today_means_now_and_a_later_date_or_instant_is_refused_naming_the_latest_point(ledger: Ledger) -> None:
    ledger.store.append(stored(2))
    today = ledger.reader.resolve(AsOf(day=TODAY))
    assert today.now and today.position == 2 and today.day == TODAY
    for beyond in (AsOf(day=TODAY + timedelta(days=1)), AsOf(instant=utc_text(datetime.now(UTC) + timedelta(seconds=2)))):
        with pytest.raises(BeyondTheLog, match="the latest point that can be reported is") as refused:
            ledger.reader.resolve(beyond)
        assert refused.value.latest.position == 2


def test_a_position_stands_for_when_it_was_recorded_and_one_beyond_the_log_is_refused(ledger: Ledger) -> None:
    leaves = ledger.store.append(stored(2))
    assert ledger.reader.resolve(AsOf(position=0)).instant == BEGINNING
    assert ledger.reader.resolve(AsOf(position=2)).instant == leaves[1].recorded_at
    with pytest.raises(BeyondTheLog, match="as_of position 3 is beyond the log.*log position 2"):
        ledger.reader.resolve(AsOf(position=3))


@contextmanager
def append_lock_held(ledger: Ledger) -> Iterator[None]:
    """Another process in the middle of an append: it holds the append lock until the block ends."""
    if ledger.backend == "sqlite":
        connection = sqlite3.connect(urlsplit(ledger.database_url).path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    recorder = ledger.store
    with psycopg.connect(_libpq_url(ledger.database_url)) as connection:  # a transaction, until the block ends
        connection.execute(f"SELECT {recorder.events_table.rsplit('.', 1)[0]}.{_lock_function(ledger)}()")
        yield


def _lock_function(ledger: Ledger) -> str:
    return '"' + ledger.store.events_table_name.removesuffix("_events") + '_lock_for_append"'  # type: ignore[attr-defined]


def _libpq_url(url: str) -> str:
    return url.split("?")[0]


def _in_thread(work: "callable") -> tuple[threading.Thread, list[object]]:  # type: ignore[valid-type]
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(work()))
    thread.start()
    return thread, done


def test_now_waits_for_the_appends_in_flight_and_stands_after_them(ledger: Ledger) -> None:
    ledger.store.append(stored(1))
    with append_lock_held(ledger):
        thread, done = _in_thread(lambda: ledger.reader.resolve(AsOf.now()))
        thread.join(timeout=0.5)
        assert not done, "now was resolved while an append was still running"
        released = utc_text(datetime.now(UTC))
    thread.join(timeout=10)
    assert done and done[0].instant >= released  # type: ignore[attr-defined]


def test_an_append_that_waited_for_the_lock_is_recorded_when_it_got_it_not_before(ledger: Ledger) -> None:
    ledger.store.append(stored(1))
    head = ledger.store.head()  # as the append path decides a batch: on the head it read before the lock
    with append_lock_held(ledger):
        thread, done = _in_thread(lambda: ledger.store.append(stored(1), [LeafKey("waited")], after=head))
        thread.join(timeout=0.5)
        assert not done
        released = utc_text(datetime.now(UTC))
    thread.join(timeout=10)
    assert done and done[0][0].recorded_at >= released  # type: ignore[index]


# --- every door: the API, the downloads, the dashboard, the CLI ------------------------------


@pytest.fixture
def monitor(client: TestClient, tokens: Tokens) -> dict[str, str]:
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    return tokens.get("MONITOR", "monitor")


TOMORROW = (TODAY + timedelta(days=1)).isoformat()
SOON = utc_text(datetime.now(UTC) + timedelta(hours=1))


@pytest.mark.parametrize("as_of", [TOMORROW, SOON, "999999"])
@pytest.mark.parametrize("route", ["/v1/reports/compliance", "/v1/reports/overdue", "/v1/cases/FRTF-1"])
def test_the_api_refuses_an_as_of_beyond_the_log_with_422_naming_the_latest_point(
    client: TestClient, tokens: Tokens, monitor: dict[str, str], route: str, as_of: str
) -> None:
    headers = monitor if "reports" in route else tokens.get("OIG", "auditor")
    response = client.get(route, params={"as_of": as_of}, headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "as_of" and "the latest point that can be reported is" in error["message"]


def test_the_report_states_its_point_and_asked_again_with_it_is_the_same(client: TestClient, monitor: dict[str, str]) -> None:
    now = client.get("/v1/reports/compliance", headers=monitor)
    today = client.get("/v1/reports/compliance", params={"as_of": TODAY.isoformat()}, headers=monitor)
    for response in (now, today):
        assert response.status_code == 200
        assert response.headers["Ledger-As-Of"].endswith("; resolved-from=now")
    report = now.json()
    again = client.get("/v1/reports/compliance", params={"as_of": report["as_of"]}, headers=monitor)
    assert again.content == now.content
    assert again.headers["Ledger-As-Of"] == f"{report['as_of']}; position={report['checkpoint']['tree_size']}"


def test_a_position_inside_a_batch_is_asked_again_by_its_tree_size_its_instant_covers_the_whole_batch(
    client: TestClient, tokens: Tokens, monitor: dict[str, str]
) -> None:
    """Found: a report as of a position inside a batch stated the batch's recorded_at as its as_of,
    and the README said asking again with that as_of gives the same bytes: it gives the report of
    the whole batch (a batch's events share one recorded_at). The exact key is the tree size."""
    posted = client.post("/v1/events", json=batch(*(separation(f"FRTF-{n}") for n in (2, 3, 4))), headers=tokens.get("FRTF"))
    assert posted.status_code == 201, posted.text
    first, last = posted.json()["receipts"][0]["position"], posted.json()["receipts"][-1]["position"]
    inside = first + 1

    report = client.get("/v1/reports/compliance", params={"as_of": str(inside)}, headers=monitor)
    stated = report.json()
    by_size = client.get("/v1/reports/compliance", params={"as_of": str(stated["checkpoint"]["tree_size"])}, headers=monitor)
    by_instant = client.get("/v1/reports/compliance", params={"as_of": stated["as_of"]}, headers=monitor)

    assert stated["checkpoint"]["tree_size"] == inside
    assert by_size.content == report.content
    assert by_instant.json()["checkpoint"]["tree_size"] == last, "the instant stands for the whole batch"
    assert by_instant.json()["as_of"] == stated["as_of"]


def test_the_downloads_and_the_dashboard_refuse_a_date_after_today_with_422(client: TestClient, tokens: Tokens, monitor: dict[str, str]) -> None:
    page = client.get("/sign-in")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/sign-in", data={"token": tokens.secret("MONITOR", "monitor"), "csrf": csrf}).status_code == 200
    for path in ("/download/compliance.json", "/download/overdue.csv"):
        refused = client.get(path, params={"as_of": TOMORROW})
        assert refused.status_code == 422 and "the latest point that can be reported is" in refused.text
    dashboard = client.get("/", params={"as_of": TOMORROW})
    assert dashboard.status_code == 422 and "cannot be after today" in dashboard.text


def test_the_cli_refuses_an_as_of_beyond_the_log_with_exit_2_and_one_line(cli: Run, ledger: Ledger) -> None:
    for as_of in (TOMORROW, SOON, "999999"):
        assert_fails_with_one_line_reason(cli("report", "--as-of", as_of), "--as-of", "the latest point that can be reported", code=2)
