"""`ledger import|export|forget|verify|checkpoint`: what goes into the log, and checking what is in it.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from api import backfill_lines
from api.command_line import (
    app,
    err,
    fail,
    opened_ledger,
    operator_name,
    out,
    progress_bar,
    unfinished_erasure,
)
from api.settings import from_environment
from domain.catalog import SETTLEMENT_EVENTS
from domain.envelope import Posting
from domain.errors import BatchRejected
from domain.organizations import Role
from ledger.bundle_verifier import describe, pinned_key, read_log, verify_bundle
from ledger.erasure import FORGET_WAIT_SECONDS, described
from ledger.export import ExportError, write_bundle
from ledger.vkeys import log_verifier_key
from ledger.witness_policy import PolicyError


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
            fail(f"{as_token} is {principal.role.with_article} token: only agency tokens post events")
        try:
            checked = backfill_lines.check(file, principal.organization.value, max_problems)
        except backfill_lines.NotAFile as refused:
            fail(str(refused), 2)
        if checked.total_problems:
            for line in checked.report():
                err.print(line, highlight=False, markup=False)
            fail(f"{file}: {checked.total_problems} problem(s) on {checked.bad_lines} line(s); nothing was appended")
        total = checked.postings
        appended = replayed = 0
        batch: list[tuple[int, Posting]] = []
        with progress_bar() as bar:
            task = bar.add_task(f"importing {file.name}", total=total)

            def flush() -> None:
                nonlocal appended, replayed
                types = {posting.type for _, posting in batch}
                # A settlement event is decided under the settlement's terms, as the server decides
                # (it adopts them on its first start), unless the file brings terms of its own.
                adopted = bool(types & set(SETTLEMENT_EVENTS)) and "TermsAdopted" not in types and ledger.appender.adopt_default_terms()
                head = ledger.reader.tree_size()  # a replay's receipt lies at or before it, a new event's after
                try:
                    result = ledger.appender.append([posting for _, posting in batch], principal)
                except BatchRejected as rejection:
                    problem = rejection.problems[0]
                    fail(
                        f"line {batch[problem.index][0]}: {problem.field or 'envelope'}: {problem.message}; "
                        f"that batch (lines {batch[0][0]}-{batch[-1][0]}) was not appended, "
                        f"{appended} events before it were"
                        + (" (the settlement's default terms, adopted for it as the server adopts them, stay adopted)" if adopted else "")
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
        ledger.access_log.record(operator_name(), "export", None, f"bundle of tree size {snap.tree_size} to {directory}")
    out.print(
        f"exported {snap.tree_size} events and {len(snap.checkpoints)} signed checkpoints to {directory}; "
        f"verify it anywhere with: python3 {directory / 'verify.py'}",
        highlight=False,
    )


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
    read as \\[redacted] from then on, everywhere; every event, leaf, proof and report is unchanged.

    Then erase the destroyed keys from the database's files, waiting for readers whose snapshot is
    older (exits 1, saying what holds them, if they outlast --wait: run again with --finish)."""
    if not finish and (case_id is None or reason is None):
        fail("give the case and --reason (or --finish, to finish forgettings already recorded)", 2)
    with opened_ledger(finish_forgetting=False) as ledger:
        if finish:
            if case_id is not None and ledger.reader.case(case_id) is None:
                fail(f"there is no case {case_id}")
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
            ledger.access_log.record(operator_name(), "forget", case_id, f"{destroyed} keys destroyed: {reason}")
            err.print(
                f"forgot the personal data of case {case_id}: {destroyed} keys destroyed (recorded at position "
                f"{receipt.position}); its personal data reads as redacted from now on"
            )
        erasure = ledger.erasures.finish(wait, _waiting(wait))
        backend = ledger.backend
    if not erasure.finished:
        fail(unfinished_erasure(erasure))
    erased = f" of {described(erasure.cases)}" if erasure.cases else ""
    if backend == "postgresql":  # its write-ahead log holds the old pages until a checkpoint recycles the segment
        err.print(
            f"erased: no copy of the destroyed keys{erased} is left in the database's tables; PostgreSQL's write-ahead "
            "log (pg_wal) keeps the pages it wrote until it recycles those segments (README: Personal data)"
        )
    else:
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
        pinned = pinned_key(public_key) if public_key is not None else None
    except ValueError as error:  # not base64, of another length, or a malformed verifier key
        fail(str(error), 2)
    notes = [_saved_checkpoint(path) for path in saved]
    policy = _text_of(policy_file, "--policy") if policy_file is not None else None
    try:
        _, _, size = read_log(str(directory))
        with progress_bar() as bar:
            task = bar.add_task("verifying", total=size)
            report = verify_bundle(directory, pinned, notes, progress=lambda done: bar.update(task, completed=done), policy=policy)
    except (OSError, ValueError, RecursionError) as unreadable:  # as verify.py says it
        if isinstance(unreadable, PolicyError):
            raise  # not witnessed as the policy demands: the error table's answer
        fail(f"NOT VERIFIED: the bundle cannot be read as a ledger bundle ({type(unreadable).__name__}: {unreadable})")
    out.print(describe(report), highlight=False)


