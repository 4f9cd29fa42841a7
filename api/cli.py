"""The `ledger` command: serve the API, manage tokens, import backfills, export, verify and checkpoint.

Every command exits non-zero with a one-line reason on failure; long work shows a progress bar
on a terminal.
"""

import base64
import getpass
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import click
import typer
from typer.core import TyperGroup
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api import backfill_lines, docs_cli
from api.errors import ANSWERED, answer_for, field_of
from api.bootstrap import Runtime, opened_runtime
from api.http_server import raise_descriptor_limit, server_options
from api.settings import Settings
from api.witness_cli import witness
from domain.as_of import AsOf
from domain.errors import Unavailable
from domain.envelope import Posting
from domain.organizations import Organization, Role
from ledger.append_outcomes import BatchRejected
from ledger.application import Ledger
from ledger.bundle_verifier import Tampered, describe, read_log, verify_bundle
from ledger.demo import Population, append_population
from ledger.erasure import FORGET_WAIT_SECONDS, Erasure, described
from ledger.export import ExportError, write_bundle
from ledger.roles import grant_writer, needs_the_owner
from ledger.vkeys import log_verifier_key
from ledger.witness_policy import PolicyError
from projections.definitions import definitions
from projections.partitioned import MAX_WORKERS, PARALLEL_FROM, WorkerFailed, default_workers
from projections.projection_faults import EventNotProjected
from projections.render import FORMAT_HELP, Format, render
from projections.report import compliance_report
from projections.runner import ReadModelOutdated
from projections.what_if import what_if_terms

class _Answered(TyperGroup):
    """Runs a command; an error of the tree ends it with one line and the table's exit code
    (api/errors.py), wherever in the command it was raised."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ANSWERED as error:
            fail(_one_line(error), answer_for(error).exit_code)


def _one_line(error: BaseException) -> str:
    """The error as the command line says it: naming the option at fault (--as-of, --terms)."""
    if isinstance(error, Tampered):
        return error.summary()
    if isinstance(error, PolicyError):
        return f"NOT WITNESSED as the policy demands: {error}"
    if isinstance(error, Unavailable):
        return f"not just now: {error}; retry shortly"
    field = field_of(error)
    return f"--{field.split('.')[0].replace('_', '-')}: {error}" if field else str(error)


app = typer.Typer(cls=_Answered, no_args_is_help=True, add_completion=False, help="The settlement compliance ledger.")
tokens = typer.Typer(no_args_is_help=True, help="Issue, list and revoke API tokens (each one is an event in the log).")
app.add_typer(tokens, name="tokens")
app.add_typer(witness, name="witness")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


@contextmanager
def opened(finish_forgetting: bool = True, adopt_terms: bool = False) -> Iterator[Runtime]:
    """The runtime of LEDGER_DATABASE_URL, from the composition root (api/bootstrap.py). Opening it
    finishes erasing any case keys destroyed by a `ledger forget` that could not finish (or was
    killed): briefly, warning if it cannot yet."""
    settings = Settings()
    where = _without_password(settings.database_url)
    runtime = opened_runtime(settings, finish_forgetting=finish_forgetting, adopt_terms=adopt_terms)
    try:
        entered = runtime.__enter__()
    except (PersistenceError, OSError) as error:
        fail(f"cannot open the database at {where}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
    try:
        _say_erasure(entered.erasure)
        yield entered
    except PersistenceError as error:
        hint = "; run this as the schema's owner (README: Database roles)" if needs_the_owner(error) else ""
        fail(f"the database at {where} failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}{hint}")
    finally:
        runtime.__exit__(None, None, None)


@contextmanager
def opened_ledger(finish_forgetting: bool = True) -> Iterator[Ledger]:
    """The ledger of `opened`, for commands that need nothing else."""
    with opened(finish_forgetting) as runtime:
        yield runtime.ledger


def _say_erasure(erasure: Erasure | None) -> None:
    if erasure is None:
        return
    if erasure.finished and erasure.cases:
        err.print(f"finished erasing the destroyed keys of forgotten {described(erasure.cases)} from the database's files")
    elif not erasure.finished:
        err.print(f"[bold yellow]warning:[/] {_unfinished(erasure)}", highlight=False)


def _unfinished(erasure: Erasure) -> str:
    return (
        f"the personal data of {described(erasure.cases)} is forgotten (it reads as redacted), but the destroyed keys "
        f"are still in the database's files: {'; '.join(erasure.held_by)}. Once that ends, run `ledger forget --finish`"
    )


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the monitors' dashboard (at /)."""
    import uvicorn

    settings = Settings()
    settings.witness_endpoints  # noqa: B018 - a bad LEDGER_WITNESSES refused here (one line), not in the server's start-up
    try:
        raise_descriptor_limit(settings.max_connections)
    except ValueError as error:
        fail(str(error))
    err.print(f"ledger on {settings.database_url.split('@')[-1]} at http://{host}:{port} (dashboard at /, docs at /docs)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, **server_options(settings))


@tokens.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Unique name, e.g. kind-intake (never reused).")],
    organization: Annotated[Organization, typer.Option(help="The organization the token acts for.")],
    role: Annotated[Role, typer.Option(help="agency, monitor, auditor or admin.")],
) -> None:
    """Issue a token. It is printed once, here, and stored only as a hash."""
    with opened_ledger() as ledger:
        try:
            secret = ledger.tokens.issue(name, organization, role)
        except ValueError as error:
            fail(str(error))
    err.print(f"issued {role.value} token [bold]{name}[/] for {organization.value}; it will not be shown again:")
    out.print(secret, highlight=False, soft_wrap=True)


