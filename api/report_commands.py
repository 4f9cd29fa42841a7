"""`ledger report|rebuild|project|migrate|demo`: the reports, their projection and the database's tables.
"""

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from api.command_line import app, err, fail, opened, progress_bar
from domain.as_of import AsOf
from ledger.demo import Population, append_population
from ledger.signed_heads import NotYetWitnessed
from projections.definitions import definitions
from projections.partitioned import (
    MAX_WORKERS,
    PARALLEL_FROM,
    WorkerFailed,
    default_workers,
)
from projections.projection_faults import EventNotProjected
from projections.render import FORMAT_HELP, Format, render
from projections.report import compliance_report
from projections.runner import ReadModelOutdated
from projections.what_if import what_if_terms


@app.command()
def report(
    as_of: Annotated[str | None, typer.Option(help="A log position, an ISO 8601 instant with offset, or a date.")] = None,
    format: Annotated[Format, typer.Option(help=f"{FORMAT_HELP} A pdf needs --out or a redirect.")] = Format.JSON,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    terms: Annotated[
        str | None, typer.Option(help="What-if terms: a shipped document's name, a JSON object, or @FILE.json.")
    ] = None,
    require_witnesses: Annotated[
        int,
        typer.Option(
            min=0,
            max=100,
            help="A court exhibit: refuse (exit 1, nothing written) unless a checkpoint at or after the report's "
            "point is cosigned by this many witnesses; the report names it and them.",
        ),
    ] = 0,
) -> None:
    """The compliance report, as of now or any earlier point (catches the projection up first)."""
    wanted = AsOf.parse(as_of)
    if format is Format.PDF and out_file is None and sys.stdout.isatty():
        fail("--format pdf writes a binary file: give --out FILE (or redirect the output)")
    with opened(adopt_terms=True) as runtime:
        ledger, projection = runtime.ledger, runtime.projection
        point = ledger.reader.resolve(wanted)
        projection.catch_up()
        what_if = None if terms is None else what_if_terms(ledger, _terms_text(terms), point.position)
        built = compliance_report(ledger, projection, point, what_if, wait_seconds=0, witness_quorum=max(require_witnesses, 1))
        if require_witnesses and built["witnessed"]["tree_size"] is None:
            raise NotYetWitnessed(point.position, require_witnesses)
        body = render(built, format, definitions(projection.late_report_days()))
        if format is Format.JSON:
            body += b"\n"
    if out_file is None:
        sys.stdout.buffer.write(body)
    else:
        try:
            out_file.write_bytes(body)
        except OSError as error:
            fail(f"--out: cannot write {out_file}: {error.strerror or error}", 2)
    resolved = f"as of {built['as_of']}{' (now)' if point.now else ''}, log position {point.position}"
    if out_file is not None:
        err.print(f"wrote the report {resolved} to {out_file}")
    else:
        err.print(f"the report {resolved}")


def _terms_text(terms: str) -> str:
    if not terms.startswith("@"):
        return terms
    try:
        return Path(terms[1:]).read_text()
    except OSError as error:
        fail(f"--terms: cannot read {terms[1:]}: {error.strerror}", 2)


@app.command()
def rebuild(
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            max=32,  # each is a process with a connection of its own and reads the whole log (1,000 hung)
            help="Processes sharing the work, each projecting its own cases (0: one per core, up to "
            f"{MAX_WORKERS}, for a log of {PARALLEL_FROM:,} events or more; else 1).",
        ),
    ] = 0,
) -> None:
    """Rebuild the reports' projection from the whole log into fresh tables, then switch to them.

    Reports keep answering from the current tables until the switch."""
    with opened() as runtime, progress_bar() as bar:
        ledger, projection = runtime.ledger, runtime.projection
        size = ledger.reader.tree_size()
        task = bar.add_task("rebuilding", total=size)
        try:
            generation, projected = projection.rebuild(
                progress=lambda position: bar.update(task, completed=position), workers=workers or default_workers(size)
            )
        except (WorkerFailed, EventNotProjected) as error:
            fail(f"the rebuild did not finish ({error}); the reports still read the tables they read before")
    err.print(f"rebuilt the case-status projection (generation {generation}) from {projected} events")


@app.command()
def project(
    follow: Annotated[bool, typer.Option("--follow/--once", help="Keep following the log, or stop once caught up.")] = False,
) -> None:
    """Bring the reports' projection up to date (for `serve` with LEDGER_PROJECTOR=external)."""
    with opened(adopt_terms=True) as runtime:
        ledger, projection = runtime.ledger, runtime.projection
        if not follow:
            with progress_bar() as bar:
                task = bar.add_task("projecting", total=ledger.reader.tree_size())
                try:
                    done = projection.catch_up(progress=lambda position: bar.update(task, completed=position))
                except EventNotProjected as error:
                    fail(f"{error}; the projection stays at position {projection.tracked()} (the fault is in /healthz)")
            err.print(f"projected {done} events; the projection is at position {projection.tracked()}")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        err.print("following the log (Ctrl-C to stop)")
        try:
            projection.follow(stop)
        except KeyboardInterrupt:
            pass


@app.command()
def migrate(
    writer: Annotated[
        str | None,
        typer.Option(help="PostgreSQL: the role the API and the projector connect as; created if missing, granted no more than they need."),
    ] = None,
    login: Annotated[
        bool, typer.Option("--login/--nologin", help="Create the writer able to log in (no password is set), or not.")
    ] = False,
) -> None:
    """Create the database's tables, or bring them up to date, as their owner (the URL's user);
    with --writer, set up the role that appends without being able to change what was appended."""
    with opened(creates=True) as runtime:  # creates the log's tables
        ledger, projection = runtime.ledger, runtime.projection  # and the read model's, with its first generation
        try:
            # rebuilt if an earlier version of the ledger wrote it, shared out as `ledger rebuild` does
            upgraded = projection.upgrade(workers=default_workers(ledger.reader.tree_size()))
        except ReadModelOutdated as newer:
            fail(str(newer))
        if not upgraded:
            fail("the reports' tables are being rebuilt by another process; run this again once it is done")
        if writer is None:
            err.print("the database's tables are ready")
            return
        if ledger.backend != "postgresql":
            fail("--writer: database roles are PostgreSQL's; an SQLite file is protected by its file permissions")
        created = ledger.grant_writer(writer, login)
    err.print(
        f"the database's tables are ready; role {writer} {'created and ' if created else ''}granted SELECT and INSERT "
        "on the log's tables, read and write on the read model's, and ownership of the per-case keys"
    )


@app.command()
def demo(
    cases: Annotated[int, typer.Option(min=1, max=1_000_000, help="How many families.")] = 200,
    seed: Annotated[int, typer.Option(help="The same seed appends the same events (a second run appends nothing).")] = 1,
) -> None:
    """Append a realistic synthetic population through the normal append path (for trying the ledger)."""
    with opened(adopt_terms=True, creates=True) as runtime:  # the demo's cases are decided under the terms, as the server's are
        ledger = runtime.ledger
        population = Population(cases, seed)
        with progress_bar() as bar:
            task = bar.add_task(f"appending {cases} families", total=cases)
            appended = append_population(ledger, population, progress=lambda n: bar.advance(task, n))
    err.print(f"demo: {appended} events appended for {cases} families (seed {seed})")
