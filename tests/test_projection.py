"""The case-status projection on both backends: exactly once, rebuildable, reproducible as of any point."""

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.as_of import AsOf
from domain.values import utc_text
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.demo import Population, append_population
from projections.case_rows import cells
from domain.organizations import Organization, Role
from projections.projection_settings import Partition, ProjectionSettings
from projections.recorded import Recorded
from projections.render import render_json
from projections.report import compliance_report
from projections.partitioned import WorkerFailed
from projections.runner import Projection
from projections.read_model import ReadModel
from projections.row_format import VERSIONED
from projections.what_if import what_if_terms

TODAY = date(2026, 11, 1)


def populate(ledger: Ledger, cases: int, seed: int = 7) -> int:
    ledger.appender.adopt_default_terms()
    return append_population(ledger, Population(cases, seed, TODAY))


def report_bytes(ledger: Ledger, projection: Projection, as_of: int | str) -> bytes:
    return render_json(compliance_report(ledger, projection, ledger.reader.resolve(AsOf.parse(str(as_of))), wait_seconds=0))


def recount(model: ReadModel, generation: int, position: int) -> Counter[Any]:
    """The cells at `position` summed from the rows themselves, ignoring snapshots."""
    summed: Counter[Any] = Counter()
    for table in VERSIONED:
        for _, key, row in model.rows_at(generation, table, position):
            summed.update(cells(key, row))
    return summed


def without_data_quality(counter: Counter[Any]) -> Counter[Any]:
    return Counter({cell: n for cell, n in counter.items() if n and cell[0] != "data_quality"})