@tokens.command("list")
def list_tokens() -> None:
    """List tokens (names, organizations, roles, revoked or not; never secrets)."""
    with opened_ledger() as ledger:
        table = Table("name", "organization", "role", "revoked")
        for token in ledger.tokens.listed():
            table.add_row(token["name"], token["organization"], token["role"], "yes" if token["revoked"] else "no")
    out.print(table)


@tokens.command("revoke")
def revoke_token(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")],
) -> None:
    """Revoke a token: it stops working at once, in every API process."""
    with opened_ledger() as ledger:
        try:
            ledger.tokens.revoke(name, reason)
        except ValueError as error:
            fail(str(error))
    err.print(f"revoked token {name}")


@app.command("import")
def import_events(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON Lines of envelopes.")],
    as_token: Annotated[str, typer.Option("--as", help="Name of the (agency) token the events are posted as.")],
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Events per all-or-nothing batch.")] = 500,
    max_problems: Annotated[
        int, typer.Option(min=1, help="Problems listed at most when lines are bad (then how many more).")
    ] = backfill_lines.DEFAULT_MAX_PROBLEMS,
) -> None:
    """Append a backfill with the same validation and rules as the API.

    The whole file is checked before anything is appended, and every bad line is reported (line,
    field, message); then each batch is all or nothing.
    """
    with opened_ledger() as ledger:
        principal = ledger.tokens.principal_named(as_token)
        if principal is None:
            fail(f"there is no live token named {as_token}")
        if principal.role is not Role.AGENCY:
            fail(f"{as_token} is a {principal.role} token: only agency tokens post events")
        checked = backfill_lines.check(file, principal.organization.value)
        if checked.problems:
            for line in checked.report(max_problems):
                err.print(line, highlight=False, markup=False)
            fail(f"{file}: {len(checked.problems)} problem(s) on {checked.bad_lines} line(s); nothing was appended")
        total = checked.postings
        appended = replayed = 0
        batch: list[tuple[int, Posting]] = []
        with progress_bar() as bar:
            task = bar.add_task(f"importing {file.name}", total=total)

            def flush() -> None:
                nonlocal appended, replayed
                head = ledger.reader.tree_size()  # a replay's receipt lies at or before it, a new event's after
                try:
                    result = ledger.appender.append([posting for _, posting in batch], principal)
                except BatchRejected as rejection:
                    problem = rejection.problems[0]
                    fail(
                        f"line {batch[problem.index][0]}: {problem.field or 'envelope'}: {problem.message}; "
                        f"that batch (lines {batch[0][0]}-{batch[-1][0]}) was not appended, "
                        f"{appended} events before it were"
                    )
                # The file's events, counted by their receipts: a merge appends an event of the
                # ledger's own beside the posted one, which `result.appended` counts too.
                already = sum(1 for receipt in result.receipts if receipt.position <= head)
                appended += len(batch) - already
                replayed += already
                bar.advance(task, len(batch))
                batch.clear()

            try:
                for numbered in backfill_lines.postings(file, principal.organization.value):
                    batch.append(numbered)
                    if len(batch) == batch_size:
                        flush()
            except backfill_lines.FileChanged as changed:
                fail(f"{file}: {changed}; {appended} events before it were appended")
            if batch:
                flush()
    err.print(f"imported {file.name}: {appended} events appended, {replayed} already in the log")


