"""`ledger witness …`: run a witness (c2sp.org/tlog-witness) for the ledger, print its key, show
what it has cosigned and the evidence of any fork it refused. Its own module: the witness is run
by the other parties (class counsel, the court's monitor, OIG), not by the ledger's operator.

Options fall back on LEDGER_WITNESS_NAME, LEDGER_WITNESS_KEY_FILE, LEDGER_WITNESS_STATE_FILE and
LEDGER_WITNESS_CONFIG.
"""

import base64
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ledger.checkpoints import KeyFileError
from witness.config import DEFAULT_KEY_FILE, DEFAULT_STATE_FILE, WitnessConfig, WitnessConfigError
from witness.state import WitnessState

witness = typer.Typer(no_args_is_help=True, help="Run a witness that cosigns the ledger's checkpoints (c2sp.org/tlog-witness).")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Name = Annotated[str, typer.Option(envvar="LEDGER_WITNESS_NAME", help="The witness's name, its key name (e.g. witness.aclu.example/ms-l).")]
KeyFile = Annotated[Path, typer.Option(envvar="LEDGER_WITNESS_KEY_FILE", help="Its Ed25519 key (PEM), created with mode 0600 if missing.")]
StateFile = Annotated[Path, typer.Option(envvar="LEDGER_WITNESS_STATE_FILE", help="Its state: SQLite, created if missing.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@witness.command("serve")
def serve(
    name: Name,
    config: Annotated[
        Path, typer.Option(envvar="LEDGER_WITNESS_CONFIG", help="The logs to witness: `log <verifier key>` lines (tlog-policy syntax).")
    ],
    key_file: KeyFile = DEFAULT_KEY_FILE,
    state_file: StateFile = DEFAULT_STATE_FILE,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8100,
) -> None:
    """Serve POST /add-checkpoint for the logs in --config."""
    import uvicorn

    from witness.app import create_witness_app

    try:
        service = WitnessConfig(name, key_file, state_file, config).witness()
    except (WitnessConfigError, KeyFileError, OSError) as error:
        _fail(str(error))
    err.print(f"witness {service.cosigner.key} at http://{host}:{port}/add-checkpoint, witnessing {', '.join(service.logs)}", highlight=False)
    uvicorn.run(create_witness_app(service), host=host, port=port, log_level="warning")


@witness.command("key")
def key(name: Name, key_file: KeyFile = DEFAULT_KEY_FILE) -> None:
    """Print the witness's verifier key (creating its key if missing): give it to the ledger's
    operator (LEDGER_WITNESSES) and to whoever verifies with a policy."""
    try:
        cosigner = WitnessConfig(name, key_file).cosigner()
    except (WitnessConfigError, KeyFileError, OSError) as error:
        _fail(str(error))
    out.print(str(cosigner.key), highlight=False)


@witness.command("status")
def status(state_file: StateFile = DEFAULT_STATE_FILE) -> None:
    """The latest checkpoint cosigned per log, and every fork or inconsistency refused (exit 1 if any)."""
    if not state_file.exists():
        _fail(f"{state_file}: no witness state there")
    state = WitnessState(state_file)
    table = Table("log", "tree size", "root hash (base64)", "cosigned at")
    for latest in state.latest():
        table.add_row(latest.origin, str(latest.tree_size), base64.b64encode(latest.root_hash).decode(), latest.updated_at)
    out.print(table)
    evidence = state.evidence()
    if not evidence:
        out.print("no fork or inconsistency recorded")
        return
    out.print(f"[bold red]{len(evidence)} refused checkpoint(s) kept as evidence of a fork or inconsistency:[/]")
    for item in evidence:
        out.print(f"\n#{item.id} {item.origin} at {item.detected_at}: {item.reason} (old size {item.old_size})", highlight=False)
        out.print("cosigned before:\n" + item.recorded_note, highlight=False, markup=False)
        out.print("refused:\n" + item.submitted_note, highlight=False, markup=False)
    raise typer.Exit(1)