def test_the_live_projection_equals_a_rebuild_byte_for_byte(ledger: Ledger) -> None:
    projection = Projection(ledger, ProjectionSettings(page_size=97, snapshot_every=300))
    ledger.appender.adopt_default_terms()
    for seed in range(3):  # appended and projected in turns, so pages fall in different places
        append_population(ledger, Population(60, seed, TODAY))
        projection.catch_up()
    head = ledger.store.tree_size()
    now = utc_text(datetime.now(UTC))
    positions = [head // 4, head // 2, head - 5, head]
    live = [report_bytes(ledger, projection, p) for p in positions] + [report_bytes(ledger, projection, now)]

    generation, projected = Projection(ledger, ProjectionSettings(page_size=1000, snapshot_every=5000)).rebuild()
    assert (generation, projected) == (2, head)
    rebuilt = [report_bytes(ledger, projection, p) for p in positions] + [report_bytes(ledger, projection, now)]
    assert rebuilt == live
    # A cache far smaller than the cases: rows of evicted cases are written early, reloaded cases
    # are folded from the log again; nothing may change.
    # Also writing ahead a few rows at a time while a settlement event re-reads every clock.
    Projection(ledger, ProjectionSettings(page_size=64, cached_cases=7, settling_batch=3)).rebuild()
    assert [report_bytes(ledger, projection, p) for p in positions] + [report_bytes(ledger, projection, now)] == live
    assert b'"identified":0' not in live[-1]  # the population was really counted


@pytest.mark.parametrize("workers", [2, 3])
def test_a_rebuild_shared_by_several_processes_equals_the_live_projection(ledger: Ledger, workers: int) -> None:
    projection = Projection(ledger, ProjectionSettings(page_size=97, snapshot_every=300))
    ledger.appender.adopt_default_terms()
    for seed in range(2):
        append_population(ledger, Population(70, seed, TODAY))  # terms, an extension, merges, corrections
        projection.catch_up()
    head = ledger.store.tree_size()
    positions = [1, head // 5, head // 3, head // 2, head - 7, head]
    live = [report_bytes(ledger, projection, p) for p in positions]
    # Small pages, snapshots and caches: pages split by settlement events, evicted cases folded again.
    shared = Projection(ledger, ProjectionSettings(page_size=50, snapshot_every=120, cached_cases=5, settling_batch=4))
    generation, projected = shared.rebuild(workers=workers)
    assert (generation, projected) == (2, head)
    assert [report_bytes(ledger, projection, p) for p in positions] == live
    model = shared.model
    assert model.tracked(generation) == head
    for position in range(0, head + 1, max(1, head // 40)):  # the workers' summed snapshots hold
        assert without_data_quality(model.cells_at(generation, position)) == without_data_quality(
            recount(model, generation, position)
        )
    # And it goes on from there as any projection does.
    append_population(ledger, Population(5, 9, TODAY))
    projection.catch_up()
    assert report_bytes(ledger, projection, ledger.store.tree_size()) != live[-1]


def test_a_shared_rebuild_whose_worker_dies_changes_nothing_the_reports_read(ledger: Ledger) -> None:
    projection = Projection(ledger)
    populate(ledger, 60)
    projection.catch_up()
    head = ledger.store.tree_size()
    before = report_bytes(ledger, projection, head)
    # Snapshots due every few events, more than the workers' outboxes hold: they are still at work
    # when the first sums come in, and one of them is killed then.
    shared = Projection(ledger, ProjectionSettings(page_size=20, snapshot_every=5))

    killed: list[int] = []

    def kill_a_worker(position: int) -> None:
        if killed:  # sums the workers had sent before still come in
            return
        workers = multiprocessing.active_children()
        assert workers, "the workers had already finished"
        killed.append(workers[0].pid)  # type: ignore[arg-type]
        os.kill(killed[0], signal.SIGKILL)

    with pytest.raises(WorkerFailed, match="ended"):
        shared.rebuild(progress=kill_a_worker, workers=2)
    assert not multiprocessing.active_children()  # the other worker was stopped too
    assert shared.model.active_generation() == 1
    assert report_bytes(ledger, projection, head) == before
    # The unfinished generation is dropped by the next rebuild, which completes.
    assert shared.rebuild(workers=2) == (3, head)
    assert set(shared.model.generations()) == {3}
    assert report_bytes(ledger, projection, head) == before


def test_a_report_as_of_an_instant_is_the_same_after_more_is_recorded(ledger: Ledger) -> None:
    populate(ledger, 80)
    projection = Projection(ledger)
    projection.catch_up()
    instant = utc_text(datetime.now(UTC))
    before = report_bytes(ledger, projection, instant)
    time.sleep(0.002)
    append_population(ledger, Population(120, 99, TODAY))
    projection.catch_up()
    assert report_bytes(ledger, projection, instant) == before
    assert report_bytes(ledger, projection, utc_text(datetime.now(UTC))) != before


def test_sums_from_snapshots_equal_a_recount_of_the_rows_at_every_point(ledger: Ledger) -> None:
    populate(ledger, 100)
    projection = Projection(ledger, ProjectionSettings(page_size=50, snapshot_every=120))
    projection.catch_up()
    model, generation = projection.model, projection.generation()
    head = ledger.store.tree_size()
    assert model.latest_snapshot(generation) > 0
    for position in [1, 2, *random.Random(3).sample(range(3, head), 12), head]:
        assert without_data_quality(model.cells_at(generation, position)) == without_data_quality(
            recount(model, generation, position)
        )


class PowerCut(RuntimeError):
    pass


@contextmanager
def failing_writes(model: ReadModel, after_statements: int) -> Iterator[None]:
    """The model's second write transaction fails after `after_statements` statements, mid-way."""
    original = model._write
    transactions = [0]
    count = [0]

    class Cursor:
        def __init__(self, cursor: Any) -> None:
            self._cursor = cursor

        def __getattr__(self, name: str) -> Any:
            attribute = getattr(self._cursor, name)
            if name not in ("execute", "executemany", "copy"):
                return attribute

            def counted(*args: Any, **kwargs: Any) -> Any:
                count[0] += 1
                if transactions[0] == 2 and count[0] > after_statements:
                    raise PowerCut("the power went out mid-page")
                return attribute(*args, **kwargs)

            return counted

    @contextmanager
    def write() -> Iterator[Any]:
        transactions[0] += 1
        count[0] = 0
        with original() as cursor:
            yield Cursor(cursor)

    model._write = write  # type: ignore[method-assign]
    try:
        yield
    finally:
        model._write = original  # type: ignore[method-assign]


def test_a_failure_mid_page_loses_and_doubles_nothing(ledger: Ledger) -> None:
    populate(ledger, 120)
    projection = Projection(ledger, ProjectionSettings(page_size=200, snapshot_every=500))
    generation = projection.generation()
    for after in (3, 1, 4, 2):  # fail at different statements of successive pages
        tracked = projection.tracked()
        with failing_writes(projection.model, after), pytest.raises(PowerCut):
            projection.catch_up()
        assert projection.tracked() > tracked  # the page before the failing one committed
    projection.catch_up()
    assert projection.tracked() == ledger.store.tree_size()
    live = report_bytes(ledger, projection, ledger.store.tree_size())
    cells_live = projection.model.cells_at(generation, ledger.store.tree_size())
    Projection(ledger).rebuild()
    assert report_bytes(ledger, projection, ledger.store.tree_size()) == live
    assert projection.model.cells_at(projection.generation(), ledger.store.tree_size()) == cells_live


def test_a_killed_projector_process_resumes_where_it_committed(
    database_url: str, signer: Signer, master_key: bytes, tmp_path: Path
) -> None:
    with Ledger(database_url, signer, master_key) as ledger:
        populate(ledger, 1200)
        head = ledger.store.tree_size()
        watcher = Projection(ledger)  # reads the tracking position the child commits
        env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "key.pem")}
        command = [sys.executable, "-c", "from api.cli import main; main()", "project", "--once"]
        killed_at = []
        for _ in range(3):  # kill it as soon as it has committed a page, three times over
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            before = watcher.tracked()
            while process.poll() is None and watcher.tracked() == before:
                time.sleep(0.002)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed_at.append(watcher.tracked())
            process.wait(timeout=60)
        assert any(0 < position < head for position in killed_at), f"never killed mid-run: {killed_at} of {head}"
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert finished.returncode == 0, finished.stderr
        assert watcher.tracked() == head
        live = report_bytes(ledger, watcher, head)
        watcher.rebuild()
        assert report_bytes(ledger, watcher, head) == live


def test_reports_keep_answering_from_the_old_tables_while_a_rebuild_runs(ledger: Ledger) -> None:
    populate(ledger, 150)
    projection = Projection(ledger, ProjectionSettings(page_size=100))
    projection.catch_up()
    head = ledger.store.tree_size()
    before = report_bytes(ledger, projection, head)
    halfway, resume = threading.Event(), threading.Event()

    def pause_halfway(position: int) -> None:
        if position >= head // 2 and not halfway.is_set():
            halfway.set()
            resume.wait(timeout=30)

    rebuilder = threading.Thread(target=Projection(ledger, ProjectionSettings(page_size=100)).rebuild, args=(pause_halfway,))
    rebuilder.start()
    assert halfway.wait(timeout=60)
    assert projection.generation() == 1
    assert report_bytes(ledger, projection, head) == before  # the live tables still answer
    resume.set()
    rebuilder.join(timeout=60)
    assert projection.generation() == 2
    assert list(projection.model.generations()) == [2]  # the old tables are gone
    assert report_bytes(ledger, projection, head) == before


def test_an_old_generation_is_dropped_on_sqlite_without_overwriting_its_pages_and_the_setting_is_restored(
    tmp_path: Path,
) -> None:
    """Dropping a replaced generation frees its pages as they are (SQLite's secure_delete off: the
    read model holds no personal data); the connection's setting is put back afterwards, for
    deletions that need it."""
    with Ledger(f"sqlite:///{tmp_path}/ledger.db") as ledger:
        model = Projection(ledger).model
        with model._write() as cursor:  # type: ignore[attr-defined]
            cursor.execute("PRAGMA secure_delete = ON")
            with model._freed_as_they_are(cursor):
                cursor.execute("PRAGMA secure_delete")
                assert cursor.fetchone()[0] == 0
            cursor.execute("PRAGMA secure_delete")
            assert cursor.fetchone()[0] == 1


def test_processes_starting_together_on_a_new_database_all_start(database_url: str) -> None:
    """The API and `ledger project --follow` (or several API processes) started at once on a new
    database each create the tables they need: none fails on another's half-made table."""
    starters = 6
    ready = threading.Barrier(starters)
    failures: list[BaseException] = []

    def start() -> None:
        try:
            ready.wait(timeout=30)
            with Ledger(database_url) as ledger:
                Projection(ledger)
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with Ledger(database_url) as ledger:
        assert Projection(ledger).model.generations().keys() == {1}


def test_two_projectors_on_one_database_apply_every_page_exactly_once(
    database_url: str, signer: Signer, master_key: bytes
) -> None:
    with Ledger(database_url, signer, master_key) as first, Ledger(database_url, signer, master_key) as second:
        populate(first, 30)
        projections = [Projection(first, ProjectionSettings(page_size=40)), Projection(second, ProjectionSettings(page_size=40))]
        stop = threading.Event()
        followers = [threading.Thread(target=p.follow, args=(stop, 0.005)) for p in projections]
        for follower in followers:
            follower.start()
        for seed in range(4):
            append_population(first if seed % 2 else second, Population(40, 100 + seed, TODAY))
        head = first.store.tree_size()
        assert projections[0].wait_for(head, timeout=60)
        stop.set()
        for follower in followers:
            follower.join(timeout=30)
        live = report_bytes(first, projections[0], head)
        projections[0].rebuild()
        assert report_bytes(first, projections[0], head) == live


def test_a_follower_survives_an_unexpected_error_and_catches_up_once_it_passes(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    populate(ledger, 10)
    projection = Projection(ledger)
    failures = iter([RuntimeError("a bug quoting Maria's phone number")])
    original = projection._active_projector

    def flaky() -> Any:
        if (failure := next(failures, None)) is not None:
            raise failure
        return original()

    monkeypatch.setattr(projection, "_active_projector", flaky)
    stop = threading.Event()
    follower = threading.Thread(target=projection.follow, args=(stop, 0.005, 0.05))
    follower.start()
    try:
        assert projection.wait_for(ledger.store.tree_size(), timeout=60)
        assert follower.is_alive()
    finally:
        stop.set()
        follower.join(timeout=30)
    assert "stalled by an unexpected RuntimeError" in caplog.text
    assert "Maria" not in caplog.text


def test_a_what_if_report_writes_nothing(ledger: Ledger) -> None:
    populate(ledger, 60)
    projection = Projection(ledger)
    projection.catch_up()
    head, tracked = ledger.store.tree_size(), projection.tracked()
    rows_before = {table: list(projection.model.rows_at(1, table, head)) for table in VERSIONED}
    what_if = what_if_terms(ledger, '{"obligations": {"first_outreach": {"days": 400}}}', head)
    point = ledger.reader.resolve(AsOf(position=head))
    longer = compliance_report(ledger, projection, point, what_if, wait_seconds=0)
    recorded = compliance_report(ledger, projection, point, wait_seconds=0)
    assert longer["obligations"]["first_outreach"] != recorded["obligations"]["first_outreach"]
    assert longer["children"] == recorded["children"]
    assert longer["terms"]["what_if"] and not recorded["terms"]["what_if"]
    assert (ledger.store.tree_size(), projection.tracked()) == (head, tracked)
    assert {table: list(projection.model.rows_at(1, table, head)) for table in VERSIONED} == rows_before


def test_the_projections_lean_reading_of_the_log_equals_eventsourcings(ledger: Ledger) -> None:
    populate(ledger, 60)
    ledger.tokens.issue("reader", Organization.OIG, Role.AUDITOR)
    rows = ledger.store.recorded_between(0, ledger.store.tree_size())
    logged = ledger.store.logged_after(0, 100_000)
    assert len(rows) == len(logged) == ledger.store.tree_size()
    types = set()
    for row, entry in zip(rows, logged, strict=True):
        lean, event = Recorded.of(row), ledger.reader.decode(entry.stored)
        types.add(lean.type)
        assert (lean.position, lean.type, lean.version, lean.recorded_at) == (
            entry.position, event.type, event.originator_version, entry.recorded_at
        )
        assert (lean.event_id, lean.case_id, lean.occurred_at, lean.organization, lean.data) == (
            event.event_id, event.case_id, event.occurred_at, event.organization, event.data
        )
    assert {"TermsAdopted", "DeadlineExtended", "EntryCorrected", "MergedInto", "TokenIssued"} <= types



@pytest.mark.parametrize("count", [2, 3])
def test_a_rebuild_worker_reads_its_own_streams_and_the_settlements(ledger: Ledger, count: int) -> None:
    populate(ledger, 60)
    ledger.tokens.issue("reader", Organization.OIG, Role.AUDITOR)
    head = ledger.store.tree_size()
    everything = ledger.store.recorded_between(0, head)
    stream_of = {entry.position: entry.stored.originator_id for entry in ledger.store.logged_after(0, head)}
    shares = [ledger.store.recorded_between(0, head, p.nibbles, p.topics) for p in (Partition(i, count) for i in range(count))]
    for index, share in enumerate(shares):
        partition = Partition(index, count)
        expected = [
            row for row in everything
            if row.topic in partition.topics or (stream_of[row.position].int & 0xF) % count == index
        ]
        assert share == expected
        not_cases = Partition(0, count).topics  # the settlement's and the tokens' (a worker skips tokens but the first's)
        owned_cases = {Recorded.of(row).case_id for row in share if row.topic not in not_cases}
        assert owned_cases and all(partition.owns(case_id) for case_id in owned_cases)
    # Between them, every event once, but the settlement's (every worker's) and the tokens' (the first's).
    case_rows = sorted(row.position for share in shares for row in share if row.topic not in Partition(0, count).topics)
    assert case_rows == [row.position for row in everything if row.topic not in Partition(0, count).topics]
    assert {row.topic for row in shares[0]} >= {"TokenIssued", "TermsAdopted", "DeadlineExtended"}
    # A page of positions with none of a worker's events reads as empty.
    assert ledger.store.recorded_between(head, head + 10, Partition(0, count).nibbles, ()) == []

@pytest.mark.parametrize("sqlstate", ["42P07", "42710", "23505"])
def test_a_table_or_type_another_process_made_at_the_same_moment_is_created_again_not_fatal(sqlstate: str) -> None:
    """Found once in six processes starting together on PostgreSQL: eventsourcing makes its composite
    type outside any lock, and the loser saw `relation "stored_event_uuid" already exists` (42P07)."""
    import psycopg.errors
    from eventsourcing.persistence import ProgrammingError

    from ledger.recorders.base import create_alongside_others

    calls: list[int] = []

    def create() -> None:
        calls.append(1)
        if len(calls) == 1:
            error = psycopg.errors.lookup(sqlstate)("already exists")
            raise ProgrammingError(str(error)) from error

    create_alongside_others(create)
    assert len(calls) == 2
