"""What every `ledger` command shares: the Typer app, one-line failures by the error table
(api/errors.py), the runtime from the composition root (api/bootstrap.py), progress bars.
"""

import getpass
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import click
import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from typer.core import TyperGroup

from api.bootstrap import Runtime, opened_runtime
from api.errors import ANSWERED, answer_for, field_of
from api.settings import from_environment
from domain.errors import ConfigurationError
from ledger.config import persistence_env
from domain.errors import Unavailable
from ledger.application import Ledger
from ledger.bundle_verifier import Tampered
from ledger.erasure import (
    Erasure,
    described,
)
from ledger.postgres_grants import needs_the_owner
from ledger.witness_policy import PolicyError


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
def opened(finish_forgetting: bool = True, adopt_terms: bool = False, creates: bool = False) -> Iterator[Runtime]:
    """The runtime of LEDGER_DATABASE_URL, from the composition root (api/bootstrap.py). Opening it
    finishes erasing any case keys destroyed by a `ledger forget` that could not finish (or was
    killed): briefly, warning if it cannot yet. Only a command that `creates` a ledger may open an
    SQLite file that is not there: any other, run from the wrong directory, would make a new empty
    ledger (and keys) there and answer about it."""
    settings = from_environment()
    where = _without_password(settings.database_url)
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None and not creates:
        fail(
            f"there is no ledger database at {missing}: run this from the ledger's directory or set "
            "LEDGER_DATABASE_URL (`ledger serve` and `ledger migrate` create a new one)",
            2,
        )
    runtime = opened_runtime(
        settings, finish_forgetting=finish_forgetting, adopt_terms=adopt_terms, on_open=_has_a_log(where, creates), create_tables=creates
    )
    try:
        entered = runtime.__enter__()
    except (PersistenceError, OSError, sqlite3.DatabaseError) as error:  # e.g. a file that is not an SQLite database
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
def opened_ledger(finish_forgetting: bool = True, creates: bool = False) -> Iterator[Ledger]:
    """The ledger of `opened`, for commands that need nothing else."""
    with opened(finish_forgetting, creates=creates) as runtime:
        yield runtime.ledger


def _has_a_log(where: str, creates: bool) -> Callable[[Ledger], None]:
    """A check of the opened database: a command that does not create a ledger stops (exit 2) on
    one that holds none, rather than making its tables and answering about an empty log."""

    def check(ledger: Ledger) -> None:
        if not creates and not ledger.has_log():
            fail(f"there is no ledger in the database at {where}: run `ledger migrate` (as the schema's owner) first", 2)

    return check


def _missing_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file the URL names, absolute, if it does not exist (None: it does, or PostgreSQL)."""
    try:
        name = persistence_env(database_url).get("SQLITE_DBNAME")
    except ConfigurationError:
        return None  # refused with its reason when opened
    if name is None or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name).absolute()
    return None if path.exists() else path


def _say_erasure(erasure: Erasure | None) -> None:
    if erasure is None:
        return
    if erasure.finished and erasure.cases:
        err.print(f"finished erasing the destroyed keys of forgotten {described(erasure.cases)} from the database's files")
    elif not erasure.finished:
        err.print(f"[bold yellow]warning:[/] {unfinished_erasure(erasure)}", highlight=False)


def unfinished_erasure(erasure: Erasure) -> str:
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


def operator_name() -> str:
    """The access log's name for whoever runs a command here."""
    return f"ledger-cli ({getpass.getuser()})"