@app.command()
def export(
    directory: Annotated[Path, typer.Option("--out", help="Directory to write the bundle into (created; must be empty).")],
) -> None:
    """Write a verifiable bundle of the whole log: events with receipts, leaves, signed checkpoints, verify.py.

    Signs the current tree head first if no checkpoint covers it yet. The same log exports the same bytes.
    """
    with opened_ledger() as ledger, progress_bar() as bar:
        task = bar.add_task("exporting", total=ledger.reader.tree_size())
        try:
            snap = write_bundle(ledger, directory, progress=lambda done: bar.update(task, completed=done))
        except (ExportError, OSError) as error:
            fail(f"cannot export to {directory}: {error}")
        ledger.access_log.record(_operator(), "export", None, f"bundle of tree size {snap.tree_size} to {directory}")
    out.print(
        f"exported {snap.tree_size} events and {len(snap.checkpoints)} signed checkpoints to {directory}; "
        f"verify it anywhere with: python3 {directory / 'verify.py'}",
        highlight=False,
    )


def _operator() -> str:
    """The access log's name for whoever runs a command here."""
    return f"ledger-cli ({getpass.getuser()})"


@app.command()
def forget(
    case_id: Annotated[
        str | None, typer.Argument(help="The case whose personal data is to be made unreadable (with --finish: optional).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (recorded in the log; no personal data here).")] = None,
    finish: Annotated[
        bool, typer.Option("--finish", help="Finish forgettings already recorded (of CASE, or all); record nothing new.")
    ] = False,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait at most for older readers (exports, reports, backups) to end.")
    ] = FORGET_WAIT_SECONDS,
) -> None:
    """Destroy a case's personal-data keys: names, contact details, addresses and notes of the case
    read as [redacted] from then on, everywhere; every event, leaf, proof and report is unchanged.

    Then erase the destroyed keys from the database's files, waiting for readers whose snapshot is
    older (exits 1, saying what holds them, if they outlast --wait: run again with --finish)."""
    if not finish and (case_id is None or reason is None):
        fail("give the case and --reason (or --finish, to finish forgettings already recorded)", 2)
    with opened_ledger(finish_forgetting=False) as ledger:
        if finish:
            left = ledger.erasures.left_behind(None if case_id is None else [case_id])
            if left:
                destroyed = ledger.erasures.destroy(left)
                err.print(f"destroyed {destroyed} keys of forgotten {described(b.case_id for b in left)} left live by an earlier forgetting")
        else:
            assert case_id is not None and reason is not None
            try:
                receipt, destroyed = ledger.appender.forget(case_id, reason)
            except ValueError as error:
                fail(str(error))
            ledger.access_log.record(_operator(), "forget", case_id, f"{destroyed} keys destroyed: {reason}")
            err.print(
                f"forgot the personal data of case {case_id}: {destroyed} keys destroyed (recorded at position "
                f"{receipt.position}); its personal data reads as redacted from now on"
            )
        erasure = ledger.erasures.finish(wait, _waiting(wait))
    if not erasure.finished:
        fail(_unfinished(erasure))
    erased = f" of {described(erasure.cases)}" if erasure.cases else ""
    err.print(f"erased: no copy of the destroyed keys{erased} is left in the database's files")


def _waiting(wait: float) -> Callable[[float, tuple[str, ...]], None]:
    said = -5.0

    def progress(waited: float, held_by: tuple[str, ...]) -> None:
        nonlocal said
        if waited - said >= 5:  # a line every 5 seconds, not one per attempt
            said = waited
            err.print(f"waiting ({waited:.0f} s of at most {wait:.0f} s) for older readers to end: {'; '.join(held_by)}", highlight=False)

    return progress


def _verify_bundle(directory: Path, public_key: str | None, saved: list[Path], policy_file: Path | None) -> None:
    """`ledger verify DIR`: the bundle's own verify.py code, without the database or a key file."""
    try:
        pinned = base64.b64decode(public_key, validate=True) if public_key is not None else None
        notes = [path.read_text(encoding="utf-8") for path in saved]
        policy = policy_file.read_text(encoding="utf-8") if policy_file is not None else None
    except (ValueError, OSError) as error:
        fail(f"cannot use the given key or checkpoint: {error}", 2)
    _, _, size = read_log(str(directory))
    with progress_bar() as bar:
        task = bar.add_task("verifying", total=size)
        report = verify_bundle(directory, pinned, notes, progress=lambda done: bar.update(task, completed=done), policy=policy)
    out.print(describe(report), highlight=False)