def _saved_checkpoint(path: Path) -> str:
    """A checkpoint an auditor saved, as its signed note: the note itself, or the JSON `ledger
    checkpoint` prints. A file that holds neither is a mistake of the command (exit 2), not
    evidence against the log: it never reaches the verification."""
    text = _text_of(path, "--checkpoint").removeprefix("\ufeff")
    if text.lstrip().startswith("{"):
        try:
            text = json.loads(text)["note"]
        except (ValueError, TypeError, KeyError):
            fail(f"--checkpoint: {path} is JSON without a \"note\": give the signed note, or what `ledger checkpoint` printed", 2)
        if not isinstance(text, str):
            fail(f"--checkpoint: {path} holds a \"note\" that is not text", 2)
    text = text.lstrip("\r\n").rstrip() + "\n"  # saved from a terminal or `jq -r`: one last newline, no blank lines around
    if "\n\n\u2014 " not in text:  # a note's signature lines follow a blank line, each begun by an em dash
        fail(f"--checkpoint: {path} is not a signed checkpoint note (no signature line after a blank line)", 2)
    return text  # a note that is signed but altered is the verification's to report


def _text_of(path: Path, option: str) -> str:
    """A file given to an option, as text; or a one-line refusal naming the option and the file."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        fail(f"{option}: {path} is a directory, not a file", 2)
    except UnicodeDecodeError:
        fail(f"{option}: {path} is not UTF-8 text", 2)
    except OSError as error:
        fail(f"{option}: cannot read {path}: {error.strerror}", 2)


@app.command()
def verify(
    bundle: Annotated[
        Path | None, typer.Argument(help="An exported bundle directory, verified offline (without the database).")
    ] = None,
    public_key: Annotated[
        str | None, typer.Option(help="Bundles: the base64 Ed25519 key the ledger publishes (or its verifier key, as `ledger checkpoint --show-key` prints it), which must have signed it.")
    ] = None,
    saved_checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint", help="A signed checkpoint note saved earlier that the bundle, or the database, must agree with."
        ),
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
    for option, given in (("--public-key", public_key), ("--policy", policy)):
        if given is not None:  # the database is checked with the ledger's own key; a policy needs cosigned notes
            fail(f"{option} applies to a bundle: give the bundle's directory (ledger verify DIR {option} ...)", 2)
    notes = [_saved_checkpoint(path) for path in saved_checkpoints or []]
    settings = from_environment()
    with opened_ledger() as ledger, progress_bar() as bar:  # opening it finishes any erasure left to do
        task = bar.add_task("verifying", total=ledger.reader.tree_size())
        result = ledger.integrity.verify_all(settings.origin, progress=lambda done: bar.update(task, completed=done), saved=notes)
        left = ledger.erasures.left_behind()
        unerased = ledger.erasures.destroyed()
    if not result.ok:
        where = f"position {result.first_bad_position}" if result.first_bad_position else "checkpoint"
        fail(f"TAMPERING DETECTED at {where}: {result.problem}")
    signed = f"; signed checkpoint at tree size {result.checkpoint_size} matches" if result.checkpoint_size is not None else ""
    if result.checkpoints > 1:
        signed += f", as do the {result.checkpoints - 1} published before it"
    if result.saved:
        signed += f"; the {result.saved} checkpoint{'s' if result.saved > 1 else ''} saved elsewhere agree{'' if result.saved > 1 else 's'}"
    out.print(f"verified {result.events} events: every leaf and the tree recomputed{signed}")
    if result.events and result.checkpoint_size is None and not result.saved:
        err.print(
            "warning: no signed checkpoint covers these events: they agree with one another, but nothing outside the "
            "database vouches for them (sign one with `ledger checkpoint`; give one saved earlier with --checkpoint FILE)",
            highlight=False,
        )
    elif result.checkpoint_size is not None and result.events > result.checkpoint_size:
        newer = result.events - result.checkpoint_size
        err.print(
            f"note: the newest {newer} event{'s' if newer > 1 else ''} (after tree size {result.checkpoint_size}) "
            f"agree{'' if newer > 1 else 's'} with the rest, but no signed checkpoint covers them yet (the server signs one every "
            "LEDGER_CHECKPOINT_INTERVAL_SECONDS; `ledger checkpoint` signs one now)",
            highlight=False,
        )
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
def checkpoint(
    show_key: Annotated[bool, typer.Option("--show-key", help="Print the ledger's verifier key (C2SP note form) instead.")] = False,
) -> None:
    """Sign the current tree head and print the checkpoint (JSON); or print the key that verifies it."""
    if show_key:
        settings = from_environment()
        if not Path(settings.signing_key_file).exists():  # printing a key made now would name no ledger
            fail(
                f"there is no ledger signing key at {Path(settings.signing_key_file).absolute()}: run this from the "
                "ledger's directory or set LEDGER_SIGNING_KEY_FILE",
                2,
            )
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