@app.command()
def verify(
    bundle: Annotated[
        Path | None, typer.Argument(help="An exported bundle directory, verified offline (without the database).")
    ] = None,
    public_key: Annotated[
        str | None, typer.Option(help="Bundles: the base64 Ed25519 key the ledger publishes, which must have signed it.")
    ] = None,
    saved_checkpoints: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="Bundles: a signed checkpoint note saved earlier that the bundle must agree with."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(help="Bundles: a witness policy (c2sp.org/tlog-policy); the last checkpoint needs its quorum of cosignatures."),
    ] = None,
) -> None:
    """Recompute every leaf and the tree and check every signed checkpoint: of the database, or of a bundle."""
    if bundle is not None:
        _verify_bundle(bundle, public_key, saved_checkpoints or [], policy)
        return
    settings = Settings()
    with opened_ledger() as ledger, progress_bar() as bar:  # opening it finishes any erasure left to do
        task = bar.add_task("verifying", total=ledger.reader.tree_size())
        result = ledger.integrity.verify_all(settings.origin, progress=lambda done: bar.update(task, completed=done))
        left = ledger.erasures.left_behind()
        unerased = ledger.erasures.destroyed()
    if not result.ok:
        where = f"position {result.first_bad_position}" if result.first_bad_position else "checkpoint"
        fail(f"TAMPERING DETECTED at {where}: {result.problem}")
    signed = f"; signed checkpoint at tree size {result.checkpoint_size} matches" if result.checkpoint_size is not None else ""
    if result.checkpoints > 1:
        signed += f", as do the {result.checkpoints - 1} published before it"
    out.print(f"verified {result.events} events: every leaf and the tree recomputed{signed}")
    if left:
        fail(
            f"FORGETTING UNFINISHED: {described(b.case_id for b in left)} "
            f"{'were' if len(left) > 1 else 'was'} forgotten, but keys that sealed personal data before then are still "
            f"live (a forgetting stopped before destroying them): run `ledger forget {left[0].case_id} --finish`"
            + (" for each, or `ledger forget --finish` for all" if len(left) > 1 else "")
        )
    if unerased:
        fail(
            f"FORGETTING UNFINISHED: the destroyed keys of forgotten {described(unerased)} are still in the database's "
            "files (a reader holds an older snapshot): run `ledger forget --finish` once it ends"
        )


@app.command()
def report(
    as_of: Annotated[str | None, typer.Option(help="A log position, an ISO 8601 instant with offset, or a date.")] = None,
    format: Annotated[Format, typer.Option(help=f"{FORMAT_HELP} A pdf needs --out or a redirect.")] = Format.JSON,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    terms: Annotated[
        str | None, typer.Option(help="What-if terms: a shipped document's name, a JSON object, or @FILE.json.")
    ] = None,
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
        built = compliance_report(ledger, projection, point, what_if, wait_seconds=0)
        body = render(built, format, definitions(projection.late_report_days()))
        if format is Format.JSON:
            body += b"\n"
    if out_file is None:
        sys.stdout.buffer.write(body)
    else:
        out_file.write_bytes(body)
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
    with opened() as runtime:  # creates the log's tables
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
        recorder: Any = ledger.store
        prefix = recorder.events_table_name.removesuffix("_events")
        with recorder.datastore.transaction(commit=True) as cursor:
            created = grant_writer(cursor, recorder.datastore.schema, prefix, writer, login)
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
    with opened(adopt_terms=True) as runtime:  # the demo's cases are decided under the terms, as the server's are
        ledger = runtime.ledger
        population = Population(cases, seed)
        with progress_bar() as bar:
            task = bar.add_task(f"appending {cases} families", total=cases)
            appended = append_population(ledger, population, progress=lambda n: bar.advance(task, n))
    err.print(f"demo: {appended} events appended for {cases} families (seed {seed})")


@app.command()
def checkpoint(
    show_key: Annotated[bool, typer.Option("--show-key", help="Print the ledger's verifier key (C2SP note form) instead.")] = False,
) -> None:
    """Sign the current tree head and print the checkpoint (JSON); or print the key that verifies it."""
    if show_key:
        settings = Settings()
        try:
            out.print(log_verifier_key(settings.origin, settings.signer.public_key_raw), highlight=False)
        except OSError as error:
            fail(f"cannot read the signing key: {error}")
        return
    with opened_ledger() as ledger:
        signed = ledger.signed_heads.latest()
        assert signed is not None
    out.print_json(
        json.dumps(
            {"tree_size": signed.tree_size, "root_hash": signed.root_hash.hex(), "timestamp": signed.timestamp, "note": signed.note}
        )
    )


app.command("docs")(docs_cli.docs)


def main() -> None:
    app()
